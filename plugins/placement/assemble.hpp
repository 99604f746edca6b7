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
inline constexpr std::string_view kAutoBodilyInjuryBelowMinimum = "underlying_auto_bi_below_minimum";
inline constexpr std::string_view kAutoCombinedSingleBelowMinimum = "underlying_auto_csl_below_minimum";
inline constexpr std::string_view kHomeLiabilityBelowMinimum = "underlying_home_liability_below_minimum";
inline constexpr std::string_view kUnderlyingLimitsUnknown = "underlying_limits_unknown";
}  // namespace umbrella_rejection

struct RejectedPackage {
    std::vector<const Offering*> offerings;
    std::string_view reason;  // one of umbrella_rejection
};

struct AssembleResult {
    std::vector<Package> packages;
    std::uint64_t combinations_considered = 0;
    std::map<std::string, std::size_t, std::less<>> umbrella_rejections;  // reason -> packages
    // The first rejections in enumeration order, for the audit trace (which must stay bounded
    // however many combinations a run has).
    std::vector<RejectedPackage> traced_rejections;
};

inline constexpr std::size_t kMaxTracedRejections = 200;

struct AssembleOptions {
    double unbundling_surcharge = 0.0;
    std::uint64_t max_combinations = 0;
};

// Enumerates every combination of `filtered.eligible_by_line`. `all_offerings` (every offering of
// the run, eligible or not) tells which lines a quoted bundle comprises. Throws
// RunFailure("too_many_combinations") when the combinations exceed options.max_combinations.
AssembleResult assemble_packages(const std::vector<std::string>& requested_lines,
                                 const FilterResult& filtered,
                                 const std::vector<Offering>& all_offerings,
                                 const AssembleOptions& options);

}  // namespace engined::placement
