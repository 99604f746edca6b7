#include "filter.hpp"

#include "lines.hpp"

#include <algorithm>

namespace engined::entity_analysis {

namespace {

constexpr std::array<std::string_view, kFilterReasonCount> kReasonNames = {
    "state_not_written", "line_not_written",    "line_excluded",
    "naics_prohibited",  "revenue_out_of_band", "employees_out_of_band"};

bool outside(std::optional<double> value, std::optional<double> low, std::optional<double> high) {
    return value && ((low && *value < *low) || (high && *value > *high));
}

std::optional<FilterReason> line_problem(const Carrier& carrier, const std::vector<Line>& lines) {
    if (lines.empty()) {
        return std::nullopt;
    }
    bool any_listed = false;
    for (const Line line : lines) {
        const Appetite appetite = carrier.appetite_for(line);
        if (appetite == Appetite::preferred || appetite == Appetite::acceptable) {
            return std::nullopt;
        }
        any_listed = any_listed || appetite == Appetite::excluded;
    }
    return any_listed ? FilterReason::line_excluded : FilterReason::line_not_written;
}

}  // namespace

std::string_view filter_reason_name(FilterReason reason) {
    return kReasonNames[static_cast<std::size_t>(reason)];
}

std::optional<FilterReason> ineligibility(const Carrier& carrier, const Prospect& prospect) {
    if (prospect.state && !carrier.writes_state(*prospect.state)) {
        return FilterReason::state_not_written;
    }
    if (const auto problem = line_problem(carrier, prospect.lines)) {
        return problem;
    }
    if (prospect.naics &&
        std::any_of(
            carrier.prohibited_naics.begin(), carrier.prohibited_naics.end(),
            [&](const std::string& prefix) { return naics_matches(*prospect.naics, prefix); })) {
        return FilterReason::naics_prohibited;
    }
    if (outside(prospect.revenue, carrier.revenue_min, carrier.revenue_max)) {
        return FilterReason::revenue_out_of_band;
    }
    if (outside(prospect.employees, carrier.employees_min, carrier.employees_max)) {
        return FilterReason::employees_out_of_band;
    }
    return std::nullopt;
}

FilterResult filter_carriers(const Pool& pool, const Prospect& prospect) {
    FilterResult result;
    result.eligible.reserve(pool.carriers.size());
    for (const Carrier& carrier : pool.carriers) {
        if (const auto reason = ineligibility(carrier, prospect)) {
            result.excluded.push_back({&carrier, *reason});
            ++result.reason_counts[static_cast<std::size_t>(*reason)];
        } else {
            result.eligible.push_back(&carrier);
        }
    }
    return result;
}

}  // namespace engined::entity_analysis
