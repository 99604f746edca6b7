#include "engines/scorecard_check.hpp"

#include "common/json_text.hpp"
#include "contracts/contract_validator.hpp"

#include <boost/json.hpp>

#include <cmath>
#include <optional>
#include <string>

namespace engined::engines {
namespace {

namespace json = boost::json;

const json::array* array_field(const json::value& config, const char* name) {
    const auto* fields = config.if_object();
    const auto* value = fields ? fields->if_contains(name) : nullptr;
    return value ? value->if_array() : nullptr;
}

std::string string_of(const json::value& entry, const char* name) {
    const auto* fields = entry.if_object();
    const auto* value = fields ? fields->if_contains(name) : nullptr;
    return value && value->is_string() ? std::string(value->get_string()) : std::string();
}

// The enabled dimensions' keys, and where each is declared.
struct Dimension {
    std::string key;
    std::string method;
    std::string pointer;
};

std::vector<Dimension> enabled_dimensions(const json::value& config) {
    std::vector<Dimension> enabled;
    const auto* dimensions = array_field(config, "scoring_dimensions");
    if (dimensions == nullptr) return enabled;
    for (std::size_t i = 0; i < dimensions->size(); ++i) {
        const auto& entry = (*dimensions)[i];
        const auto* fields = entry.if_object();
        const auto* on = fields ? fields->if_contains("enabled") : nullptr;
        if (on != nullptr && on->is_bool() && !on->get_bool()) continue;
        enabled.push_back({string_of(entry, "key"), string_of(entry, "method"),
                           "/scoring_dimensions/" + std::to_string(i)});
    }
    return enabled;
}

std::optional<double> number_of(const json::value& value) {
    if (value.is_double()) return value.get_double();
    if (value.is_int64()) return static_cast<double>(value.get_int64());
    if (value.is_uint64()) return static_cast<double>(value.get_uint64());
    return std::nullopt;
}

// What is wrong with weights() returned for a bucket, the way a run would see it; empty when usable.
std::string weights_problem(const json::value& returned, const std::vector<Dimension>& enabled) {
    if (!returned.is_object()) return "weights() must return a table of {dimension = weight}";
    double sum = 0.0;
    for (const Dimension& dimension : enabled) {
        const auto* weight = returned.get_object().if_contains(dimension.key);
        if (weight == nullptr) return "no weight for enabled dimension '" + dimension.key + "'";
        const auto value = number_of(*weight);
        if (!value || !std::isfinite(*value) || *value < 0.0) {
            return "the weight of '" + dimension.key + "' must be a finite number >= 0";
        }
        sum += *value;
    }
    if (!(sum > 0.0)) return "the weights of the enabled dimensions are all 0";
    return {};
}

// Only the enabled dimensions' weights count: those are what a run's ranking uses.
json::object enabled_weights(const json::object& weights, const std::vector<Dimension>& enabled) {
    json::object kept;
    for (const Dimension& dimension : enabled) {
        if (const auto* weight = weights.if_contains(dimension.key)) kept[dimension.key] = *weight;
    }
    return kept;
}

bool same_weights(const json::object& a, const json::object& b) {
    if (a.size() != b.size()) return false;
    for (const auto& [key, weight] : a) {
        const auto* other = b.if_contains(key);
        const auto left = number_of(weight);
        const auto right = other ? number_of(*other) : std::nullopt;
        if (!left || !right || std::fabs(*left - *right) > 1e-12) return false;
    }
    return true;
}

void check_weights(lua::Sandbox& sandbox, const json::value& config,
                   const std::vector<Dimension>& enabled, ScorecardVerdict& verdict) {
    const auto* profiles = array_field(config, "appetite_weight_profiles");
    if (profiles == nullptr) return;
    const bool scripted = sandbox.has_function("weights");
    for (std::size_t i = 0; i < profiles->size(); ++i) {
        const std::string bucket = string_of((*profiles)[i], "bucket");
        const std::string profile_pointer =
            "/appetite_weight_profiles/" + std::to_string(i) + "/weights";
        const auto* configured = (*profiles)[i].is_object()
                                     ? (*profiles)[i].get_object().if_contains("weights")
                                     : nullptr;
        const json::object configured_weights =
            configured && configured->is_object()
                ? enabled_weights(configured->get_object(), enabled)
                : json::object{};
        json::value returned;
        if (scripted) {
            // A fresh run per bucket, with the input weights() sees when a run names no household facts.
            sandbox.begin_run();
            try {
                returned =
                    sandbox.call("weights", json::array{json::string(bucket), json::object{}});
            } catch (const lua::LuaError& error) {
                verdict.errors.push_back(
                    {"/lua_source", "weights(\"" + bucket + "\", {}) failed: " +
                                        truncated_text(error.message(), kMaxErrorMessageBytes)});
                // The other buckets would most likely fail alike, each spending the Lua limits again.
                return;
            }
            if (returned.is_array() && returned.get_array().empty()) returned = json::object{};
        }
        if (returned.is_null()) {
            verdict.effective_weights.push_back(
                {{"bucket", bucket}, {"source", "config"}, {"weights", configured_weights}});
            continue;
        }
        if (const std::string problem = weights_problem(returned, enabled); !problem.empty()) {
            verdict.errors.push_back({"/lua_source", "weights(\"" + bucket + "\") is unusable: " +
                                                         problem + "; every run of bucket '" +
                                                         bucket + "' would fail invalid_weights"});
            continue;
        }
        json::object used = enabled_weights(returned.get_object(), enabled);
        if (!same_weights(used, configured_weights)) {
            verdict.warnings.push_back(
                {profile_pointer, "the scorecard's weights() overrides these weights for bucket '" +
                                      bucket + "'; runs use " + compact_json(used)});
        }
        verdict.effective_weights.push_back(
            {{"bucket", bucket}, {"source", "lua"}, {"weights", std::move(used)}});
    }
}

}  // namespace

ScorecardVerdict check_scorecard(const json::value& config, const lua::Limits& limits) {
    ScorecardVerdict verdict;
    const auto* fields = config.if_object();
    const auto* source = fields ? fields->if_contains("lua_source") : nullptr;
    if (source == nullptr || !source->is_string()) {
        verdict.errors.push_back(
            {"/lua_source", "is required: the Lua scorecard source as a string"});
        return verdict;
    }
    try {
        lua::Sandbox sandbox(source->get_string(), "scorecard.lua", limits);
        sandbox.begin_run();
        // A scorecard may prove itself: self_test() must return true.
        if (sandbox.has_function("self_test")) {
            const json::value passed = sandbox.call("self_test", {});
            if (!(passed.is_bool() && passed.get_bool())) {
                verdict.errors.push_back(
                    {"/lua_source",
                     "self_test() did not return true; it returned " +
                         truncated_text(passed.is_null() ? "nil" : compact_json(passed), 200)});
            }
        }
        const auto enabled = enabled_dimensions(config);
        for (const Dimension& dimension : enabled) {
            if (dimension.method == "lua" && !sandbox.has_function("score_" + dimension.key)) {
                verdict.errors.push_back(
                    {dimension.pointer, "enabled Lua dimension '" + dimension.key +
                                            "' has no score_" + dimension.key +
                                            " function in lua_source; every run would fail"});
            }
        }
        check_weights(sandbox, config, enabled, verdict);
    } catch (const lua::LuaError& error) {
        verdict.errors.push_back(
            {"/lua_source", truncated_text(error.message(), kMaxErrorMessageBytes)});
    }
    return verdict;
}

std::vector<ErrorDetail> example_errors(const json::value& config) {
    std::vector<ErrorDetail> errors;
    const auto* fields = config.if_object();
    if (fields == nullptr) return errors;
    auto check = [&](const char* schema, const char* example, const json::value& document) {
        const auto* schema_value = fields->if_contains(schema);
        if (schema_value == nullptr) return;
        try {
            const contracts::ContractValidator validator(*schema_value);
            for (const auto& violation : validator.validate(document)) {
                errors.push_back({std::string("/") + example + violation.pointer,
                                  violation.message + " (the example does not match " + schema +
                                      "; integrators copy it from the contract)"});
            }
        } catch (const contracts::InvalidSchema&) {
            // Reported with the schema's own errors.
        }
    };
    if (const auto* request = fields->if_contains("example_request");
        request && request->is_object()) {
        // Validated as a run's request is: its input and, when given, its offerings.
        json::object document;
        for (const char* part : {"input", "offerings"}) {
            if (const auto* value = request->get_object().if_contains(part))
                document[part] = *value;
        }
        check("request_schema", "example_request", document);
    }
    if (const auto* response = fields->if_contains("example_response"))
        check("response_schema", "example_response", *response);
    return errors;
}

}  // namespace engined::engines
