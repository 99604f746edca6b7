// Environments over HTTP: slug rules, reserved names and limits, keys minted per environment,
// isolation by environment id on every environment-scoped route (also against a deleted and
// re-created environment of the same slug), deletion, and the per-environment default pin.
#include "test_server.hpp"
#include "webhook_receiver.hpp"

#include "store/store.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <regex>
#include <stdexcept>
#include <string>
#include <vector>

namespace engined::testing {
namespace {

using namespace std::chrono_literals;

const std::regex kUuidV4("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");

constexpr const char* kPool = R"([
  {"id": "c1", "name": "Hartford Financial", "am_best_rating": "A+", "financial_size": "XV", "states": ["*"],
   "lines": [{"line": "professional_liability", "appetite": "preferred"}], "pricing_index": 0.9}
])";

constexpr const char* kEvaluation =
    R"({"profile": {"entity": "acme-manufacturing", "state": "CA", "line": "professional_liability"},
        "pool": "carriers:all"})";

std::string run_body() {
    return read_text(golden_dir() / "auto_only_ny.input.json");
}

std::string slug_body(const std::string& slug) {
    return boost::json::serialize(boost::json::object{{"slug", slug}});
}

std::string id_of(const ApiResponse& response, const char* field) {
    EXPECT_TRUE(response.body.is_object()) << response.raw.body;
    return response.body.is_object() && response.body.as_object().contains(field)
               ? std::string(response.body.at(field).as_string())
               : std::string();
}

// Every API key of `slug` in `organization` is revoked (what an operator does before deleting it).
void revoke_keys_of(store::Store& store, const std::string& organization, const std::string& slug) {
    for (const store::ApiKey& key : store.list_api_keys(organization)) {
        if (key.environment == slug && !key.revoked_at_ms) store.revoke_api_key(key.id, 1);
    }
}

app::Config loopback_webhooks() {
    app::Config config;
    config.webhook_allowed_hosts = {"127.0.0.1"};
    config.webhook_retry_schedule_s = {0.05};
    return config;
}

