// Webhooks end to end: endpoints over the API, signed deliveries to a real receiver on loopback,
// retries under one delivery id, the address guard and its allow-list, secret rotation, limits,
// disabling a failing endpoint, and delivery after a kill -9.
#include "common/log.hpp"
#include "prometheus_text.hpp"
#include "store/store.hpp"
#include "test_server.hpp"
#include "webhook_receiver.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <functional>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

namespace engined::testing {
namespace {

using namespace std::chrono_literals;

// Written here from the documented scheme, independently of the server's code.
std::string hmac_hex(const std::string& key, const std::string& message) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
         reinterpret_cast<const unsigned char*>(message.data()), message.size(), digest, &length);
    std::ostringstream hex;
    for (unsigned int i = 0; i < length; ++i) {
        static const char* digits = "0123456789abcdef";
        hex << digits[digest[i] >> 4] << digits[digest[i] & 15];
    }
    return hex.str();
}

// "t=…,v1=…,v1=…" → t and every v1.
std::pair<std::string, std::vector<std::string>> parse_signature(const std::string& header) {
    std::pair<std::string, std::vector<std::string>> parsed;
    std::stringstream items(header);
    for (std::string item; std::getline(items, item, ',');) {
        if (item.starts_with("t=")) parsed.first = item.substr(2);
        if (item.starts_with("v1=")) parsed.second.push_back(item.substr(3));
    }
    return parsed;
}

bool signed_with(const WebhookReceiver::Received& request, const std::string& secret) {
    const auto [timestamp, signatures] = parse_signature(request.headers.at("x-nexio-signature"));
    const std::string expected = hmac_hex(secret, timestamp + "." + request.body);
    return std::find(signatures.begin(), signatures.end(), expected) != signatures.end();
}

bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout = 10s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        if (condition()) return true;
        std::this_thread::sleep_for(10ms);
    }
    return condition();
}

app::Config webhook_config(std::vector<std::string> allowed_hosts = {"127.0.0.1"},
                           std::vector<double> schedule = {0.05, 0.05, 0.05, 0.05},
                           int disable_after = 50) {
    app::Config config;
    config.webhook_allowed_hosts = std::move(allowed_hosts);
    config.webhook_retry_schedule_s = std::move(schedule);
    config.webhook_disable_after = disable_after;
    config.webhook_timeout_ms = 2000;
    return config;
}

std::string endpoint_body(const std::string& url, const std::string& extra = "") {
    return R"({"url":")" + url + R"(","description":"orders service")" + extra + "}";
}

std::string submit_run(http::Client& client, const std::string& key,
                       const std::string& extra_fields = "") {
    std::string body = read_text(golden_dir() / "auto_only_ny.input.json");
    if (!extra_fields.empty()) body.insert(body.find('{') + 1, extra_fields + ",");
    const ApiResponse response = call(client, "POST", "/api/v1/engines/default/runs", key, body);
    if (response.status != 202) throw std::runtime_error("submit answered " + response.raw.body);
    return std::string(response.body.at("run_id").as_string());
}

boost::json::array deliveries_of(http::Client& client, const std::string& key,
                                 const std::string& endpoint_id) {
    const ApiResponse response =
        call(client, "GET", "/api/v1/webhooks/" + endpoint_id + "/deliveries", key);
    if (response.status != 200)
        throw std::runtime_error("deliveries answered " + response.raw.body);
    return response.body.at("data").as_array();
}

std::string delivery_status(http::Client& client, const std::string& key,
                            const std::string& endpoint_id) {
    const auto deliveries = deliveries_of(client, key, endpoint_id);
    return deliveries.empty() ? "" : std::string(deliveries[0].at("status").as_string());
}

