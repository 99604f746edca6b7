// core/store/sqlite/queue_statements — the statements of the queue that look runs up by status
// (and the claim of one run by id, which shares their condition). Each search by status must
// walk the partial index `runs_unfinished` (the few runs not yet terminal), never an index or
// table of every run ever stored: its cost would then grow with the history. Kept apart so that
// the store's tests can check their query plans.
#pragma once

namespace engined::store::sqlite {

// The claim runs on the one writer thread, so finding the oldest claimable run and leasing it
// need no lock beyond the write transaction. `status IN (…)` lets the search walk the partial
// index of unfinished runs. A run never leased has no leased_until_ms; a live lease, started or
// not, keeps the run from every other claimer.
#define ENGINED_CLAIMABLE \
    "status IN ('queued', 'processing') AND coalesce(leased_until_ms, 0) < ?2 "
inline constexpr const char* kNextClaimable =
    "SELECT id, attempts FROM runs WHERE " ENGINED_CLAIMABLE "ORDER BY seq LIMIT 1";
inline constexpr const char* kClaimableById =
    "SELECT id, attempts FROM runs WHERE id = ?1 AND " ENGINED_CLAIMABLE;
#undef ENGINED_CLAIMABLE

// `status IN (…)` as in the claim: the search walks the partial index of unfinished runs.
inline constexpr const char* kReleaseUnstarted = R"sql(
    UPDATE runs SET lease_owner = NULL, leased_until_ms = NULL, attempts = attempts - 1
     WHERE status IN ('queued', 'processing') AND status = 'queued' AND lease_owner = ?1
)sql";

// Named: left to itself the planner scans `runs_listing_by_status`, which covers `status` but
// holds every run ever stored.
inline constexpr const char* kQueueCounts = R"sql(
    SELECT coalesce(sum(status = 'queued'), 0), coalesce(sum(status = 'processing'), 0)
      FROM runs INDEXED BY runs_unfinished WHERE status IN ('queued', 'processing')
)sql";

}  // namespace engined::store::sqlite
