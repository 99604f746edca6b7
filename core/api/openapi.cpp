#include "api/openapi.hpp"

#include "auth/principal.hpp"
#include "http/message.hpp"
#include "http/router.hpp"
#include "versions/pin.hpp"

#include <boost/json.hpp>

#include <array>
#include <cctype>
#include <string_view>

namespace engined::api {
namespace {

using boost::json::array;
using boost::json::object;
using boost::json::value;
using http::Method;

// ---- JSON Schema (draft-07) → OpenAPI 3.0 Schema Object ------------------------------------

// Keywords an OpenAPI 3.0 Schema Object shares with JSON Schema, copied as they are when their
// value has the kind OpenAPI 3.0 requires (a validator ignores a mistyped annotation; OpenAPI's
// own schema refuses it, so it is dropped).
enum class ValueKind { any, string, boolean, number, count };

struct PlainKeyword {
    std::string_view name;
    ValueKind kind;
};

constexpr std::array<PlainKeyword, 19> kPlainKeywords = {{
    {"title", ValueKind::string},        {"description", ValueKind::string},
    {"format", ValueKind::string},       {"pattern", ValueKind::string},
    {"default", ValueKind::any},         {"example", ValueKind::any},
    {"multipleOf", ValueKind::number},   {"maximum", ValueKind::number},
    {"minimum", ValueKind::number},      {"maxLength", ValueKind::count},
    {"minLength", ValueKind::count},     {"maxItems", ValueKind::count},
    {"minItems", ValueKind::count},      {"maxProperties", ValueKind::count},
    {"minProperties", ValueKind::count}, {"uniqueItems", ValueKind::boolean},
    {"readOnly", ValueKind::boolean},    {"writeOnly", ValueKind::boolean},
    {"deprecated", ValueKind::boolean},
}};

bool has_kind(const value& member, ValueKind kind) {
    switch (kind) {
        case ValueKind::any:
            return true;
        case ValueKind::string:
            return member.is_string();
        case ValueKind::boolean:
            return member.is_bool();
        case ValueKind::number:
            return member.is_number();
        case ValueKind::count:
            return member.is_uint64() || (member.is_int64() && member.get_int64() >= 0);
    }
    return false;
}

// Whether `key` is copied as is: a plain keyword of the right kind, or an `x-` extension.
bool is_plain_keyword(std::string_view key, const value& member) {
    for (const PlainKeyword& plain : kPlainKeywords) {
        if (plain.name == key) return has_kind(member, plain.kind);
    }
    return key.starts_with("x-");
}

std::string_view type_name(const value& type) {
    return type.is_string() ? std::string_view(type.get_string()) : "";
}

// `type` as OpenAPI 3.0 spells it: one type name, `nullable` for null. Several types come back as
// alternatives for an `anyOf`, which the caller places beside any other.
array convert_type(const value& type, object& out) {
    array names;
    if (type.is_array()) {
        names = type.get_array();
    } else {
        names.push_back(type);
    }
    array non_null;
    for (const value& name : names) {
        if (type_name(name) == "null") {
            out["nullable"] = true;
        } else if (!type_name(name).empty()) {
            non_null.push_back(name);
        }
    }
    array alternatives;
    if (non_null.size() == 1) {
        out["type"] = non_null.front();
    } else if (non_null.size() > 1) {
        for (const value& name : non_null) alternatives.push_back(object{{"type", name}});
    } else if (out.contains("nullable")) {
        out["enum"] = array{nullptr};  // only null
    }
    return alternatives;
}

// Adds `schema` to the `allOf` of `out`: how constraints that would collide stand side by side.
void add_to_all_of(object& out, value schema) {
    array all_of = out.contains("allOf") ? out["allOf"].get_array() : array{};
    all_of.push_back(std::move(schema));
    out["allOf"] = std::move(all_of);
}

// A definition's component name: OpenAPI 3.0 allows only letters, digits, '.', '-' and '_' there.
std::string component_name(const std::string& prefix, std::string_view definition) {
    std::string name = prefix;
    for (char c : definition) {
        name += std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_'
                    ? c
                    : '_';
    }
    return name;
}

value convert(const value& schema, const std::string& prefix);

array convert_each(const array& schemas, const std::string& prefix) {
    array out;
    for (const value& schema : schemas) out.push_back(convert(schema, prefix));
    return out;
}

value convert(const value& schema, const std::string& prefix) {
    if (schema.is_bool()) return schema.get_bool() ? object{} : object{{"not", object{}}};
    if (!schema.is_object()) return object{};
    const object& in = schema.get_object();

    object out;
    array type_alternatives;
    for (const auto& [key, member] : in) {
        if (is_plain_keyword(key, member)) {
            out[key] = member;
        } else if (key == "type") {
            type_alternatives = convert_type(member, out);
        } else if (key == "properties" && member.is_object()) {
            object properties;
            for (const auto& [name, property] : member.get_object())
                properties[name] = convert(property, prefix);
            out[key] = std::move(properties);
        } else if ((key == "required" || key == "enum") && member.is_array() &&
                   !member.get_array().empty()) {
            out[key] = member;
        } else if ((key == "allOf" || key == "anyOf" || key == "oneOf") && member.is_array() &&
                   !member.get_array().empty()) {
            out[key] = convert_each(member.get_array(), prefix);
        } else if (key == "not" || (key == "additionalProperties" && !member.is_bool())) {
            out[key] = convert(member, prefix);
        } else if (key == "additionalProperties") {
            out[key] = member;
        } else if (key == "items") {
            // A tuple (an array of schemas) has no OpenAPI 3.0 form: each item is one of them.
            const bool tuple = member.is_array() && !member.get_array().empty();
            out[key] = tuple ? value(object{{"anyOf", convert_each(member.get_array(), prefix)}})
                             : convert(member.is_array() ? value(true) : member, prefix);
        } else if (key == "const" && !in.contains("enum")) {
            out["enum"] = array{member};
        } else if (key == "examples" && member.is_array() && !member.get_array().empty() &&
                   !in.contains("example")) {
            out["example"] = member.get_array().front();
        }
    }
    if (!type_alternatives.empty()) {
        object one_of_the_types{{"anyOf", std::move(type_alternatives)}};
        if (out.contains("anyOf")) {
            add_to_all_of(out, std::move(one_of_the_types));
        } else {
            out["anyOf"] = std::move(one_of_the_types["anyOf"]);
        }
    }
    // Draft-06+ numeric exclusive bounds; draft-04's booleans were copied with the plain keywords.
    for (const auto& [exclusive, bound] :
         {std::pair{"exclusiveMinimum", "minimum"}, {"exclusiveMaximum", "maximum"}}) {
        const value* limit = in.if_contains(exclusive);
        if (limit == nullptr) continue;
        if (limit->is_number()) {
            out[bound] = *limit;
            out[exclusive] = true;
        } else if (limit->is_bool()) {
            out[exclusive] = *limit;
        }
    }
    // "#/definitions/x" lives in components; any other reference has no target there, and is
    // dropped (admitting more, never less). OpenAPI 3.0 ignores a reference's siblings, so a
    // reference with constraints beside it becomes an allOf.
    if (const value* ref = in.if_contains("$ref"); ref != nullptr && ref->is_string()) {
        constexpr std::string_view kDefinitions = "#/definitions/";
        const std::string_view target = ref->get_string();
        const std::string_view name = target.substr(std::min(target.size(), kDefinitions.size()));
        if (target.starts_with(kDefinitions) && !name.empty() &&
            name.find('/') == std::string_view::npos) {
            object reference{{"$ref", "#/components/schemas/" + component_name(prefix, name)}};
            if (out.empty() && type_alternatives.empty()) return reference;
            add_to_all_of(out, std::move(reference));
        }
    }
    return out;
}

// ---- The document builder ---------------------------------------------------------------------

value ref(std::string_view kind, std::string_view name) {
    return object{{"$ref", "#/components/" + std::string(kind) + "/" + std::string(name)}};
}
value schema_ref(std::string_view name) {
    return ref("schemas", name);
}

value json_content(value schema) {
    return object{{"application/json", object{{"schema", std::move(schema)}}}};
}

object string_schema() {
    return {{"type", "string"}};
}
object nullable_string() {
    return {{"type", "string"}, {"nullable", true}};
}
object time_schema() {
    return {{"type", "string"}, {"format", "date-time"}};
}
object nullable_time() {
    return {{"type", "string"}, {"format", "date-time"}, {"nullable", true}};
}
object array_of(value items) {
    return {{"type", "array"}, {"items", std::move(items)}};
}
object data_list(std::string_view item) {
    return {{"type", "object"},
            {"required", {"data"}},
            {"properties", {{"data", array_of(schema_ref(item))}}}};
}
object object_schema(array required, object properties) {
    object out{{"type", "object"}, {"properties", std::move(properties)}};
    if (!required.empty()) out["required"] = std::move(required);
    return out;
}

// One operation being described; the methods chain: add(...).body("RunRequest").answers(202, ...).
class Operation {
public:
    explicit Operation(object& json) : json_(json) {}

