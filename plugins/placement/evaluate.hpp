// EVALUATE: a scorecard per package — a level and reason per enabled dimension, and the
// overall level as their weighted mean under the appetite bucket's weights.
#pragma once

#include "config.hpp"
#include "package.hpp"
#include "scoring_host.hpp"
#include "weights.hpp"

#include <boost/json/object.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace engined::placement {

struct EvaluationRequest {
    const boost::json::object& input;
    const std::vector<std::string>& requested_lines;
    std::string_view bucket;
    const EngineConfig& config;
};

struct Evaluation {
    Weights weights;
    // Lua dimensions whose scorer failed and which no package is scored on.
    std::vector<std::string> dimensions_left_out;
    // Why the run is degraded (set exactly when a dimension was left out).
    std::optional<std::string> degradation_reason;
};

// Fills every package's scorecard. A Lua dimension is scored by the scorecard's
// score_<key>(package, ctx), which returns {level = 1.0..4.0, reason = "..."}; when it fails
// with a script error (or returns something else) the dimension is left out of every package
// and the run degrades rather than fails. Throws RunFailure for invalid weights and for Lua
// budget or memory breaches.
Evaluation evaluate_packages(std::vector<Package>& packages, const EvaluationRequest& request,
                             ScoringHost& host);

}  // namespace engined::placement
