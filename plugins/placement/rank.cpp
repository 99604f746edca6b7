#include "rank.hpp"

#include "config.hpp"
#include "sdk_names.hpp"

#include <algorithm>
#include <optional>
#include <tuple>

namespace engined::placement {

namespace {

// A dimension's level for `package`; nullopt when the dimension is not scored.
std::optional<double> level_of(const Package& package, std::string_view dimension) {
    const DimensionScore* score = package.scorecard.dimension(dimension);
    return score == nullptr ? std::nullopt : std::optional(score->level);
}

// Whether some listed solution is cheaper than `package` and at least as well covered: such a
// package is not a trade-off anyone would call value. An unscored coverage dimension counts as a
// tie, so only cost decides.
bool is_dominated(const Package& package, const std::vector<RankedSolution>& solutions) {
    const auto coverage = level_of(package, kCoverageCompleteness);
    return std::any_of(solutions.begin(), solutions.end(), [&](const RankedSolution& other) {
        return round2(other.package->est_cost_low) < round2(package.est_cost_low) &&
               level_of(*other.package, kCoverageCompleteness).value_or(0.0) <=
                   coverage.value_or(0.0);
    });
}

// Whether every listed solution has the same level of `dimension` (or none is scored on it):
// then no solution is better at it than another.
bool all_tie(const std::vector<RankedSolution>& solutions, std::string_view dimension) {
    const auto first = level_of(*solutions.front().package, dimension);
    return std::all_of(solutions.begin(), solutions.end(), [&](const RankedSolution& s) {
        return level_of(*s.package, dimension) == first;
    });
}

// The solution after the first that is best at `dimension` (lowest level, ties to the better
// rank) among those `eligible` accepts; nullopt when there is none.
template <typename Eligible>
std::optional<std::size_t> best_at(const std::vector<RankedSolution>& solutions,
                                   std::string_view dimension, Eligible&& eligible) {
    std::optional<std::size_t> best;
    double best_level = 0.0;
    for (std::size_t i = 1; i < solutions.size(); ++i) {
        const auto level = level_of(*solutions[i].package, dimension);
        if (level && eligible(*solutions[i].package) && (!best || *level < best_level)) {
            best = i;
            best_level = *level;
        }
    }
    return best;
}

// Cluster labels, a rule a broker can check against the scorecards. Rank 1 is `recommended`.
// Among the other solutions:
//  - `best_value`: the best pricing level among those no listed solution beats on price without
//    being worse covered (a dearer package no better covered than another is never "value");
//  - `best_coverage`: the best coverage level among those better covered than the recommended one;
//  - `simplest`: the best simplicity level among those simpler than the recommended one.
// A label is not awarded when every listed solution ties on its dimension: none is better at it.
// Ties go to the better rank. The labels are given in that order and each at most once: a
// solution best at several takes the first, and the later label goes to no one. Every other
// solution is an `alternative`.
void assign_cluster_labels(std::vector<RankedSolution>& solutions) {
    if (solutions.empty()) {
        return;
    }
    for (RankedSolution& solution : solutions) {
        solution.cluster_label = cluster_label::kAlternative;
    }
    solutions.front().cluster_label = cluster_label::kRecommended;
    const auto give = [&](std::string_view dimension, std::string_view label, auto&& eligible) {
        if (all_tie(solutions, dimension)) {
            return;
        }
        const auto best = best_at(solutions, dimension, eligible);
        if (best && solutions[*best].cluster_label == cluster_label::kAlternative) {
            solutions[*best].cluster_label = label;
        }
    };
    const Package& recommended = *solutions.front().package;
    const auto better_than_recommended = [&](std::string_view dimension) {
        return [&recommended, dimension](const Package& package) {
            const auto level = level_of(package, dimension);
            const auto reference = level_of(recommended, dimension);
            return level && reference && *level < *reference;
        };
    };
    give(kPricingCompetitiveness, cluster_label::kBestValue,
         [&](const Package& package) { return !is_dominated(package, solutions); });
    give(kCoverageCompleteness, cluster_label::kBestCoverage,
         better_than_recommended(kCoverageCompleteness));
    give(kSimplicity, cluster_label::kSimplest, better_than_recommended(kSimplicity));
}

// Moves the best-covered package to the front when it is priced within `price_cap`.
void put_best_covered_first(std::vector<const Package*>& ranked, double price_cap) {
    std::optional<std::size_t> best;
    double best_level = 0.0;
    for (std::size_t i = 0; i < ranked.size(); ++i) {
        const auto level = level_of(*ranked[i], kCoverageCompleteness);
        if (level && (!best || *level < best_level)) {
            best = i;
            best_level = *level;
        }
    }
    if (best && *best > 0 && round2(ranked[*best]->est_cost_low) <= round2(price_cap)) {
        std::rotate(ranked.begin(), ranked.begin() + static_cast<std::ptrdiff_t>(*best),
                    ranked.begin() + static_cast<std::ptrdiff_t>(*best) + 1);
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
    if (std::lexicographical_compare(a.offerings.begin(), a.offerings.end(), b.offerings.begin(),
                                     b.offerings.end(), by_id)) {
        return true;
    }
    if (std::lexicographical_compare(b.offerings.begin(), b.offerings.end(), a.offerings.begin(),
                                     a.offerings.end(), by_id)) {
        return false;
    }
    return a.position < b.position;
}

std::vector<RankedSolution> label_solutions(std::vector<const Package*> ranked,
                                            std::optional<double> coverage_first_price_cap) {
    if (coverage_first_price_cap) {
        put_best_covered_first(ranked, *coverage_first_price_cap);
    }
    std::vector<RankedSolution> solutions;
    solutions.reserve(ranked.size());
    for (std::size_t i = 0; i < ranked.size(); ++i) {
        solutions.push_back({ranked[i], i + 1, cluster_label::kAlternative});
    }
    assign_cluster_labels(solutions);
    return solutions;
}

}  // namespace engined::placement
