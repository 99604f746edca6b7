#include "scorers.hpp"

#include "config.hpp"
#include "sdk_names.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace engined::placement {

namespace json = boost::json;

namespace {

constexpr double kBestLevel = 1.0;
constexpr double kWorstLevel = 4.0;
// Levels lost per unit of limit shortfall: 80% of the reference limit is 2.0, 60% is 3.0.
constexpr double kLimitShortfallSlope = 5.0;
// The coinsurance threshold: a dwelling insured for less than this share of its replacement cost
// is paid only in proportion on every partial loss, so the check takes the worst level.
constexpr double kCoinsuranceThreshold = 0.8;
// A higher deductible costs less than a lower limit: twice the lowest quoted is 2.0.
constexpr double kDeductibleSlope = 2.0;
// Smallest premium spread, as a share of the cheapest package, that the pricing scale spans.
constexpr double kMinimumPriceSpan = 0.5;
// Levels per unit of change against the current premium: 20% cheaper is 1.0, 20% dearer 4.0.
constexpr double kCurrentPremiumSlope = 7.5;

double clamp_level(double level) {
    return std::clamp(level, kBestLevel, kWorstLevel);
}

std::string format_percent(double fraction) {
    return std::to_string(std::llround(fraction * 100.0)) + "%";
}

void keep_max(std::optional<double>& best, const std::optional<double>& candidate) {
    if (candidate && (!best || *candidate > *best)) {
        best = candidate;
    }
}

void keep_min(std::optional<double>& best, const std::optional<double>& candidate) {
    if (candidate && (!best || *candidate < *best)) {
        best = candidate;
    }
}

std::optional<double> total_current_premium(const json::object* current_coverage,
                                            const std::vector<std::string>& lines) {
    if (current_coverage == nullptr || lines.empty()) {
        return std::nullopt;
    }
    double total = 0.0;
    for (const std::string& line : lines) {
        const json::object* policy = find_object(*current_coverage, line);
        const auto premium = policy ? find_number(*policy, "annual_premium") : std::nullopt;
        if (!premium || !(*premium > 0.0)) {
            return std::nullopt;
        }
        total += *premium;
    }
    return total;
}

// --- coverage checks ---------------------------------------------------------------------

struct Reference {
    double amount;
    std::string_view name;  // "the replacement cost", "the current policy", "the best quote"
};

std::optional<Reference> first_known(
    std::initializer_list<std::pair<std::optional<double>, std::string_view>> options) {
    for (const auto& [amount, name] : options) {
        if (amount && *amount > 0.0) {
            return Reference{*amount, name};
        }
    }
    return std::nullopt;
}

CoverageCheck limit_check(std::string_view what, double quoted, const Reference& reference) {
    const double ratio = quoted / reference.amount;
    if (ratio >= 1.0) {
        return {kBestLevel, std::string(what) + " " + format_money(quoted) + " meets " +
                                std::string(reference.name)};
    }
    return {clamp_level(kBestLevel + kLimitShortfallSlope * (1.0 - ratio)),
            std::string(what) + " " + format_money(quoted) + " is " + format_percent(ratio) +
                " of " + std::string(reference.name) + " (" + format_money(reference.amount) + ")"};
}

CoverageCheck deductible_check(std::string_view line, double deductible, double lowest) {
    const std::string what = std::string(line) + " deductible " + format_money(deductible);
    if (deductible <= lowest || deductible <= 0.0) {
        return {kBestLevel, what + " is the lowest quoted"};
    }
    return {clamp_level(kBestLevel + kDeductibleSlope * (1.0 - lowest / deductible)),
            what + " vs " + format_money(lowest) + " lowest quoted"};
}

void add_limit_check(std::vector<CoverageCheck>& checks, std::string_view what,
                     const std::optional<double>& quoted,
                     const std::optional<Reference>& reference) {
    if (quoted && reference) {
        checks.push_back(limit_check(what, *quoted, *reference));
    }
}

constexpr std::string_view kReplacementCost = "the replacement cost";
constexpr std::string_view kCurrentPolicy = "the current policy";
constexpr std::string_view kBestQuote = "the best quote";

// The dwelling limit against the replacement cost, but never better than against the current
// policy or the best quote: supplying the replacement cost can only reveal underinsurance, never
// hide a shortfall against the other references. Under the coinsurance threshold the check, and
// the package's coverage level with it, is the worst level, so an underinsured dwelling never
// scores better on coverage than one insured to value.
std::optional<CoverageCheck> dwelling_check(const std::optional<double>& quoted,
                                            const Market& market, const CoverageLimits& current,
                                            const BestQuoted& best) {
    const auto other =
        first_known({{current.dwelling, kCurrentPolicy}, {best.dwelling, kBestQuote}});
    if (!quoted) {
        return std::nullopt;
    }
    std::optional<CoverageCheck> against_other;
    if (other) {
        against_other = limit_check("home dwelling limit", *quoted, *other);
    }
    const auto replacement = first_known({{market.replacement_cost, kReplacementCost}});
    if (!replacement) {
        return against_other;
    }
    CoverageCheck check = limit_check("home dwelling limit", *quoted, *replacement);
    if (*quoted < kCoinsuranceThreshold * replacement->amount) {
        check.level = kWorstLevel;
        check.fails_coinsurance = true;
        check.reason +=
            ", under the " + format_percent(kCoinsuranceThreshold) + " coinsurance threshold";
    }
    if (against_other && against_other->level > check.level) {
        return against_other;
    }
    return check;
}

void check_line(std::vector<CoverageCheck>& checks, const Offering& offering,
                const Market& market) {
    const std::string& line = offering.category;
    const CoverageLimits& quoted = offering.limits;
    const auto current_it = market.current_limits.find(line);
    const CoverageLimits current =
        current_it == market.current_limits.end() ? CoverageLimits{} : current_it->second;
    const auto best_it = market.best_quoted.find(line);
    const BestQuoted best = best_it == market.best_quoted.end() ? BestQuoted{} : best_it->second;

    if (line == "home") {
        if (auto dwelling = dwelling_check(quoted.dwelling, market, current, best)) {
            checks.push_back(std::move(*dwelling));
        }
        add_limit_check(checks, "home liability limit", quoted.personal_liability,
                        first_known({{current.personal_liability, kCurrentPolicy},
                                     {best.personal_liability, kBestQuote}}));
    } else if (line == "auto") {
        add_limit_check(checks, "auto liability per accident", quoted.auto_per_accident(),
                        first_known({{current.auto_per_accident(), kCurrentPolicy},
                                     {best.auto_per_accident, kBestQuote}}));
    } else if (line == "umbrella") {
        add_limit_check(
            checks, "umbrella limit", quoted.umbrella,
            first_known({{current.umbrella, kCurrentPolicy}, {best.umbrella, kBestQuote}}));
    }
    if (quoted.deductible && best.lowest_deductible) {
        checks.push_back(deductible_check(line, *quoted.deductible, *best.lowest_deductible));
    }
}

// --- carrier quality ---------------------------------------------------------------------

// AM Best financial strength ratings on the platform scale.
std::optional<double> rating_level(std::string_view rating) {
    struct Grade {
        std::string_view rating;
        double level;
    };
    constexpr Grade kGrades[] = {
        {"A++", 1.0}, {"A+", 1.25}, {"A", 1.5},   {"A-", 2.0}, {"B++", 2.5}, {"B+", 3.0},
        {"B", 3.5},   {"B-", 3.5},  {"C++", 4.0}, {"C+", 4.0}, {"C", 4.0},   {"C-", 4.0},
        {"D", 4.0},   {"E", 4.0},   {"F", 4.0},   {"S", 4.0},
    };
    for (const Grade& grade : kGrades) {
        if (grade.rating == rating) {
            return grade.level;
        }
    }
    return std::nullopt;
}

std::string rating_summary(const Package& package) {
    std::string summary;
    std::vector<std::string_view> seen;
    for (const Offering* offering : package.offerings) {
        if (std::find(seen.begin(), seen.end(), offering->provider_key) != seen.end()) {
            continue;
        }
        seen.push_back(offering->provider_key);
        summary += summary.empty() ? "" : ", ";
        summary += offering->provider_name + " " + offering->quality_rating.value_or("unrated");
    }
    return summary;
}

}  // namespace