TEST(Webhooks, DeliversASignedRunCompletedEventToAnEndpoint) {
    WebhookReceiver receiver;
    TestServer server(webhook_config());
    const std::string key = server.create_key("acme");
    auto client = server.client();

    const ApiResponse created = call(client, "POST", "/api/v1/webhooks", key,
                                     endpoint_body(receiver.url(), R"(,"auth_token":"tok_123")"));
    ASSERT_EQ(created.status, 201) << created.raw.body;
    const std::string secret(created.body.at("secret").as_string());
    const std::string endpoint_id(created.body.at("id").as_string());
    EXPECT_TRUE(secret.starts_with("whsec_"));
    EXPECT_EQ(created.body.at("events"), boost::json::parse(R"(["run.completed","run.failed"])"));
    // The secret is shown once: never in later answers.
    const ApiResponse listed = call(client, "GET", "/api/v1/webhooks", key);
    EXPECT_EQ(listed.raw.body.find(secret), std::string::npos);
    EXPECT_EQ(listed.raw.body.find("tok_123"), std::string::npos);
    EXPECT_EQ(listed.body.at("data").as_array().size(), 1u);

    const std::string run_id = submit_run(client, key);
    ASSERT_TRUE(receiver.wait_for(1, 10s));
    const auto request = receiver.received().front();
    EXPECT_EQ(request.target, "/hooks");
    EXPECT_EQ(request.headers.at("x-nexio-event"), "run.completed");
    EXPECT_TRUE(request.headers.at("x-nexio-delivery").starts_with("dlv_"));
    EXPECT_FALSE(request.headers.at("x-nexio-webhook-version").empty());
    EXPECT_EQ(request.headers.at("authorization"), "Bearer tok_123");
    EXPECT_TRUE(request.headers.at("user-agent").starts_with("engined-webhooks/"));
    EXPECT_EQ(request.headers.at("content-type"), "application/json");
    const auto [timestamp, signatures] = parse_signature(request.headers.at("x-nexio-signature"));
    EXPECT_EQ(timestamp, request.headers.at("x-nexio-timestamp"));
    ASSERT_EQ(signatures.size(), 1u);
    EXPECT_TRUE(signed_with(request, secret));
    EXPECT_FALSE(signed_with(request, "whsec_wrong"));

    const auto event = boost::json::parse(request.body).as_object();
    EXPECT_TRUE(event.at("id").as_string().starts_with("evt_"));
    EXPECT_EQ(event.at("type"), "run.completed");
    EXPECT_EQ(event.at("webhook_version").as_string(),
              request.headers.at("x-nexio-webhook-version"));
    EXPECT_EQ(event.at("data").at("run").at("run_id"), run_id.c_str());
    EXPECT_EQ(event.at("data").at("run").at("status"), "completed");
    EXPECT_FALSE(event.at("data").at("run").at("solutions").as_array().empty());

    ASSERT_TRUE(
        eventually([&] { return delivery_status(client, key, endpoint_id) == "delivered"; }));
    const auto delivery = deliveries_of(client, key, endpoint_id)[0].as_object();
    EXPECT_EQ(delivery.at("id").as_string(), request.headers.at("x-nexio-delivery"));
    EXPECT_EQ(delivery.at("event_id"), event.at("id"));
    EXPECT_EQ(delivery.at("run_id"), run_id.c_str());
    ASSERT_EQ(delivery.at("attempts").as_array().size(), 1u);
    EXPECT_EQ(delivery.at("attempts").as_array()[0].at("status_code"), 200);
}

TEST(Webhooks, DeliveriesToOneReceiverReuseTheSendersConnections) {
    WebhookReceiver receiver(WebhookReceiver::Connections::keep_alive);
    app::Config config = webhook_config();
    config.webhook_workers = 2;
    TestServer server(config);
    const std::string key = server.create_key("acme");
    auto client = server.client();
    ASSERT_EQ(call(client, "POST", "/api/v1/webhooks", key, endpoint_body(receiver.url())).status,
              201);

    constexpr std::size_t runs = 8;
    for (std::size_t i = 0; i < runs; ++i) submit_run(client, key);
    ASSERT_TRUE(receiver.wait_for(runs, 10s));
    std::set<std::string> deliveries;
    for (const auto& request : receiver.received()) {
        EXPECT_EQ(request.answered, 200);
        EXPECT_EQ(request.headers.count("connection"), 0u);
        deliveries.insert(request.headers.at("x-nexio-delivery"));
    }
    EXPECT_EQ(deliveries.size(), runs);
    // A sender opens a connection to the receiver once and keeps it for its next deliveries.
    EXPECT_LE(receiver.connections(), 2u);
}

TEST(Webhooks, AnIdleNodeLooksAtItsOutboxOncePerIntervalWhateverItsSenders) {
    app::Config config = webhook_config();
    config.webhook_workers = 16;
    TestServer server(config);
    // A look is a write on SQLite and a statement of its own on PostgreSQL (each metric is 0
    // on the other backend).
    auto store_work = [&] {
        const Exposition metrics =
            parse_prometheus_text(server.metrics_client().request("GET", "/metrics").body);
        return metrics.value("engined_store_commit_batch_size_sum").value_or(-1) +
               metrics.value("engined_store_statements_total").value_or(-1);
    };
    std::this_thread::sleep_for(300ms);
    const double before = store_work();
    std::this_thread::sleep_for(2s);
    const double looks = store_work() - before;
    // One idle sender looks every 500 ms: four looks in 2 s (sixteen senders each looking
    // would be 64). At least two, so that a retry falling due is still found.
    EXPECT_GE(looks, 2);
    EXPECT_LE(looks, 6);
}

