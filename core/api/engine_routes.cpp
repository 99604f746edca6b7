// Routes of the operator's lifecycle: engines, configuration, versions and contracts (SPEC §5).
#include "api/routes.hpp"

#include "api/json_response.hpp"
#include "api/off_thread.hpp"
#include "api/openapi.hpp"
#include "common/api_error.hpp"
#include "common/json_text.hpp"
#include "engines/contract_guide.hpp"

#include <boost/json.hpp>

namespace engined::api {
namespace {

using http::Method;
using http::Request;
using http::Response;

std::string slug_of(const Request& request) { return std::string(request.path_param("slug")); }

std::optional<std::string> pin_of(const Request& request) {
    std::string pin;
    if (!request.query_param("engine_version", pin)) return std::nullopt;
    return pin;
}

// ?full=1 asks for the whole contract guide; absent or 0, the compact one.
engines::GuideDetail guide_detail_of(const Request& request) {
    std::string full;
    if (!request.query_param("full", full) || full == "0") return engines::GuideDetail::compact;
    if (full == "1") return engines::GuideDetail::full;
    throw ApiError::invalid_request("query parameter full must be 1 (the whole guide) or 0 (the compact one)",
                                    {{"full", "expected 1 or 0"}});
}

}  // namespace

void register_engine_routes(http::Router& router, engines::EngineService& engines,
                            const http::JsonLimits& json_limits, const std::string& server_version,
                            BoundedExecutor& checks, const http::Links& links) {
    const std::string admin = auth::kScopeEnginesAdmin;
    const std::string read = auth::kScopeRunsRead;

    router.add_sync(Method::get, "/api/v1/engines", read, [&engines](const Request&, const auth::Principal& caller) {
        return json_response(200, boost::json::object{{"data", engines.list(caller)}});
    });
    router.add_sync(Method::post, "/api/v1/engines", admin,
                    [&engines, json_limits](const Request& request, const auth::Principal& caller) {
                        return json_response(201, engines.create(caller, http::parse_json_body(request, json_limits)));
                    });
    router.add_sync(Method::get, "/api/v1/engines/{slug}", read, [&engines](const Request& request, const auth::Principal& caller) {
        return json_response(200, engines.get(caller, slug_of(request)));
    });
    router.add_sync(Method::post, "/api/v1/engines/{slug}/archive", admin,
                    [&engines](const Request& request, const auth::Principal& caller) {
                        return json_response(200, engines.archive(caller, slug_of(request)));
                    });

    router.add_sync(Method::get, "/api/v1/engines/{slug}/config", read,
                    [&engines](const Request& request, const auth::Principal& caller) {
                        return json_response(200, engines.get_config(caller, slug_of(request)));
                    });
    // The checks of a configuration compile its schemas and run its Lua, and publishing compares
    // schemas: all on the check pool. Bodies are parsed here, within the JSON limits.
    router.add(Method::put, "/api/v1/engines/{slug}/config", admin,
               [&engines, &checks, json_limits](const Request& request, const auth::Principal& caller,
                                                http::Responder responder) {
                   answer_off_thread(checks, caller, responder,
                                     [&engines, caller, slug = slug_of(request),
                                      body = http::parse_json_body(request, json_limits)] {
                                         return json_response(200, engines.put_config(caller, slug, body));
                                     });
               });
    router.add(Method::post, "/api/v1/engines/{slug}/config/validate", admin,
               [&engines, &checks, json_limits](const Request& request, const auth::Principal& caller,
                                                http::Responder responder) {
                   // A body that is not even JSON is a verdict too, not an error.
                   boost::json::value body;
                   try {
                       body = http::parse_json_body(request, json_limits);
                   } catch (const ApiError& error) {
                       return responder.respond(json_response(
                           200, boost::json::object{{"valid", false},
                                                    {"errors", {{{"path", ""}, {"message", error.what()}}}}}));
                   }
                   answer_off_thread(checks, caller, responder,
                                     [&engines, caller, slug = slug_of(request), body = std::move(body)] {
                                         return json_response(200, engines.validate_config(caller, slug, body));
                                     });
               });

    router.add(Method::post, "/api/v1/engines/{slug}/versions", admin,
               [&engines, &checks, json_limits](const Request& request, const auth::Principal& caller,
                                                http::Responder responder) {
                   boost::json::value body = request.body().empty() ? boost::json::value(boost::json::object{})
                                                                    : http::parse_json_body(request, json_limits);
                   answer_off_thread(checks, caller, responder,
                                     [&engines, caller, slug = slug_of(request), body = std::move(body)] {
                                         bool created = false;
                                         const auto release = engines.publish(caller, slug, body, created);
                                         return json_response(created ? 201 : 200, release);
                                     });
               });
    router.add_sync(Method::get, "/api/v1/engines/{slug}/versions", read,
                    [&engines](const Request& request, const auth::Principal& caller) {
                        return json_response(200, boost::json::object{{"data", engines.list_versions(caller, slug_of(request))}});
                    });
    router.add_sync(Method::get, "/api/v1/engines/{slug}/versions/{version}", read,
                    [&engines](const Request& request, const auth::Principal& caller) {
                        return json_response(200, engines.get_version(caller, slug_of(request),
                                                                      std::string(request.path_param("version"))));
                    });
    router.add_sync(Method::get, "/api/v1/engines/{slug}/versions/{version}/bundle", read,
                    [&engines](const Request& request, const auth::Principal& caller) {
                        Response response = Response::json(
                            200, pretty_json(engines.export_version(caller, slug_of(request),
                                                                    std::string(request.path_param("version")))));
                        return response;
                    });

    router.add_sync(Method::get, "/api/v1/engines/{slug}/contract", read,
                    [&engines](const Request& request, const auth::Principal& caller) {
                        return json_response(200, engines.contract(caller, slug_of(request), pin_of(request)));
                    });
    router.add_sync(Method::get, "/api/v1/engines/{slug}/contract.md", read,
                    [&engines](const Request& request, const auth::Principal& caller) {
                        const engines::GuideDetail detail = guide_detail_of(request);
                        Response response;
                        response.content_type = "text/markdown; charset=utf-8";
                        response.body =
                            engines::contract_markdown(engines.contract(caller, slug_of(request), pin_of(request)), detail);
                        return response;
                    });
    router.add_sync(Method::get, "/api/v1/engines/{slug}/openapi.json", read,
                    [&engines, &links, server_version](const Request& request, const auth::Principal& caller) {
                        return json_response(200, engine_openapi(engines.contract(caller, slug_of(request), pin_of(request)),
                                                                 server_version, links.for_request(request, "")));
                    });
    router.add_sync(Method::get, "/api/v1/openapi.json", read,
                    [&links, server_version](const Request& request, const auth::Principal&) {
                        return json_response(200, platform_openapi(server_version, links.for_request(request, "")));
                    });
}

}  // namespace engined::api
