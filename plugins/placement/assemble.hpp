// ASSEMBLE: packages of one eligible offering per requested line, priced, with the umbrella
// carriers' underwriting rules applied.
#pragma once

#include "filter.hpp"
#include "offering.hpp"
#include "package.hpp"

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace engined::placement {

// Why an umbrella carrier would not write over a package's underlying lines.
namespace umbrella_rejection {
inline constexpr std::string_view kProviderMismatch = "underlying_provider_mismatch";
inline constexpr std::string_view kAutoBodilyInjuryBelowMinimum =
    "underlying_auto_bi_below_minimum";
inline constexpr std::string_view kAutoCombinedSingleBelowMinimum =
    "underlying_auto_csl_below_minimum";
inline constexpr std::string_view kHomeLiabilityBelowMinimum =
    "underlying_home_liability_below_minimum";
inline constexpr std::string_view kUnderlyingLimitsUnknown = "underlying_limits_unknown";
}  // namespace umbrella_rejection

struct RejectedPackage {
    std::vector<const Offering*> offerings;
    std::string_view reason;  // one of umbrella_rejection
};

// The first rule an umbrella carrier's own requirements find broken by `offerings` (one per
// requested line): a provider mismatch first, then the auto limits, then the home limits.
std::optional<std::string_view> umbrella_violation(const std::vector<const Offering*>& offerings);

// The rules as they bear on one underlying offering: every rule is a condition on the umbrella
// and a single other line, which is what lets the search count and prune without enumerating.
bool breaks_provider_rule(const Offering& umbrella, const Offering& underlying);
std::optional<std::string_view> underlying_limit_violation(const Offering& umbrella,
                                                           const Offering& underlying);

// Prices packages. A package that is exactly one quoted bundle costs the bundle's premium. Any
// other package costs the sum of its line premiums, and the lines it takes from a quoted bundle
// it splits may lose that bundle's multi-policy discount: est_cost_high adds the configured
// unbundling surcharge on those lines' premiums (not on a bundle the package takes whole).
// Bundles are identified by Offering::bundle_key.
class PackagePricer {
public:
    PackagePricer(const std::vector<Offering>& all_offerings, double unbundling_surcharge);

    void price(Package& package) const;

    // How many offerings of the run (eligible or not, any category) carry `bundle_key`.
    std::size_t lines_in_bundle(std::string_view bundle_key) const;

private:
    double unbundling_surcharge_;
    std::map<std::string, std::size_t, std::less<>> lines_in_bundle_;
};

// A priced package of `offerings` with its providers described; scorecard still empty.
Package make_package(std::vector<const Offering*> offerings, std::vector<std::uint32_t> position,
                     const PackagePricer& pricer);

struct AssembleResult {
    std::vector<Package> packages;
    std::uint64_t combinations_total = 0;
    std::map<std::string, std::size_t, std::less<>> umbrella_rejections;  // reason -> packages
    // The first rejections in enumeration order, for the audit trace (which must stay bounded
    // however many combinations a run has).
    std::vector<RejectedPackage> traced_rejections;
};

inline constexpr std::size_t kMaxTracedRejections = 200;

// The number of packages the eligible offerings make, saturating at the uint64 maximum.
std::uint64_t combination_count(const FilterResult& filtered);

// Refuses a run that would examine more than `cap` packages: RunFailure("too_many_packages_examined").
void refuse_too_many_packages(std::uint64_t packages, std::uint64_t cap);

// The exhaustive reference: enumerates every combination of `filtered.eligible_by_line`.
// Throws RunFailure("too_many_packages_examined") when the combinations exceed `max_packages`.
AssembleResult assemble_packages(const std::vector<std::string>& requested_lines,
                                 const FilterResult& filtered, const PackagePricer& pricer,
                                 std::uint64_t max_packages);

}  // namespace engined::placement