std::string format_money(double amount) {
    const std::string digits = std::to_string(std::llround(std::fabs(amount)));
    std::string grouped = amount < 0 ? "-$" : "$";
    for (std::size_t i = 0; i < digits.size(); ++i) {
        if (i > 0 && (digits.size() - i) % 3 == 0) {
            grouped += ',';
        }
        grouped += digits[i];
    }
    return grouped;
}

Market Market::of_request(const json::object& input,
                          const std::vector<std::string>& requested_lines) {
    Market market;
    market.line_count = requested_lines.size();
    const json::object* current_coverage = find_object(input, "current_coverage");
    market.current_total_premium = total_current_premium(current_coverage, requested_lines);
    if (current_coverage != nullptr) {
        for (const auto& member : *current_coverage) {
            if (member.value().is_object()) {
                market.current_limits.emplace(member.key(),
                                              read_coverage_limits(member.value().get_object()));
            }
        }
    }
    if (const json::object* residence = find_object(input, "residence")) {
        market.replacement_cost = find_number(*residence, "replacement_cost");
    }
    return market;
}

Market Market::survey(const std::vector<Package>& packages, const json::object& input,
                      const std::vector<std::string>& requested_lines) {
    Market market = of_request(input, requested_lines);
    market.package_count = packages.size();
    for (std::size_t i = 0; i < packages.size(); ++i) {
        const double cost = packages[i].est_cost_low;
        market.cheapest = i == 0 ? cost : std::min(market.cheapest, cost);
        market.dearest = i == 0 ? cost : std::max(market.dearest, cost);
        for (const Offering* offering : packages[i].offerings) {
            market.note_quoted(*offering);
        }
    }
    return market;
}

