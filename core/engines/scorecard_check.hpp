// Validation that runs what runs: a configuration's scorecard hooks executed the way a run
// executes them (self_test(), weights() per appetite bucket, score_<key> per enabled Lua
// dimension), and its examples checked against its own schemas. Knows the configuration's
// shared fields and the Lua sandbox, not the store or HTTP.
#pragma once

#include "common/api_error.hpp"
#include "lua/sandbox.hpp"

#include <boost/json/array.hpp>
#include <boost/json/value.hpp>

#include <vector>

namespace engined::engines {

struct ScorecardVerdict {
    std::vector<ErrorDetail> errors;
    // Usable, but not what the operator may think: configured weights a weights() hook overrides.
    std::vector<ErrorDetail> warnings;
    // Per appetite bucket, the weights a run of that bucket uses:
    // [{"bucket", "source": "lua" | "config", "weights": {dimension: weight}}].
    boost::json::array effective_weights;
};

// Compiles `lua_source` and calls its hooks as a run would. Errors for a script that does not
// compile, a self_test() that does not return true (saying what it returned), an enabled Lua
// dimension without score_<key>, and a weights() that leaves an enabled dimension of a bucket
// without a finite weight >= 0 (every such run would fail invalid_weights).
ScorecardVerdict check_scorecard(const boost::json::value& config, const lua::Limits& limits);

// The example request (its input and offerings) and example response validated against the
// configuration's request and response schemas; nothing when either is absent or unusable.
std::vector<ErrorDetail> example_errors(const boost::json::value& config);

}  // namespace engined::engines