    Operation& body(std::string_view schema, bool required = true) {
        json_["requestBody"] =
            object{{"required", required}, {"content", json_content(schema_ref(schema))}};
        return *this;
    }
    Operation& query(std::string_view name, object schema, std::string_view description) {
        parameters().push_back(object{{"name", name},
                                      {"in", "query"},
                                      {"required", false},
                                      {"description", description},
                                      {"schema", std::move(schema)}});
        return *this;
    }
    Operation& answers(int status, std::string_view description, value schema,
                       object headers = {}) {
        object response{{"description", description}, {"content", json_content(std::move(schema))}};
        if (!headers.empty()) response["headers"] = std::move(headers);
        responses()[std::to_string(status)] = std::move(response);
        return *this;
    }
    Operation& answers_text(int status, std::string_view description, std::string_view media_type) {
        responses()[std::to_string(status)] =
            object{{"description", description},
                   {"content", {{media_type, {{"schema", string_schema()}}}}}};
        return *this;
    }
    // Error statuses beyond those every authenticated route shares (401, 403, 429, 500, 503).
    Operation& fails(std::initializer_list<int> statuses) {
        for (int status : statuses) responses()[std::to_string(status)] = error_response(status);
        return *this;
    }
    Operation& idempotent() {
        parameters().push_back(ref("parameters", "IdempotencyKey"));
        return fails({409});
    }