TEST(Environments, SlugRulesReservedNamesAndTheLimitOfFiveNamedOnes) {
    TestServer server;
    auto client = server.client();
    const std::string admin = server.create_key("acme", "live", {"environments:admin"});
    auto create = [&](const std::string& slug, const std::string& key) {
        return call(client, "POST", "/api/v1/environments", key, slug_body(slug));
    };

    const ApiResponse dev = create("dev", admin);
    ASSERT_EQ(dev.status, 201) << dev.raw.body;
    EXPECT_TRUE(std::regex_match(id_of(dev, "id"), kUuidV4)) << id_of(dev, "id");
    EXPECT_EQ(dev.body.at("slug"), "dev");
    EXPECT_EQ(dev.body.at("kind"), "environment");
    EXPECT_FALSE(dev.body.as_object().contains("pinned_engine_version"))
        << "omitted while no pin is set";

    // 16 characters is the longest slug; 17 is refused.
    EXPECT_EQ(create("abcdefghij_12345", admin).status, 201);
    const ApiResponse too_long = create("abcdefghij_123456", admin);
    EXPECT_EQ(too_long.status, 400) << too_long.raw.body;
    EXPECT_EQ(too_long.body.at("error").at("code"), "invalid_request");
    for (const char* bad : {"", "Dev", "de-v", "dév", "de v"})
        EXPECT_EQ(create(bad, admin).status, 400) << bad;
    EXPECT_EQ(call(client, "POST", "/api/v1/environments", admin, R"({"name":"dev"})").status, 400);
    EXPECT_EQ(call(client, "POST", "/api/v1/environments", admin, R"({"slug":"qa","x":1})").status,
              400);

    for (const char* reserved :
         {"live", "test", "internal", "admin", "api", "nexio", "draft", "all"}) {
        const ApiResponse refused = create(reserved, admin);
        EXPECT_EQ(refused.status, 422) << reserved;
        EXPECT_EQ(refused.body.at("error").at("code"), "reserved_environment_slug") << reserved;
    }
    // One live environment per organisation: the built-in one.
    EXPECT_NE(std::string(create("live", admin).body.at("error").at("message").as_string())
                  .find("exactly one live"),
              std::string::npos);

    const ApiResponse duplicate = create("dev", admin);
    EXPECT_EQ(duplicate.status, 409);
    EXPECT_EQ(duplicate.body.at("error").at("code"), "environment_exists");

    // Five named environments besides test and live; the sixth is refused and not stored.
    for (const char* slug : {"staging", "prod", "qa"})
        EXPECT_EQ(create(slug, admin).status, 201) << slug;
    const ApiResponse sixth = create("production", admin);
    EXPECT_EQ(sixth.status, 422) << sixth.raw.body;
    EXPECT_EQ(sixth.body.at("error").at("code"), "too_many_environments");
    EXPECT_EQ(call(client, "GET", "/api/v1/environments/production", admin).status, 404);

    const ApiResponse listed = call(client, "GET", "/api/v1/environments", admin);
    ASSERT_EQ(listed.status, 200);
    const auto& data = listed.body.at("data").as_array();
    ASSERT_EQ(data.size(), 7u);
    EXPECT_EQ(data[0].at("slug"), "test");
    EXPECT_EQ(data[1].at("slug"), "live");
    EXPECT_TRUE(data[1].at("built_in").as_bool());
    EXPECT_EQ(call(client, "GET", "/api/v1/environments/dev", admin).body.at("id"),
              dev.body.at("id"));
    // Other organisations have their own, built in too.
    const std::string other = server.create_key("globex", "live", {"environments:admin"});
    EXPECT_EQ(call(client, "GET", "/api/v1/environments", other).body.at("data").as_array().size(),
              2u);
    EXPECT_EQ(call(client, "GET", "/api/v1/environments/dev", other).status, 404);

    // Who may: a live key with environments:admin or engines:admin.
    const ApiResponse from_test =
        create("sandbox", server.create_key("globex", "test", {"environments:admin"}));
    EXPECT_EQ(from_test.status, 403);
    EXPECT_EQ(from_test.body.at("error").at("code"), "forbidden");
    EXPECT_EQ(create("sandbox", server.create_key("globex", "live")).status, 403);
    EXPECT_EQ(create("sandbox", server.create_key("globex", "live", {"engines:admin"})).status,
              201);
}

TEST(Environments, KeysCarryTheSlugPrefixAndAuthenticateAsTheirStoredEnvironment) {
    TestServer server;
    auto client = server.client();
    const std::string admin = server.create_key("acme", "live", {"environments:admin"});
    const ApiResponse created =
        call(client, "POST", "/api/v1/environments", admin, slug_body("test_x"));
    ASSERT_EQ(created.status, 201);

    EXPECT_TRUE(server.create_key("acme", "live").starts_with("nx_live_"));
    const std::string test_key = server.create_key("acme", "test");
    EXPECT_TRUE(test_key.starts_with("nx_test_"));
    const std::string key = server.create_key("acme", "test_x");
    ASSERT_TRUE(key.starts_with("nx_test_x_")) << key;
    EXPECT_THROW(server.create_key("acme", "nowhere"), std::invalid_argument);

    const ApiResponse accepted =
        call(client, "POST", "/api/v1/engines/default/runs", key, run_body());
    ASSERT_EQ(accepted.status, 202) << accepted.raw.body;
    const boost::json::object run = wait_for_run(client, key, id_of(accepted, "run_id"));
    EXPECT_EQ(run.at("environment"), "test_x") << "not read as `test` from the prefix";
    EXPECT_EQ(run.at("environment_id"), created.body.at("id"));
    EXPECT_EQ(call(client, "GET", "/api/v1/runs/" + id_of(accepted, "run_id"), test_key).status,
              404);

    // The prefix proves nothing: the same secret under `nx_test_` is not a key.
    const std::string relabelled = "nx_test_" + key.substr(std::string("nx_test_x_").size());
    EXPECT_EQ(call(client, "GET", "/api/v1/runs/" + id_of(accepted, "run_id"), relabelled).status,
              401);
}

