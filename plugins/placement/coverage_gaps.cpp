#include "coverage_gaps.hpp"

#include "offering.hpp"
#include "scorers.hpp"
#include "sdk_names.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <string_view>

namespace engined::placement {

namespace json = boost::json;

namespace {

// What umbrella carriers commonly require underneath, and so what a household with assets to
// protect should carry: 250/500 auto bodily injury and $300,000 home liability.
constexpr double kAutoPerPersonFloor = 250'000;
constexpr double kAutoPerAccidentFloor = 500'000;
constexpr double kHomeLiabilityFloor = 300'000;
// Below 80% of replacement cost most homeowners policies pay claims only in proportion.
constexpr double kCoinsuranceShare = 0.8;

enum class Severity { high, medium, low };

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

struct Gap {
    Severity severity;
    std::string line;
    std::string gap;
    std::string detail;
    std::string recommendation;
};

using Policies = std::map<std::string, CoverageLimits, std::less<>>;

std::string thousands(double amount) {
    return std::to_string(std::llround(amount / 1000.0));
}

std::optional<std::string> policy_line(const json::object& policy) {
    for (const std::string_view key : {"line", "category"}) {
        if (const auto line = find_string(policy, key)) {
            return std::string(*line);
        }
    }
    return std::nullopt;
}

Policies current_policies(const json::object& input) {
    Policies policies;
    const json::value* source = input.if_contains("current_coverage");
    if (source == nullptr) {
        source = input.if_contains("current_portfolio");
    }
    if (source != nullptr && source->is_object()) {
        for (const auto& member : source->get_object()) {
            if (member.value().is_object()) {
                policies.emplace(member.key(), read_coverage_limits(member.value().get_object()));
            }
        }
    } else if (source != nullptr && source->is_array()) {
        for (const json::value& policy : source->get_array()) {
            const auto line = policy.is_object() ? policy_line(policy.get_object()) : std::nullopt;
            if (line) {
                policies.emplace(*line, read_coverage_limits(policy.get_object()));
            }
        }
    }
    return policies;
}

void home_gaps(std::vector<Gap>& gaps, const CoverageLimits& home,
               std::optional<double> replacement_cost) {
    if (home.dwelling && replacement_cost && *home.dwelling < *replacement_cost) {
        const double share = *home.dwelling / *replacement_cost;
        gaps.push_back({share < kCoinsuranceShare ? Severity::high : Severity::medium, "home",
                        "dwelling_below_replacement_cost",
                        "dwelling limit " + format_money(*home.dwelling) + " is " +
                            std::to_string(std::llround(share * 100)) + "% of the " +
                            format_money(*replacement_cost) + " replacement cost",
                        "raise the dwelling limit to at least " + format_money(*replacement_cost)});
    }
    if (home.personal_liability && *home.personal_liability < kHomeLiabilityFloor) {
        gaps.push_back(
            {Severity::medium, "home", "home_liability_below_300k",
             "personal liability " + format_money(*home.personal_liability) + " is below " +
                 format_money(kHomeLiabilityFloor),
             "raise personal liability to at least " + format_money(kHomeLiabilityFloor)});
    }
}

void auto_gaps(std::vector<Gap>& gaps, const CoverageLimits& auto_policy) {
    std::optional<std::string> current;
    if (auto_policy.auto_combined_single) {
        if (*auto_policy.auto_combined_single < kAutoPerAccidentFloor) {
            current = format_money(*auto_policy.auto_combined_single) + " combined single limit";
        }
    } else if (auto_policy.auto_bi_per_person && auto_policy.auto_bi_per_accident &&
               (*auto_policy.auto_bi_per_person < kAutoPerPersonFloor ||
                *auto_policy.auto_bi_per_accident < kAutoPerAccidentFloor)) {
        current = thousands(*auto_policy.auto_bi_per_person) + "/" +
                  thousands(*auto_policy.auto_bi_per_accident) + " bodily injury";
    }
    if (current) {
        gaps.push_back(
            {Severity::high, "auto", "auto_liability_below_250_500",
             "auto liability is " + *current + ", under 250/500",
             "raise auto bodily-injury limits to at least 250/500 (or a $500,000 combined single "
             "limit), the minimum an umbrella requires underneath"});
    }
}

void umbrella_gap(std::vector<Gap>& gaps, const Policies& policies) {
    const bool has_liability_lines = policies.contains("home") || policies.contains("auto");
    if (has_liability_lines && !policies.contains("umbrella")) {
        gaps.push_back(
            {Severity::medium, "umbrella", "no_umbrella",
             "no umbrella policy over the home and auto liability limits",
             "add a personal umbrella of at least $1,000,000 once the underlying limits meet its "
             "minimums"});
    }
}

void missing_line_gaps(std::vector<Gap>& gaps, const Policies& policies,
                       const std::vector<std::string>& lines) {
    for (const std::string& line : lines) {
        if (line != "umbrella" && !policies.contains(line)) {
            gaps.push_back({Severity::low, line, "no_current_policy",
                            "no current " + line + " policy on file",
                            "place a " + line + " policy from the quotes"});
        }
    }
}

}  // namespace

json::array coverage_gaps(const json::object& input,
                          const std::vector<std::string>& requested_lines) {
    const Policies policies = current_policies(input);
    std::optional<double> replacement_cost;
    if (const json::object* residence = find_object(input, "residence")) {
        replacement_cost = find_number(*residence, "replacement_cost");
    }
    std::vector<Gap> gaps;
    if (const auto home = policies.find("home"); home != policies.end()) {
        home_gaps(gaps, home->second, replacement_cost);
    }
    if (const auto auto_policy = policies.find("auto"); auto_policy != policies.end()) {
        auto_gaps(gaps, auto_policy->second);
    }
    umbrella_gap(gaps, policies);
    missing_line_gaps(gaps, policies, requested_lines);
    std::stable_sort(gaps.begin(), gaps.end(),
                     [](const Gap& a, const Gap& b) { return a.severity < b.severity; });

    json::array report;
    for (const Gap& gap : gaps) {
        report.push_back(json::object{{"line", gap.line},
                                      {"severity", severity_name(gap.severity)},
                                      {"gap", gap.gap},
                                      {"detail", gap.detail},
                                      {"recommendation", gap.recommendation}});
    }
    return report;
}

}  // namespace engined::placement
