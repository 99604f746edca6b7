// GET /metrics, GET /ready, the access log and the transport and submission limits, end to end
// on a real engined over loopback.
#include "test_server.hpp"

#include "app/allocator.hpp"
#include "auth/api_keys.hpp"
#include "common/log.hpp"
#include "prometheus_text.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <gtest/gtest.h>

#include <sys/socket.h>

#include <chrono>
#include <mutex>
#include <thread>

namespace engined::testing {
namespace {

boost::json::object fixture(const std::string& name = "pure_bundle_ca") {
    return boost::json::parse(read_text(golden_dir() / (name + ".input.json"))).as_object();
}

std::string submit_body(boost::json::object body) {
    return boost::json::serialize(body);
}

Exposition scrape(const TestServer& server) {
    auto client = server.metrics_client();
    const http::ClientResponse response = client.request("GET", "/metrics");
    EXPECT_EQ(response.status, 200);
    EXPECT_EQ(response.header("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
    return parse_prometheus_text(response.body);
}

// Sends one request on a fresh connection and reads until the server closes it. Gives up (and
// fails) after 5 s, so a server that keeps the connection open cannot hang the test.
std::string exchange_until_closed(uint16_t port, const std::string& request) {
    boost::asio::io_context ioc;
    boost::asio::ip::tcp::socket socket(ioc);
    socket.connect({boost::asio::ip::make_address("127.0.0.1"), port});
    const timeval timeout{5, 0};
    setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    boost::asio::write(socket, boost::asio::buffer(request));
    std::string received;
    boost::system::error_code ec;
    boost::asio::read(socket, boost::asio::dynamic_buffer(received), ec);
    EXPECT_EQ(ec, boost::asio::error::eof) << "the connection was not closed: " << ec.message();
    return received;
}

TEST(Metrics, RunsOverHttpShowUpInAWellFormedExposition) {
    TestServer server;
    const std::string key = server.create_key("acme");
    auto client = server.client();
    std::vector<std::string> run_ids;
    for (int i = 0; i < 3; ++i) {
        const ApiResponse accepted =
            call(client, "POST", "/api/v1/engines/default/runs", key, submit_body(fixture()));
        ASSERT_EQ(accepted.status, 202) << accepted.raw.body;
        run_ids.emplace_back(accepted.body.at("run_id").as_string());
    }
    for (const std::string& id : run_ids)
        EXPECT_EQ(wait_for_run(client, key, id).at("status").as_string(), "completed");
    EXPECT_EQ(call(client, "GET", "/no/such/route", key).status, 404);

    // A request is counted once its answer is written, which may be just after the client read it.
    Exposition metrics = scrape(server);
    for (int attempt = 0;
         attempt < 50 &&
         metrics.value("engined_http_requests_total",
                       {{"route", "unmatched"}, {"method", "GET"}, {"status", "404"}}) != 1.0;
         ++attempt) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        metrics = scrape(server);
    }
    EXPECT_EQ(
        metrics.value(
            "engined_http_requests_total",
            {{"route", "/api/v1/engines/{slug}/runs"}, {"method", "POST"}, {"status", "202"}}),
        3.0);
    EXPECT_EQ(metrics.value("engined_http_requests_total",
                            {{"route", "unmatched"}, {"method", "GET"}, {"status", "404"}}),
              1.0);
    EXPECT_GE(metrics
                  .value("engined_http_request_duration_seconds_count",
                         {{"route", "/api/v1/engines/{slug}/runs"}})
                  .value_or(0),
              3.0);
    EXPECT_EQ(metrics.value("engined_runs_submitted_total",
                            {{"engine", "default"}, {"version", "current"}}),
              3.0);
    EXPECT_EQ(
        metrics.value("engined_runs_finished_total",
                      {{"engine", "default"}, {"version", "current"}, {"status", "completed"}}),
        3.0);
    EXPECT_EQ(metrics.value("engined_run_duration_seconds_count",
                            {{"engine", "default"}, {"version", "current"}}),
              3.0);
    EXPECT_EQ(metrics.value("engined_queue_depth"), 0.0);
    if (app::allocator_bytes()) {  // none under a sanitizer's malloc
        EXPECT_GT(metrics.value("engined_allocator_bytes", {{"state", "allocated"}}).value_or(0),
                  0.0);
    }
    // Charged in steps of 1000: this scorecard's calls stay below that (the queue test spends more).
    EXPECT_TRUE(metrics.value("engined_lua_instructions_total"));
    EXPECT_GE(metrics.value("engined_http_connections_open").value_or(0), 1.0);
    // Every run was one insert, one claim and one outcome, grouped into transactions.
    EXPECT_GE(metrics.value("engined_store_commit_batch_size_sum").value_or(0), 9.0);
    EXPECT_EQ(metrics.families.at("engined_store_commit_batch_size").type, "histogram");
    EXPECT_EQ(metrics.families.at("engined_store_checkpoint_seconds").type, "histogram");
    EXPECT_EQ(metrics.families.at("engined_http_requests_total").type, "counter");
}

TEST(Readiness, AnswersReadyWithItsChecksAndNeedsNoKey) {
    TestServer server;
    auto client = server.client();
    const ApiResponse ready = call(client, "GET", "/ready", "");
    ASSERT_EQ(ready.status, 200) << ready.raw.body;
    EXPECT_EQ(ready.body.at("status").as_string(), "ready");
    EXPECT_EQ(ready.body.at("checks").at("store").as_string(), "ok");
    EXPECT_GE(ready.body.at("checks").at("plugins").as_int64(), 1);
}

TEST(ConnectionLimit, OneConnectionPastTheLimitIsAnswered503AndClosedWhileOthersAreServed) {
    app::Config config;
    config.max_connections = 3;
    TestServer server(config);
    std::vector<http::Client> held;
    for (int i = 0; i < 3; ++i) {
        held.push_back(server.client());
        ASSERT_EQ(held.back().request("GET", "/health").status, 200)
            << "connection " << i + 1 << " of 3";
    }

    const std::string refused =
        exchange_until_closed(server.port(), "GET /health HTTP/1.1\r\nHost: t\r\n\r\n");
    EXPECT_EQ(refused.rfind("HTTP/1.1 503", 0), 0u) << refused;
    EXPECT_NE(refused.find("Retry-After: 1\r\n"), std::string::npos) << refused;
    EXPECT_NE(refused.find("\"code\":\"unavailable\""), std::string::npos) << refused;
    EXPECT_NE(refused.find("limit of 3 connections"), std::string::npos) << refused;

    // The connections within the limit keep being served.
    for (auto& client : held) EXPECT_EQ(client.request("GET", "/health").status, 200);

    // Once one closes, a new connection is served (after the server has seen the close).
    held.pop_back();
    int status = 0;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (status != 200 && std::chrono::steady_clock::now() < deadline) {
        auto fresh = server.client();
        status = fresh.request("GET", "/health").status;
        if (status != 200) std::this_thread::sleep_for(std::chrono::milliseconds(10));
        if (status == 200) {
            const Exposition metrics = scrape(server);
            EXPECT_GE(metrics.value("engined_http_connections_refused_total", {{"limit", "server"}})
                          .value_or(0),
                      1.0);
            EXPECT_EQ(
                metrics.value("engined_http_connections_refused_total", {{"limit", "address"}}),
                0.0);
            EXPECT_EQ(metrics.value("engined_http_connections_open"), 3.0);
        }
    }
    EXPECT_EQ(status, 200);
}

TEST(UrlLimit, AUrlAtTheLimitIsServedAndOneBytePastItIs414) {
    TestServer server;  // default: 8192 bytes
    auto client = server.client();
    const std::string prefix = "/health?pad=";
    const std::string at_limit = prefix + std::string(8192 - prefix.size(), 'a');
    EXPECT_EQ(client.request("GET", at_limit).status, 200);
    const ApiResponse past = call(client, "GET", at_limit + "a", "");
    EXPECT_EQ(past.status, 414) << past.raw.body;
    EXPECT_EQ(past.body.at("error").at("code").as_string(), "uri_too_long");
    EXPECT_NE(std::string(past.body.at("error").at("message").as_string()).find("8192"),
              std::string::npos);
    // The connection stays usable.
    EXPECT_EQ(client.request("GET", "/health").status, 200);
}

TEST(JsonLimit, ABodyWithTooManyValuesIsInvalidRequestNamingTheLimit) {
    app::Config config;
    config.json_max_elements = 1000;
    TestServer server(config);
    const std::string key = server.create_key("acme");
    auto client = server.client();
    boost::json::object body = fixture();
    boost::json::array filler(1000, 1);
    body["input"].as_object()["filler"] = filler;
    const ApiResponse refused =
        call(client, "POST", "/api/v1/engines/default/runs", key, submit_body(body));
    EXPECT_EQ(refused.status, 400) << refused.raw.body;
    EXPECT_EQ(refused.body.at("error").at("code").as_string(), "invalid_request");
    EXPECT_NE(std::string(refused.body.at("error").at("message").as_string())
                  .find("more than 1000 JSON values"),
              std::string::npos);
    // Within the limit, the same route takes the fixture.
    EXPECT_EQ(
        call(client, "POST", "/api/v1/engines/default/runs", key, submit_body(fixture())).status,
        202);
}

TEST(OfferingsLimit, RunsCarryAtMostMaxOfferings) {
    app::Config config;
    config.max_offerings = 2;
    TestServer server(config);
    const std::string key = server.create_key("acme");
    auto client = server.client();
    boost::json::object body = fixture();  // three offerings
    ASSERT_EQ(body.at("offerings").as_array().size(), 3u);
    const ApiResponse past =
        call(client, "POST", "/api/v1/engines/default/runs", key, submit_body(body));
    EXPECT_EQ(past.status, 422) << past.raw.body;
    EXPECT_EQ(past.body.at("error").at("code").as_string(), "contract_violation");
    const auto& detail = past.body.at("error").at("details").as_array().at(0);
    EXPECT_EQ(detail.at("pointer").as_string(), "/offerings");
    EXPECT_NE(
        std::string(past.body.at("error").at("message").as_string()).find("at most 2 offerings"),
        std::string::npos);

    body["offerings"].as_array().pop_back();
    const ApiResponse at_limit =
        call(client, "POST", "/api/v1/engines/default/runs", key, submit_body(body));
    EXPECT_EQ(at_limit.status, 202) << at_limit.raw.body;
}

// A worker stalls on a scorecard that spins until the wall-clock ceiling for one marked input,
// so that runs submitted meanwhile wait in the queue.
TEST(QueueLimit, SubmissionsAreRefusedWith503WhileTheQueueIsFullAndNothingIsStored) {
    app::Config config;
    config.workers = 1;
    config.max_queue_depth = 1;
    config.lua_wall_clock_ms = 1500;
    config.lua_instruction_budget = 1'000'000'000'000;
    TestServer server(config);
    const std::string admin =
        server.create_key("acme", "live", {"runs:write", "runs:read", "engines:admin"});
    auto client = server.client();
    auto api = [&](const std::string& method, const std::string& target,
                   const boost::json::value& body = nullptr) {
        return call(client, method, target, admin,
                    body.is_null() ? std::string() : boost::json::serialize(body));
    };
    create_stalling_engine(client, admin, "slow");

    boost::json::object stalling = fixture();
    stalling["input"].as_object()["address"].as_object()["stall"] = true;
    const ApiResponse first = api("POST", "/api/v1/engines/slow/runs", stalling);
    ASSERT_EQ(first.status, 202) << first.raw.body;
    const std::string first_id(first.body.at("run_id").as_string());
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (api("GET", "/api/v1/runs/" + first_id).body.at("status").as_string() == "queued" &&
           std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }

    // Depth 0, below the limit of 1: accepted, and it waits behind the stalled run.
    const ApiResponse waiting = api("POST", "/api/v1/engines/slow/runs", fixture());
    ASSERT_EQ(waiting.status, 202) << waiting.raw.body;
    // Depth 1, at the limit: refused before anything is stored.
    const ApiResponse refused = api("POST", "/api/v1/engines/slow/runs", fixture());
    EXPECT_EQ(refused.status, 503) << refused.raw.body;
    EXPECT_EQ(refused.body.at("error").at("code").as_string(), "unavailable");
    EXPECT_FALSE(refused.raw.header("Retry-After").empty());
    EXPECT_EQ(api("GET", "/api/v1/engines/slow/runs").body.at("data").as_array().size(), 2u);
    EXPECT_EQ(scrape(server).value("engined_queue_depth"), 1.0);

    // The stalled run fails on the wall clock; its Lua failure is counted.
    EXPECT_EQ(wait_for_run(client, admin, first_id).at("status").as_string(), "failed");
    const Exposition metrics = scrape(server);
    EXPECT_GE(metrics.value("engined_lua_errors_total", {{"kind", "budget_exceeded"}}).value_or(0),
              1.0);
    EXPECT_GT(metrics.value("engined_lua_instructions_total").value_or(0), 1e6);
    // "slow" is the organisation's own engine: counted as custom, its slug never shown.
    EXPECT_EQ(metrics.value("engined_runs_finished_total",
                            {{"engine", "custom"}, {"version", "custom"}, {"status", "failed"}}),
              1.0);
}

// The queue limit counts runs queued on any node on the same store, not only this node's: a run
// put back into the queue behind the server's back (as another node's submit would) is seen by
// the next read of the store, which /ready makes at once.
TEST(QueueLimit, RunsQueuedElsewhereOnTheStoreCountAndReadyShowsThem) {
    app::Config config;
    config.max_queue_depth = 1;
    // The workers' own look for claimable runs comes every 100 s: the run put back stays queued.
    config.run_lease_seconds = 300;
    TestServer server(config);
    const std::string key = server.create_key("acme", "live");
    auto client = server.client();

    // Depth 0, below the limit of 1: accepted and run.
    const ApiResponse first =
        call(client, "POST", "/api/v1/engines/default/runs", key, submit_body(fixture()));
    ASSERT_EQ(first.status, 202) << first.raw.body;
    const std::string first_id(first.body.at("run_id").as_string());
    ASSERT_EQ(wait_for_run(client, key, first_id).at("status").as_string(), "completed");
    ApiResponse ready = call(client, "GET", "/ready", "");
    ASSERT_EQ(ready.status, 200) << ready.raw.body;
    EXPECT_EQ(ready.body.at("queue").at("queued").as_int64(), 0);
    EXPECT_EQ(ready.body.at("queue").at("processing").as_int64(), 0);

    server.store().execute(
        "UPDATE runs SET status = 'queued', lease_owner = NULL, "
        "leased_until_ms = NULL, completed_at_ms = NULL WHERE id = '" +
        first_id + "'");
    ready = call(client, "GET", "/ready", "");
    ASSERT_EQ(ready.status, 200) << ready.raw.body;
    EXPECT_EQ(ready.body.at("queue").at("queued").as_int64(), 1);

    // Depth 1, at the limit: refused before anything is stored.
    const ApiResponse refused =
        call(client, "POST", "/api/v1/engines/default/runs", key, submit_body(fixture()));
    EXPECT_EQ(refused.status, 503) << refused.raw.body;
    EXPECT_NE(
        std::string(refused.body.at("error").at("message").as_string()).find("1 runs waiting"),
        std::string::npos);
    EXPECT_EQ(scrape(server).value("engined_queue_depth"), 1.0);
    EXPECT_EQ(server.store().select_column("SELECT id FROM runs").size(), 1u);
}

TEST(Metrics, OnlyTheMetricsListenerServesThemAndOrganisationsEngineSlugsNeverAppear) {
    TestServer server;
    const std::string admin =
        server.create_key("acme", "live", {"runs:write", "runs:read", "engines:admin"});
    auto client = server.client();
    const ApiResponse public_metrics = call(client, "GET", "/metrics", "");
    EXPECT_EQ(public_metrics.status, 404) << public_metrics.raw.body;
    EXPECT_EQ(public_metrics.body.at("error").at("code").as_string(), "not_found");
    EXPECT_EQ(call(client, "GET", "/metrics", admin).status, 404);  // not with a key either

    ASSERT_EQ(
        call(client, "POST", "/api/v1/engines", admin,
             R"({"slug": "acme-secret-pricing", "label": "Secret", "engine_type": "placement"})")
            .status,
        201);
    const ApiResponse accepted = call(client, "POST", "/api/v1/engines/acme-secret-pricing/runs",
                                      admin, submit_body(fixture()));
    ASSERT_EQ(accepted.status, 202) << accepted.raw.body;
    wait_for_run(client, admin, std::string(accepted.body.at("run_id").as_string()));

    auto metrics_client = server.metrics_client();
    const http::ClientResponse scraped = metrics_client.request("GET", "/metrics");
    ASSERT_EQ(scraped.status, 200);
    EXPECT_EQ(scraped.body.find("acme-secret-pricing"), std::string::npos);
    const Exposition metrics = parse_prometheus_text(scraped.body);
    EXPECT_EQ(metrics.value("engined_runs_submitted_total",
                            {{"engine", "custom"}, {"version", "custom"}}),
              1.0);
    // The metrics listener serves nothing else, and its scrapes are not counted.
    EXPECT_EQ(metrics_client.request("GET", "/health").status, 404);
    EXPECT_EQ(parse_prometheus_text(metrics_client.request("GET", "/metrics").body)
                  .sum("engined_http_requests_total", {{"route", "/metrics"}}),
              0.0);
    EXPECT_EQ(client.request("GET", "/health").status, 200);
}

class AccessLog : public ::testing::Test {
protected:
    void SetUp() override {
        log::set_sink([this](std::string_view line) {
            std::lock_guard lock(mutex_);
            lines_.emplace_back(line);
        });
    }
    void TearDown() override { log::set_sink({}); }

    // The access-log line of the request with that id, waiting briefly: it is written once the
    // answer is on the wire, which the client may see first.
    std::optional<boost::json::object> line_for(const std::string& request_id, int wait_ms = 2000) {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(wait_ms);
        do {
            {
                std::lock_guard lock(mutex_);
                for (const std::string& line : lines_) {
                    const boost::json::value parsed =
                        boost::json::parse(line);  // every line is JSON
                    const auto& object = parsed.as_object();
                    if (object.at("msg").as_string() == "request" &&
                        object.at("request_id").as_string() == request_id) {
                        return object;
                    }
                }
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        } while (std::chrono::steady_clock::now() < deadline);
        return std::nullopt;
    }

    std::mutex mutex_;
    std::vector<std::string> lines_;
};

TEST_F(AccessLog, OneJsonLinePerRequestWithRouteCallerAndOutcome) {
    TestServer server;
    const auth::IssuedKey key = auth::issue_key(server.app().store(), "acme", "test", {});
    auto client = server.client();
    const auto answer = client.request(
        "GET", "/api/v1/runs/run_missing?x=\"1\"", {},
        {{"Authorization", "Bearer " + key.key}, {"X-Request-Id", "trace-\"quoted\""}});
    ASSERT_EQ(answer.status, 404);
    const auto line = line_for("trace-\"quoted\"");
    ASSERT_TRUE(line) << "no access-log line";
    EXPECT_EQ(line->at("level").as_string(), "info");
    EXPECT_FALSE(line->at("ts").as_string().empty());
    EXPECT_EQ(line->at("key_id").as_string(), key.id);
    EXPECT_EQ(line->at("method").as_string(), "GET");
    EXPECT_EQ(line->at("route").as_string(), "/api/v1/runs/{run_id}");
    EXPECT_EQ(line->at("path").as_string(), "/api/v1/runs/run_missing");
    EXPECT_EQ(line->at("status").as_int64(), 404);
    EXPECT_GE(line->at("duration_ms").as_double(), 0.0);
    EXPECT_GE(line->at("bytes_out").as_int64(), static_cast<int64_t>(answer.body.size()));

    client.request("GET", "/health", {}, {{"X-Request-Id", "anonymous-1"}});
    const auto anonymous = line_for("anonymous-1");
    ASSERT_TRUE(anonymous);
    EXPECT_EQ(anonymous->at("key_id").as_string(), "");
    EXPECT_EQ(anonymous->at("route").as_string(), "/health");
}

TEST_F(AccessLog, CanBeSwitchedOff) {
    app::Config config;
    config.access_log = false;
    TestServer server(config);
    auto client = server.client();
    ASSERT_EQ(client.request("GET", "/health", {}, {{"X-Request-Id", "silent-1"}}).status, 200);
    EXPECT_FALSE(line_for("silent-1", 200));
}

}  // namespace
}  // namespace engined::testing
