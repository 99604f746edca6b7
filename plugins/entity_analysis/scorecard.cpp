#include "scorecard.hpp"

#include "sdk_names.hpp"

#include <cmath>
#include <string>

namespace engined::entity_analysis {

namespace json = boost::json;

namespace {

constexpr std::string_view kWeightsFunction = "weights";
constexpr std::string_view kTiersFunction = "tiers";

// The function's answer, or null when the scorecard does not define it. An empty Lua table has
// no JSON shape of its own and may arrive as []; it is read as {}.
json::value call_optional(ScoringHost& host, std::string_view function, const json::array& args) {
    if (!host.has_function(function)) {
        return nullptr;
    }
    json::value returned;
    try {
        returned = host.call(function, args);
    } catch (const ScriptFailure& failure) {
        throw run_failure_for(failure, function);
    }
    if (returned.is_array() && returned.get_array().empty()) {
        return json::object{};
    }
    return returned;
}

[[noreturn]] void invalid_weights(std::string_view source, const std::string& problem) {
    throw RunFailure("invalid_weights", "weights from " + std::string(source) + ": " + problem,
                     json::array{json::object{{"source", source}}});
}

Weights checked_weights(const json::object& weights, std::string_view source) {
    Weights checked{.by_dimension = {}, .source = source};
    double sum = 0.0;
    for (std::size_t d = 0; d < kDimensionCount; ++d) {
        const json::value* weight = weights.if_contains(kDimensionKeys[d]);
        if (weight == nullptr) {
            invalid_weights(source,
                            "no weight for dimension '" + std::string(kDimensionKeys[d]) + "'");
        }
        const auto value = as_number(*weight);
        if (!value || !std::isfinite(*value) || *value < 0.0) {
            invalid_weights(source, "the weight of '" + std::string(kDimensionKeys[d]) +
                                        "' must be a finite number >= 0");
        }
        checked.by_dimension[d] = *value;
        sum += *value;
    }
    if (!(sum > 0.0)) {
        invalid_weights(source, "the weights are all 0");
    }
    return checked;
}

Weights configured_weights(const EngineConfig& config) {
    const WeightProfile* profile = config.weight_profile(config.default_appetite_bucket);
    if (profile == nullptr) {
        invalid_weights(source::kConfig,
                        "no appetite_weight_profiles entry for the default bucket");
    }
    return {.by_dimension = profile->weights, .source = source::kConfig};
}

[[noreturn]] void invalid_tiers(const std::string& problem) {
    throw RunFailure("invalid_tiers", "tiers() from the scorecard: " + problem,
                     json::array{json::object{{"source", source::kLua}}});
}

}  // namespace

Weights resolve_weights(const json::object& input, const EngineConfig& config, ScoringHost& host) {
    const json::value returned = call_optional(host, kWeightsFunction, json::array{input});
    if (returned.is_null()) {
        return configured_weights(config);
    }
    if (!returned.is_object()) {
        invalid_weights(source::kLua, "weights() must return a table of {dimension = weight}");
    }
    return checked_weights(returned.get_object(), source::kLua);
}

Tiers resolve_tiers(const EngineConfig& config, ScoringHost& host) {
    const json::value returned = call_optional(host, kTiersFunction, json::array{});
    if (returned.is_null()) {
        return {.thresholds = config.parameters.tier_thresholds, .source = source::kConfig};
    }
    const json::object* table = returned.if_object();
    if (table == nullptr) {
        invalid_tiers(
            "must return a table {STRONG_FIT = level, GOOD_FIT = level, MODERATE_FIT = level}");
    }
    TierThresholds thresholds;
    for (const auto& [key, target] :
         {std::pair{kStrongFit, &thresholds.strong_fit}, std::pair{kGoodFit, &thresholds.good_fit},
          std::pair{kModerateFit, &thresholds.moderate_fit}}) {
        const json::value* value = table->if_contains(key);
        const auto number = value ? as_number(*value) : std::nullopt;
        if (!number) {
            invalid_tiers("no number for " + std::string(key));
        }
        *target = *number;
    }
    if (const std::vector<std::string> problems = threshold_problems(thresholds);
        !problems.empty()) {
        invalid_tiers(problems.front());
    }
    return {.thresholds = thresholds, .source = source::kLua};
}

}  // namespace engined::entity_analysis
