#include "app/app.hpp"

#include "api/idempotency_ledger.hpp"
#include "api/routes.hpp"
#include "app/allocator.hpp"
#include "audit/audit_key.hpp"
#include "auth/api_keys.hpp"
#include "auth/rate_limiter.hpp"
#include "common/api_error.hpp"
#include "common/bounded_executor.hpp"
#include "common/time.hpp"
#include "common/log.hpp"
#include "console/console_routes.hpp"
#include "engines/engine_service.hpp"
#include "environments/environment_service.hpp"
#include "http/links.hpp"
#include "http/server.hpp"
#include "metrics/registry.hpp"
#include "plugin/plugin_registry.hpp"
#include "queue/queue_depth.hpp"
#include "queue/worker_pool.hpp"
#include "runs/run_executor.hpp"
#include "runs/run_metrics.hpp"
#include "runs/run_service.hpp"
#include "runs/run_view.hpp"
#include "store/store_url.hpp"
#include "webhooks/dispatcher.hpp"
#include "webhooks/webhook_service.hpp"

#include <unistd.h>

#include <optional>
#include <stdexcept>

namespace engined::app {
namespace {

std::filesystem::path executable_dir() {
    std::error_code ec;
    const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
    return ec ? std::filesystem::current_path() : self.parent_path();
}

lua::Limits lua_limits(const Config& config) {
    lua::Limits limits;
    limits.instruction_budget = config.lua_instruction_budget;
    limits.memory_bytes = config.lua_memory_bytes;
    limits.wall_clock = std::chrono::milliseconds(config.lua_wall_clock_ms);
    return limits;
}

http::ServerOptions server_options(const Config& config, const ListenAddress& address) {
    http::ServerOptions options;
    options.host = address.host;
    options.port = address.port;
    options.threads = config.http_threads;
    options.body_limit_bytes = config.body_limit_bytes;
    options.header_limit_bytes = config.header_limit_bytes;
    options.max_url_bytes = config.max_url_bytes;
    options.max_connections = config.max_connections;
    options.max_connections_per_address = config.max_connections_per_address;
    options.access_log = config.access_log;
    options.idle_timeout = std::chrono::seconds(config.idle_timeout_s);
    options.read_timeout = std::chrono::seconds(config.read_timeout_s);
    options.write_timeout = std::chrono::seconds(config.write_timeout_s);
    return options;
}

net::OutboundPolicy outbound_policy(const Config& config) {
    net::OutboundPolicy policy;
    policy.allowed_hosts = config.webhook_allowed_hosts;
    policy.ca_file = config.webhook_ca_file.string();
    policy.total_timeout = std::chrono::milliseconds(config.webhook_timeout_ms);
    policy.connect_timeout = std::min(policy.connect_timeout, policy.total_timeout);
    return policy;
}

// Every delivery attempt, by what it decided: delivered, retrying (another attempt is
// scheduled) or failed (the delivery was given up).
webhooks::AttemptObserver count_webhook_attempts(metrics::Registry& registry) {
    const char* help = "Webhook delivery attempts by outcome";
    auto& delivered =
        registry.counter("engined_webhook_attempts_total", help, {{"outcome", "delivered"}});
    auto& retrying =
        registry.counter("engined_webhook_attempts_total", help, {{"outcome", "retrying"}});
    auto& failed =
        registry.counter("engined_webhook_attempts_total", help, {{"outcome", "failed"}});
    return [&delivered, &retrying, &failed](const store::WebhookDelivery&,
                                            store::DeliveryStatus outcome) {
        switch (outcome) {
            case store::DeliveryStatus::delivered:
                delivered.inc();
                break;
            case store::DeliveryStatus::pending:
                retrying.inc();
                break;
            case store::DeliveryStatus::failed:
                failed.inc();
                break;
        }
    };
}

webhooks::DispatcherOptions dispatcher_options(const Config& config, const http::Links& links) {
    webhooks::DispatcherOptions options;
    options.workers = config.webhook_workers;
    options.disable_after = config.webhook_disable_after;
    options.platform_version = ENGINED_VERSION;
    // Sent later, off any request: its audit link is under the public URL, else the listen address.
    options.evaluation_result = [&links](const store::Run& run) {
        return api::evaluation_view(runs::run_to_json(run), links.detached("/traces/" + run.id));
    };
    if (!config.webhook_retry_schedule_s.empty()) {
        options.retry_schedule.clear();
        for (const double seconds : config.webhook_retry_schedule_s) {
            options.retry_schedule.emplace_back(static_cast<int64_t>(seconds * 1000));
        }
    }
    return options;
}

std::unique_ptr<store::Store> open_store(const Config& config, metrics::Registry& metrics) {
    store::create_data_dir(config.data_dir);
    store::OpenOptions options;
    options.synchronous_full = config.sync_full;
    options.preallocate_wal = config.wal_preallocate;
    metrics::Histogram& batch_size = metrics.histogram(
        "engined_store_commit_batch_size", "Writes per group-committed store transaction",
        metrics::exponential_buckets(static_cast<double>(store::kDefaultMaxBatch)));
    options.on_commit = [&batch_size](std::size_t writes) {
        batch_size.observe(static_cast<double>(writes));
    };
    const auto checkpoint_seconds = [&metrics](std::string_view thread) -> metrics::Histogram& {
        return metrics.histogram("engined_store_checkpoint_seconds",
                                 "Time to copy the SQLite WAL into the database file, by the "
                                 "thread that did it (background: the store's own; writer: what "
                                 "commits added meanwhile)",
                                 metrics::duration_buckets(), {{"thread", std::string(thread)}});
    };
    metrics::Histogram& background_checkpoints = checkpoint_seconds("background");
    metrics::Histogram& writer_checkpoints = checkpoint_seconds("writer");
    options.on_checkpoint = [&background_checkpoints,
                             &writer_checkpoints](const store::CheckpointDone& done) {
        (done.thread == store::CheckpointThread::background ? background_checkpoints
                                                            : writer_checkpoints)
            .observe(done.seconds);
    };
    // What a run costs a networked store: its statements, and the round trips they took.
    metrics::Counter& statements =
        metrics.counter("engined_store_statements_total", "Statements sent to a PostgreSQL store");
    metrics::Counter& round_trips = metrics.counter(
        "engined_store_round_trips_total",
        "Round trips to a PostgreSQL store (pipelining sends several statements in one)");
    options.on_round_trip = [&statements, &round_trips](std::size_t sent) {
        statements.inc(static_cast<double>(sent));
        round_trips.inc();
    };
    return store::open_store(store::resolve_store_url(config.store, config.data_dir),
                             std::move(options));
}

}  // namespace

std::filesystem::path find_resources_dir(const std::filesystem::path& configured) {
    if (!configured.empty()) return configured;
    // The working directory (a checkout), the build tree's parent (build/engined in a checkout),
    // then an installation's share/engined beside bin/ (packaging/CMakeLists.txt).
    const auto installed = executable_dir().parent_path();
    for (const auto& candidate :
         {std::filesystem::current_path(), installed, installed / "share" / "engined"}) {
        if (std::filesystem::is_directory(candidate / "contracts")) return candidate;
    }
    throw std::runtime_error(
        "cannot find the contracts/ folder in the current directory, beside the binary or in "
        "its ../share/engined; start engined from the repository root or pass --resources-dir");
}

struct App::Impl {
    explicit Impl(Config c)
        : config(std::move(c)),
          store(open_store(config, metrics)),
          audit_trail(*store,
                      audit::read_or_create_key(config.audit_key_file.empty()
                                                    ? audit::default_key_file(config.data_dir)
                                                    : config.audit_key_file)),
          resources_dir(find_resources_dir(config.resources_dir)),
          // A key looked up a moment ago is trusted for a second on either store: on SQLite the
          // lookup was ~3 % of a run's CPU, on PostgreSQL a round trip.
          authenticator(*store, std::make_unique<auth::KeyCache>(auth::kTrustedKeyTtl,
                                                                 auth::kTrustedKeyCapacity)),
          router(
              [this](const http::Request& request) {
                  const http::HeaderField authorization = request.header_field("Authorization");
                  const http::HeaderField x_api_key = request.header_field("X-API-Key");
                  return authenticator.authenticate({authorization.value, authorization.count},
                                                    {x_api_key.value, x_api_key.count});
              },
              [this](const auth::Principal& caller) { return admit(caller); }) {
        const auto plugins_dir = plugin::find_plugins_dir(config.plugins_dir);
        plugins.load_directory(plugins_dir);
        if (plugins.plugins().empty()) {
            throw std::runtime_error("no engine plugin could be loaded from " +
                                     plugins_dir.string());
        }
        engines.emplace(*store, plugins, resources_dir, lua_limits(config), audit_trail);
        engines->bootstrap();
        std::vector<std::string> builtin_slugs;
        for (const auto& builtin : engines->builtin_engines())
            builtin_slugs.push_back(builtin.slug);
        run_metrics.label_builtin_engines(std::move(builtin_slugs));
        executor.emplace(*store, plugins, lua_limits(config), ENGINED_VERSION, run_metrics);
        dispatcher.emplace(*store, outbound_policy(config), dispatcher_options(config, links),
                           count_webhook_attempts(metrics));
        webhooks.emplace(
            *store, [this] { dispatcher->wake(); }, audit_trail);
        workers.emplace(
            *store,
            [this](const store::Run& run) {
                store::RunOutcome outcome = executor->execute(run);
                run_metrics.finished(run, outcome);
                return outcome;
            },
            queue::QueueOptions{config.workers,
                                config.max_run_attempts,
                                std::chrono::seconds(config.run_lease_seconds),
                                {}});
        // On PostgreSQL, a run submitted on another node reaches a worker here at once, not at
        // the next look; on SQLite every submit is this node's own, handed over in-process.
        submit_watch = store->watch_submits([this] { workers->wake(); });
        queue_depth.emplace(*store, [this] { return workers->depth(); });
        runs::RunService::Workers run_workers{
            [this] { return workers->hold_new_run(); },
            [this](store::Run run) { workers->enqueue(std::move(run)); }, nullptr,
            [this] { return queue_depth->depth(); }};
        if (config.execute_when_idle) {
            run_workers.execute_if_idle = [this](queue::WorkerPool::IdleRun run) {
                return workers->execute_if_idle(std::move(run));
            };
        }
        runs.emplace(*store, *engines, *executor, std::move(run_workers),
                     runs::SubmitLimits{config.max_offerings, config.max_queue_depth}, run_metrics);
        if (allocator_bytes()) {
            struct Series {
                const char* state;
                std::size_t AllocatorBytes::*figure;
            };
            for (const Series series : {Series{"allocated", &AllocatorBytes::allocated},
                                        Series{"cached", &AllocatorBytes::cached}}) {
                metrics.gauge_callback(
                    "engined_allocator_bytes",
                    "Bytes the allocator holds: allocated (in use) or cached (freed, kept for "
                    "reuse instead of given back to the system)",
                    [figure = series.figure] {
                        return static_cast<double>(allocator_bytes().value_or(AllocatorBytes{}).*
                                                   figure);
                    },
                    {{"state", series.state}});
            }
        }
        metrics.gauge_callback("engined_queue_depth",
                               "Runs accepted on any node but not yet claimed by a worker",
                               [this] { return static_cast<double>(queue_depth->depth()); });
        const http::JsonLimits json_limits{config.json_max_depth, config.json_max_elements};
        router.set_idempotency_ledger(idempotency_ledger);
        checks.emplace(BoundedExecutor::Limits{config.check_threads, config.check_queue,
                                               config.checks_per_key},
                       "engined-checks");
        waits.emplace(runs::RunWaitLimits{config.max_run_wait_s, config.max_run_waits}, metrics);
        // Every finish, this node's and (on PostgreSQL) other nodes', answers the waits on it; one
        // of this node's that added webhook deliveries wakes its senders (a finish that added
        // none costs the outbox no look).
        finished_watch = store->watch_finished_runs([this](const store::FinishedRun& run) {
            waits->finished(run.run_id);
            if (run.added_deliveries) dispatcher->wake();
        });
        api::register_routes(router, *runs, *waits, json_limits, *checks, links);
        api::register_engine_routes(router, *engines, *runs, json_limits, ENGINED_VERSION, *checks,
                                    links);
        api::register_webhook_routes(router, *webhooks, json_limits);
        api::register_environment_routes(router, environments, json_limits);
        api::register_audit_routes(router, *store);
        api::register_operation_routes(router, {[this] { return queue_depth->read(); },
                                                [this] { return plugins.plugins().size(); }});
        console::register_console_routes(router);
        server.emplace(
            router, server_options(config, parse_listen_address(config.listen, "listen address")),
            metrics);
        if (!config.metrics_listen.empty()) {
            api::register_metrics_route(metrics_router, metrics);
            http::ServerOptions options = server_options(
                config, parse_listen_address(config.metrics_listen, "metrics listen address"));
            options.threads = 1;  // a scraper's few requests
            metrics_server.emplace(metrics_router, options);
        }
    }

