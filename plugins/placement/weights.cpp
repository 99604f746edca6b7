#include "weights.hpp"

#include "sdk_names.hpp"

#include <cmath>

namespace engined::placement {

namespace json = boost::json;

namespace {

constexpr std::string_view kWeightsFunction = "weights";

[[noreturn]] void invalid_weights(std::string_view bucket, std::string_view source,
                                  const std::string& problem) {
    throw RunFailure("invalid_weights",
                     "weights for bucket '" + std::string(bucket) + "' from " +
                         std::string(source) + ": " + problem,
                     json::array{json::object{{"bucket", bucket}, {"source", source}}});
}

// Checks that `weights` gives every enabled dimension a finite weight >= 0, not all zero.
Weights checked_weights(const json::object& weights, std::string_view source,
                        std::string_view bucket, const EngineConfig& config) {
    Weights checked{.by_dimension = {}, .source = source};
    double sum = 0.0;
    for (const ScoringDimension& dimension : config.enabled_dimensions) {
        const json::value* weight = weights.if_contains(dimension.key);
        if (weight == nullptr) {
            invalid_weights(bucket, source,
                            "no weight for enabled dimension '" + dimension.key + "'");
        }
        const auto value = as_number(*weight);
        if (!value || !std::isfinite(*value) || *value < 0.0) {
            invalid_weights(bucket, source,
                            "the weight of '" + dimension.key + "' must be a finite number >= 0");
        }
        sum += *value;
        checked.by_dimension.emplace(dimension.key, *value);
    }
    if (!(sum > 0.0)) {
        invalid_weights(bucket, source, "the weights of the enabled dimensions are all 0");
    }
    return checked;
}

Weights configured_weights(std::string_view bucket, const EngineConfig& config) {
    const WeightProfile* profile = config.weight_profile(bucket);
    if (profile == nullptr) {
        invalid_weights(bucket, weights_source::kConfig,
                        "no appetite_weight_profiles entry for this bucket");
    }
    // parse_config checked the profile as checked_weights checks a script's weights.
    return {.by_dimension = profile->weights, .source = weights_source::kConfig};
}

// The input fields a weights rule may read: the household facts of SPEC §6. Quotes, offerings and
// any pass-through field are left out, so that a large free-text field the engine never reads
// cannot push the call past the sandbox's value limits.
constexpr std::string_view kWeightsInputFields[] = {
    "coverage_types", "address",          "appetite_bucket",   "drivers",   "vehicles_detail",
    "residence",      "current_coverage", "insurance_history", "applicant", "request_config",
};

json::object weights_input(const json::object& input) {
    json::object selected;
    for (const std::string_view key : kWeightsInputFields) {
        if (const json::value* value = input.if_contains(key)) {
            selected[key] = *value;
        }
    }
    return selected;
}

}  // namespace

Weights resolve_weights(std::string_view bucket, const json::object& input,
                        const EngineConfig& config, ScoringHost& host) {
    if (!host.has_function(kWeightsFunction)) {
        return configured_weights(bucket, config);
    }
    json::value returned;
    try {
        returned =
            host.call(kWeightsFunction, json::array{json::string(bucket), weights_input(input)});
    } catch (const ScriptFailure& failure) {
        throw run_failure_for(failure, kWeightsFunction);
    }
    if (returned.is_null()) {
        return configured_weights(bucket, config);
    }
    // An empty Lua table has no JSON shape of its own and may arrive as [].
    if (returned.is_array() && returned.get_array().empty()) {
        returned = json::object{};
    }
    if (!returned.is_object()) {
        invalid_weights(bucket, weights_source::kLua,
                        "weights() must return a table of {dimension = weight}");
    }
    return checked_weights(returned.get_object(), weights_source::kLua, bucket, config);
}

}  // namespace engined::placement