TEST(Webhooks, RetriesUntilTheReceiverAcceptsUnderOneDeliveryId) {
    WebhookReceiver receiver;
    receiver.script({{500}, {500}}, {200});
    TestServer server(webhook_config());
    const std::string key = server.create_key("acme");
    auto client = server.client();
    const ApiResponse created =
        call(client, "POST", "/api/v1/webhooks", key, endpoint_body(receiver.url()));
    ASSERT_EQ(created.status, 201);
    const std::string endpoint_id(created.body.at("id").as_string());
    const std::string secret(created.body.at("secret").as_string());

    submit_run(client, key);
    ASSERT_TRUE(receiver.wait_for(3, 10s));
    ASSERT_TRUE(
        eventually([&] { return delivery_status(client, key, endpoint_id) == "delivered"; }));
    std::this_thread::sleep_for(300ms);  // several retry periods: nothing more may come
    const auto requests = receiver.received();
    ASSERT_EQ(requests.size(), 3u);
    int successes = 0;
    for (const auto& request : requests) {
        EXPECT_EQ(request.headers.at("x-nexio-delivery"),
                  requests[0].headers.at("x-nexio-delivery"));
        EXPECT_EQ(request.body, requests[0].body) << "every attempt carries the same event";
        EXPECT_TRUE(signed_with(request, secret));
        successes += request.answered == 200;
    }
    EXPECT_EQ(successes, 1);

    const auto deliveries = deliveries_of(client, key, endpoint_id);
    ASSERT_EQ(deliveries.size(), 1u);
    const auto& attempts = deliveries[0].at("attempts").as_array();
    ASSERT_EQ(attempts.size(), 3u);
    EXPECT_EQ(attempts[0].at("status_code"), 500);
    EXPECT_EQ(attempts[0].at("error"), "HTTP 500");
    EXPECT_EQ(attempts[1].at("status_code"), 500);
    EXPECT_EQ(attempts[2].at("status_code"), 200);
    EXPECT_EQ(deliveries[0].at("attempt_count"), 3);

    const Exposition metrics =
        parse_prometheus_text(server.metrics_client().request("GET", "/metrics").body);
    EXPECT_EQ(metrics.value("engined_webhook_attempts_total", {{"outcome", "retrying"}}), 2);
    EXPECT_EQ(metrics.value("engined_webhook_attempts_total", {{"outcome", "delivered"}}), 1);
    EXPECT_EQ(metrics.value("engined_webhook_attempts_total", {{"outcome", "failed"}}), 0);
}

TEST(Webhooks, HonoursRetryAfter) {
    WebhookReceiver receiver;
    receiver.script({{503, "1"}}, {200});
    TestServer server(webhook_config());
    const std::string key = server.create_key("acme");
    auto client = server.client();
    ASSERT_EQ(call(client, "POST", "/api/v1/webhooks", key, endpoint_body(receiver.url())).status,
              201);
    submit_run(client, key);
    ASSERT_TRUE(receiver.wait_for(2, 10s));
    const auto requests = receiver.received();
    // The schedule says 50 ms; the receiver asked for 1 s.
    EXPECT_GE(requests[1].at - requests[0].at, 900ms);
}

TEST(Webhooks, ANameResolvingToLoopbackIsRefusedUnlessAllowListed) {
    WebhookReceiver receiver;
    {
        TestServer guarded(webhook_config({}));
        const std::string key = guarded.create_key("acme");
        auto client = guarded.client();
        const ApiResponse created =
            call(client, "POST", "/api/v1/webhooks", key, endpoint_body(receiver.url("localhost")));
        ASSERT_EQ(created.status, 201) << created.raw.body;
        const std::string endpoint_id(created.body.at("id").as_string());
        submit_run(client, key);
        ASSERT_TRUE(
            eventually([&] { return delivery_status(client, key, endpoint_id) == "failed"; }));
        const auto delivery = deliveries_of(client, key, endpoint_id)[0];
        EXPECT_NE(delivery.at("last_error").as_string().find("refused_address"), std::string::npos)
            << delivery.at("last_error").as_string();
        EXPECT_EQ(delivery.at("attempts").as_array().size(), 1u)
            << "a refused address is not retried";
        EXPECT_TRUE(receiver.received().empty());
    }
    TestServer allowed(webhook_config({"localhost"}));
    const std::string key = allowed.create_key("acme");
    auto client = allowed.client();
    ASSERT_EQ(
        call(client, "POST", "/api/v1/webhooks", key, endpoint_body(receiver.url("localhost")))
            .status,
        201);
    submit_run(client, key);
    ASSERT_TRUE(receiver.wait_for(1, 10s));
}

