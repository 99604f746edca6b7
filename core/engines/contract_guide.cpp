#include "engines/contract_guide.hpp"

#include "common/json_text.hpp"
#include "versions/pin.hpp"

#include <boost/json.hpp>

#include <sstream>

namespace engined::engines {
namespace {

std::string text_of(const boost::json::object& object, const char* key) {
    const auto* value = object.if_contains(key);
    if (value == nullptr || value->is_null()) return "";
    return value->is_string() ? std::string(value->get_string()) : boost::json::serialize(*value);
}

// "#/definitions/x" → "#/components/schemas/<prefix>x", at every depth.
boost::json::value rewrite_refs(const boost::json::value& value, const std::string& prefix_name) {
    if (value.is_array()) {
        boost::json::array out;
        for (const auto& item : value.get_array()) out.push_back(rewrite_refs(item, prefix_name));
        return out;
    }
    if (!value.is_object()) return value;
    boost::json::object out;
    for (const auto& [key, member] : value.get_object()) {
        constexpr std::string_view prefix = "#/definitions/";
        if (key == "$ref" && member.is_string() && member.get_string().starts_with(prefix)) {
            out[key] = "#/components/schemas/" + prefix_name + std::string(member.get_string().subview(prefix.size()));
        } else {
            out[key] = rewrite_refs(member, prefix_name);
        }
    }
    return out;
}

void json_block(std::ostringstream& out, const boost::json::value& value) {
    std::string text = pretty_json(value);
    out << "```json\n" << text << "```\n\n";
}

}  // namespace

std::string contract_markdown(const boost::json::object& contract) {
    const std::string slug = text_of(contract, "engine");
    const std::string version = text_of(contract, "engine_version");
    const std::string pin_field = version.empty() ? "" : ", \"engine_version\": \"" + version + "\"";
    std::ostringstream out;
    out << "# Engine `" << slug << "`" << (version.empty() ? " (current configuration)" : " version " + version) << "\n\n"
        << "Engine type: `" << text_of(contract, "engine_type") << "`. This guide is generated from the engine's "
        << "contract; every run request is validated against the schema below before it is queued.\n\n"
        << "## Submitting a run\n\n"
        << "```\nPOST /api/v1/engines/" << slug << "/runs\nAuthorization: Bearer nx_test_…\n"
        << "Content-Type: application/json\n\n{\"input\": {…}, \"offerings\": [ … ]" << pin_field << "}\n```\n\n"
        << "The answer is `202 {\"run_id\": \"…\", \"status\": \"queued\"}` with a `Location` header. "
        << (version.empty() ? "Pin `engine_version` (`\"<major>.<minor>\"` or `\"<major>.x\"`) to keep this behaviour "
                              "fixed; without it the engine's current configuration runs.\n\n"
                            : "Keep `engine_version` pinned to get exactly this behaviour forever.\n\n")
        << "Errors use `{\"error\": {\"code\", \"message\", \"details\"}}`: `invalid_request` (400), `unauthorized` (401), "
        << "`forbidden` (403, the key lacks `runs:write`), `not_found` (404), `conflict` (409, the engine is archived), "
        << "`contract_violation` (422, one detail per failure with its JSON Pointer), `unknown_engine_version` (422), "
        << "`unavailable` (503, retry after `Retry-After`).\n\n"
        << "## Polling for the result\n\n"
        << "`GET /api/v1/runs/{run_id}` until `status` is `completed`, `degraded` or `failed`. Poll first after "
        << "2 s, then multiply the interval by 1.5 up to a 30 s cap (engined usually finishes in milliseconds, so "
        << "the first poll normally finds the run done). `degraded` succeeded with a warning in "
        << "`output.degradation_reason`; `failed` carries `error` and `error_details`.\n\n"
        << "## Request schema\n\n";
    json_block(out, contract.at("request_schema"));
    out << "## Scoring dimensions\n\nLevels run from 1.0 (best) to 4.0 (worst); a lower overall level ranks higher.\n\n"
        << "| key | label | method | enabled |\n| --- | --- | --- | --- |\n";
    if (const auto* dimensions = contract.if_contains("scoring_dimensions"); dimensions && dimensions->is_array()) {
        for (const auto& dimension : dimensions->get_array()) {
            if (!dimension.is_object()) continue;
            const auto& d = dimension.get_object();
            out << "| `" << text_of(d, "key") << "` | " << text_of(d, "label") << " | " << text_of(d, "method")
                << " | " << text_of(d, "enabled") << " |\n";
        }
    }
    out << "\n## Weight profiles (`input.appetite_bucket`, default `" << text_of(contract, "default_appetite_bucket")
        << "`)\n\n| bucket | label | weights |\n| --- | --- | --- |\n";
    if (const auto* profiles = contract.if_contains("appetite_weight_profiles"); profiles && profiles->is_array()) {
        for (const auto& profile : profiles->get_array()) {
            if (!profile.is_object()) continue;
            const auto& p = profile.get_object();
            out << "| `" << text_of(p, "bucket") << "` | " << text_of(p, "label") << " | `"
                << canonical_json(p.contains("weights") ? p.at("weights") : boost::json::value(nullptr)) << "` |\n";
        }
    }
    out << "\n## Example request\n\n";
    json_block(out, contract.contains("example_request") ? contract.at("example_request") : boost::json::value(nullptr));
    out << "## Example response\n\n";
    json_block(out, contract.contains("example_response") ? contract.at("example_response") : boost::json::value(nullptr));
    out << "## Response schema\n\n";
    json_block(out, contract.at("response_schema"));
    return out.str();
}

boost::json::object openapi_document(const boost::json::object& contract, const std::string& server_version,
                                     const std::string& server_url) {
    const boost::json::object error_schema = {
        {"type", "object"},
        {"required", {"error"}},
        {"properties",
         {{"error",
           {{"type", "object"},
            {"required", {"code", "message", "details"}},
            {"properties",
             {{"code", {{"type", "string"}}},
              {"message", {{"type", "string"}}},
              {"details", {{"type", "array"}, {"items", {{"type", "object"}}}}}}}}}}}};
    auto json_response = [](const char* description, boost::json::value schema) {
        return boost::json::object{{"description", description},
                                   {"content", {{"application/json", {{"schema", std::move(schema)}}}}}};
    };
    auto ref = [](const char* name) { return boost::json::object{{"$ref", std::string("#/components/schemas/") + name}}; };
    auto errors = [&](boost::json::object responses) {
        for (const char* status : {"400", "401", "403", "404", "422", "429", "500", "503"}) {
            responses[status] = json_response("error", ref("Error"));
        }
        return responses;
    };
    const boost::json::value slug_param = {{"name", "slug"}, {"in", "path"}, {"required", true}, {"schema", {{"type", "string"}}}};
    const boost::json::value run_param = {{"name", "run_id"}, {"in", "path"}, {"required", true}, {"schema", {{"type", "string"}}}};
    // The engine's schemas keep their definitions in components, where OpenAPI resolves them;
    // response definitions are prefixed so that the two contracts never collide.
    boost::json::object schemas{{"Error", error_schema}};
    auto adopt = [&](const char* schema_key, const std::string& prefix_name) {
        const auto* source = contract.if_contains(schema_key);
        boost::json::value rewritten = source ? rewrite_refs(*source, prefix_name) : boost::json::object{};
        if (!rewritten.is_object()) rewritten = boost::json::object{};
        if (auto* definitions = rewritten.get_object().if_contains("definitions"); definitions && definitions->is_object()) {
            for (const auto& [name, schema] : definitions->get_object()) schemas[prefix_name + std::string(name)] = schema;
            rewritten.get_object().erase("definitions");
        }
        return rewritten.get_object();
    };
    const boost::json::object request_schema = adopt("request_schema", "");
    const boost::json::object response_schema = adopt("response_schema", "Response_");
    const auto* properties = request_schema.if_contains("properties");
    auto property = [&](const char* name) {
        const auto* found = properties && properties->is_object() ? properties->get_object().if_contains(name) : nullptr;
        return found ? *found : boost::json::value(boost::json::object{});
    };
    schemas["RunRequest"] = {{"type", "object"},
                             {"required", {"input"}},
                             {"properties",
                              {{"input", property("input")},
                               {"offerings", property("offerings")},
                               {"engine_version", {{"type", "string"}, {"pattern", versions::kPinGrammar}}},
                               {"webhook_url", {{"type", "string"}}}}}};
    schemas["Run"] = {{"type", "object"},
                      {"required", {"run_id", "engine", "status"}},
                      {"properties",
                       {{"run_id", {{"type", "string"}}},
                        {"status", {{"type", "string"}, {"enum", {"queued", "processing", "completed", "degraded", "failed"}}}},
                        {"output", response_schema}}}};
    const boost::json::value version_param = {{"name", "version"}, {"in", "path"}, {"required", true}, {"schema", {{"type", "string"}}}};
    boost::json::object paths;
    paths["/health"] = {{"get", {{"summary", "Liveness"}, {"security", boost::json::array{}},
                                 {"responses", {{"200", json_response("ok", {{"type", "object"}})}}}}}};
    paths["/api/v1/engines/{slug}/runs"] = {
        {"parameters", {slug_param}},
        {"post", {{"summary", "Submit a run"},
                  {"requestBody", {{"required", true}, {"content", {{"application/json", {{"schema", ref("RunRequest")}}}}}}},
                  {"responses", errors({{"202", json_response("queued", {{"type", "object"}})}})}}},
        {"get", {{"summary", "List runs, newest first"}, {"responses", errors({{"200", json_response("page", {{"type", "object"}})}})}}}};
    paths["/api/v1/runs/{run_id}"] = {
        {"parameters", {run_param}},
        {"get", {{"summary", "Get a run"}, {"responses", errors({{"200", json_response("run", ref("Run"))}})}}}};
    paths["/api/v1/engines/{slug}/runs/{run_id}"] = {
        {"parameters", {slug_param, run_param}},
        {"get", {{"summary", "Get a run of an engine"}, {"responses", errors({{"200", json_response("run", ref("Run"))}})}}}};
    paths["/api/v1/engines"] = {
        {"get", {{"summary", "List engines"}, {"responses", errors({{"200", json_response("engines", {{"type", "object"}})}})}}},
        {"post", {{"summary", "Create an engine"}, {"responses", errors({{"201", json_response("engine", {{"type", "object"}})}})}}}};
    paths["/api/v1/engines/{slug}"] = {
        {"parameters", {slug_param}},
        {"get", {{"summary", "Get an engine"}, {"responses", errors({{"200", json_response("engine", {{"type", "object"}})}})}}}};
    paths["/api/v1/engines/{slug}/config"] = {
        {"parameters", {slug_param}},
        {"get", {{"summary", "Current configuration"}, {"responses", errors({{"200", json_response("config", {{"type", "object"}})}})}}},
        {"put", {{"summary", "Replace the configuration"}, {"responses", errors({{"200", json_response("config", {{"type", "object"}})}})}}}};
    paths["/api/v1/engines/{slug}/config/validate"] = {
        {"parameters", {slug_param}},
        {"post", {{"summary", "Dry-run a configuration"}, {"responses", {{"200", json_response("verdict", {{"type", "object"}})}}}}}};
    paths["/api/v1/engines/{slug}/versions"] = {
        {"parameters", {slug_param}},
        {"get", {{"summary", "List releases"}, {"responses", errors({{"200", json_response("releases", {{"type", "object"}})}})}}},
        {"post", {{"summary", "Publish the current configuration (200 when it is already released)"},
                  {"responses", errors({{"201", json_response("release", {{"type", "object"}})},
                                        {"200", json_response("already released", {{"type", "object"}})}})}}}};
    paths["/api/v1/engines/{slug}/contract"] = {
        {"parameters", {slug_param}},
        {"get", {{"summary", "Engine contract (JSON); ?engine_version= pins it"}, {"responses", errors({{"200", json_response("contract", {{"type", "object"}})}})}}}};
    paths["/api/v1/jobs"] = {
        {"post", {{"summary", "Evaluation-era submit: engine default, or entity-analysis for a {profile, pool} body (answers eval_id)"},
                  {"requestBody", {{"required", true}, {"content", {{"application/json", {{"schema", ref("RunRequest")}}}}}}},
                  {"responses", errors({{"202", json_response("queued", {{"type", "object"}})}})}}}};
    paths["/api/v1/engines/{slug}/archive"] = {
        {"parameters", {slug_param}},
        {"post", {{"summary", "Archive an engine"}, {"responses", errors({{"200", json_response("engine", {{"type", "object"}})}})}}}};
    paths["/api/v1/engines/{slug}/versions/{version}"] = {
        {"parameters", {slug_param, version_param}},
        {"get", {{"summary", "Show a release"}, {"responses", errors({{"200", json_response("release", {{"type", "object"}})}})}}}};
    paths["/api/v1/engines/{slug}/versions/{version}/bundle"] = {
        {"parameters", {slug_param, version_param}},
        {"get", {{"summary", "A release's canonical bundle, as versions/ holds it"},
                 {"responses", errors({{"200", json_response("bundle", {{"type", "object"}})}})}}}};
    paths["/api/v1/engines/{slug}/contract.md"] = {
        {"parameters", {slug_param}},
        {"get", {{"summary", "Engine contract as a Markdown integration guide"},
                 {"responses", errors({{"200", {{"description", "guide"}, {"content", {{"text/markdown", {{"schema", {{"type", "string"}}}}}}}}}})}}}};
    paths["/api/v1/pools"] = {
        {"get", {{"summary", "The organisation's carrier pools"},
                 {"responses", errors({{"200", json_response("pools", {{"type", "object"}})}})}}}};
    paths["/api/v1/openapi.json"] = {
        {"get", {{"summary", "This document"}, {"responses", errors({{"200", json_response("OpenAPI", {{"type", "object"}})}})}}}};
    paths["/api/v1/jobs/{job_id}"] = {
        {"parameters", {{{"name", "job_id"}, {"in", "path"}, {"required", true}, {"schema", {{"type", "string"}}}}}},
        {"get", {{"summary", "Evaluation-era run status"}, {"responses", errors({{"200", json_response("run", ref("Run"))}})}}}};
    return {{"openapi", "3.0.3"},
            {"info", {{"title", "engined API"}, {"version", server_version}}},
            {"servers", {{{"url", server_url}}}},
            {"security", {{{"bearer", boost::json::array{}}}, {{"apiKey", boost::json::array{}}}}},
            {"paths", std::move(paths)},
            {"components",
             {{"securitySchemes",
               {{"bearer", {{"type", "http"}, {"scheme", "bearer"}}},
                {"apiKey", {{"type", "apiKey"}, {"in", "header"}, {"name", "X-API-Key"}}}}},
              {"schemas", std::move(schemas)}}}};
}

}  // namespace engined::engines
