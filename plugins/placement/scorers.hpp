// The deterministic dimensions of the personal-lines pack. Each returns a level on the platform
// scale (1.0 best .. 4.0 worst) and one short reason a broker can repeat to a client.
#pragma once

#include "offering.hpp"
#include "package.hpp"

#include <boost/json/object.hpp>

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace engined::placement {

struct Assessment {
    double level = 0.0;
    std::string reason;
};

// "$1,234" (whole dollars, thousands grouped), as reasons quote amounts.
std::string format_money(double amount);

// The level given when a dimension has nothing to judge by.
inline constexpr double kNeutralLevel = 2.5;

// The best terms quoted for one line across all packages.
struct BestQuoted {
    std::optional<double> dwelling;
    std::optional<double> personal_liability;
    std::optional<double> auto_per_accident;
    std::optional<double> umbrella;
    std::optional<double> lowest_deductible;
};

// What packages are compared with: each other, the insured's current policies and home.
struct Market {
    std::uint64_t package_count = 0;  // valid packages, saturating at the uint64 maximum
    std::size_t line_count = 0;
    double cheapest = 0.0;  // lowest est_cost_low over every valid package
    double dearest = 0.0;   // highest est_cost_low over every valid package
    // The insured's current premium for all requested lines; only when every line has one,
    // since a partial total would make any new line look expensive.
    std::optional<double> current_total_premium;
    std::optional<double> replacement_cost;  // input.residence.replacement_cost
    std::map<std::string, CoverageLimits, std::less<>>
        current_limits;                                          // input.current_coverage.<line>
    std::map<std::string, BestQuoted, std::less<>> best_quoted;  // by line

    // The facts that come from the request alone; the package-wide facts are left at zero.
    static Market of_request(const boost::json::object& input,
                             const std::vector<std::string>& requested_lines);

    // Every package-wide fact, from the packages themselves (the exhaustive path).
    static Market survey(const std::vector<Package>& packages, const boost::json::object& input,
                         const std::vector<std::string>& requested_lines);

    // Counts `offering` among the quotes of its line (best limits, lowest deductible).
    void note_quoted(const Offering& offering);
};

// One limit or deductible check of coverage_completeness.
struct CoverageCheck {
    double level;
    std::string reason;
    // A dwelling insured under the coinsurance threshold of its replacement cost: every partial
    // loss would be paid only in proportion, so the whole package takes the worst coverage level.
    bool fails_coinsurance = false;
};

// The checks one offering contributes to its package's coverage level; they depend on the
// offering and the market only, never on the package's other lines.
std::vector<CoverageCheck> coverage_checks(const Offering& offering, const Market& market);

// The coverage level as a running mean of check levels, added in package order; the worst
// level when any check fails the coinsurance threshold.
class CoverageTally {
public:
    void add(double check_level, bool fails_coinsurance) {
        sum_ += check_level;
        ++count_;
        fails_coinsurance_ = fails_coinsurance_ || fails_coinsurance;
    }
    bool empty() const { return count_ == 0; }
    double level() const;

private:
    double sum_ = 0.0;
    std::size_t count_ = 0;
    bool fails_coinsurance_ = false;
};

// The carrier-quality level as a premium-weighted mean, added line by line in package order.
class CarrierTally {
public:
    void add(const Offering& offering);
    bool any_rated() const { return any_rated_; }
    double level() const;

private:
    double weighted_sum_ = 0.0;
    double premium_sum_ = 0.0;
    bool any_rated_ = false;
};

// An offering's carrier rating on the level scale; the neutral level when unrated.
double rating_level_or_neutral(const Offering& offering);

// The pricing level of a package costing `cost` (est_cost_low): non-decreasing in `cost`.
double pricing_level(double cost, const Market& market);

// The simplicity level for `provider_count` providers: non-decreasing in the count.
double simplicity_level(std::size_t provider_count, const Market& market);

// Cost against the cheapest and dearest package and, when known, the current premium.
Assessment assess_pricing(const Package& package, const Market& market);

// Limits against the replacement cost, the current policies or the best quote; deductibles
// against the lowest quoted.
Assessment assess_coverage(const Package& package, const Market& market);

// AM Best style ratings, premium-weighted across the package's lines.
Assessment assess_carrier_quality(const Package& package);

// Fewer providers is simpler; one original bundle is simplest.
Assessment assess_simplicity(const Package& package, const Market& market);

// The deterministic scorer for `dimension_key` (see has_deterministic_scorer).
Assessment assess(std::string_view dimension_key, const Package& package, const Market& market);

}  // namespace engined::placement