// Each environment-scoped route answers 404 for another environment's object, including for a
// deleted and re-created environment of the same slug.
TEST(Environments, EveryEnvironmentScopedRouteIsIsolatedByEnvironmentId) {
    WebhookReceiver receiver;
    TestServer server(loopback_webhooks());
    auto client = server.client();
    server.app().store().replace_pool("acme", "carriers:all", kPool, "pool.json", 1);
    const std::string admin = server.create_key("acme", "live", {"environments:admin"});
    const ApiResponse created =
        call(client, "POST", "/api/v1/environments", admin, slug_body("dev"));
    ASSERT_EQ(created.status, 201) << created.raw.body;
    const boost::json::value dev_environment_id = created.body.at("id");
    const std::vector<std::string> all_scopes{"runs:write", "runs:read", "engines:admin"};
    const std::string dev = server.create_key("acme", "dev", all_scopes);
    const std::string test = server.create_key("acme", "test", all_scopes);

    // Objects of dev: an endpoint, a run (and its delivery), a job, an evaluation, a signing secret.
    const ApiResponse endpoint =
        call(client, "POST", "/api/v1/webhooks", dev, R"({"url":")" + receiver.url() + R"("})");
    ASSERT_EQ(endpoint.status, 201) << endpoint.raw.body;
    const std::string endpoint_id = id_of(endpoint, "id");
    const std::string run_id =
        id_of(call(client, "POST", "/api/v1/engines/default/runs", dev, run_body()), "run_id");
    EXPECT_EQ(wait_for_run(client, dev, run_id).at("status"), "completed");
    const std::string job_id =
        id_of(call(client, "POST", "/api/v1/jobs", dev, run_body()), "job_id");
    const std::string eval_id =
        id_of(call(client, "POST", "/api/v1/jobs", dev, kEvaluation), "eval_id");
    ASSERT_FALSE(job_id.empty() || eval_id.empty());
    wait_for_run(client, dev, job_id);
    wait_for_run(client, dev, eval_id);
    ASSERT_TRUE(receiver.wait_for(1, 10s));
    const ApiResponse deliveries =
        call(client, "GET", "/api/v1/webhooks/" + endpoint_id + "/deliveries", dev);
    ASSERT_EQ(deliveries.status, 200) << deliveries.raw.body;
    ASSERT_FALSE(deliveries.body.at("data").as_array().empty());
    const std::string delivery_id(
        deliveries.body.at("data").as_array().front().at("id").as_string());
    const ApiResponse dev_secret = call(client, "GET", "/api/v1/webhooks/signing-secret", dev);
    ASSERT_EQ(dev_secret.status, 200);
    // The webhook payload names the environment too.
    const auto event = boost::json::parse(receiver.received().front().body);
    EXPECT_EQ(event.at("data").at("run").at("environment"), "dev");
    EXPECT_EQ(event.at("data").at("run").at("environment_id"), dev_environment_id);

    // Every route, as another environment's key: 404 in the envelope, or an empty listing.
    auto expect_hidden = [&](const std::string& key, const std::string& who) {
        const std::vector<std::pair<std::string, std::string>> routes{
            {"GET", "/api/v1/runs/" + run_id},
            {"GET", "/api/v1/engines/default/runs/" + run_id},
            {"GET", "/api/v1/runs/" + run_id + "/defensibility-packet"},
            {"GET", "/traces/" + run_id},
            {"POST", "/api/v1/runs/" + run_id + "/replay"},
            {"GET", "/api/v1/jobs/" + job_id},
            {"GET", "/api/v1/jobs/" + eval_id},
            {"GET", "/traces/" + eval_id},
            {"GET", "/api/v1/webhooks/" + endpoint_id},
            {"PATCH", "/api/v1/webhooks/" + endpoint_id},
            {"POST", "/api/v1/webhooks/" + endpoint_id + "/rotate-secret"},
            {"GET", "/api/v1/webhooks/" + endpoint_id + "/deliveries"},
            {"POST", "/api/v1/webhooks/" + endpoint_id + "/deliveries/" + delivery_id + "/retry"},
            {"DELETE", "/api/v1/webhooks/" + endpoint_id},
        };
        for (const auto& [method, target] : routes) {
            const ApiResponse answer = call(client, method, target, key,
                                            method == "PATCH" ? R"({"description":"x"})" : "");
            EXPECT_EQ(answer.status, 404)
                << who << ": " << method << " " << target << " " << answer.raw.body;
            if (answer.status == 404) {
                EXPECT_EQ(answer.body.at("error").at("code"), "not_found") << target;
            }
        }
        EXPECT_TRUE(call(client, "GET", "/api/v1/engines/default/runs", key)
                        .body.at("data")
                        .as_array()
                        .empty())
            << who;
        EXPECT_TRUE(call(client, "GET", "/api/v1/webhooks", key).body.at("data").as_array().empty())
            << who;
        const ApiResponse secret = call(client, "GET", "/api/v1/webhooks/signing-secret", key);
        EXPECT_NE(secret.body.at("secret"), dev_secret.body.at("secret"))
            << who << ": its own signing secret";
    };
    expect_hidden(test, "test");

    // Idempotency records: the same key and body in another environment is a new request.
    auto submit_once = [&](const std::string& key) {
        const http::ClientResponse answer =
            client.request("POST", "/api/v1/engines/default/runs", run_body(),
                           {{"Content-Type", "application/json"},
                            {"Authorization", "Bearer " + key},
                            {"Idempotency-Key", "order-42"}});
        EXPECT_EQ(answer.status, 202) << answer.body;
        return std::string(boost::json::parse(answer.body).at("run_id").as_string());
    };
    const std::string first = submit_once(dev);
    EXPECT_EQ(submit_once(dev), first) << "replayed within dev";
    EXPECT_NE(submit_once(test), first);

    // Rate-limit buckets are the key's: a dev key out of tokens leaves the test key served.
    const std::string slow = server.create_key("acme", "dev", {"runs:read"}, 0.001, 1);
    EXPECT_EQ(call(client, "GET", "/api/v1/webhooks", slow).status, 200);
    EXPECT_EQ(call(client, "GET", "/api/v1/webhooks", slow).status, 429);
    EXPECT_EQ(call(client, "GET", "/api/v1/webhooks", test).status, 200);

    // Deleting: refused while keys are active, then the slug comes back as a new, empty environment.
    const ApiResponse refused = call(client, "DELETE", "/api/v1/environments/dev", admin);
    EXPECT_EQ(refused.status, 409) << refused.raw.body;
    EXPECT_EQ(refused.body.at("error").at("code"), "environment_has_active_keys");
    EXPECT_EQ(call(client, "DELETE", "/api/v1/environments/dev", test).status, 403)
        << "a test key may not delete";
    EXPECT_EQ(call(client, "DELETE", "/api/v1/environments/test", admin).status, 409) << "built in";
    revoke_keys_of(server.app().store(), "acme", "dev");
    EXPECT_EQ(call(client, "GET", "/api/v1/runs/" + run_id, dev).status, 401) << "a revoked key";
    const ApiResponse deleted = call(client, "DELETE", "/api/v1/environments/dev", admin);
    EXPECT_EQ(deleted.status, 200) << deleted.raw.body;
    EXPECT_EQ(call(client, "GET", "/api/v1/environments/dev", admin).status, 404);
    EXPECT_EQ(call(client, "DELETE", "/api/v1/environments/dev", admin).status, 404);
    ASSERT_EQ(call(client, "POST", "/api/v1/environments", admin, slug_body("dev")).status, 201);
    const std::string dev_again = server.create_key("acme", "dev", all_scopes);
    expect_hidden(dev_again, "re-created dev");
    EXPECT_NE(submit_once(dev_again), first);
}

