// The deterministic dimensions of the personal-lines pack. Each returns a level on the platform
// scale (1.0 best .. 4.0 worst) and one short reason a broker can repeat to a client.
#pragma once

#include "offering.hpp"
#include "package.hpp"

#include <boost/json/object.hpp>

#include <cstddef>
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
    std::size_t package_count = 0;
    std::size_t line_count = 0;
    double cheapest = 0.0;  // lowest est_cost_low
    double dearest = 0.0;   // highest est_cost_low
    // The insured's current premium for all requested lines; only when every line has one,
    // since a partial total would make any new line look expensive.
    std::optional<double> current_total_premium;
    std::optional<double> replacement_cost;  // input.residence.replacement_cost
    std::map<std::string, CoverageLimits, std::less<>> current_limits;  // input.current_coverage.<line>
    std::map<std::string, BestQuoted, std::less<>> best_quoted;         // by line

    static Market survey(const std::vector<Package>& packages, const boost::json::object& input,
                         const std::vector<std::string>& requested_lines);
};

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
