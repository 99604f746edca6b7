// The entity-analysis engine's configuration: the six scoring dimensions, appetite weight
// profiles, the default bucket and engine parameters (tier thresholds, candidate counts), as the
// host hands them to config_new and as POST .../config/validate checks them. Parsed once per
// configuration into an EngineConfig that every run of it shares, read-only. Keys the engine
// does not read (the host adds `lua_source`, the schemas and the examples) are ignored.
#pragma once

#include "config_problems.hpp"

#include <boost/json/object.hpp>

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace engined::entity_analysis {

// The dimensions every carrier is assessed on, in output order. The engine scores all six
// itself (method "deterministic"); a weight of 0 leaves one out of the aggregate.
enum class Dimension : std::size_t { appetite, coverage, financial, pricing, placement, service };
inline constexpr std::size_t kDimensionCount = 6;
inline constexpr std::array<std::string_view, kDimensionCount> kDimensionKeys = {
    "appetite", "coverage", "financial", "pricing", "placement", "service"};

std::optional<Dimension> dimension_from_key(std::string_view key);

using DimensionWeights = std::array<double, kDimensionCount>;  // by Dimension

struct WeightProfile {
    std::string bucket;
    std::string label;
    DimensionWeights weights{};
};

// A candidate's tier is the first whose threshold its aggregate level does not exceed; above
// moderate_fit it is WEAK_FIT. Levels run from 1 (best) to 4, so strong < good < moderate.
struct TierThresholds {
    double strong_fit = 1.75;
    double good_fit = 2.5;
    double moderate_fit = 3.25;
};

// Names of the tiers and of their thresholds in the configuration and in tiers().
inline constexpr std::string_view kStrongFit = "STRONG_FIT";
inline constexpr std::string_view kGoodFit = "GOOD_FIT";
inline constexpr std::string_view kModerateFit = "MODERATE_FIT";
inline constexpr std::string_view kWeakFit = "WEAK_FIT";

struct EngineParameters {
    TierThresholds tier_thresholds;
    std::size_t max_candidates_default = 25;
    std::size_t max_candidates_limit = 500;
};

struct EngineConfig {
    std::vector<WeightProfile> weight_profiles;
    std::string default_appetite_bucket;
    EngineParameters parameters;

    const WeightProfile* weight_profile(std::string_view bucket) const;
};

using plugin_sdk::ConfigProblem;

// Every problem of `config`; empty when the engine can run with it.
std::vector<ConfigProblem> check_config(const boost::json::object& config);

// The configuration, or RunFailure("invalid_config") listing every problem.
EngineConfig parse_config(const boost::json::object& config);

// Problems of a set of tier thresholds: each in (1, 4] and strictly ascending. Empty when usable.
std::vector<std::string> threshold_problems(const TierThresholds& thresholds);

}  // namespace engined::entity_analysis
