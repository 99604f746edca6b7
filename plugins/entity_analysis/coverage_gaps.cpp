#include "coverage_gaps.hpp"

#include "sdk_names.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <map>
#include <optional>
#include <string_view>

namespace engined::entity_analysis {

namespace json = boost::json;

namespace {

struct TypicalLine {
    Line line;
    Severity severity;
};

// The lines a business of each NAICS sector (first two digits) typically carries. The first
// entry matching the prospect's sector applies; `kAnyBusiness` when none does (or no NAICS).
struct Sector {
    std::string_view first;  // sector codes first..last, inclusive
    std::string_view last;
    std::string_view label;
    std::vector<TypicalLine> lines;
};

const std::vector<Sector>& sectors() {
    using enum Line;
    static const std::vector<Sector> table = {
        {"23",
         "23",
         "construction",
         {{general_liability, Severity::high},
          {commercial_auto, Severity::high},
          {umbrella, Severity::medium}}},
        {"31",
         "33",
         "manufacturing",
         {{general_liability, Severity::high},
          {commercial_property, Severity::high},
          {umbrella, Severity::medium}}},
        {"42",
         "42",
         "wholesale trade",
         {{general_liability, Severity::high},
          {commercial_property, Severity::high},
          {commercial_auto, Severity::medium}}},
        {"44",
         "45",
         "retail trade",
         {{general_liability, Severity::high},
          {commercial_property, Severity::medium},
          {cyber, Severity::low}}},
        {"48",
         "49",
         "transportation and warehousing",
         {{commercial_auto, Severity::high},
          {general_liability, Severity::high},
          {umbrella, Severity::medium}}},
        {"51",
         "51",
         "information",
         {{cyber, Severity::high},
          {professional_liability, Severity::medium},
          {general_liability, Severity::medium}}},
        {"52",
         "52",
         "finance and insurance",
         {{professional_liability, Severity::high},
          {cyber, Severity::high},
          {directors_officers, Severity::medium},
          {epli, Severity::low}}},
        {"53",
         "53",
         "real estate",
         {{commercial_property, Severity::high},
          {general_liability, Severity::high},
          {umbrella, Severity::low}}},
        {"54",
         "54",
         "professional, scientific and technical services",
         {{professional_liability, Severity::high},
          {general_liability, Severity::medium},
          {cyber, Severity::medium},
          {epli, Severity::low}}},
        {"56",
         "56",
         "administrative and support services",
         {{general_liability, Severity::high},
          {epli, Severity::medium},
          {commercial_auto, Severity::low}}},
        {"61",
         "61",
         "educational services",
         {{general_liability, Severity::high},
          {professional_liability, Severity::medium},
          {directors_officers, Severity::low}}},
        {"62",
         "62",
         "health care and social assistance",
         {{professional_liability, Severity::high},
          {general_liability, Severity::high},
          {cyber, Severity::medium}}},
        {"72",
         "72",
         "accommodation and food services",
         {{general_liability, Severity::high},
          {commercial_property, Severity::high},
          {umbrella, Severity::low}}},
        {"81",
         "81",
         "other services",
         {{general_liability, Severity::high}, {bop, Severity::medium}}},
    };
    return table;
}

const Sector kAnyBusiness{
    "",
    "",
    "any business",
    {{Line::general_liability, Severity::high}, {Line::commercial_property, Severity::medium}}};

const Sector& sector_of(const Prospect& prospect) {
    if (!prospect.naics) {
        return kAnyBusiness;
    }
    const std::string_view code = std::string_view(*prospect.naics).substr(0, 2);
    for (const Sector& sector : sectors()) {
        if (code >= sector.first && code <= sector.last) {
            return sector;
        }
    }
    return kAnyBusiness;
}

// Size bands for minimum limits: revenue under $10M / under $50M / above, else employees under
// 50 / under 250 / above, else the smallest band.
std::size_t size_band(const Prospect& prospect) {
    if (prospect.revenue) {
        return *prospect.revenue < 10e6 ? 0 : *prospect.revenue < 50e6 ? 1 : 2;
    }
    if (prospect.employees) {
        return *prospect.employees < 50 ? 0 : *prospect.employees < 250 ? 1 : 2;
    }
    return 0;
}

// Minimum per-occurrence / aggregate limit by size band; lines without an entry (property, BOP,
// statutory workers' compensation) are not checked.
std::optional<double> minimum_limit(Line line, std::size_t band) {
    using Minimums = std::array<double, 3>;
    static const std::map<Line, Minimums> table = {
        {Line::general_liability, {1e6, 2e6, 5e6}},
        {Line::professional_liability, {1e6, 2e6, 5e6}},
        {Line::directors_officers, {1e6, 3e6, 5e6}},
        {Line::cyber, {1e6, 2e6, 5e6}},
        {Line::epli, {1e6, 1e6, 2e6}},
        {Line::commercial_auto, {1e6, 1e6, 1e6}},
        {Line::umbrella, {1e6, 5e6, 10e6}},
    };
    const auto found = table.find(line);
    return found == table.end() ? std::nullopt : std::optional(found->second[band]);
}

std::string money(double amount) {
    std::string digits = std::to_string(std::llround(amount));
    for (int i = static_cast<int>(digits.size()) - 3; i > 0; i -= 3) {
        digits.insert(static_cast<std::size_t>(i), ",");
    }
    return "$" + digits;
}

std::string_view severity_name(Severity severity) {
    switch (severity) {
        case Severity::high:
            return "high";
        case Severity::medium:
            return "medium";
        case Severity::low:
            return "low";
    }
    return "low";
}

struct Held {
    Line line;
    std::optional<double> limit;
};

std::vector<Held> held_lines(const Prospect& prospect, const json::object* portfolio) {
    std::vector<Held> held;
    const json::array* policies = portfolio ? find_array(*portfolio, "lines") : nullptr;
    if (policies != nullptr) {
        for (const json::value& entry : *policies) {
            const json::object* policy = entry.if_object();
            const auto name = policy ? find_string(*policy, "line") : std::nullopt;
            const auto line = name ? line_from_name(*name) : std::nullopt;
            if (line) {
                held.push_back({*line, find_number(*policy, "limit")});
            }
        }
    }
    for (const Line line : prospect.lines) {
        held.push_back({line, std::nullopt});
    }
    return held;
}

bool holds(const std::vector<Held>& held, Line line) {
    return std::any_of(held.begin(), held.end(), [&](const Held& h) { return h.line == line; });
}

void missing_line_gaps(const Prospect& prospect, const std::vector<Held>& held,
                       std::vector<CoverageGap>& gaps) {
    const Sector& sector = sector_of(prospect);
    std::vector<TypicalLine> typical = sector.lines;
    // Workers' compensation is statutory for employers in nearly every state.
    if (prospect.employees && *prospect.employees > 0) {
        typical.insert(typical.begin(), {Line::workers_compensation, Severity::high});
    }
    for (const TypicalLine& expected : typical) {
        if (holds(held, expected.line)) {
            continue;
        }
        const bool statutory = expected.line == Line::workers_compensation;
        const std::string who =
            statutory ? "an employer" : std::string(sector.label) + " businesses";
        gaps.push_back(
            {expected.line, expected.severity, "missing_line",
             "no " + std::string(line_label(expected.line)) + " in the current cover; " +
                 (statutory ? "it is statutory for " + who : who + " typically carry it"),
             "add " + std::string(line_label(expected.line)) +
                 " (the coverage score counts which candidates write it)"});
    }
}

void limit_gaps(const Prospect& prospect, const std::vector<Held>& held,
                std::vector<CoverageGap>& gaps) {
    const std::size_t band = size_band(prospect);
    for (const Held& policy : held) {
        const auto minimum = minimum_limit(policy.line, band);
        if (!policy.limit || !minimum || *policy.limit >= *minimum) {
            continue;
        }
        gaps.push_back(
            {policy.line, *policy.limit < *minimum / 2 ? Severity::high : Severity::medium,
             "limit_below_minimum",
             std::string(line_label(policy.line)) + " limit " + money(*policy.limit) +
                 " is below the " + money(*minimum) + " a business of this size should carry",
             "raise the " + std::string(line_label(policy.line)) + " limit to at least " +
                 money(*minimum)});
    }
}

}  // namespace

std::vector<CoverageGap> coverage_gaps(const Prospect& prospect,
                                       const json::object* current_portfolio) {
    const std::vector<Held> held = held_lines(prospect, current_portfolio);
    std::vector<CoverageGap> gaps;
    missing_line_gaps(prospect, held, gaps);
    limit_gaps(prospect, held, gaps);
    std::stable_sort(gaps.begin(), gaps.end(), [](const CoverageGap& a, const CoverageGap& b) {
        return a.severity < b.severity;
    });
    return gaps;
}

std::vector<Line> missing_lines(const std::vector<CoverageGap>& gaps) {
    std::vector<Line> lines;
    for (const CoverageGap& gap : gaps) {
        if (gap.gap == "missing_line") {
            lines.push_back(gap.line);
        }
    }
    return lines;
}

json::array gaps_json(const std::vector<CoverageGap>& gaps) {
    json::array report;
    for (const CoverageGap& gap : gaps) {
        report.push_back(json::object{{"line", line_name(gap.line)},
                                      {"severity", severity_name(gap.severity)},
                                      {"gap", gap.gap},
                                      {"detail", gap.detail},
                                      {"recommendation", gap.recommendation}});
    }
    return report;
}

}  // namespace engined::entity_analysis
