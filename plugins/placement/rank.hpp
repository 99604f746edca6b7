// RANK: the deterministic order of the scored packages and the cluster labels of the top N.
#pragma once

#include "package.hpp"

#include <cstddef>
#include <optional>
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

// The ranking order: overall_level, then est_cost_low (rounded to cents), then provider_count
// (all ascending), then the offering ids compared lexicographically in requested-line order, and
// finally the enumeration order (Package::position), so that the order is total.
bool ranks_before(const Package& a, const Package& b);

// `ranked` (already in ranking order) as solutions: ranks from 1 and cluster labels. With a
// `coverage_first_price_cap` (the coverage_first bucket: coverage_first_price_ratio times the
// cheapest package's est_cost_low), the best-covered solution (lowest coverage level, ties to
// the better rank) goes first when its est_cost_low is within the cap; the others keep their order.
std::vector<RankedSolution> label_solutions(
    std::vector<const Package*> ranked,
    std::optional<double> coverage_first_price_cap = std::nullopt);

}  // namespace engined::placement