void Market::note_quoted(const Offering& offering) {
    BestQuoted& best = best_quoted[offering.category];
    keep_max(best.dwelling, offering.limits.dwelling);
    keep_max(best.personal_liability, offering.limits.personal_liability);
    keep_max(best.auto_per_accident, offering.limits.auto_per_accident());
    keep_max(best.umbrella, offering.limits.umbrella);
    keep_min(best.lowest_deductible, offering.limits.deductible);
}

std::vector<CoverageCheck> coverage_checks(const Offering& offering, const Market& market) {
    std::vector<CoverageCheck> checks;
    check_line(checks, offering, market);
    return checks;
}

double CoverageTally::level() const {
    if (fails_coinsurance_) {
        return kWorstLevel;
    }
    return count_ == 0 ? kNeutralLevel : sum_ / static_cast<double>(count_);
}

double rating_level_or_neutral(const Offering& offering) {
    const auto level =
        offering.quality_rating ? rating_level(*offering.quality_rating) : std::nullopt;
    return level.value_or(kNeutralLevel);
}

void CarrierTally::add(const Offering& offering) {
    any_rated_ = any_rated_ || (offering.quality_rating && rating_level(*offering.quality_rating));
    const double premium = offering.line_premium.value_or(0.0);
    weighted_sum_ += rating_level_or_neutral(offering) * premium;
    premium_sum_ += premium;
}

double CarrierTally::level() const {
    return any_rated_ && premium_sum_ > 0.0 ? weighted_sum_ / premium_sum_ : kNeutralLevel;
}

