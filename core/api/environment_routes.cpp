// Routes of environment management (reference §4.9): create, list, show, pin, delete.
#include "api/routes.hpp"

#include "api/json_response.hpp"

#include <boost/json.hpp>

namespace engined::api {

void register_environment_routes(http::Router& router,
                                 environments::EnvironmentService& environments,
                                 const http::JsonLimits& json_limits) {
    using http::Method;
    using http::Request;
    const std::string admin = auth::kScopeEnvironmentsAdmin;
    auto slug_of = [](const Request& request) { return std::string(request.path_param("slug")); };

    router.add_sync(
        Method::post, "/api/v1/environments", admin,
        [&environments, json_limits](const Request& request, const auth::Principal& caller) {
            return json_response(
                201, environments.create(caller, http::parse_json_body(request, json_limits)));
        });
    router.add_sync(Method::get, "/api/v1/environments", admin,
                    [&environments](const Request&, const auth::Principal& caller) {
                        return json_response(200, environments.list(caller));
                    });
    router.add_sync(
        Method::get, "/api/v1/environments/{slug}", admin,
        [&environments, slug_of](const Request& request, const auth::Principal& caller) {
            return json_response(200, environments.get(caller, slug_of(request)));
        });
    // Pins need engines:admin itself (checked by the service); the route admits environment admins
    // so that a missing scope is told precisely.
    router.add_sync(Method::patch, "/api/v1/environments/{slug}", admin,
                    [&environments, json_limits, slug_of](const Request& request,
                                                          const auth::Principal& caller) {
                        return json_response(
                            200, environments.update(caller, slug_of(request),
                                                     http::parse_json_body(request, json_limits)));
                    });
    router.add_sync(
        Method::del, "/api/v1/environments/{slug}", admin,
        [&environments, slug_of](const Request& request, const auth::Principal& caller) {
            environments.remove(caller, slug_of(request));
            return json_response(
                200, boost::json::object{{"slug", slug_of(request)}, {"deleted", true}});
        });
}

}  // namespace engined::api
