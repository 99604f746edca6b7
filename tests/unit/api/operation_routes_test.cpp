// GET /ready and GET /metrics through the real router. The store cannot be made to fail from
// outside a running server, so the readiness checks here are plain functions that fail.
#include "api/routes.hpp"

#include "common/api_error.hpp"
#include "store/store.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <stdexcept>

namespace engined::api {
namespace {

http::Response get(const http::Router& router, std::string_view path) {
    http::Request request(
        http::Method::get, path, {}, [](std::string_view) { return std::string_view{}; }, "req_t");
    http::Response captured;
    router.dispatch(request, http::Responder([&captured](http::Response response) {
                        captured = std::move(response);
                    }));
    return captured;
}

http::Router router_with(const metrics::Registry& registry, ReadinessChecks checks) {
    http::Router router([](const http::Request&) -> auth::Principal {
        throw ApiError::unauthorized("no keys here");
    });
    register_operation_routes(router, std::move(checks));
    register_metrics_route(router, registry);
    return router;
}

std::string header(const http::Response& response, const std::string& name) {
    for (const auto& [key, value] : response.headers) {
        if (key == name) return value;
    }
    return {};
}

TEST(Readiness, ReadyWhenTheStoreAnswersAndAPluginIsLoadedWithTheStoresQueue) {
    metrics::Registry registry;
    const auto router = router_with(registry, {[] {
                                                   return store::QueueCounts{3, 1};
                                               },
                                               [] { return std::size_t{2}; }});
    const http::Response response = get(router, "/ready");
    EXPECT_EQ(response.status, 200);
    EXPECT_EQ(
        response.body,
        R"({"status":"ready","checks":{"store":"ok","plugins":2},"queue":{"queued":3,"processing":1}})");
}

TEST(Readiness, AFailingStoreIs503NamingTheCheck) {
    metrics::Registry registry;
    const auto router = router_with(
        registry, {[]() -> store::QueueCounts { throw store::StoreUnavailable("disk I/O error"); },
                   [] { return std::size_t{2}; }});
    const http::Response response = get(router, "/ready");
    EXPECT_EQ(response.status, 503);
    EXPECT_EQ(header(response, "Retry-After"), "5");
    const auto error = boost::json::parse(response.body).at("error");
    EXPECT_EQ(error.at("code").as_string(), "unavailable");
    EXPECT_EQ(error.at("details").at(0).at("pointer").as_string(), "/checks/store");
    EXPECT_EQ(error.at("details").at(0).at("message").as_string(), "disk I/O error");
}

TEST(Readiness, NoPluginIs503NamingTheCheck) {
    metrics::Registry registry;
    const auto router =
        router_with(registry, {[] { return store::QueueCounts{}; }, [] { return std::size_t{0}; }});
    const http::Response response = get(router, "/ready");
    EXPECT_EQ(response.status, 503);
    EXPECT_EQ(
        boost::json::parse(response.body).at("error").at("details").at(0).at("pointer").as_string(),
        "/checks/plugins");
}

TEST(MetricsRoute, IsNotAmongTheOperationRoutes) {
    metrics::Registry registry;
    http::Router router([](const http::Request&) -> auth::Principal {
        throw ApiError::unauthorized("no keys here");
    });
    register_operation_routes(router,
                              {[] { return store::QueueCounts{}; }, [] { return std::size_t{1}; }});
    EXPECT_EQ(get(router, "/metrics").status, 404);
    EXPECT_EQ(get(router, "/ready").status, 200);
}

TEST(MetricsRoute, RendersTheRegistryAsPrometheusTextWithoutAKey) {
    metrics::Registry registry;
    registry.counter("engined_example_total", "An example").inc(4);
    const auto router =
        router_with(registry, {[] { return store::QueueCounts{}; }, [] { return std::size_t{1}; }});
    const http::Response response = get(router, "/metrics");
    EXPECT_EQ(response.status, 200);
    EXPECT_EQ(response.content_type, "text/plain; version=0.0.4; charset=utf-8");
    EXPECT_EQ(response.body, registry.render());
    EXPECT_NE(response.body.find("engined_example_total 4\n"), std::string::npos);
}

}  // namespace
}  // namespace engined::api
