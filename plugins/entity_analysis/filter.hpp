// FILTER: which carriers of the pool may serve the prospect at all. Binary eligibility only, no
// inference: a fact the prospect did not give cannot exclude a carrier, and nothing here
// prefers one eligible carrier to another.
#pragma once

#include "carrier.hpp"
#include "prospect.hpp"

#include <array>
#include <cstddef>
#include <optional>
#include <string_view>
#include <vector>

namespace engined::entity_analysis {

// Why a carrier is not eligible, checked in this order (the first broken rule is recorded).
enum class FilterReason : std::uint8_t {
    state_not_written,      // the carrier does not write the prospect's state
    line_not_written,       // it writes none of the requested lines
    line_excluded,          // it lists every requested line it knows as excluded
    naics_prohibited,       // a prohibited_naics prefix matches the prospect's NAICS code
    revenue_out_of_band,    // revenue below revenue_min or above revenue_max
    employees_out_of_band,  // employees below employees_min or above employees_max
};
inline constexpr std::size_t kFilterReasonCount = 6;

std::string_view filter_reason_name(FilterReason reason);

struct Exclusion {
    const Carrier* carrier;
    FilterReason reason;
};

struct FilterResult {
    std::vector<const Carrier*> eligible;  // pool order
    std::vector<Exclusion> excluded;       // pool order
    std::array<std::size_t, kFilterReasonCount> reason_counts{};
};

// The first rule `carrier` breaks for `prospect`, or nullopt when it is eligible.
std::optional<FilterReason> ineligibility(const Carrier& carrier, const Prospect& prospect);

FilterResult filter_carriers(const Pool& pool, const Prospect& prospect);

}  // namespace engined::entity_analysis
