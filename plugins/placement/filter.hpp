// FILTER: which offerings may take part in a package. Binary eligibility only; nothing here
// scores or prefers one offering over another.
#pragma once

#include "offering.hpp"

#include <boost/json/object.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace engined::placement {

// Why an offering takes no part in the run.
namespace filter_reason {
inline constexpr std::string_view kCategoryNotRequested = "category_not_requested";
inline constexpr std::string_view kExcludedState = "excluded_state";
inline constexpr std::string_view kQuoteExpired = "quote_expired";
inline constexpr std::string_view kInvalidQuoteExpiry = "invalid_quote_expiry";
inline constexpr std::string_view kMissingPremium = "missing_premium";
}  // namespace filter_reason

struct FilteredOffering {
    const Offering* offering;
    // One of filter_reason, or for an umbrella the umbrella_rejection reason its minimum
    // underlying limits give against the insured's current policies.
    std::string_view reason;
};

struct FilterResult {
    // Eligible offerings per requested line (same order as the requested lines), in input order.
    std::vector<std::vector<const Offering*>> eligible_by_line;
    // Every offering left out, in input order.
    std::vector<FilteredOffering> filtered;
    std::map<std::string, std::size_t, std::less<>> reason_counts;

    // Requested lines without a single eligible offering.
    std::vector<std::string> lines_without_offering(const std::vector<std::string>& lines) const;
};

struct FilterCriteria {
    std::vector<std::string> requested_lines;
    std::optional<std::string> state;  // the insured's address.state
    std::int64_t now_unix_ms = 0;      // quotes expiring before this are stale
    // input.current_coverage limits of the underlying lines (auto, home) the run does not place:
    // an umbrella must sit on them as they are, so its minimum underlying limits apply to them.
    std::vector<Offering> current_underlying;
};

// The current policies in `current_coverage` (input.current_coverage) of the underlying lines
// not in `requested_lines`, as offerings carrying their limits.
std::vector<Offering> current_underlying_policies(const boost::json::object* current_coverage,
                                                  const std::vector<std::string>& requested_lines);

FilterResult filter_offerings(const std::vector<Offering>& offerings,
                              const FilterCriteria& criteria);

// Why no package can be assembled, for output.diagnostic; nullopt when every line has an offering.
std::optional<std::string> filter_diagnostic(const std::vector<Offering>& offerings,
                                             const FilterCriteria& criteria,
                                             const FilterResult& result);

}  // namespace engined::placement
