// The weights of the enabled dimensions for one run's appetite bucket.
#pragma once

#include "config.hpp"
#include "scoring_host.hpp"

#include <boost/json/object.hpp>

#include <map>
#include <string>
#include <string_view>

namespace engined::placement {

namespace weights_source {
inline constexpr std::string_view kLua = "lua";  // the scorecard's weights(bucket, input)
inline constexpr std::string_view kConfig =
    "config";  // the configuration's appetite_weight_profiles
}  // namespace weights_source

struct Weights {
    std::map<std::string, double, std::less<>> by_dimension;  // every enabled dimension
    std::string_view source;                                  // one of weights_source
};

// The scorecard's weights(bucket, input) when it defines that function and returns a table
// (`input` holds only the household fields listed in weights.cpp, not quotes or pass-through fields);
// the configuration's profile for `bucket` when it does not define it or returns nil.
// Throws RunFailure: invalid_weights (a weight missing, negative or not a number, or all zero),
// lua_error, lua_budget_exceeded, lua_memory_exceeded.
Weights resolve_weights(std::string_view bucket, const boost::json::object& input,
                        const EngineConfig& config, ScoringHost& host);

}  // namespace engined::placement
