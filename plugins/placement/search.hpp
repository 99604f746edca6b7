// The exact top-N search: the best packages in ranking order without scoring every package.
//
// A depth-first branch and bound over the lines, one umbrella branch at a time (see
// PackageSpace), keeping the best `keep` packages found so far. At every partial package it
// computes a lower bound on the overall level of any package that completes it and skips the
// subtree when that bound is above the overall level of the worst package kept: no package
// below can then enter the kept set, so the result is exactly what scoring every package and
// sorting would give. The bounds are admissible because every deterministic level is monotone
// in a quantity that is bounded line by line (see search.cpp) and the overall level is a
// monotone function of the dimension levels; a Lua dimension counts at its best level, 1.0, and
// is only called for a package whose bound can still make the kept set.
#pragma once

#include "evaluate.hpp"
#include "package_space.hpp"
#include "scorers.hpp"

#include <cstddef>
#include <cstdint>
#include <vector>

namespace engined::placement {

class TopPackageSearch {
public:
    TopPackageSearch(const PackageSpace& space, const Market& market, PackageScorer& scorer,
                     std::uint64_t max_packages_examined);

    // The best `keep` valid packages, scored, in ranking order (fewer when there are fewer).
    // Throws DimensionLeftOut when a Lua dimension fails (search again: the scorer has dropped
    // it) and RunFailure("too_many_packages_examined") past the safety limit.
    std::vector<Package> best(std::size_t keep);

    // Packages scored so far, over every call.
    std::uint64_t packages_examined() const { return examined_; }

private:
    // What the bounds need of one offering, computed once.
    struct OfferingFacts {
        double premium = 0.0;
        std::vector<double> coverage_levels;  // its coverage checks, in check order
        double coverage_excess = 0.0;         // sum of (level - 1) over its checks
        bool fails_coinsurance = false;       // pins the package's coverage to the worst level
        double carrier_excess = 0.0;          // premium x (carrier level - 1)
        int provider = 0;                     // dense id of its provider_key
    };

    // The running totals of a partial package.
    struct Partial {
        double premium = 0.0;
        double coverage_excess = 0.0;
        std::size_t coverage_count = 0;
        std::size_t coinsurance_failures = 0;
        double carrier_excess = 0.0;
        std::vector<int> providers;  // distinct
        std::vector<std::uint32_t> position;
    };

    // Bounds over the lines still to choose, from depth d on (index d; the last entry is empty).
    struct Remaining {
        std::vector<double> min_premium;
        std::vector<double> max_premium;
        std::vector<double> min_coverage_excess;
        std::vector<std::size_t> min_coverage_count;
        std::vector<std::size_t> max_coverage_count;
        std::vector<double> min_carrier_excess;
    };

    const OfferingFacts& facts(std::size_t line, std::uint32_t position) const {
        return facts_[line][position];
    }
    Remaining remaining_for(const UmbrellaBranch& branch) const;
    double lower_bound(const Partial& partial, const Remaining& remaining, std::size_t depth) const;
    void descend(const UmbrellaBranch& branch, const Remaining& remaining, std::size_t depth,
                 Partial& partial);
    void examine(const std::vector<std::uint32_t>& position);
    void offer(Package package);
    bool can_skip(double lower_bound) const;

    const PackageSpace& space_;
    const Market& market_;
    PackageScorer& scorer_;
    std::uint64_t max_examined_;
    std::vector<std::size_t> line_order_;  // the umbrella line first: its choice fixes the others'
    std::vector<std::vector<OfferingFacts>> facts_;
    std::size_t keep_ = 0;
    std::vector<Package> kept_;  // a max-heap under ranks_before: the worst kept package first
    std::uint64_t examined_ = 0;
};

}  // namespace engined::placement