    // Every authenticated request spends a token of its key's bucket; the counters ride along
    // on every answer, and a refusal says when to come back.
    std::vector<std::pair<std::string, std::string>> admit(const auth::Principal& caller) {
        const auth::RateLimit limit{caller.rate_per_second.value_or(config.rate_limit_per_second),
                                    caller.rate_burst.value_or(config.rate_limit_burst)};
        const auto now = auth::RateLimiter::Clock::now();
        const auth::RateDecision decision =
            shared_rate_limiter
                ? shared_rate_limiter->take(caller.key_id, limit, now, now_unix_ms())
                : rate_limiter.take(caller.key_id, limit, now, now_unix_ms());
        std::vector<std::pair<std::string, std::string>> headers{
            {"X-RateLimit-Limit", std::to_string(decision.limit)},
            {"X-RateLimit-Remaining", std::to_string(decision.remaining)},
            {"X-RateLimit-Reset", std::to_string(decision.reset_unix_s)}};
        if (!decision.allowed) {
            ApiError refusal = ApiError::rate_limited(
                "rate limit of this API key exceeded (" + std::to_string(decision.limit) +
                " requests burst); retry after " + std::to_string(decision.retry_after_s) + " s");
            for (auto& [name, value] : headers) refusal.with_header(name, value);
            refusal.with_header("Retry-After", std::to_string(decision.retry_after_s));
            throw refusal;
        }
        return headers;
    }