TEST(Webhooks, ARunsOwnUrlIsSignedWithTheEnvironmentSecret) {
    WebhookReceiver receiver;
    TestServer server(webhook_config());
    const std::string key = server.create_key("acme");
    auto client = server.client();
    const std::string field = R"("webhook_url":")" + receiver.url() + R"(")";
    const ApiResponse rotated = call(client, "POST", "/api/v1/webhooks/signing-secret/rotate", key);
    ASSERT_EQ(rotated.status, 200) << rotated.raw.body;
    const std::string secret(rotated.body.at("secret").as_string());
    const std::string run_id = submit_run(client, key, field);
    ASSERT_TRUE(receiver.wait_for(1, 10s));
    const auto request = receiver.received().front();
    EXPECT_TRUE(signed_with(request, secret));
    EXPECT_EQ(boost::json::parse(request.body).at("data").at("run").at("run_id"), run_id.c_str());
}

TEST(Webhooks, ARotatedSecretKeepsSigningBesideTheNewOne) {
    WebhookReceiver receiver;
    TestServer server(webhook_config());
    const std::string key = server.create_key("acme");
    auto client = server.client();
    const ApiResponse created =
        call(client, "POST", "/api/v1/webhooks", key, endpoint_body(receiver.url()));
    const std::string endpoint_id(created.body.at("id").as_string());
    const std::string old_secret(created.body.at("secret").as_string());
    const ApiResponse rotated =
        call(client, "POST", "/api/v1/webhooks/" + endpoint_id + "/rotate-secret", key);
    ASSERT_EQ(rotated.status, 200) << rotated.raw.body;
    const std::string new_secret(rotated.body.at("secret").as_string());
    EXPECT_NE(new_secret, old_secret);
    EXPECT_FALSE(rotated.body.at("previous_secret_expires_at").is_null());

    submit_run(client, key);
    ASSERT_TRUE(receiver.wait_for(1, 10s));
    const auto request = receiver.received().front();
    EXPECT_EQ(parse_signature(request.headers.at("x-nexio-signature")).second.size(), 2u);
    EXPECT_TRUE(signed_with(request, new_secret));
    EXPECT_TRUE(signed_with(request, old_secret));
}

TEST(Webhooks, AtMostTenActiveEndpointsPerEnvironment) {
    TestServer server(webhook_config());
    const std::string key = server.create_key("acme");
    const std::string live_key = server.create_key("acme", "live");
    auto client = server.client();
    for (int i = 0; i < 10; ++i) {
        ASSERT_EQ(call(client, "POST", "/api/v1/webhooks", key,
                       endpoint_body("https://hooks.example.com/" + std::to_string(i)))
                      .status,
                  201);
    }
    const ApiResponse eleventh =
        call(client, "POST", "/api/v1/webhooks", key, endpoint_body("https://hooks.example.com/x"));
    EXPECT_EQ(eleventh.status, 422);
    EXPECT_EQ(eleventh.body.at("error").at("code"), "too_many_webhooks");
    // An inactive endpoint does not count, until it is activated.
    const ApiResponse paused =
        call(client, "POST", "/api/v1/webhooks", key,
             endpoint_body("https://hooks.example.com/p", R"(,"active":false)"));
    ASSERT_EQ(paused.status, 201);
    const std::string paused_id(paused.body.at("id").as_string());
    EXPECT_EQ(
        call(client, "PATCH", "/api/v1/webhooks/" + paused_id, key, R"({"active":true})").status,
        422);
    EXPECT_EQ(call(client, "GET", "/api/v1/webhooks", key).body.at("data").as_array().size(), 11u);
    // Deleting one makes room.
    const std::string first(call(client, "GET", "/api/v1/webhooks", key)
                                .body.at("data")
                                .as_array()[0]
                                .at("id")
                                .as_string());
    EXPECT_EQ(call(client, "DELETE", "/api/v1/webhooks/" + first, key).status, 200);
    EXPECT_EQ(
        call(client, "PATCH", "/api/v1/webhooks/" + paused_id, key, R"({"active":true})").status,
        200);
    // Environments are counted apart; live requires https.
    EXPECT_EQ(call(client, "POST", "/api/v1/webhooks", live_key,
                   endpoint_body("https://hooks.example.com/live"))
                  .status,
              201);
    const ApiResponse plain = call(client, "POST", "/api/v1/webhooks", live_key,
                                   endpoint_body("http://hooks.example.com/live"));
    EXPECT_EQ(plain.status, 422);
    EXPECT_EQ(plain.body.at("error").at("code"), "invalid_webhook_url");
}

