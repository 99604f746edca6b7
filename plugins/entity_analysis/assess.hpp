// ASSESS: a level per dimension for one eligible carrier, from L1 (best) to L4, each with a
// short reason. The rules are in docs/entity-analysis.md; scoring and wording share one
// implementation per dimension, so that a reason always says why its level is what it is.
#pragma once

#include "carrier.hpp"
#include "config.hpp"
#include "prospect.hpp"

#include <array>
#include <string>
#include <vector>

namespace engined::entity_analysis {

// What the scorers compare a carrier with.
struct AssessContext {
    const Prospect& prospect;
    // Lines the gap analysis found missing from the prospect's cover; a carrier that also
    // writes them fits the coverage need better. Empty without gap analysis.
    std::vector<Line> gap_lines;
};

using Levels = std::array<int, kDimensionCount>;  // 1..4 by Dimension

struct Score {
    int level = 4;
    std::string reason;
};
using Scores = std::array<Score, kDimensionCount>;  // by Dimension

// The six levels, without wording (every eligible carrier is assessed; only the candidates
// returned are explained).
Levels assess_levels(const Carrier& carrier, const AssessContext& context);

// The six levels with their reasons.
Scores explain_scores(const Carrier& carrier, const AssessContext& context);

// "L1" ... "L4".
std::string level_name(int level);

// Facts the reasoning sentence reuses.
std::string rating_phrase(const Carrier& carrier);   // "A+ (XII) rated", "unrated"
std::string pricing_phrase(const Carrier& carrier);  // "pricing 8% under market", ...
// The worst appetite among the requested lines the carrier writes (preferred when none are
// requested), and those lines.
Appetite requested_appetite(const Carrier& carrier, const Prospect& prospect);
std::vector<Line> written_requested_lines(const Carrier& carrier, const Prospect& prospect);
// The first avoided_naics prefix matching the prospect, or empty.
std::string avoided_prefix(const Carrier& carrier, const Prospect& prospect);

}  // namespace engined::entity_analysis
