#include "rank.hpp"

#include "config.hpp"
#include "json_fields.hpp"

#include <algorithm>
#include <array>
#include <numeric>
#include <optional>
#include <tuple>

namespace engined::placement {

namespace {

bool ranks_before(const Package& a, std::size_t a_index, const Package& b, std::size_t b_index) {
    const auto key = [](const Package& p) {
        return std::tuple(p.scorecard.overall_level, round2(p.est_cost_low), p.provider_count);
    };
    if (key(a) != key(b)) {
        return key(a) < key(b);
    }
    const bool a_ids_first = std::lexicographical_compare(
        a.offerings.begin(), a.offerings.end(), b.offerings.begin(), b.offerings.end(),
        [](const Offering* x, const Offering* y) { return x->id < y->id; });
    const bool b_ids_first = std::lexicographical_compare(
        b.offerings.begin(), b.offerings.end(), a.offerings.begin(), a.offerings.end(),
        [](const Offering* x, const Offering* y) { return x->id < y->id; });
    if (a_ids_first != b_ids_first) {
        return a_ids_first;
    }
    return a_index < b_index;
}

// The solution after the first that is best at `dimension` (lowest level, ties to the better
// rank); nullopt when the dimension is not scored.
std::optional<std::size_t> best_at(const std::vector<RankedSolution>& solutions, std::string_view dimension) {
    std::optional<std::size_t> best;
    double best_level = 0.0;
    for (std::size_t i = 1; i < solutions.size(); ++i) {
        const DimensionScore* score = solutions[i].package->scorecard.dimension(dimension);
        if (score != nullptr && (!best || score->level < best_level)) {
            best = i;
            best_level = score->level;
        }
    }
    return best;
}

// Cluster labels. Rank 1 is `recommended`. Among the other solutions, the one best at pricing
// is `best_value`, the one best at coverage `best_coverage` and the one best at simplicity
// `simplest` (best = lowest level of that dimension, ties to the better rank). The labels are
// given in that order and each at most once: a solution best at several takes the first of
// them, and the later label goes to no one, so a label always means "best among the
// alternatives at this". Every other solution is an `alternative`.
void assign_cluster_labels(std::vector<RankedSolution>& solutions) {
    if (solutions.empty()) {
        return;
    }
    for (RankedSolution& solution : solutions) {
        solution.cluster_label = cluster_label::kAlternative;
    }
    solutions.front().cluster_label = cluster_label::kRecommended;
    constexpr std::array<std::pair<std::string_view, std::string_view>, 3> kLabelledDimensions = {{
        {kPricingCompetitiveness, cluster_label::kBestValue},
        {kCoverageCompleteness, cluster_label::kBestCoverage},
        {kSimplicity, cluster_label::kSimplest},
    }};
    for (const auto& [dimension, label] : kLabelledDimensions) {
        const auto best = best_at(solutions, dimension);
        if (best && solutions[*best].cluster_label == cluster_label::kAlternative) {
            solutions[*best].cluster_label = label;
        }
    }
}

}  // namespace

std::vector<RankedSolution> rank_packages(const std::vector<Package>& packages, std::size_t max_solutions) {
    std::vector<std::size_t> order(packages.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    const std::size_t kept = std::min(max_solutions, order.size());
    std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(kept), order.end(),
                      [&](std::size_t a, std::size_t b) { return ranks_before(packages[a], a, packages[b], b); });

    std::vector<RankedSolution> solutions;
    solutions.reserve(kept);
    for (std::size_t i = 0; i < kept; ++i) {
        solutions.push_back({&packages[order[i]], i + 1, cluster_label::kAlternative});
    }
    assign_cluster_labels(solutions);
    return solutions;
}

}  // namespace engined::placement
