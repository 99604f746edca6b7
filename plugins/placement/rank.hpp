// RANK: the deterministic order of the scored packages and the cluster labels of the top N.
#pragma once

#include "package.hpp"

#include <cstddef>
#include <string_view>
#include <vector>

namespace engined::placement {

namespace cluster_label {
inline constexpr std::string_view kRecommended = "recommended";
inline constexpr std::string_view kBestValue = "best_value";
inline constexpr std::string_view kBestCoverage = "best_coverage";
inline constexpr std::string_view kSimplest = "simplest";
inline constexpr std::string_view kAlternative = "alternative";
}  // namespace cluster_label

struct RankedSolution {
    const Package* package;
    std::size_t rank;  // 1-based
    std::string_view cluster_label;
};

// The best `max_solutions` packages, ordered by overall_level, then est_cost_low, then
// provider_count (all ascending), then the offering ids compared lexicographically in
// requested-line order, and finally the enumeration order, so that the ranking is total.
std::vector<RankedSolution> rank_packages(const std::vector<Package>& packages, std::size_t max_solutions);

}  // namespace engined::placement
