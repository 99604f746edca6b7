#include "api/routes.hpp"

#include "common/api_error.hpp"
#include "common/json_text.hpp"

#include <boost/json.hpp>

namespace engined::api {
namespace {

using http::Method;
using http::Request;
using http::Response;

constexpr const char* kLegacyEngineSlug = "default";
constexpr const char* kLegacyPoolEngineSlug = "entity-analysis";

Response json_response(int status, const boost::json::object& body) {
    return Response::json(status, compact_json(body));
}

std::optional<std::string> query_value(const Request& request, std::string_view name) {
    std::string value;
    if (!request.query_param(name, value)) return std::nullopt;
    return value;
}

// Submits and answers 202 once the run is durable; `location` builds the URL to poll.
void submit_run(runs::RunService& runs, const boost::json::value& body, const auth::Principal& caller,
                const std::string& slug, http::Responder responder,
                std::function<boost::json::object(const std::string&)> accepted_body,
                std::function<std::string(const std::string&)> location) {
    runs.submit(caller, slug, body,
                [responder, accepted_body = std::move(accepted_body), location = std::move(location)](
                    std::exception_ptr error, const std::string& run_id) {
                    if (error) return responder.fail(error);
                    Response response = json_response(202, accepted_body(run_id));
                    response.headers.emplace_back("Location", location(run_id));
                    responder.respond(std::move(response));
                });
}

}  // namespace

void register_routes(http::Router& router, runs::RunService& runs, const http::JsonLimits& json_limits) {
    router.add_sync(Method::get, "/health", "", [](const Request&, const auth::Principal&) {
        return Response::json(200, R"({"status":"ok"})");
    });

    router.add(Method::post, "/api/v1/engines/{slug}/runs", auth::kScopeRunsWrite,
               [&runs, json_limits](const Request& request, const auth::Principal& caller, http::Responder responder) {
                   submit_run(
                       runs, http::parse_json_body(request, json_limits), caller,
                       std::string(request.path_param("slug")),
                       std::move(responder),
                       [](const std::string& id) { return boost::json::object{{"run_id", id}, {"status", "queued"}}; },
                       [](const std::string& id) { return "/api/v1/runs/" + id; });
               });

    router.add_sync(Method::get, "/api/v1/engines/{slug}/runs", auth::kScopeRunsRead,
                    [&runs](const Request& request, const auth::Principal& caller) {
                        runs::ListParams params{query_value(request, "status"), query_value(request, "cursor"),
                                                query_value(request, "limit")};
                        return json_response(200, runs.list(caller, std::string(request.path_param("slug")), params));
                    });

    router.add_sync(Method::get, "/api/v1/engines/{slug}/runs/{run_id}", auth::kScopeRunsRead,
                    [&runs](const Request& request, const auth::Principal& caller) {
                        return json_response(200, runs.get(caller, std::string(request.path_param("run_id")),
                                                           std::string(request.path_param("slug"))));
                    });

    router.add_sync(Method::get, "/api/v1/runs/{run_id}", auth::kScopeRunsRead,
                    [&runs](const Request& request, const auth::Principal& caller) {
                        return json_response(200, runs.get(caller, std::string(request.path_param("run_id")), std::nullopt));
                    });

    // The evaluation-era jobs API runs the `default` engine; a body of the older
    // {profile, pool} shape belongs to the entity-analysis engine.
    router.add(Method::post, "/api/v1/jobs", auth::kScopeRunsWrite,
               [&runs, json_limits](const Request& request, const auth::Principal& caller, http::Responder responder) {
                   const boost::json::value body = http::parse_json_body(request, json_limits);
                   const bool pool_shape = body.is_object() && body.get_object().contains("profile");
                   submit_run(
                       runs, body, caller, pool_shape ? kLegacyPoolEngineSlug : kLegacyEngineSlug,
                       std::move(responder),
                       [](const std::string& id) {
                           return boost::json::object{{"run_id", id}, {"job_id", id}, {"status", "queued"}};
                       },
                       [](const std::string& id) { return "/api/v1/jobs/" + id; });
               });

    router.add_sync(Method::get, "/api/v1/jobs/{job_id}", auth::kScopeRunsRead,
                    [&runs](const Request& request, const auth::Principal& caller) {
                        boost::json::object run = runs.get(caller, std::string(request.path_param("job_id")), std::nullopt);
                        run["job_id"] = run["run_id"];
                        return json_response(200, run);
                    });
}

}  // namespace engined::api
