// What the run's Lua scorecard decides: the dimension weights (weights(input)) and the tier
// thresholds (tiers()). Each falls back to the configuration when the scorecard does not define
// the function or the function returns nil.
#pragma once

#include "config.hpp"
#include "scoring_host.hpp"
#include "sdk_names.hpp"

#include <boost/json/object.hpp>

#include <string_view>

namespace engined::entity_analysis {

namespace source {
inline constexpr std::string_view kLua = "lua";  // the scorecard's function
inline constexpr std::string_view kConfig =
    "config";  // the configuration (appetite_weight_profiles, parameters)
}  // namespace source

struct Weights {
    DimensionWeights by_dimension{};
    std::string_view source;
};

struct Tiers {
    TierThresholds thresholds;
    std::string_view source;
};

// weights(input) with `input` = {profile, pool, gap_analysis} (see docs/entity-analysis.md), else
// the profile of the configuration's default_appetite_bucket. Throws RunFailure: invalid_weights
// (a weight missing, negative or not a number, or all zero), lua_error, lua_budget_exceeded,
// lua_memory_exceeded.
Weights resolve_weights(const boost::json::object& input, const EngineConfig& config,
                        ScoringHost& host);

// tiers(), else parameters.tier_thresholds. Throws RunFailure: invalid_tiers (not three
// ascending levels in (1, 4]), lua_error, lua_budget_exceeded, lua_memory_exceeded.
Tiers resolve_tiers(const EngineConfig& config, ScoringHost& host);

}  // namespace engined::entity_analysis
