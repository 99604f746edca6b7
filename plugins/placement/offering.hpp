// Offerings (one quoted line each) read once into typed fields, so that the combinatorial
// stages work on plain values instead of re-reading JSON for every package.
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace engined::placement {

// Limit fields shared by quoted coverage and the insured's current policies.
struct CoverageLimits {
    std::optional<double> dwelling;              // home: dwelling_limit
    std::optional<double> personal_liability;    // home: personal_liability_limit
    std::optional<double> auto_combined_single;  // auto: limit_combined_single
    std::optional<double> auto_bi_per_person;    // auto: limit_bodily_injury_per_person
    std::optional<double> auto_bi_per_accident;  // auto: limit_bodily_injury_per_accident
    std::optional<double> umbrella;              // umbrella: limit
    std::optional<double> deductible;            // deductible_default

    // The most the auto policy pays for one accident: its CSL, else its per-accident BI limit.
    std::optional<double> auto_per_accident() const;
};

CoverageLimits read_coverage_limits(const boost::json::object& fields);

// What an umbrella carrier requires of the package's underlying lines.
struct UmbrellaRequirements {
    std::optional<double> min_auto_bi_per_person;
    std::optional<double> min_auto_bi_per_accident;
    std::optional<double> min_auto_combined_single;
    std::optional<double> min_home_liability;
    bool same_provider = false;
};

struct Offering {
    const boost::json::object* source = nullptr;  // the offering as supplied
    std::string id;
    std::string category;
    std::optional<std::string> provider_id;
    std::string provider_name;  // provider_name, else provider_id
    std::string provider_key;   // provider_id, else provider_name: identifies the carrier
    std::optional<std::string> quality_rating;
    std::optional<std::string> quote_id;
    std::optional<std::string> package_id;
    // The quoted bundle the line belongs to: its package_id, else (the reference makes package_id
    // a passthrough) its carrier and package premium, since lines a carrier quoted at one
    // package premium are that carrier's original bundle.
    std::optional<std::string> bundle_key;
    std::optional<double> line_premium;     // attributes.line_premium_annual, when a number
    std::optional<double> package_premium;  // attributes.package_premium_annual, when a number
    CoverageLimits limits;
    UmbrellaRequirements umbrella_requirements;
    std::vector<std::string> excluded_states;
    const boost::json::value* quote_expires_at = nullptr;  // attributes.quote_expires_at
};

// Reads every offering of the run; throws RunFailure("invalid_request") for an element that is
// not an object with a string `id` and `category` (the request contract requires both).
std::vector<Offering> read_offerings(const boost::json::array& offerings);

}  // namespace engined::placement