    Config config;
    metrics::Registry metrics;  // first in, last out: every other part may hold its series
    runs::RunMetrics run_metrics{metrics};
    auth::RateLimiter rate_limiter;
    std::unique_ptr<store::Store> store;
    // Nodes on one PostgreSQL share each key's bucket through it; a SQLite node keeps its own.
    std::optional<auth::SharedRateLimiter> shared_rate_limiter =
        store->shared_rate_buckets()
            ? std::optional<auth::SharedRateLimiter>(std::in_place, *store->shared_rate_buckets())
            : std::nullopt;
    audit::AuditTrail audit_trail;
    std::filesystem::path resources_dir;
    auth::KeyAuthenticator authenticator;
    api::StoreIdempotencyLedger idempotency_ledger{*store};
    http::Router router;
    http::Links links{config.public_url, config.host(), config.port()};
    plugin::PluginRegistry plugins;
    std::optional<engines::EngineService> engines;
    std::optional<runs::RunExecutor> executor;
    std::optional<webhooks::Dispatcher> dispatcher;
    std::optional<webhooks::WebhookService> webhooks;
    environments::EnvironmentService environments{*store, audit_trail,
                                                  [this] { authenticator.forget_cached_keys(); }};
    std::optional<queue::WorkerPool> workers;
    std::unique_ptr<store::SubmitWatch> submit_watch;  // stopped before the workers it wakes
    std::optional<queue::QueueDepth> queue_depth;
    std::optional<runs::RunService> runs;
    std::optional<http::Server> server;
    // After the server: it is stopped, and destroyed, before the sessions its tasks answer.
    std::optional<BoundedExecutor> checks;
    // Likewise after the server; drained when the server drains, its watch stopped before it.
    std::optional<runs::RunWaits> waits;
    std::unique_ptr<store::FinishedRunsWatch> finished_watch;
    // The metrics listener routes GET /metrics only; no route of it needs a key.
    http::Router metrics_router{[](const http::Request&) -> auth::Principal {
        throw ApiError::unauthorized("the metrics listener takes no API keys");
    }};
    std::optional<http::Server> metrics_server;
    bool stopped = false;
};

App::App(Config config) : impl_(std::make_unique<Impl>(std::move(config))) {}

App::~App() {
    stop();
}

void App::start() {
    impl_->workers->start();
    impl_->dispatcher->start();
    impl_->server->start();
    impl_->links.set_listen_port(port());  // chosen at bind time when configured as 0
    log::info("engined listening",
              {{"address", impl_->config.host() + ":" + std::to_string(port())},
               {"data_dir", impl_->config.data_dir.string()},
               {"resources_dir", impl_->resources_dir.string()},
               {"allocator", std::string(allocator_name())}});
    if (impl_->metrics_server) {
        impl_->metrics_server->start();
        log::info(
            "metrics listening",
            {{"address",
              parse_listen_address(impl_->config.metrics_listen, "metrics listen address").host +
                  ":" + std::to_string(*metrics_port())}});
    }
}

uint16_t App::port() const {
    return impl_->server->port();
}

std::optional<uint16_t> App::metrics_port() const {
    if (!impl_->metrics_server) return std::nullopt;
    return impl_->metrics_server->port();
}

void App::stop() {
    if (impl_->stopped) return;
    impl_->stopped = true;
    // Long-poll waits are in flight: answered with their runs as they are, so the drain ends.
    impl_->waits->drain();
    impl_->server->stop();
    impl_->server->wait();
    impl_->checks->stop();
    if (impl_->metrics_server) {
        impl_->metrics_server->stop();
        impl_->metrics_server->wait();
    }
    impl_->workers->stop();
    impl_->dispatcher->stop();
}

store::Store& App::store() {
    return *impl_->store;
}

const http::Router& App::router() const {
    return impl_->router;
}

const http::Router& App::metrics_router() const {
    return impl_->metrics_router;
}

}  // namespace engined::app
