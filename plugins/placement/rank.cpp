#include "rank.hpp"

#include "config.hpp"
#include "sdk_names.hpp"

#include <algorithm>
#include <array>
#include <optional>
#include <tuple>

namespace engined::placement {

namespace {

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

bool ranks_before(const Package& a, const Package& b) {
    const auto key = [](const Package& p) {
        return std::tuple(p.scorecard.overall_level, round2(p.est_cost_low), p.provider_count);
    };
    if (key(a) != key(b)) {
        return key(a) < key(b);
    }
    const auto by_id = [](const Offering* x, const Offering* y) { return x->id < y->id; };
    if (std::lexicographical_compare(a.offerings.begin(), a.offerings.end(), b.offerings.begin(), b.offerings.end(), by_id)) {
        return true;
    }
    if (std::lexicographical_compare(b.offerings.begin(), b.offerings.end(), a.offerings.begin(), a.offerings.end(), by_id)) {
        return false;
    }
    return a.position < b.position;
}

std::vector<RankedSolution> label_solutions(const std::vector<const Package*>& ranked) {
    std::vector<RankedSolution> solutions;
    solutions.reserve(ranked.size());
    for (std::size_t i = 0; i < ranked.size(); ++i) {
        solutions.push_back({ranked[i], i + 1, cluster_label::kAlternative});
    }
    assign_cluster_labels(solutions);
    return solutions;
}

}  // namespace engined::placement