TEST(Environments, TheDefaultPinResolvesRunsThatNameNoVersionAndAnExplicitVersionWins) {
    TestServer server;
    auto client = server.client();
    const std::string live_admin =
        server.create_key("acme", "live", {"runs:write", "runs:read", "engines:admin"});
    ASSERT_EQ(call(client, "POST", "/api/v1/engines", live_admin,
                   R"({"slug":"home-auto","label":"Home and auto","engine_type":"placement"})")
                  .status,
              201);
    ASSERT_EQ(call(client, "POST", "/api/v1/engines/home-auto/versions", live_admin,
                   R"({"changelog":"first"})")
                  .status,
              201);
    ASSERT_EQ(call(client, "POST", "/api/v1/engines", live_admin,
                   R"({"slug":"unreleased","label":"Never released","engine_type":"placement"})")
                  .status,
              201);
    ASSERT_EQ(call(client, "POST", "/api/v1/environments", live_admin, slug_body("staging")).status,
              201);
    const std::string staging = server.create_key("acme", "staging");

    auto submit = [&](const std::string& key, const std::string& engine,
                      const std::string& version = "") {
        auto body = boost::json::parse(run_body()).as_object();
        if (!version.empty()) body["engine_version"] = version;
        const ApiResponse accepted = call(client, "POST", "/api/v1/engines/" + engine + "/runs",
                                          key, boost::json::serialize(body));
        EXPECT_EQ(accepted.status, 202) << accepted.raw.body;
        return call(client, "GET", "/api/v1/runs/" + id_of(accepted, "run_id"), key)
            .body.as_object();
    };
    auto patch = [&](const std::string& key, const std::string& body) {
        return call(client, "PATCH", "/api/v1/environments/staging", key, body);
    };

    // No pin yet: the current configuration.
    EXPECT_TRUE(submit(staging, "home-auto").at("engine_version").is_null());

    const ApiResponse pinned = patch(live_admin, R"({"pinned_engine_version":"1.x"})");
    ASSERT_EQ(pinned.status, 200) << pinned.raw.body;
    EXPECT_EQ(pinned.body.at("pinned_engine_version"), "1.x");
    const auto by_default = submit(staging, "home-auto");
    EXPECT_EQ(by_default.at("engine_version"), "1.0");
    EXPECT_EQ(by_default.at("engine_version_pin"), "1.x");
    EXPECT_EQ(by_default.at("engine_version_pin_source"), "environment");
    const auto explicit_version = submit(staging, "home-auto", "1.0");
    EXPECT_EQ(explicit_version.at("engine_version_pin"), "1.0");
    EXPECT_EQ(explicit_version.at("engine_version_pin_source"), "request");
    // An engine with no release matching the pin keeps running its current configuration.
    const auto unreleased = submit(staging, "unreleased");
    EXPECT_TRUE(unreleased.at("engine_version").is_null());
    EXPECT_TRUE(unreleased.at("engine_version_pin_source").is_null());
    // Other environments are not pinned.
    EXPECT_TRUE(
        submit(server.create_key("acme", "test"), "home-auto").at("engine_version").is_null());

    // A per-engine pin overrides the default.
    ASSERT_EQ(patch(live_admin, R"({"engine_pins":{"home-auto":"1.0"}})").status, 200);
    const auto by_engine_pin = submit(staging, "home-auto");
    EXPECT_EQ(by_engine_pin.at("engine_version_pin"), "1.0");
    EXPECT_EQ(by_engine_pin.at("engine_version_pin_source"), "engine_pin");

    // Who may pin, and what.
    EXPECT_EQ(patch(server.create_key("acme", "test", {"engines:admin"}),
                    R"({"pinned_engine_version":"1.x"})")
                  .status,
              403);
    EXPECT_EQ(patch(server.create_key("acme", "live", {"environments:admin"}),
                    R"({"pinned_engine_version":"1.x"})")
                  .status,
              403);
    for (const char* bad : {R"({"pinned_engine_version":"1"})", R"({"pinned_engine_version":1})",
                            R"({})", R"({"engine_pins":{"home-auto":"latest"}})",
                            R"({"engine_pins":[]})", R"({"slug":"x"})"}) {
        const ApiResponse refused = patch(live_admin, bad);
        EXPECT_EQ(refused.status, 400) << bad;
        EXPECT_EQ(refused.body.at("error").at("code"), "invalid_request") << bad;
    }
    EXPECT_EQ(call(client, "PATCH", "/api/v1/environments/nowhere", live_admin,
                   R"({"pinned_engine_version":"1.x"})")
                  .status,
              404);
    const ApiResponse cleared =
        patch(live_admin, R"({"pinned_engine_version":null,"engine_pins":null})");
    ASSERT_EQ(cleared.status, 200);
    EXPECT_FALSE(cleared.body.as_object().contains("pinned_engine_version"));
    EXPECT_TRUE(submit(staging, "home-auto").at("engine_version").is_null());
}

}  // namespace
}  // namespace engined::testing
