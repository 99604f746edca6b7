// The placement engine's configuration: scoring dimensions, appetite weight profiles and engine
// parameters, as the host hands them to config_new (and as POST .../config/validate checks
// them). Parsed once per configuration into an EngineConfig that every run of it shares, read-only.
// Keys the engine does not know (the host adds `lua_source` and the schemas) are ignored.
#pragma once

#include "config_problems.hpp"

#include <boost/json/object.hpp>

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace engined::placement {

// Dimensions the engine scores itself (method "deterministic").
inline constexpr std::string_view kPricingCompetitiveness = "pricing_competitiveness";
inline constexpr std::string_view kCoverageCompleteness = "coverage_completeness";
inline constexpr std::string_view kCarrierQuality = "carrier_quality";
inline constexpr std::string_view kSimplicity = "simplicity";

bool has_deterministic_scorer(std::string_view dimension_key);

enum class ScoringMethod { deterministic, lua };

struct ScoringDimension {
    std::string key;
    std::string label;
    ScoringMethod method = ScoringMethod::deterministic;
    bool enabled = true;
};

struct WeightProfile {
    std::string bucket;
    std::string label;
    std::map<std::string, double, std::less<>> weights;
};

struct EngineParameters {
    // Share of the line premiums a customer loses when a quoted bundle is split.
    double unbundling_surcharge = 0.12;
    // Under the coverage_first bucket, the best-covered solution goes first when its price is at
    // most this multiple of the cheapest package's.
    double coverage_first_price_ratio = 1.25;
    std::size_t max_solutions_default = 10;
    std::size_t max_solutions_limit = 50;
    // Packages the ranking may examine (score) before refusing the run: a safety limit for
    // inputs on which the bounded search cannot prune.
    std::uint64_t max_packages_examined = 5'000'000;
    // How solutions list their offerings: `submitted` keeps each offering as sent (the public API
    // reference's shape); `summary`, the default, is the flattened line summary the 1.x releases
    // were published with, so configurations without the parameter keep their response contract.
    enum class SolutionOfferings { summary, submitted };
    SolutionOfferings solution_offerings = SolutionOfferings::summary;
};

struct EngineConfig {
    std::vector<ScoringDimension> dimensions;
    // The enabled ones of `dimensions`, in configured order: the dimensions every package is
    // scored on.
    std::vector<ScoringDimension> enabled_dimensions;
    // Each profile's weights are those of exactly the enabled dimensions, checked as a run's
    // weights are (finite, >= 0, not all 0).
    std::vector<WeightProfile> weight_profiles;
    std::string default_appetite_bucket;
    EngineParameters parameters;

    const WeightProfile* weight_profile(std::string_view bucket) const;
};

using plugin_sdk::ConfigProblem;

// Every problem of `config`; empty when the engine can run with it.
std::vector<ConfigProblem> check_config(const boost::json::object& config);

// The configuration, or RunFailure("invalid_config") listing every problem check_config reports
// (the first in the message). config_new prepares a handle with it.
EngineConfig parse_config(const boost::json::object& config);

}  // namespace engined::placement
