#include "api/routes.hpp"

#include "common/api_error.hpp"
#include "common/json_text.hpp"

#include <boost/json.hpp>

#include <exception>

namespace engined::api {

void register_metrics_route(http::Router& router, const metrics::Registry& metrics) {
    router.add_sync(http::Method::get, "/metrics", "",
                    [&metrics](const http::Request&, const auth::Principal&) {
                        http::Response response;
                        response.content_type = std::string(metrics::Registry::kContentType);
                        response.body = metrics.render();
                        return response;
                    });
}

void register_operation_routes(http::Router& router, ReadinessChecks readiness) {
    // Ready: the store answers and at least one engine plugin can run what is submitted. The
    // store's answer is the queue on every node, which an operator reads here without a key.
    router.add_sync(
        http::Method::get, "/ready", "",
        [readiness = std::move(readiness)](const http::Request&, const auth::Principal&) {
            store::QueueCounts queue;
            try {
                queue = readiness.queue_counts();
            } catch (const std::exception& failure) {
                throw ApiError(503, "unavailable", "not ready: the store does not answer",
                               {{"/checks/store", failure.what()}})
                    .with_header("Retry-After", "5");
            }
            const std::size_t plugins = readiness.plugins_loaded();
            if (plugins == 0) {
                throw ApiError(503, "unavailable", "not ready: no engine plugin is loaded",
                               {{"/checks/plugins", "0 plugins loaded"}})
                    .with_header("Retry-After", "5");
            }
            const boost::json::object body{
                {"status", "ready"},
                {"checks", {{"store", "ok"}, {"plugins", plugins}}},
                {"queue", {{"queued", queue.queued}, {"processing", queue.processing}}}};
            return http::Response::json(200, compact_json(body));
        });
}

}  // namespace engined::api
