// The prospect a run analyses, read from input.profile (or input.prospect, the same shape).
#pragma once

#include "lines.hpp"

#include <boost/json/object.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace engined::entity_analysis {

struct Prospect {
    std::string entity;
    std::optional<std::string> state;  // `state`, else primary_address.state
    std::vector<Line> lines;           // `line` and `lines`, first occurrence of each
    std::optional<std::string> naics;  // 2-6 digits
    std::optional<double> revenue;     // USD
    std::optional<double> employees;
    std::optional<double> years_in_business;
    std::optional<double> claims_last_5_years;
};

// input.profile, else input.prospect. Throws RunFailure("invalid_request") when neither is an
// object, when entity is missing, or when state, line or naics is malformed.
Prospect read_prospect(const boost::json::object& input);

// The prospect as the scorecard's weights(input) sees it: the facts above, with lines as names.
boost::json::object prospect_json(const Prospect& prospect);

// The profile facts confidence is judged on, in this order: naics, revenue, employees, state,
// line, years_in_business.
struct Completeness {
    std::vector<std::string_view> present;
    std::vector<std::string_view> missing;
};
Completeness completeness(const Prospect& prospect);

}  // namespace engined::entity_analysis