TEST(Webhooks, EndpointsAreValidatedAndPrivateToTheirEnvironment) {
    TestServer server(webhook_config());
    const std::string key = server.create_key("acme");
    const std::string other = server.create_key("globex");
    const std::string live_key = server.create_key("acme", "live");
    auto client = server.client();
    const ApiResponse created =
        call(client, "POST", "/api/v1/webhooks", key, endpoint_body("https://hooks.example.com/a"));
    const std::string id(created.body.at("id").as_string());
    for (const std::string& stranger : {other, live_key}) {
        EXPECT_EQ(call(client, "GET", "/api/v1/webhooks/" + id, stranger).status, 404);
        EXPECT_EQ(
            call(client, "PATCH", "/api/v1/webhooks/" + id, stranger, R"({"description":"x"})")
                .status,
            404);
        EXPECT_EQ(call(client, "DELETE", "/api/v1/webhooks/" + id, stranger).status, 404);
        EXPECT_EQ(
            call(client, "GET", "/api/v1/webhooks", stranger).body.at("data").as_array().size(),
            0u);
    }
    const std::vector<std::pair<std::string, std::string>> bad{
        {R"({"description":"no url"})", "/url"},
        {R"({"url":"ftp://hooks.example.com"})", "/url"},
        {R"({"url":"https://user:pw@hooks.example.com"})", "/url"},
        {R"({"url":"https://hooks.example.com","events":[]})", "/events"},
        {R"({"url":"https://hooks.example.com","events":["run.started"]})", "/events/0"},
        {R"({"url":"https://hooks.example.com","active":"yes"})", "/active"},
        {R"({"url":"https://hooks.example.com","secret":"whsec_mine"})", "/secret"},
    };
    for (const auto& [body, pointer] : bad) {
        const ApiResponse refused = call(client, "POST", "/api/v1/webhooks", key, body);
        EXPECT_TRUE(refused.status == 400 || refused.status == 422) << body;
        EXPECT_EQ(refused.body.at("error").at("details").as_array()[0].at("pointer"),
                  pointer.c_str())
            << body;
    }
    const ApiResponse patched =
        call(client, "PATCH", "/api/v1/webhooks/" + id, key, R"({"events":["run.failed"]})");
    ASSERT_EQ(patched.status, 200);
    EXPECT_EQ(patched.body.at("events"), boost::json::parse(R"(["run.failed"])"));
    EXPECT_EQ(patched.body.at("url"), "https://hooks.example.com/a");
}

TEST(Webhooks, AnEndpointThatKeepsFailingIsDisabledAndCanBeRetriedAfterwards) {
    WebhookReceiver receiver;
    receiver.script({}, {500});
    TestServer server(webhook_config({"127.0.0.1"}, {0.02, 0.02, 0.02, 0.02, 0.02}, 3));
    const std::string key = server.create_key("acme");
    auto client = server.client();
    const ApiResponse created =
        call(client, "POST", "/api/v1/webhooks", key, endpoint_body(receiver.url()));
    const std::string endpoint_id(created.body.at("id").as_string());
    submit_run(client, key);
    ASSERT_TRUE(eventually([&] { return delivery_status(client, key, endpoint_id) == "failed"; }));
    const ApiResponse endpoint = call(client, "GET", "/api/v1/webhooks/" + endpoint_id, key);
    EXPECT_EQ(endpoint.body.at("active"), false);
    EXPECT_NE(endpoint.body.at("disabled_reason").as_string().find("3 consecutive failed"),
              std::string::npos);
    const auto delivery = deliveries_of(client, key, endpoint_id)[0];
    EXPECT_EQ(delivery.at("attempts").as_array().size(), 3u);
    EXPECT_NE(delivery.at("last_error").as_string().find("endpoint disabled"), std::string::npos);
    EXPECT_EQ(receiver.received().size(), 3u);

    // A manual re-send needs the endpoint active again; it keeps the delivery's id.
    const std::string delivery_id(delivery.at("id").as_string());
    const std::string retry =
        "/api/v1/webhooks/" + endpoint_id + "/deliveries/" + delivery_id + "/retry";
    EXPECT_EQ(call(client, "POST", retry, key).status, 409);
    receiver.script({}, {200});
    ASSERT_EQ(
        call(client, "PATCH", "/api/v1/webhooks/" + endpoint_id, key, R"({"active":true})").status,
        200);
    ASSERT_EQ(call(client, "POST", retry, key).status, 202);
    ASSERT_TRUE(
        eventually([&] { return delivery_status(client, key, endpoint_id) == "delivered"; }));
    EXPECT_EQ(receiver.received().back().headers.at("x-nexio-delivery"), delivery_id);
    EXPECT_EQ(
        call(client, "GET", "/api/v1/webhooks/" + endpoint_id, key).body.at("consecutive_failures"),
        0);
}

// One POST with an Idempotency-Key, sent twice: the first answer and its replay.
std::pair<ApiResponse, ApiResponse> posted_twice(http::Client& client, const std::string& key,
                                                 const std::string& target, const std::string& body,
                                                 const std::string& idempotency_key) {
    auto once = [&] {
        ApiResponse response;
        response.raw = client.request(
            "POST", target, body,
            {{"Authorization", "Bearer " + key}, {"Idempotency-Key", idempotency_key}});
        response.status = response.raw.status;
        response.body = boost::json::parse(response.raw.body);
        return response;
    };
    ApiResponse first = once();
    return {std::move(first), once()};
}

TEST(Webhooks, AnIdempotentReplayShowsNoSecretAndTheStoreKeepsNone) {
    WebhookReceiver receiver;
    TestServer server(webhook_config());
    const std::string key = server.create_key("acme");
    auto client = server.client();
    const auto [created, created_again] =
        posted_twice(client, key, "/api/v1/webhooks", endpoint_body(receiver.url()), "create-hook");
    ASSERT_EQ(created.status, 201) << created.raw.body;
    const std::string id(created.body.at("id").as_string());
    const auto [rotated, rotated_again] =
        posted_twice(client, key, "/api/v1/webhooks/" + id + "/rotate-secret", "", "rotate-hook");
    const auto [signing, signing_again] =
        posted_twice(client, key, "/api/v1/webhooks/signing-secret/rotate", "", "rotate-signing");
    for (const auto* pair : {&created, &rotated, &signing}) {
        EXPECT_TRUE(pair->body.at("secret").as_string().starts_with("whsec_")) << pair->raw.body;
    }
    for (const auto* replay : {&created_again, &rotated_again, &signing_again}) {
        EXPECT_EQ(replay->raw.header("Idempotent-Replayed"), "true");
        EXPECT_TRUE(replay->body.at("secret").is_null()) << replay->raw.body;
        EXPECT_NE(replay->body.at("secret_note").as_string().find("shown only in the first answer"),
                  std::string::npos);
    }
    EXPECT_EQ(created_again.status, 201);
    EXPECT_EQ(created_again.body.at("id"), created.body.at("id"));
    EXPECT_EQ(signing_again.body.at("environment"), signing.body.at("environment"));
    // Nothing the replay store holds carries a secret.
    const auto records =
        server.store().select_column("SELECT response_body FROM idempotency_records");
    for (const std::string& stored : records)
        EXPECT_EQ(stored.find("whsec_"), std::string::npos) << stored;
    EXPECT_EQ(records.size(), 3u);
    EXPECT_EQ(call(client, "GET", "/health", "").status, 200);
}

TEST(Webhooks, AFailedDeliveryIsLoggedWithoutTheUrlsQuery) {
    WebhookReceiver receiver;
    receiver.script({}, {500});
    std::mutex lines_mutex;
    std::vector<std::string> lines;
    log::set_sink([&](std::string_view line) {
        std::lock_guard lock(lines_mutex);
        lines.emplace_back(line);
    });
    {
        TestServer server(webhook_config({"127.0.0.1"}, {0.02}));
        const std::string key = server.create_key("acme");
        auto client = server.client();
        const ApiResponse created = call(client, "POST", "/api/v1/webhooks", key,
                                         endpoint_body(receiver.url() + "?token=s3cret-in-query"));
        ASSERT_EQ(created.status, 201) << created.raw.body;
        submit_run(client, key);
        const std::string endpoint_id(created.body.at("id").as_string());
        ASSERT_TRUE(
            eventually([&] { return delivery_status(client, key, endpoint_id) == "failed"; }));
        EXPECT_EQ(call(client, "GET", "/health", "").status, 200);
    }
    log::set_sink({});
    std::lock_guard lock(lines_mutex);
    int failures_logged = 0;
    for (const std::string& line : lines) {
        EXPECT_EQ(line.find("s3cret-in-query"), std::string::npos) << line;
        if (line.find("webhook delivery failed") == std::string::npos) continue;
        ++failures_logged;
        EXPECT_EQ(boost::json::parse(line).at("url").as_string(), receiver.url());
    }
    EXPECT_EQ(failures_logged, 1);
}

TEST(Webhooks, PendingDeliveriesAreSentAfterAKillNine) {
    WebhookReceiver receiver;
    receiver.script({{500}}, {200});
    const auto data_dir = fresh_temp_dir("engined-webhook-crash");
    const TestStore store(data_dir);
    const std::vector<std::string> flags{"--webhook-allowed-hosts", "127.0.0.1",
                                         "--webhook-retry-schedule", "1.5"};
    std::string key;
    std::string first_delivery;
    {
        const uint16_t port = chaos::free_loopback_port();
        chaos::ChildEngined engined(child_launch(data_dir, flags, &store), port);
        key = chaos::create_key(data_dir, store.url());
        http::Client client("127.0.0.1", port);
        const ApiResponse created =
            call(client, "POST", "/api/v1/webhooks", key, endpoint_body(receiver.url()));
        ASSERT_EQ(created.status, 201);
        const std::string endpoint_id(created.body.at("id").as_string());
        submit_run(client, key);
        ASSERT_TRUE(receiver.wait_for(1, 10s));
        first_delivery = receiver.received()[0].headers.at("x-nexio-delivery");
        ASSERT_TRUE(eventually(
            [&] { return deliveries_of(client, key, endpoint_id)[0].at("attempt_count") == 1; }));
        engined.kill_hard();  // the retry is over a second away: the delivery waits in the outbox
    }
    EXPECT_EQ(receiver.received().size(), 1u);
    const uint16_t port = chaos::free_loopback_port();
    chaos::ChildEngined restarted(child_launch(data_dir, flags, &store), port);
    ASSERT_TRUE(receiver.wait_for(2, 15s));
    const auto requests = receiver.received();
    EXPECT_EQ(requests[1].headers.at("x-nexio-delivery"), first_delivery);
    EXPECT_EQ(boost::json::parse(requests[1].body).at("id"),
              boost::json::parse(requests[0].body).at("id"));
    EXPECT_EQ(requests[1].answered, 200);
    http::Client client("127.0.0.1", port);
    const auto endpoints = call(client, "GET", "/api/v1/webhooks", key).body.at("data").as_array();
    const std::string endpoint_id(endpoints[0].at("id").as_string());
    ASSERT_TRUE(
        eventually([&] { return delivery_status(client, key, endpoint_id) == "delivered"; }));
    EXPECT_EQ(restarted.terminate(), 0);
}

// Three carriers writing professional liability in California, as an imported pool stores them.
constexpr const char* kCaliforniaPool = R"([
  {"id": "c1", "name": "Hartford Financial", "am_best_rating": "A+", "financial_size": "XV", "states": ["*"],
   "lines": [{"line": "professional_liability", "appetite": "preferred"}], "pricing_index": 0.9,
   "commission": 0.15, "claims_satisfaction": 0.9, "quote_turnaround_days": 3},
  {"id": "c2", "name": "Coastal Mutual", "am_best_rating": "A-", "financial_size": "VIII", "states": ["CA"],
   "lines": [{"line": "professional_liability", "appetite": "acceptable"}], "pricing_index": 1.05},
  {"id": "c3", "name": "Lone Star Casualty", "am_best_rating": "A", "states": ["TX"],
   "lines": [{"line": "professional_liability", "appetite": "preferred"}]}
])";

// The evaluation example of the public reference, as written but for where it is delivered:
// tests send nothing beyond loopback, so webhook_url names the local receiver.
std::string reference_evaluation_example(const std::string& webhook_url) {
    return R"({
    "profile": {
      "entity": "acme-manufacturing",
      "state": "CA",
      "line": "professional_liability",
      "revenue": 12000000
    },
    "pool": "carriers:all",
    "webhook_url": ")" +
           webhook_url + R"("
  })";
}

TEST(Webhooks,
     TheReferenceEvaluationExampleIsAcceptedOnAFreshInstallAndItsResultArrivesFlatAndSigned) {
    WebhookReceiver receiver;
    TestServer server(webhook_config());
    server.app().store().replace_pool("acme", "carriers:all", kCaliforniaPool, "pool.json", 1);
    const std::string key = server.create_key("acme");
    const std::string admin = server.create_key("acme", "test", {"runs:read", "engines:admin"});
    auto client = server.client();

    // Sent as the reference sends it: X-API-Key, no signing secret set up beforehand.
    const http::ClientResponse accepted =
        client.request("POST", "/api/v1/jobs",
                       reference_evaluation_example(receiver.url("127.0.0.1", "/hooks/nexio")),
                       {{"Content-Type", "application/json"}, {"X-API-Key", key}});
    ASSERT_EQ(accepted.status, 202) << accepted.body;
    const auto answer = boost::json::parse(accepted.body).as_object();
    EXPECT_EQ(answer.at("status"), "queued");
    const std::string eval_id(answer.at("eval_id").as_string());
    EXPECT_TRUE(eval_id.starts_with("eval_"));

    ASSERT_TRUE(receiver.wait_for(1, 10s));
    const auto request = receiver.received().front();
    EXPECT_EQ(request.target, "/hooks/nexio");
    // The flat evaluation result the reference documents, not the event envelope.
    const auto result = boost::json::parse(request.body).as_object();
    EXPECT_FALSE(result.contains("data"));
    EXPECT_EQ(result.at("eval_id"), eval_id.c_str());
    EXPECT_EQ(result.at("status"), "completed");
    EXPECT_EQ(result.at("pool_size"), 3);
    EXPECT_EQ(result.at("filtered"), 1);  // Lone Star writes Texas only
    ASSERT_EQ(result.at("candidates").as_array().size(), 2u);
    const auto& best = result.at("candidates").at(0);
    EXPECT_EQ(best.at("name"), "Hartford Financial");
    EXPECT_TRUE(best.at("tier").is_string());
    EXPECT_TRUE(best.at("confidence").is_string());
    EXPECT_EQ(best.at("scores").at("appetite"), "L1");
    EXPECT_TRUE(best.at("reasoning").is_string());
    EXPECT_TRUE(std::string(result.at("audit").as_string()).ends_with("/traces/" + eval_id));
    // The same bytes GET /api/v1/jobs/{eval_id} answers.
    EXPECT_EQ(request.body, call(client, "GET", "/api/v1/jobs/" + eval_id, key).raw.body);

    // The secret was created on first need and is revealed to engines:admin, the same each time.
    const ApiResponse revealed = call(client, "GET", "/api/v1/webhooks/signing-secret", admin);
    ASSERT_EQ(revealed.status, 200) << revealed.raw.body;
    EXPECT_EQ(revealed.raw.header("Cache-Control"), "no-store");
    EXPECT_EQ(revealed.body.at("environment"), "test");
    const std::string secret(revealed.body.at("secret").as_string());
    EXPECT_TRUE(secret.starts_with("whsec_"));
    EXPECT_TRUE(signed_with(request, secret));
    EXPECT_FALSE(signed_with(request, "whsec_wrong"));
    EXPECT_EQ(call(client, "GET", "/api/v1/webhooks/signing-secret", admin).body.at("secret"),
              secret.c_str());

    // A run of the engines API keeps the event envelope, signed with the same secret.
    const std::string run_id =
        submit_run(client, key, R"("webhook_url":")" + receiver.url() + R"(")");
    ASSERT_TRUE(receiver.wait_for(2, 10s));
    const auto event_request = receiver.received().at(1);
    EXPECT_TRUE(signed_with(event_request, secret));
    const auto event = boost::json::parse(event_request.body).as_object();
    EXPECT_EQ(event.at("type"), "run.completed");
    EXPECT_EQ(event.at("data").at("run").at("run_id"), run_id.c_str());
    EXPECT_EQ(call(client, "GET", "/health", "").status, 200);
}

TEST(Webhooks, TheSigningSecretIsRevealedOnlyToEnginesAdminInItsOwnEnvironment) {
    TestServer server(webhook_config());
    const std::string runs_only = server.create_key("acme");
    const std::string test_admin = server.create_key("acme", "test", {"engines:admin"});
    const std::string live_admin = server.create_key("acme", "live", {"engines:admin"});
    auto client = server.client();

    const ApiResponse refused = call(client, "GET", "/api/v1/webhooks/signing-secret", runs_only);
    EXPECT_EQ(refused.status, 403);
    EXPECT_EQ(refused.body.at("error").at("code"), "forbidden");
    EXPECT_EQ(call(client, "GET", "/api/v1/webhooks/signing-secret", "").status, 401);

    // Revealing is recorded: who, for which organisation and environment.
    std::vector<std::string> lines;
    std::mutex lines_mutex;
    log::set_sink([&](std::string_view line) {
        std::lock_guard lock(lines_mutex);
        lines.emplace_back(line);
    });
    const ApiResponse test_secret =
        call(client, "GET", "/api/v1/webhooks/signing-secret", test_admin);
    const ApiResponse live_secret =
        call(client, "GET", "/api/v1/webhooks/signing-secret", live_admin);
    log::set_sink({});
    ASSERT_EQ(test_secret.status, 200) << test_secret.raw.body;
    ASSERT_EQ(live_secret.status, 200) << live_secret.raw.body;
    EXPECT_NE(test_secret.body.at("secret"), live_secret.body.at("secret"));
    EXPECT_EQ(live_secret.body.at("environment"), "live");
    std::size_t revealed = 0;
    for (const std::string& line : lines) {
        if (line.find("webhook signing secret revealed") == std::string::npos) continue;
        ++revealed;
        EXPECT_NE(line.find(R"("organization":"acme")"), std::string::npos) << line;
        EXPECT_NE(line.find(R"("key_id")"), std::string::npos) << line;
        EXPECT_EQ(line.find("whsec_"), std::string::npos)
            << "the log must not hold the secret: " << line;
    }
    EXPECT_EQ(revealed, 2u);

    // After a rotation it reveals the new secret.
    const ApiResponse rotated =
        call(client, "POST", "/api/v1/webhooks/signing-secret/rotate", runs_only);
    ASSERT_EQ(rotated.status, 200) << rotated.raw.body;
    const ApiResponse after = call(client, "GET", "/api/v1/webhooks/signing-secret", test_admin);
    EXPECT_EQ(after.body.at("secret"), rotated.body.at("secret"));
    EXPECT_NE(after.body.at("secret"), test_secret.body.at("secret"));
    EXPECT_FALSE(after.body.at("previous_secret_expires_at").is_null());
}

}  // namespace
}  // namespace engined::testing