double pricing_level(double cost, const Market& market) {
    // The scale runs from the cheapest to the dearest package, but spans at least
    // kMinimumPriceSpan of the cheapest premium: when every package costs about the same, a few
    // percent must not be worth several levels.
    const double span =
        std::max(market.dearest - market.cheapest, market.cheapest * kMinimumPriceSpan);
    const double position = span > 0.0 ? (cost - market.cheapest) / span : 0.0;
    const double level = clamp_level(kBestLevel + (kWorstLevel - kBestLevel) * position);
    if (!market.current_total_premium) {
        return level;
    }
    const double change = (cost - *market.current_total_premium) / *market.current_total_premium;
    return (level + clamp_level(kNeutralLevel + kCurrentPremiumSlope * change)) / 2.0;
}

double simplicity_level(std::size_t provider_count, const Market& market) {
    if (provider_count <= 1) {
        return kBestLevel;
    }
    const double extra_providers = static_cast<double>(provider_count - 1);
    const double most_extra = static_cast<double>(std::max<std::size_t>(market.line_count, 2) - 1);
    return clamp_level(kBestLevel + (kWorstLevel - kBestLevel) * extra_providers / most_extra);
}

Assessment assess_pricing(const Package& package, const Market& market) {
    const double cost = package.est_cost_low;
    std::string reason = format_money(cost) + "/yr, ";
    if (market.package_count == 1) {
        reason += "the only package";
    } else if (cost <= market.cheapest) {
        reason += "the cheapest of " + std::to_string(market.package_count) + " packages";
    } else {
        reason += format_percent((cost - market.cheapest) / market.cheapest) +
                  " above the cheapest package";
    }
    if (market.current_total_premium) {
        const double change =
            (cost - *market.current_total_premium) / *market.current_total_premium;
        reason += "; " + format_percent(std::fabs(change)) +
                  (change <= 0.0 ? " below " : " above ") + "the current " +
                  format_money(*market.current_total_premium);
    }
    return {pricing_level(cost, market), reason};
}

Assessment assess_coverage(const Package& package, const Market& market) {
    std::vector<CoverageCheck> checks;
    for (const Offering* offering : package.offerings) {
        check_line(checks, *offering, market);
    }
    CoverageTally tally;
    for (const CoverageCheck& check : checks) {
        tally.add(check.level, check.fails_coinsurance);
    }
    if (tally.empty()) {
        return {tally.level(), "no limits quoted"};
    }
    // The weakest check is the one worth telling the client about.
    const auto weakest = std::max_element(
        checks.begin(), checks.end(),
        [](const CoverageCheck& a, const CoverageCheck& b) { return a.level < b.level; });
    const std::string reason =
        weakest->level > kBestLevel
            ? weakest->reason
            : "every limit and deductible check met (" + std::to_string(checks.size()) + ")";
    return {tally.level(), reason};
}

Assessment assess_carrier_quality(const Package& package) {
    CarrierTally tally;
    for (const Offering* offering : package.offerings) {
        tally.add(*offering);
    }
    return {tally.level(), tally.any_rated() ? rating_summary(package) : "no rating supplied"};
}

Assessment assess_simplicity(const Package& package, const Market& market) {
    const double level = simplicity_level(package.provider_count, market);
    if (package.provider_count <= 1) {
        return {level,
                package.is_original_bundle ? "one provider, original bundle" : "one provider"};
    }
    return {level, std::to_string(package.provider_count) + " providers for " +
                       std::to_string(market.line_count) + " lines"};
}

Assessment assess(std::string_view dimension_key, const Package& package, const Market& market) {
    if (dimension_key == kPricingCompetitiveness) {
        return assess_pricing(package, market);
    }
    if (dimension_key == kCoverageCompleteness) {
        return assess_coverage(package, market);
    }
    if (dimension_key == kCarrierQuality) {
        return assess_carrier_quality(package);
    }
    if (dimension_key == kSimplicity) {
        return assess_simplicity(package, market);
    }
    // Configuration checking refuses a deterministic dimension without a scorer.
    throw std::logic_error("no deterministic scorer for dimension " + std::string(dimension_key));
}

}  // namespace engined::placement
