#include "search.hpp"

#include "rank.hpp"

#include <algorithm>
#include <limits>
#include <map>

namespace engined::placement {

namespace {

constexpr double kBestLevel = 1.0;
constexpr double kWorstLevel = 4.0;

}  // namespace

TopPackageSearch::TopPackageSearch(const PackageSpace& space, const Market& market,
                                   PackageScorer& scorer, std::uint64_t max_packages_examined)
    : space_(space), market_(market), scorer_(scorer), max_examined_(max_packages_examined) {
    const auto umbrella = space.umbrella_line();
    if (umbrella) {
        line_order_.push_back(*umbrella);
    }
    std::map<std::string_view, int> provider_ids;
    for (std::size_t line = 0; line < space.line_count(); ++line) {
        if (line != umbrella) {
            line_order_.push_back(line);
        }
        std::vector<OfferingFacts>& line_facts = facts_.emplace_back();
        for (std::uint32_t position = 0; position < space.eligible_count(line); ++position) {
            const Offering& offering = space.offering(line, position);
            OfferingFacts& f = line_facts.emplace_back();
            f.premium = *offering.line_premium;
            for (const CoverageCheck& check : coverage_checks(offering, market)) {
                f.coverage_levels.push_back(check.level);
                f.coverage_excess += check.level - kBestLevel;
                f.fails_coinsurance = f.fails_coinsurance || check.fails_coinsurance;
            }
            f.carrier_excess = f.premium * (rating_level_or_neutral(offering) - kBestLevel);
            f.provider =
                provider_ids.emplace(offering.provider_key, static_cast<int>(provider_ids.size()))
                    .first->second;
        }
    }
}

std::vector<Package> TopPackageSearch::best(std::size_t keep) {
    keep_ = keep;
    kept_.clear();
    for (const auto& position : space_.whole_bundles()) {
        ++examined_;
        Package package = space_.package_at(position);
        scorer_.score(package, market_);
        offer(std::move(package));
    }
    // Branches whose bound is lowest go first, so that the kept set fills with good packages
    // early and the bound prunes more of the rest.
    std::vector<std::pair<double, std::size_t>> branch_order;
    std::vector<Remaining> remaining;
    const Partial root;
    for (std::size_t i = 0; i < space_.branches().size(); ++i) {
        const UmbrellaBranch& branch = space_.branches()[i];
        remaining.push_back(branch.has_packages() ? remaining_for(branch) : Remaining{});
        if (branch.has_packages()) {
            branch_order.emplace_back(lower_bound(root, remaining.back(), 0), i);
        }
    }
    std::sort(branch_order.begin(), branch_order.end());
    for (const auto& [bound, index] : branch_order) {
        if (can_skip(bound)) {
            break;
        }
        Partial partial;
        partial.position.assign(space_.line_count(), 0);
        descend(space_.branches()[index], remaining[index], 0, partial);
    }
    std::sort_heap(kept_.begin(), kept_.end(),
                   [](const Package& a, const Package& b) { return ranks_before(a, b); });
    return std::move(kept_);
}

TopPackageSearch::Remaining TopPackageSearch::remaining_for(const UmbrellaBranch& branch) const {
    const std::size_t lines = line_order_.size();
    Remaining r;
    r.min_premium.assign(lines + 1, 0.0);
    r.max_premium.assign(lines + 1, 0.0);
    r.min_coverage_excess.assign(lines + 1, 0.0);
    r.min_coverage_count.assign(lines + 1, 0);
    r.max_coverage_count.assign(lines + 1, 0);
    r.min_carrier_excess.assign(lines + 1, 0.0);
    for (std::size_t depth = lines; depth-- > 0;) {
        const std::size_t line = line_order_[depth];
        double min_premium = std::numeric_limits<double>::infinity();
        double max_premium = 0.0;
        double min_coverage_excess = std::numeric_limits<double>::infinity();
        std::size_t min_count = std::numeric_limits<std::size_t>::max();
        std::size_t max_count = 0;
        double min_carrier_excess = std::numeric_limits<double>::infinity();
        for (const std::uint32_t position : branch.candidates[line]) {
            const OfferingFacts& f = facts(line, position);
            min_premium = std::min(min_premium, f.premium);
            max_premium = std::max(max_premium, f.premium);
            min_coverage_excess = std::min(min_coverage_excess, f.coverage_excess);
            min_count = std::min(min_count, f.coverage_levels.size());
            max_count = std::max(max_count, f.coverage_levels.size());
            min_carrier_excess = std::min(min_carrier_excess, f.carrier_excess);
        }
        r.min_premium[depth] = r.min_premium[depth + 1] + min_premium;
        r.max_premium[depth] = r.max_premium[depth + 1] + max_premium;
        r.min_coverage_excess[depth] = r.min_coverage_excess[depth + 1] + min_coverage_excess;
        r.min_coverage_count[depth] = r.min_coverage_count[depth + 1] + min_count;
        r.max_coverage_count[depth] = r.max_coverage_count[depth + 1] + max_count;
        r.min_carrier_excess[depth] = r.min_carrier_excess[depth + 1] + min_carrier_excess;
    }
    return r;
}

// A lower bound on the overall level of every package that completes `partial` with the
// remaining lines (depth onward); none of those is a whole bundle, whose cost is not a sum and
// which best() scores separately. Each deterministic level is bounded through the quantity it
// is monotone in:
//  - pricing: non-decreasing in est_cost_low, here the sum of line premiums, at least the sum
//    chosen so far plus the cheapest candidate of every remaining line;
//  - coverage: the mean of the checks, 1 + (sum of level excesses) / (number of checks), at
//    least the excesses so far plus the smallest per remaining line over the most checks per
//    remaining line; 2.5 (no checks at all) is also possible while no check is certain; the
//    worst level once a chosen dwelling fails the coinsurance threshold (which pins it there);
//  - carrier quality: the premium-weighted mean rating, 1 + (sum of premium x excess) / (sum of
//    premiums), bounded the same way;
//  - simplicity: non-decreasing in the provider count, at least the providers chosen so far.
double TopPackageSearch::lower_bound(const Partial& partial, const Remaining& remaining,
                                     std::size_t depth) const {
    DeterministicLevels lower;
    lower.pricing = pricing_level(partial.premium + remaining.min_premium[depth], market_);
    const double coverage_excess = partial.coverage_excess + remaining.min_coverage_excess[depth];
    const std::size_t most_checks = partial.coverage_count + remaining.max_coverage_count[depth];
    lower.coverage = most_checks == 0
                         ? kNeutralLevel
                         : kBestLevel + coverage_excess / static_cast<double>(most_checks);
    if (partial.coverage_count + remaining.min_coverage_count[depth] == 0) {
        lower.coverage = std::min(lower.coverage, kNeutralLevel);
    }
    if (partial.coinsurance_failures > 0) {
        lower.coverage = kWorstLevel;
    }
    lower.carrier = kBestLevel + (partial.carrier_excess + remaining.min_carrier_excess[depth]) /
                                     (partial.premium + remaining.max_premium[depth]);
    lower.simplicity =
        simplicity_level(std::max<std::size_t>(partial.providers.size(), 1), market_);
    return scorer_.overall_lower_bound(lower);
}

bool TopPackageSearch::can_skip(double lower_bound) const {
    return kept_.size() == keep_ && lower_bound > kept_.front().scorecard.overall_level;
}

void TopPackageSearch::descend(const UmbrellaBranch& branch, const Remaining& remaining,
                               std::size_t depth, Partial& partial) {
    if (depth == line_order_.size()) {
        if (!space_.is_whole_bundle(partial.position)) {
            examine(partial.position);
        }
        return;
    }
    const std::size_t line = line_order_[depth];
    for (const std::uint32_t position : branch.candidates[line]) {
        const OfferingFacts& f = facts(line, position);
        const double premium = partial.premium;
        const double coverage_excess = partial.coverage_excess;
        const std::size_t coverage_count = partial.coverage_count;
        const double carrier_excess = partial.carrier_excess;
        const bool new_provider = std::find(partial.providers.begin(), partial.providers.end(),
                                            f.provider) == partial.providers.end();
        partial.premium += f.premium;
        partial.coverage_excess += f.coverage_excess;
        partial.coverage_count += f.coverage_levels.size();
        partial.coinsurance_failures += f.fails_coinsurance ? 1 : 0;
        partial.carrier_excess += f.carrier_excess;
        if (new_provider) {
            partial.providers.push_back(f.provider);
        }
        partial.position[line] = position;
        if (depth + 1 == line_order_.size() ||
            !can_skip(lower_bound(partial, remaining, depth + 1))) {
            descend(branch, remaining, depth + 1, partial);
        }
        if (new_provider) {
            partial.providers.pop_back();
        }
        partial.premium = premium;
        partial.coverage_excess = coverage_excess;
        partial.coverage_count = coverage_count;
        partial.coinsurance_failures -= f.fails_coinsurance ? 1 : 0;
        partial.carrier_excess = carrier_excess;
    }
}

// Scores one complete package (not a whole bundle) numerically, the way PackageScorer would, and
// builds and fully scores it only when it may enter the kept set.
void TopPackageSearch::examine(const std::vector<std::uint32_t>& position) {
    refuse_too_many_packages(++examined_, max_examined_);
    double cost = 0.0;
    CoverageTally coverage;
    CarrierTally carrier;
    std::vector<int> providers;
    for (std::size_t line = 0; line < position.size(); ++line) {
        const OfferingFacts& f = facts(line, position[line]);
        cost += f.premium;
        for (const double level : f.coverage_levels) {
            coverage.add(level, f.fails_coinsurance);
        }
        carrier.add(space_.offering(line, position[line]));
        if (std::find(providers.begin(), providers.end(), f.provider) == providers.end()) {
            providers.push_back(f.provider);
        }
    }
    const DeterministicLevels levels{.pricing = pricing_level(cost, market_),
                                     .coverage = coverage.level(),
                                     .carrier = carrier.level(),
                                     .simplicity = simplicity_level(providers.size(), market_)};
    const double bound = scorer_.has_script_dimensions() ? scorer_.overall_lower_bound(levels)
                                                         : scorer_.overall_level(levels);
    if (can_skip(bound)) {
        return;
    }
    Package package = space_.package_at(position);
    scorer_.score(package, market_);
    offer(std::move(package));
}

void TopPackageSearch::offer(Package package) {
    const auto worse = [](const Package& a, const Package& b) { return ranks_before(a, b); };
    if (kept_.size() < keep_) {
        kept_.push_back(std::move(package));
        std::push_heap(kept_.begin(), kept_.end(), worse);
        return;
    }
    if (ranks_before(package, kept_.front())) {
        std::pop_heap(kept_.begin(), kept_.end(), worse);
        kept_.back() = std::move(package);
        std::push_heap(kept_.begin(), kept_.end(), worse);
    }
}

}  // namespace engined::placement
