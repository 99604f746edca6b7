#include "filter.hpp"

#include "assemble.hpp"
#include "sdk_names.hpp"
#include "timestamp.hpp"

#include <algorithm>

namespace engined::placement {

namespace {

std::string join(const std::vector<std::string>& items, std::string_view separator) {
    std::string joined;
    for (std::size_t i = 0; i < items.size(); ++i) {
        if (i > 0) {
            joined += separator;
        }
        joined += items[i];
    }
    return joined;
}

std::optional<std::string_view> expiry_problem(const Offering& offering,
                                               const FilterCriteria& criteria) {
    if (offering.quote_expires_at == nullptr || offering.quote_expires_at->is_null()) {
        return std::nullopt;
    }
    const auto* text = offering.quote_expires_at->if_string();
    const auto expires_ms = text ? parse_quote_expiry_ms(*text, criteria.state) : std::nullopt;
    if (!expires_ms) {
        return filter_reason::kInvalidQuoteExpiry;
    }
    if (*expires_ms < criteria.now_unix_ms) {
        return filter_reason::kQuoteExpired;
    }
    return std::nullopt;
}

// The umbrella minimum a current policy fails. A limit the current policy does not state is not
// held against the umbrella: unlike a quote, the request describes the policy only in part.
std::optional<std::string_view> current_underlying_problem(
    const Offering& umbrella, const std::vector<Offering>& current_underlying) {
    for (const Offering& current : current_underlying) {
        const auto violation = underlying_limit_violation(umbrella, current);
        if (violation && *violation != umbrella_rejection::kUnderlyingLimitsUnknown) {
            return violation;
        }
    }
    return std::nullopt;
}

// The first rule `offering` breaks, in a fixed order so that the recorded reason is stable.
std::optional<std::string_view> ineligibility(const Offering& offering,
                                              const FilterCriteria& criteria) {
    const auto& excluded = offering.excluded_states;
    if (criteria.state &&
        std::find(excluded.begin(), excluded.end(), *criteria.state) != excluded.end()) {
        return filter_reason::kExcludedState;
    }
    if (const auto problem = expiry_problem(offering, criteria)) {
        return problem;
    }
    if (!offering.line_premium || !(*offering.line_premium > 0.0)) {
        return filter_reason::kMissingPremium;
    }
    if (offering.category == "umbrella") {
        return current_underlying_problem(offering, criteria.current_underlying);
    }
    return std::nullopt;
}

}  // namespace

std::vector<Offering> current_underlying_policies(const boost::json::object* current_coverage,
                                                  const std::vector<std::string>& requested_lines) {
    std::vector<Offering> policies;
    if (current_coverage == nullptr) {
        return policies;
    }
    for (const std::string_view line : {"auto", "home"}) {
        const boost::json::object* policy = find_object(*current_coverage, line);
        if (policy == nullptr || std::find(requested_lines.begin(), requested_lines.end(), line) !=
                                     requested_lines.end()) {
            continue;
        }
        Offering& current = policies.emplace_back();
        current.id = "current_coverage." + std::string(line);
        current.category = std::string(line);
        current.limits = read_coverage_limits(*policy);
    }
    return policies;
}

std::vector<std::string> FilterResult::lines_without_offering(
    const std::vector<std::string>& lines) const {
    std::vector<std::string> missing;
    for (std::size_t i = 0; i < lines.size(); ++i) {
        if (eligible_by_line[i].empty()) {
            missing.push_back(lines[i]);
        }
    }
    return missing;
}

FilterResult filter_offerings(const std::vector<Offering>& offerings,
                              const FilterCriteria& criteria) {
    const auto& lines = criteria.requested_lines;
    FilterResult result;
    result.eligible_by_line.resize(lines.size());
    for (const Offering& offering : offerings) {
        const auto line = std::find(lines.begin(), lines.end(), offering.category);
        const auto reason = line == lines.end()
                                ? std::optional(filter_reason::kCategoryNotRequested)
                                : ineligibility(offering, criteria);
        if (reason) {
            result.filtered.push_back({&offering, *reason});
            ++result.reason_counts[std::string(*reason)];
        } else {
            result.eligible_by_line[static_cast<std::size_t>(line - lines.begin())].push_back(
                &offering);
        }
    }
    return result;
}

std::optional<std::string> filter_diagnostic(const std::vector<Offering>& offerings,
                                             const FilterCriteria& criteria,
                                             const FilterResult& result) {
    const std::vector<std::string> missing =
        result.lines_without_offering(criteria.requested_lines);
    if (missing.empty()) {
        return std::nullopt;
    }
    if (offerings.empty()) {
        return "no offerings to place: the run carries neither offerings nor input.quotes";
    }
    const bool any_requested_category =
        std::any_of(offerings.begin(), offerings.end(), [&](const Offering& o) {
            const auto& lines = criteria.requested_lines;
            return std::find(lines.begin(), lines.end(), o.category) != lines.end();
        });
    if (!any_requested_category) {
        return "category mismatch: no offering is for a requested line (" +
               join(criteria.requested_lines, ", ") + ")";
    }
    const bool everything_filtered =
        std::all_of(result.eligible_by_line.begin(), result.eligible_by_line.end(),
                    [](const auto& eligible) { return eligible.empty(); });
    if (everything_filtered) {
        return "every offering was filtered out; see output.filter_reasons";
    }
    return "no eligible offering for required lines: " + join(missing, ", ");
}

}  // namespace engined::placement
