// core/store/sqlite/listing_statements — the run listing's statements. Each walks its listing
// index backward from the newest run under the cursor and reads no more rows than the page it
// answers: a sort (or a walk of every run of the engine) would make a page's cost grow with the
// history. Kept apart so that the store's tests can check their query plans.
#pragma once

#include "store/rows.hpp"

namespace engined::store::sqlite {

// A page is read one row longer than asked: the extra row only says whether another page follows.
inline constexpr const char* kListRuns = ENGINED_SELECT_RUN R"sql(
     WHERE organization = ?1 AND environment_id = ?2 AND engine_slug = ?3 AND seq < ?4
       AND (?7 IS NULL OR engine_version = ?7)
     ORDER BY seq DESC
     LIMIT ?5
)sql";

inline constexpr const char* kListRunsByStatus = ENGINED_SELECT_RUN R"sql(
     WHERE organization = ?1 AND environment_id = ?2 AND engine_slug = ?3 AND status = ?6
       AND seq < ?4 AND (?7 IS NULL OR engine_version = ?7)
     ORDER BY seq DESC
     LIMIT ?5
)sql";

}  // namespace engined::store::sqlite
