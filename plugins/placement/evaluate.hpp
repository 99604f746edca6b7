// EVALUATE: a scorecard per package — a level and reason per enabled dimension, and the
// overall level as their weighted mean under the appetite bucket's weights.
#pragma once

#include "config.hpp"
#include "package.hpp"
#include "scorers.hpp"
#include "scoring_host.hpp"
#include "weights.hpp"

#include <boost/json/object.hpp>

#include <exception>
#include <map>
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

// The four deterministic levels of one package, or bounds on them.
struct DeterministicLevels {
    double pricing = 0.0;
    double coverage = 0.0;
    double carrier = 0.0;
    double simplicity = 0.0;
};

// Thrown by PackageScorer::score when a Lua dimension failed and was left out of the run:
// every scorecard given before it is stale and must be given again.
class DimensionLeftOut : public std::exception {
public:
    const char* what() const noexcept override { return "a Lua dimension was left out of the run"; }
};

// What a Lua function sees of the run besides the package: the bucket and the few input facts
// a household rule needs ({bucket, state, coverage_types, current_coverage, residence}), so that
// every call stays small whatever else the request carries.
boost::json::object script_context(const boost::json::object& input, std::string_view bucket);

// What a Lua function sees of a package: the offerings as supplied plus the assembled facts.
boost::json::object package_for_script(const Package& package);

// Scores packages one at a time under the run's weights. A Lua dimension is scored by the
// scorecard's score_<key>(package, ctx), which returns {level = 1.0..4.0, reason = "..."}; when it
// fails with a script error (or returns something else) the dimension is left out of the run,
// which then degrades rather than fails. Throws RunFailure for invalid weights and for Lua budget
// or memory breaches.
class PackageScorer {
public:
    PackageScorer(const EvaluationRequest& request, ScoringHost& host);

    // Fills `package.scorecard`. Throws DimensionLeftOut when a Lua dimension fails on it.
    void score(Package& package, const Market& market);

    bool has_script_dimensions() const;

    // The overall level from the deterministic levels alone; only when no Lua dimension is
    // scored. Equal to what score() gives the same package.
    double overall_level(const DeterministicLevels& levels) const;

    // A lower bound on the overall level of any package whose deterministic levels are at least
    // `lower`; a Lua dimension counts at its best level, 1.0.
    double overall_lower_bound(const DeterministicLevels& lower) const;

    const boost::json::object& context() const { return context_; }
    Evaluation evaluation() const;

private:
    struct ActiveDimension {
        ScoringDimension dimension;
        double weight;
    };

    template <typename LevelOf>
    double weighted_level(LevelOf&& level_of) const;
    Assessment assess_with_script(const ScoringDimension& dimension, const Package& package);
    [[noreturn]] void leave_out(const ScoringDimension& dimension, const std::string& problem);

    ScoringHost& host_;
    std::string bucket_;
    Weights weights_;
    std::vector<ActiveDimension> active_;
    std::vector<std::string> configured_order_;
    std::map<std::string, std::string, std::less<>> left_out_;  // dimension -> why
    boost::json::object context_;
};

// Scores every package (the exhaustive path), starting over when a Lua dimension is left out.
void evaluate_packages(std::vector<Package>& packages, const Market& market, PackageScorer& scorer);

}  // namespace engined::placement
