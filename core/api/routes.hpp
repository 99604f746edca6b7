// core/api — the public HTTP API: which route calls which use case, and how bodies and answers
// are shaped. Knows http/, runs/, engines/, webhooks/ and audit/; knows nothing of SQL, plugins or
// Lua.
#pragma once

#include "http/json_body.hpp"
#include "http/links.hpp"
#include "http/router.hpp"
#include "engines/engine_service.hpp"
#include "environments/environment_service.hpp"
#include "metrics/registry.hpp"
#include "runs/run_service.hpp"
#include "runs/run_waits.hpp"
#include "webhooks/webhook_service.hpp"

#include <cstddef>
#include <functional>

namespace engined {
class BoundedExecutor;
}

namespace engined::api {

// Health, runs and the evaluation-era jobs API. Replays run on `checks` (api/off_thread.hpp);
// `Location` headers and `audit` URLs are absolute through `links`; long-poll GETs of a run
// (`?wait=`) are held by `waits`.
void register_routes(http::Router& router, runs::RunService& runs, runs::RunWaits& waits,
                     const http::JsonLimits& json_limits, BoundedExecutor& checks,
                     const http::Links& links);

// A run (the run object of runs::run_to_json) as the evaluation-era API answers it, at
// GET /api/v1/jobs/{eval_id} and to an evaluation's own webhook_url: {eval_id, status (one of
// queued, processing, completed, failed), pool_size, filtered, candidates (scores as levels,
// reasons in score_reasons), audit (`audit_url`, absolute), error, created_at, completed_at}.
boost::json::object evaluation_view(const boost::json::object& run, const std::string& audit_url);

// Engines, configuration, versions, contracts and the OpenAPI document (its server URL through
// `links`). Validate, PUT config and publish run on `checks`.
// Previews of a candidate configuration on recorded runs (and publish's preview gate) go
// through `runs`.
void register_engine_routes(http::Router& router, engines::EngineService& engines,
                            const runs::RunService& runs, const http::JsonLimits& json_limits,
                            const std::string& server_version, BoundedExecutor& checks,
                            const http::Links& links);

// GET /api/v1/audit-log: the caller's organisation's audit records, newest first (engines:admin).
void register_audit_routes(http::Router& router, const store::Store& store);

// Webhook endpoints, secrets and deliveries.
// Environments: create, list, show, pin (PATCH) and delete (environments:admin; pins need
// engines:admin; changes need a live key).
void register_environment_routes(http::Router& router,
                                 environments::EnvironmentService& environments,
                                 const http::JsonLimits& json_limits);

void register_webhook_routes(http::Router& router, webhooks::WebhookService& webhooks,
                             const http::JsonLimits& json_limits);

// What GET /ready checks.
struct ReadinessChecks {
    // Runs queued and processing on every node, read from the store; throws when it cannot answer.
    std::function<store::QueueCounts()> queue_counts;
    std::function<std::size_t()> plugins_loaded;  // engine plugins serving runs
};

// GET /ready; needs no key.
void register_operation_routes(http::Router& router, ReadinessChecks readiness);

// GET /metrics: `metrics` rendered as Prometheus text, without a key. Registered only on the
// metrics listener (--metrics-listen), never on the public one.
void register_metrics_route(http::Router& router, const metrics::Registry& metrics);

}  // namespace engined::api