    static value error_response(int status) {
        switch (status) {
            case 400:
                return ref("responses", "BadRequest");
            case 401:
                return ref("responses", "Unauthorized");
            case 403:
                return ref("responses", "Forbidden");
            case 404:
                return ref("responses", "NotFound");
            case 409:
                return ref("responses", "Conflict");
            case 412:
                return ref("responses", "PreconditionFailed");
            case 422:
                return ref("responses", "Unprocessable");
            case 429:
                return ref("responses", "TooManyRequests");
            case 503:
                return ref("responses", "Unavailable");
            default:
                return ref("responses", "InternalError");
        }
    }

private:
    object& responses() { return json_["responses"].as_object(); }
    array& parameters() {
        return json_["parameters"].is_array() ? json_["parameters"].get_array()
                                              : json_["parameters"].emplace_array();
    }
    object& json_;
};

// The path item key of `method`: OpenAPI spells methods in lower case.
std::string operation_key(Method method) {
    std::string key(http::to_string(method));
    for (char& c : key) c = static_cast<char>(c - 'A' + 'a');
    return key;
}

class Paths {
public:
    // `scope` empty: the route needs no key.
    Operation add(Method method, const std::string& path, std::string_view operation_id,
                  std::string_view summary, std::string_view scope) {
        object& item =
            paths_[path].is_object() ? paths_[path].get_object() : paths_[path].emplace_object();
        if (!item.contains("parameters")) item["parameters"] = path_parameters(path);
        if (item["parameters"].get_array().empty()) item.erase("parameters");
        object operation{
            {"operationId", operation_id}, {"summary", summary}, {"responses", object{}}};
        if (scope.empty()) {
            operation["security"] = array{};
        } else if (scope == http::Router::kAnyValidKey) {
            operation["description"] = "Needs a valid API key, whatever its scopes.";
        } else {
            operation["description"] =
                "Needs an API key with the scope `" + std::string(scope) + "`.";
        }
        object& stored = item[operation_key(method)].emplace_object();
        stored = std::move(operation);
        Operation described(stored);
        if (!scope.empty()) described.fails({401, 403, 429, 500, 503});
        return described;
    }
    object take() { return std::move(paths_); }

private:
    static array path_parameters(std::string_view path) {
        array parameters;
        for (std::size_t open = path.find('{'); open != std::string_view::npos;
             open = path.find('{', open + 1)) {
            const std::size_t close = path.find('}', open);
            parameters.push_back(object{{"name", path.substr(open + 1, close - open - 1)},
                                        {"in", "path"},
                                        {"required", true},
                                        {"schema", string_schema()}});
        }
        return parameters;
    }
    object paths_;
};

object error_schema() {
    return object_schema(
        {"error"},
        {{"error",
          object_schema({"code", "message", "details"},
                        {{"code", string_schema()},
                         {"message", string_schema()},
                         {"details", array_of(object_schema({"pointer", "message"},
                                                            {{"pointer", string_schema()},
                                                             {"message", string_schema()}}))}})}});
}

object common_responses() {
    auto error = [](std::string_view description, object headers = {}) {
        object response{{"description", description},
                        {"content", json_content(schema_ref("Error"))}};
        if (!headers.empty()) response["headers"] = std::move(headers);
        return response;
    };
    const object retry_after{{"Retry-After", ref("headers", "RetryAfter")}};
    return {{"BadRequest",
             error("invalid_request: the request is malformed; details point at the problem")},
            {"Unauthorized", error("unauthorized: no key, or an unknown or revoked one")},
            {"Forbidden",
             error("forbidden: the key lacks the route's scope, or a change needs a live key")},
            {"PreconditionFailed",
             error("precondition_failed: the configuration is no longer the one named "
                   "(If-Match or config_hash); nothing was changed")},
            {"NotFound", error("not_found: no such resource for the caller")},
            {"Conflict", error("conflict, idempotency_conflict or run_not_terminal")},
            {"Unprocessable",
             error("contract_violation, unknown_engine_version, unknown_pool, invalid_config, "
                   "preview_gate_exceeded, …")},
            {"TooManyRequests",
             error("rate_limited or too_many_concurrent_requests: wait Retry-After seconds, then "
                   "retry with backoff; nothing was done",
                   {{"Retry-After", ref("headers", "RetryAfter")},
                    {"X-RateLimit-Limit", ref("headers", "RateLimitLimit")},
                    {"X-RateLimit-Remaining", ref("headers", "RateLimitRemaining")},
                    {"X-RateLimit-Reset", ref("headers", "RateLimitReset")}})},
            {"InternalError",
             error("internal: an unexpected error; the log has it under X-Request-Id")},
            {"Unavailable",
             error("unavailable: the store, queue or check pool is full or down; nothing was "
                   "recorded, retry after Retry-After",
                   retry_after)}};
}

object common_headers() {
    auto integer_header = [](std::string_view description) {
        return object{{"description", description},
                      {"schema", {{"type", "integer"}, {"minimum", 0}}}};
    };
    return {{"RetryAfter", integer_header("Seconds to wait before retrying")},
            {"RateLimitLimit", integer_header("The key's bucket capacity (its burst)")},
            {"RateLimitRemaining", integer_header("Requests the key may still send right now")},
            {"RateLimitReset", integer_header("Unix time (s) at which the bucket is full again")},
            {"Location", {{"description", "Absolute URL to poll"}, {"schema", string_schema()}}}};
}

const char* const kRunStatuses[] = {"queued", "processing", "completed", "degraded", "failed"};

// The run object; `results` types output and the engine's ranked results (nullable until the run
// ends), generic for the platform document.
object run_schema(object results) {
    object properties{
        {"run_id", string_schema()},
        {"engine", string_schema()},
        {"engine_type", string_schema()},
        {"engine_version", nullable_string()},
        {"engine_version_pin", nullable_string()},
        {"status",
         {{"type", "string"}, {"enum", array(std::begin(kRunStatuses), std::end(kRunStatuses))}}},
        {"stage", string_schema()},
        {"environment", {{"type", "string"}, {"description", "The slug of the key's environment"}}},
        {"environment_id", string_schema()},
        {"engine_version_pin_source",
         {{"type", "string"},
          {"nullable", true},
          {"enum", {"request", "engine_pin", "environment", nullptr}}}},
        {"engine_version_rollout",
         {{"type", "string"},
          {"nullable", true},
          {"enum", {"new", "previous", nullptr}},
          {"description",
           "The share of an open rollout a \"<major>.x\" pin gave the run; null otherwise"}}},
        {"error",
         {{"type", "object"},
          {"nullable", true},
          {"properties", {{"code", string_schema()}, {"message", string_schema()}}}}},
        {"error_details", {{"type", "array"}, {"nullable", true}, {"items", object{}}}},
        {"webhook_url", nullable_string()},
        {"created_at", time_schema()},
        {"started_at", nullable_time()},
        {"completed_at", nullable_time()},
        {"duration_ms", {{"type", "integer"}, {"nullable", true}}},
        {"fingerprint", nullable_string()}};
    for (auto& [name, schema] : results) properties[name] = std::move(schema);
    return object_schema({"run_id", "engine", "status", "created_at"}, std::move(properties));
}

object generic_results() {
    return {
        {"output", {{"type", "object"}, {"nullable", true}}},
        {"solutions", {{"type", "array"}, {"nullable", true}, {"items", {{"type", "object"}}}}},
        {"candidates", {{"type", "array"}, {"nullable", true}, {"items", {{"type", "object"}}}}}};
}

object run_request_schema(value input, value offerings) {
    return object_schema(
        {"input"},
        {{"input", std::move(input)},
         {"offerings", std::move(offerings)},
         {"engine_version",
          {{"type", "string"},
           {"nullable", true},
           {"pattern", versions::kPinGrammar},
           {"description",
            "\"MAJOR.MINOR\" runs exactly that release; \"MAJOR.x\" the newest "
            "release of that major; omitted or null: the current configuration"}}},
         {"webhook_url", {{"type", "string"}, {"nullable", true}, {"maxLength", 2048}}}});
}

object shared_schemas() {
    return {{"Error", error_schema()},
            {"Accepted", object_schema({"run_id", "status"},
                                       {{"run_id", string_schema()},
                                        {"status", {{"type", "string"}, {"enum", {"queued"}}}}})},
            {"RunPage", object_schema({"data", "has_more", "next_cursor"},
                                      {{"data", array_of(schema_ref("Run"))},
                                       {"has_more", {{"type", "boolean"}}},
                                       {"next_cursor", nullable_string()}})}};
}

object document(const std::string& title, const std::string& server_version,
                const std::string& server_url, object paths, object schemas) {
    return {
        {"openapi", "3.0.3"},
        {"info", {{"title", title}, {"version", server_version}}},
        {"servers", {{{"url", server_url}}}},
        {"security", {{{"bearer", array{}}}, {{"apiKey", array{}}}}},
        {"paths", std::move(paths)},
        {"components",
         {{"securitySchemes",
           {{"bearer", {{"type", "http"}, {"scheme", "bearer"}}},
            {"apiKey", {{"type", "apiKey"}, {"in", "header"}, {"name", "X-API-Key"}}}}},
          {"parameters",
           {{"IdempotencyKey",
             {{"name", "Idempotency-Key"},
              {"in", "header"},
              {"required", false},
              {"description",
               "1-255 printable ASCII characters; a repeat within 24 h replays the first answer"},
              {"schema", {{"type", "string"}, {"minLength", 1}, {"maxLength", 255}}}}}}},
          {"headers", common_headers()},
          {"responses", common_responses()},
          {"schemas", std::move(schemas)}}}};
}

// A run's GET, optionally a long poll (runs/run_waits.hpp).
void long_poll(Operation operation) {
    operation
        .query("wait", {{"type", "integer"}, {"minimum", 0}, {"maximum", 30}, {"default", 0}},
               "Seconds to wait for the run to be terminal before answering (a long poll; the "
               "server's --max-run-wait, default 30, is the maximum). The answer comes as soon as "
               "the run is completed, degraded or failed, or when the wait is up with the run as "
               "it is then; the same body as without wait")
        .answers(200, "The run", schema_ref("Run"))
        .fails({400, 404});
}

// Submit, list and get: the run routes of the engine at `engine_path` (a pattern or one engine's).
void add_run_routes(Paths& paths, const std::string& engine_path) {
    paths
        .add(Method::post, engine_path + "/runs", "submitRun", "Submit a run",
             auth::kScopeRunsWrite)
        .body("RunRequest")
        .idempotent()
        .query("wait", {{"type", "integer"}, {"minimum", 0}, {"maximum", 30}, {"default", 0}},
               "Seconds to wait for the run to be terminal before answering, as a GET of the run "
               "may (the server's --max-run-wait is the maximum). Terminal within the wait: 200 "
               "with the run; else 202 with the run as it is when the wait is up. A server "
               "holding its limit of waits, or draining, answers the plain 202. Needs the scope "
               "runs:read too (403 otherwise). Without wait (or 0): the 202 with run_id and "
               "status")
        .answers(200, "With wait: the run, terminal", schema_ref("Run"),
                 {{"Location", ref("headers", "Location")}})
        .answers(202,
                 "Queued; poll Location. With wait: the run as it is when the wait was up "
                 "(queued or processing)",
                 object{{"oneOf", {schema_ref("Accepted"), schema_ref("Run")}}},
                 {{"Location", ref("headers", "Location")}})
        .fails({400, 404, 422});
    paths
        .add(Method::get, engine_path + "/runs", "listRuns", "List runs, newest first",
             auth::kScopeRunsRead)
        .query("limit", {{"type", "integer"}, {"minimum", 1}, {"maximum", 100}, {"default", 20}},
               "Page size")
        .query(
            "status",
            {{"type", "string"}, {"enum", array(std::begin(kRunStatuses), std::end(kRunStatuses))}},
            "Only runs in this status")
        .query("cursor", string_schema(), "The next_cursor of the previous page")
        .query("engine_version",
               {{"type", "string"}, {"pattern", "^(0|[1-9][0-9]*)\\.(0|[1-9][0-9]*)$"}},
               "Only runs that executed this exact release")
        .answers(200, "A page of runs", schema_ref("RunPage"))
        .fails({400, 404});
    long_poll(paths.add(Method::get, engine_path + "/runs/{run_id}", "getEngineRun",
                        "Get a run of this engine", auth::kScopeRunsRead));
    long_poll(paths.add(Method::get, "/api/v1/runs/{run_id}", "getRun", "Get a run",
                        auth::kScopeRunsRead));
}

Operation& pinned(Operation& operation) {
    return operation.query(
        "engine_version", {{"type", "string"}, {"pattern", versions::kPinGrammar}},
        "A release pin (\"1.2\" or \"1.x\"); omitted: the current configuration");
}

}  // namespace

value openapi_schema(const value& schema, const std::string& definitions_prefix) {
    return convert(schema, definitions_prefix);
}

boost::json::object platform_openapi(const std::string& server_version,
                                     const std::string& server_url) {
    const std::string read = auth::kScopeRunsRead;
    const std::string write = auth::kScopeRunsWrite;
    const std::string admin = auth::kScopeEnginesAdmin;
    const object location{{"Location", ref("headers", "Location")}};
    Paths paths;

    // Operations
    paths.add(Method::get, "/health", "getHealth", "Liveness", "")
        .answers(200, "The process answers",
                 object_schema({"status"}, {{"status", string_schema()}}));
    paths
        .add(Method::get, "/ready", "getReadiness",
             "Readiness: the store answers and a plugin is loaded; the queue on every node", "")
        .answers(200, "Ready",
                 object_schema({"status", "checks"},
                               {{"status", string_schema()},
                                {"checks", {{"type", "object"}}},
                                {"queue", object_schema({"queued", "processing"},
                                                        {{"queued", {{"type", "integer"}}},
                                                         {"processing", {{"type", "integer"}}}})}}))
        .fails({503});
    paths
        .add(Method::get, "/metrics", "getMetrics", "Prometheus text; only on the metrics listener",
             "")
        .answers_text(200, "Prometheus exposition format 0.0.4", "text/plain");

    paths.add(Method::get, "/console", "getConsoleRoot", "The web console's page", "")
        .answers_text(200, "The console page", "text/html");
    paths
        .add(Method::get, "/console/{file}", "getConsoleFile",
             "The web console's page, style sheet and script", "")
        .answers_text(200, "The file", "text/html")
        .fails({404});
    paths
        .add(Method::get, "/api/v1/me", "getCaller",
             "The calling key: organisation, environment, scopes", http::Router::kAnyValidKey)
        .answers(200, "The key", schema_ref("Caller"));

    // Environments
    const std::string environments_admin = auth::kScopeEnvironmentsAdmin;
    paths
        .add(Method::post, "/api/v1/environments", "createEnvironment",
             "Create a named environment (live key)", environments_admin)
        .body("EnvironmentCreate")
        .idempotent()
        .answers(201, "Created", schema_ref("Environment"))
        .fails({400, 422});
    paths
        .add(Method::get, "/api/v1/environments", "listEnvironments",
             "The organisation's environments", environments_admin)
        .answers(200, "The environments", data_list("Environment"));
    paths
        .add(Method::get, "/api/v1/environments/{slug}", "getEnvironment", "Get an environment",
             environments_admin)
        .answers(200, "The environment", schema_ref("Environment"))
        .fails({404});
    paths
        .add(Method::patch, "/api/v1/environments/{slug}", "updateEnvironment",
             "Set the environment's default pins (live key with engines:admin)", environments_admin)
        .body("EnvironmentUpdate")
        .answers(200, "The environment", schema_ref("Environment"))
        .fails({400, 404, 422});
    paths
        .add(Method::del, "/api/v1/environments/{slug}", "deleteEnvironment",
             "Delete an environment that has no active keys", environments_admin)
        .answers(200, "Deleted",
                 object_schema({"slug", "deleted"},
                               {{"slug", string_schema()}, {"deleted", {{"type", "boolean"}}}}))
        .fails({404, 409});

    // Runs
    add_run_routes(paths, "/api/v1/engines/{slug}");
    paths
        .add(Method::get, "/api/v1/runs/{run_id}/defensibility-packet", "getDefensibilityPacket",
             "The run's audit record: identity, timeline, inputs, ranking and fingerprints", read)
        .answers(200, "The packet", schema_ref("DefensibilityPacket"))
        .fails({404});
    paths
        .add(Method::get, "/traces/{run_id}", "getTrace",
             "The defensibility packet at the evaluation-era audit URL", read)
        .answers(200, "The packet", schema_ref("DefensibilityPacket"))
        .fails({404});
    paths
        .add(Method::post, "/api/v1/runs/{run_id}/replay", "replayRun",
             "Execute a finished run again and compare; stores nothing", read)
        .answers(200, "The comparison", schema_ref("Replay"))
        .fails({404, 409});
    paths.add(Method::get, "/api/v1/pools", "listPools", "The organisation's carrier pools", read)
        .answers(200, "The pools", data_list("Pool"));
    paths
        .add(Method::post, "/api/v1/jobs", "submitJob",
             "Evaluation-era submit: the default engine, or entity-analysis for a {profile, pool} "
             "body",
             write)
        .body("JobRequest")
        .idempotent()
        .answers(202, "Queued; poll Location", schema_ref("JobAccepted"), location)
        .fails({400, 422});
    paths.add(Method::get, "/api/v1/jobs/{job_id}", "getJob", "Evaluation-era run status", read)
        .answers(200, "A run (job_id) or, for an eval_ id, the evaluation view",
                 object{{"oneOf", {schema_ref("Run"), schema_ref("Evaluation")}}})
        .fails({404});

    // Engines, configuration, releases, contracts
    paths.add(Method::get, "/api/v1/engines", "listEngines", "Engines the caller sees", read)
        .answers(200, "The engines", data_list("Engine"));
    paths
        .add(Method::post, "/api/v1/engines", "createEngine",
             "Create an engine (optionally a copy)", admin)
        .body("EngineCreate")
        .idempotent()
        .answers(201, "Created", schema_ref("Engine"))
        .fails({400, 422});
    paths.add(Method::get, "/api/v1/engines/{slug}", "getEngine", "Get an engine", read)
        .answers(200, "The engine", schema_ref("Engine"))
        .fails({404});
    paths
        .add(Method::post, "/api/v1/engines/{slug}/archive", "archiveEngine", "Archive an engine",
             admin)
        .idempotent()
        .answers(200, "Archived", schema_ref("Engine"))
        .fails({404});
    paths
        .add(Method::post, "/api/v1/engines/{slug}/unarchive", "unarchiveEngine",
             "Take an archived engine back into service", admin)
        .idempotent()
        .answers(200, "Active again", schema_ref("Engine"))
        .fails({404});
    paths
        .add(Method::get, "/api/v1/audit-log", "listAuditLog",
             "The organisation's audit log of operator actions, newest first", admin)
        .query("limit", {{"type", "integer"}, {"minimum", 1}, {"maximum", 200}, {"default", 50}},
               "Page size")
        .query("cursor", string_schema(), "The next_cursor of the previous page")
        .answers(200, "A page of audit records", schema_ref("AuditPage"))
        .fails({400});
    paths
        .add(Method::get, "/api/v1/engines/{slug}/config", "getEngineConfig",
             "Current configuration", read)
        .answers(200, "The configuration", schema_ref("EngineConfig"))
        .fails({404});
    paths
        .add(Method::put, "/api/v1/engines/{slug}/config", "putEngineConfig",
             "Replace the configuration (live key; If-Match: the ETag of GET)", admin)
        .body("EngineConfig")
        .answers(200, "Stored", schema_ref("EngineConfig"))
        .fails({400, 404, 409, 412, 422});
    paths
        .add(Method::post, "/api/v1/engines/{slug}/config/validate", "validateEngineConfig",
             "Dry-run a configuration (always 200, stores nothing)", admin)
        .body("EngineConfig")
        .idempotent()
        .answers(200, "The verdict", schema_ref("ConfigVerdict"))
        .fails({404});
    paths
        .add(Method::post, "/api/v1/engines/{slug}/config/preview", "previewEngineConfig",
             "Re-execute recorded runs under a candidate configuration (stores nothing)", admin)
        .body("PreviewRequest", false)
        .answers(200, "The ranking diff", schema_ref("Preview"))
        .answers(202, "More than 200 runs: a job to poll at Location", schema_ref("PreviewJob"))
        .fails({400, 404, 422});
    paths
        .add(Method::get, "/api/v1/engines/{slug}/config/preview/{job_id}",
             "getEngineConfigPreviewJob",
             "A preview job: running, completed (with the preview) or failed", admin)
        .answers(200, "The job", schema_ref("PreviewJob"))
        .fails({404});
    paths
        .add(Method::post, "/api/v1/engines/{slug}/versions/plan", "planEngineVersion",
             "What publishing now would mint: version, reasons, diff (mints nothing)", admin)
        .answers(200, "The plan", schema_ref("ReleasePlan"))
        .fails({404, 422});
    paths
        .add(Method::post, "/api/v1/engines/{slug}/versions", "publishEngineVersion",
             "Publish the current configuration (200 when it is already released)", admin)
        .body("PublishRequest", false)
        .idempotent()
        .answers(201, "Released", schema_ref("Release"))
        .answers(200, "Already released", schema_ref("Release"))
        .fails({400, 404, 409, 412, 422});
    paths
        .add(Method::get, "/api/v1/engines/{slug}/versions", "listEngineVersions", "List releases",
             read)
        .answers(200, "The releases", data_list("Release"))
        .fails({404});
    paths
        .add(Method::get, "/api/v1/engines/{slug}/versions/{version}", "getEngineVersion",
             "Show a release", read)
        .answers(200, "The release", schema_ref("Release"))
        .fails({400, 404});
    paths
        .add(Method::post, "/api/v1/engines/{slug}/versions/{version}/rollout",
             "rolloutEngineVersion",
             "Roll a minor out to a share of the runs pinned \"<major>.x\" (live key); again: "
             "change the share",
             admin)
        .body("RolloutRequest")
        .answers(201, "Opened", schema_ref("Rollout"))
        .answers(200, "The open rollout's share changed", schema_ref("Rollout"))
        .fails({400, 403, 404, 409, 422});
    paths
        .add(Method::get, "/api/v1/engines/{slug}/versions/{version}/rollout",
             "getEngineVersionRollout", "The version's newest rollout", read)
        .answers(200, "The rollout", schema_ref("Rollout"))
        .fails({404});
    paths
        .add(Method::post, "/api/v1/engines/{slug}/versions/{version}/rollout/promote",
             "promoteEngineVersionRollout",
             "Give the rolled-out minor every run pinned \"<major>.x\" (live key)", admin)
        .answers(200, "Promoted", schema_ref("Rollout"))
        .fails({400, 403, 404, 409});
    paths
        .add(Method::post, "/api/v1/engines/{slug}/versions/{version}/rollout/abort",
             "abortEngineVersionRollout",
             "Return every run pinned \"<major>.x\" to the previous minor (live key)", admin)
        .answers(200, "Aborted", schema_ref("Rollout"))
        .fails({400, 403, 404, 409});
    paths
        .add(Method::get, "/api/v1/engines/{slug}/versions/{version}/bundle",
             "getEngineVersionBundle", "A release's canonical bundle, as versions/ holds it", read)
        .answers(200, "The bundle", object{{"type", "object"}})
        .fails({400, 404});
    Operation contract = paths.add(Method::get, "/api/v1/engines/{slug}/contract",
                                   "getEngineContract", "Engine contract (JSON)", read);
    pinned(contract).answers(200, "The contract", schema_ref("Contract")).fails({400, 404, 422});
    Operation guide =
        paths.add(Method::get, "/api/v1/engines/{slug}/contract.md", "getEngineContractGuide",
                  "Engine contract as a compact Markdown integration guide", read);
    pinned(guide)
        .query("full", {{"type", "string"}, {"enum", {"0", "1"}}},
               "1: keep the full examples and schemas")
        .answers_text(200, "The guide", "text/markdown")
        .fails({400, 404, 422});
    Operation engine_document =
        paths.add(Method::get, "/api/v1/engines/{slug}/openapi.json", "getEngineOpenApi",
                  "OpenAPI 3.0 of this engine's run routes, typed by its contract", read);
    pinned(engine_document)
        .answers(200, "The document", object{{"type", "object"}})
        .fails({400, 404, 422});
    paths.add(Method::get, "/api/v1/openapi.json", "getOpenApi", "This document", read)
        .answers(200, "The document", object{{"type", "object"}});

    // Webhooks
    paths.add(Method::post, "/api/v1/webhooks", "createWebhook", "Create a webhook endpoint", write)
        .body("WebhookCreate")
        .idempotent()
        .answers(201, "Created (with the environment's signing secret)", schema_ref("Webhook"))
        .fails({400, 422});
    paths.add(Method::get, "/api/v1/webhooks", "listWebhooks", "List webhook endpoints", read)
        .answers(200, "The endpoints", data_list("Webhook"));
    paths
        .add(Method::get, "/api/v1/webhooks/signing-secret", "getSigningSecret",
             "Reveal the environment's signing secret", admin)
        .answers(200, "The secret", schema_ref("SigningSecret"));
    paths
        .add(Method::post, "/api/v1/webhooks/signing-secret/rotate", "rotateSigningSecret",
             "Rotate the environment's signing secret", write)
        .idempotent()
        .answers(200, "The new secret", schema_ref("SigningSecret"));
    paths
        .add(Method::get, "/api/v1/webhooks/{webhook_id}", "getWebhook", "Get a webhook endpoint",
             read)
        .answers(200, "The endpoint", schema_ref("Webhook"))
        .fails({404});
    paths
        .add(Method::patch, "/api/v1/webhooks/{webhook_id}", "updateWebhook",
             "Change any subset of url, events, description, active, auth_token", write)
        .body("WebhookUpdate")
        .answers(200, "The endpoint", schema_ref("Webhook"))
        .fails({400, 404, 422});
    paths
        .add(Method::del, "/api/v1/webhooks/{webhook_id}", "deleteWebhook",
             "Delete a webhook endpoint", write)
        .answers(200, "Deleted", object{{"type", "object"}})
        .fails({404});
    paths
        .add(Method::post, "/api/v1/webhooks/{webhook_id}/rotate-secret", "rotateWebhookSecret",
             "Rotate the signing secret (the old one stays valid for a while)", write)
        .idempotent()
        .answers(200, "The new secret", schema_ref("SigningSecret"))
        .fails({404});
    paths
        .add(Method::get, "/api/v1/webhooks/{webhook_id}/deliveries", "listWebhookDeliveries",
             "Deliveries to an endpoint, newest first", read)
        .query("limit", {{"type", "integer"}, {"minimum", 1}, {"maximum", 100}}, "Page size")
        .answers(200, "The deliveries", data_list("Delivery"))
        .fails({400, 404});
    paths
        .add(Method::post, "/api/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/retry",
             "retryWebhookDelivery", "Send a delivery again", write)
        .idempotent()
        .answers(200, "The delivery, queued again", schema_ref("Delivery"))
        .fails({404});

    object schemas = shared_schemas();
    schemas["AuditRecord"] =
        object_schema({"id", "position", "actor", "action", "target", "at", "mac"},
                      {{"id", string_schema()},
                       {"position", {{"type", "integer"}}},
                       {"actor", string_schema()},
                       {"action", string_schema()},
                       {"target", string_schema()},
                       {"before_hash", nullable_string()},
                       {"after_hash", nullable_string()},
                       {"at", time_schema()},
                       {"previous_mac", nullable_string()},
                       {"mac", string_schema()}});
    schemas["AuditPage"] = object_schema({"data", "has_more", "next_cursor"},
                                         {{"data", array_of(schema_ref("AuditRecord"))},
                                          {"has_more", {{"type", "boolean"}}},
                                          {"next_cursor", nullable_string()}});
    schemas["Run"] = run_schema(generic_results());
    schemas["RunRequest"] =
        run_request_schema(object{{"type", "object"}}, array_of(object{{"type", "object"}}));
    schemas["JobRequest"] = object{
        {"description",
         "A run request for the default engine, or the evaluation shape {profile, pool, "
         "webhook_url}"},
        {"oneOf",
         {schema_ref("RunRequest"),
          object_schema({"profile", "pool"},
                        {{"profile", object_schema({"entity"}, {{"entity", string_schema()}})},
                         {"pool", string_schema()},
                         {"webhook_url", string_schema()}})}}};
    schemas["JobAccepted"] =
        object_schema({"status"}, {{"run_id", string_schema()},
                                   {"job_id", string_schema()},
                                   {"eval_id", string_schema()},
                                   {"status", {{"type", "string"}, {"enum", {"queued"}}}}});
    schemas["Evaluation"] = object_schema(
        {"eval_id", "status"},
        {{"eval_id", string_schema()},
         {"status",
          {{"type", "string"}, {"enum", {"queued", "processing", "completed", "failed"}}}},
         {"pool_size", {{"type", "integer"}, {"nullable", true}}},
         {"filtered", {{"type", "integer"}, {"nullable", true}}},
         {"candidates", {{"type", "array"}, {"nullable", true}, {"items", {{"type", "object"}}}}},
         {"audit", string_schema()},
         {"error", {{"type", "object"}, {"nullable", true}}},
         {"created_at", time_schema()},
         {"completed_at", nullable_time()}});
    schemas["Replay"] = object_schema(
        {"run_id", "identical"},
        {{"run_id", string_schema()},
         {"identical", {{"type", "boolean"}}},
         {"verdict",
          {{"type", "string"},
           {"enum", array{"identical", "recorded_under_other_plugin",
                          "recorded_under_other_fingerprint_format",
                          "recorded_under_other_platform", "unverifiable", "not_reproduced"}}}},
         {"verdict_detail", nullable_string()},
         {"fingerprint", nullable_string()},
         {"replay_fingerprint", nullable_string()},
         {"output_sha256", object_schema({"original", "replay"}, {{"original", string_schema()},
                                                                  {"replay", string_schema()}})},
         {"first_difference", nullable_string()}});
    schemas["DefensibilityPacket"] = object_schema(
        {"version", "run", "events"}, {{"version", {{"type", "integer"}}},
                                       {"run", {{"type", "object"}}},
                                       {"events", array_of(object{{"type", "object"}})}});
    schemas["Pool"] = object_schema({"name"}, {{"name", string_schema()},
                                               {"carrier_count", {{"type", "integer"}}},
                                               {"snapshot", string_schema()},
                                               {"source", string_schema()},
                                               {"imported_at", time_schema()}});
    schemas["Engine"] =
        object_schema({"slug", "engine_type", "status"}, {{"id", string_schema()},
                                                          {"slug", string_schema()},
                                                          {"label", string_schema()},
                                                          {"description", string_schema()},
                                                          {"engine_type", string_schema()},
                                                          {"status", string_schema()},
                                                          {"built_in", {{"type", "boolean"}}},
                                                          {"created_at", time_schema()},
                                                          {"updated_at", time_schema()}});
    schemas["EngineCreate"] = object_schema({"slug"}, {{"slug", string_schema()},
                                                       {"label", string_schema()},
                                                       {"description", string_schema()},
                                                       {"engine_type", string_schema()},
                                                       {"copy_from", string_schema()},
                                                       {"copy_from_version", string_schema()}});
    schemas["EngineConfig"] = object_schema({"config"}, {{"config", {{"type", "object"}}}});
    const object located =
        object_schema({}, {{"path", string_schema()}, {"message", string_schema()}});
    schemas["ConfigVerdict"] = object_schema({"valid"}, {{"valid", {{"type", "boolean"}}},
                                                         {"errors", array_of(located)},
                                                         {"warnings", array_of(located)}});
    schemas["PublishRequest"] = object_schema(
        {}, {{"changelog", {{"type", "string"}, {"maxLength", 2000}}},
             {"config_hash", string_schema()},
             {"max_top1_change", {{"type", "number"}, {"minimum", 0}, {"maximum", 1}}},
             {"force", {{"type", "boolean"}}},
             {"rollout_percent", {{"type", "integer"}, {"minimum", 1}, {"maximum", 99}}}});
    schemas["RolloutRequest"] = object_schema(
        {"percent"}, {{"percent", {{"type", "integer"}, {"minimum", 1}, {"maximum", 99}}}});
    schemas["Rollout"] =
        object_schema({"engine", "version", "from_version", "percent", "state"},
                      {{"engine", string_schema()},
                       {"version", string_schema()},
                       {"from_version", string_schema()},
                       {"pin", string_schema()},
                       {"percent", {{"type", "integer"}, {"minimum", 1}, {"maximum", 99}}},
                       {"state", {{"type", "string"}, {"enum", {"open", "promoted", "aborted"}}}},
                       {"opened_by", string_schema()},
                       {"opened_at", time_schema()},
                       {"updated_at", time_schema()},
                       {"closed_at", nullable_time()}});
    schemas["PreviewRequest"] =
        object_schema({}, {{"config", {{"type", "object"}}},
                           {"runs", {{"type", "integer"}, {"minimum", 1}, {"maximum", 1000}}},
                           {"engine_version", nullable_string()},
                           {"since", nullable_time()},
                           {"until", nullable_time()}});
    schemas["Preview"] =
        object_schema({"summary", "data"}, {{"engine", string_schema()},
                                            {"config_hash", string_schema()},
                                            {"sample", {{"type", "object"}}},
                                            {"summary", {{"type", "object"}}},
                                            {"data", array_of({{"type", "object"}})}});
    schemas["PreviewJob"] = object_schema(
        {"job_id", "status"},
        {{"job_id", string_schema()},
         {"engine", string_schema()},
         {"status", {{"type", "string"}, {"enum", {"running", "completed", "failed"}}}},
         {"result", schema_ref("Preview")},
         {"error", {{"type", "object"}}}});
    schemas["ReleasePlan"] =
        object_schema({"version", "bump"}, {{"engine", string_schema()},
                                            {"version", string_schema()},
                                            {"bump", string_schema()},
                                            {"already_released", {{"type", "boolean"}}},
                                            {"reasons", array_of({{"type", "object"}})},
                                            {"config_hash", string_schema()},
                                            {"base_version", nullable_string()},
                                            {"diff", {{"type", "object"}}}});
    schemas["Release"] =
        object_schema({"engine", "version"},
                      {{"engine", string_schema()},
                       {"version", string_schema()},
                       {"released_at", time_schema()},
                       {"changelog", string_schema()},
                       {"bump", string_schema()},
                       {"is_breaking_from_previous_major", {{"type", "boolean"}}},
                       {"reasons", {{"type", "array"}, {"items", object{}}}},
                       {"published_by", string_schema()},
                       {"content_hash", string_schema()},
                       {"rollout", {{"allOf", array{schema_ref("Rollout")}}, {"nullable", true}}}});
    schemas["Contract"] =
        object_schema({"engine", "engine_type", "request_schema", "response_schema"},
                      {{"engine", string_schema()},
                       {"engine_type", string_schema()},
                       {"engine_version", nullable_string()},
                       {"request_schema", {{"type", "object"}}},
                       {"response_schema", {{"type", "object"}}},
                       {"scoring_dimensions", {{"nullable", true}}},
                       {"appetite_weight_profiles", {{"nullable", true}}},
                       {"default_appetite_bucket", {{"nullable", true}}},
                       {"example_request", {{"nullable", true}}},
                       {"example_response", {{"nullable", true}}}});
    const object events{{"type", "array"},
                        {"items", {{"type", "string"}, {"enum", {"run.completed", "run.failed"}}}}};
    const object webhook_fields{{"url", string_schema()},
                                {"events", events},
                                {"description", string_schema()},
                                {"active", {{"type", "boolean"}}},
                                {"auth_token", nullable_string()}};
    schemas["WebhookCreate"] = object_schema({"url"}, webhook_fields);
    schemas["WebhookUpdate"] = object_schema({}, webhook_fields);
    schemas["Webhook"] = object_schema(
        {"id", "url"},
        {{"id", string_schema()},
         {"url", string_schema()},
         {"events", events},
         {"description", string_schema()},
         {"active", {{"type", "boolean"}}},
         {"auth_token_set", {{"type", "boolean"}}},
         {"disabled_reason", nullable_string()},
         {"consecutive_failures", {{"type", "integer"}}},
         {"previous_secret_expires_at", nullable_time()},
         {"secret", {{"type", "string"}, {"description", "Only in the answer that creates it"}}},
         {"created_at", time_schema()},
         {"updated_at", time_schema()}});
    schemas["Delivery"] = object_schema(
        {"id", "status"}, {{"id", string_schema()},
                           {"event_id", string_schema()},
                           {"event_type", string_schema()},
                           {"run_id", string_schema()},
                           {"endpoint_id", nullable_string()},
                           {"url", string_schema()},
                           {"status", string_schema()},
                           {"attempt_count", {{"type", "integer"}}},
                           {"next_attempt_at", nullable_time()},
                           {"last_status_code", {{"type", "integer"}, {"nullable", true}}},
                           {"last_error", nullable_string()},
                           {"created_at", time_schema()},
                           {"updated_at", time_schema()},
                           {"attempts", array_of(object{{"type", "object"}})}});
    schemas["Caller"] =
        object_schema({"key_id", "organization", "environment", "environment_id", "scopes"},
                      {{"key_id", string_schema()},
                       {"organization", string_schema()},
                       {"environment", string_schema()},
                       {"environment_id", string_schema()},
                       {"scopes", array_of(string_schema())}});
    const object pins{{"type", "object"}, {"additionalProperties", string_schema()}};
    schemas["Environment"] = object_schema(
        {"id", "slug", "kind"}, {{"id", {{"type", "string"}, {"format", "uuid"}}},
                                 {"slug", string_schema()},
                                 {"kind", {{"type", "string"}, {"enum", {"environment"}}}},
                                 {"built_in", {{"type", "boolean"}}},
                                 {"pinned_engine_version", string_schema()},
                                 {"engine_pins", pins},
                                 {"created_at", time_schema()},
                                 {"updated_at", time_schema()}});
    schemas["EnvironmentCreate"] =
        object_schema({"slug"}, {{"slug", {{"type", "string"}, {"pattern", "^[a-z0-9_]{1,16}$"}}}});
    schemas["EnvironmentUpdate"] =
        object_schema({}, {{"pinned_engine_version", nullable_string()}, {"engine_pins", pins}});
    schemas["SigningSecret"] =
        object_schema({"secret"}, {{"secret", string_schema()},
                                   {"environment", string_schema()},
                                   {"previous_secret_expires_at", nullable_time()},
                                   {"rotated_at", time_schema()}});
    return document("engined API", server_version, server_url, paths.take(), std::move(schemas));
}

boost::json::object engine_openapi(const boost::json::object& contract,
                                   const std::string& server_version,
                                   const std::string& server_url) {
    const std::string slug(contract.at("engine").as_string());
    const value& pin = contract.at("engine_version");
    object schemas = shared_schemas();
    // The contract's definitions move to components, prefixed so that request and response never collide.
    auto adopt = [&](const char* key, const std::string& prefix) {
        const value* source = contract.if_contains(key);
        if (source == nullptr || !source->is_object()) return object{};
        for (const char* definitions : {"definitions", "$defs"}) {
            if (const value* found = source->get_object().if_contains(definitions);
                found && found->is_object()) {
                for (const auto& [name, schema] : found->get_object()) {
                    schemas[component_name(prefix, name)] = convert(schema, prefix);
                }
            }
        }
        value converted = convert(*source, prefix);
        return converted.is_object() ? converted.get_object() : object{};
    };
    const object request = adopt("request_schema", "Request_");
    const object response = adopt("response_schema", "Response_");
    auto property = [](const object& schema, const char* name) {
        const value* properties = schema.if_contains("properties");
        const value* found = properties && properties->is_object()
                                 ? properties->get_object().if_contains(name)
                                 : nullptr;
        return found ? *found : value(object{});
    };
    object run_request =
        run_request_schema(property(request, "input"), property(request, "offerings"));
    if (const value* description = request.if_contains("description"))
        run_request["description"] = *description;
    if (pin.is_string()) {
        run_request["properties"].as_object()["engine_version"].as_object()["example"] = pin;
    }
    schemas["RunRequest"] = std::move(run_request);
    // A run's results are null until it ends; their shape is the contract's response schema.
    object results;
    if (const value* properties = response.if_contains("properties");
        properties && properties->is_object()) {
        for (const auto& [name, schema] : properties->get_object()) {
            if (name == "status" || name == "stage") continue;
            results[name] = object{{"nullable", true}, {"allOf", {schema}}};
        }
    }
    schemas["Run"] = run_schema(std::move(results));

    Paths paths;
    add_run_routes(paths, "/api/v1/engines/" + slug);

    const std::string version =
        pin.is_string() ? std::string(pin.get_string()) : "current configuration";
    object doc = document("engined engine " + slug + " (" + version + ")", server_version,
                          server_url, paths.take(), std::move(schemas));
    doc["info"].as_object()["description"] =
        "The run routes of engine `" + slug + "`, typed by its contract" +
        (pin.is_string()
             ? " as released in version " + version + "; send \"engine_version\": \"" + version +
                   "\" to run exactly this release."
             : " as currently configured; pin engine_version to keep a release's behaviour.");
    return doc;
}

}  // namespace engined::api
