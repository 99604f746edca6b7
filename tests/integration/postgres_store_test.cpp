// engined and enginectl on a PostgreSQL store (--store postgresql://…), end to end over loopback:
// keys minted by enginectl in the database authenticate at the server, runs are accepted,
// executed, listed with the cursor and replayed under an Idempotency-Key. Needs the throwaway
// server of tools/with-postgres.sh; without it the tests skip, saying why.
#include "test_server.hpp"

#include "postgres_database.hpp"
#include "prometheus_text.hpp"
#include "auth/api_keys.hpp"
#include "common/crypto.hpp"
#include "common/time.hpp"
#include "store/postgres/postgres_store.hpp"
#include "store/store.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace engined::testing {
namespace {

const std::string kRunBody =
    R"({"input":{"coverage_types":["auto"],"address":{"state":"NY","zip_code":"11231"}},
        "offerings":[{"id":"o1","provider_name":"Acme","category":"auto",
                      "attributes":{"line_premium_annual":1000}}]})";

class PostgresStoreTest : public ::testing::Test {
protected:
    void SetUp() override {
        if (database_.url().empty()) GTEST_SKIP() << kPostgresSkipReason;
        app::Config config;
        config.store = database_.url();
        server_ = std::make_unique<TestServer>(config);
        client_ = std::make_unique<http::Client>("127.0.0.1", server_->port());
    }

    PostgresTestDatabase database_;
    std::unique_ptr<TestServer> server_;
    std::unique_ptr<http::Client> client_;
};

// The last line enginectl printed on stdout, and its exit status.
std::pair<int, std::string> enginectl_last_line(const std::string& arguments) {
    const auto out = fresh_temp_dir("enginectl-pg") / "out.txt";
    const std::string command = std::string(ENGINED_BINARY_DIR) + "/enginectl " + arguments +
                                " > " + out.string() + " 2>/dev/null";
    const int status = std::system(command.c_str());
    std::ifstream file(out);
    std::string line;
    std::string last;
    while (std::getline(file, line)) {
        if (!line.empty()) last = line;
    }
    std::filesystem::remove_all(out.parent_path());
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, last};
}

TEST_F(PostgresStoreTest, AKeyMintedByEnginectlRunsAndListsRuns) {
    // The server's audit key: enginectl records the key's creation on the same chain.
    const auto [status, key] = enginectl_last_line(
        "keys create --store '" + database_.url() + "' --audit-key-file '" +
        (server_->data_dir() / "audit.key").string() + "' --org pg-org --env test");
    ASSERT_EQ(status, 0);
    ASSERT_EQ(key.rfind("nx_test_", 0), 0u) << "the key on the last line: " << key;
    const auto chain = server_->app().store().audit_chain("pg-org");
    ASSERT_EQ(chain.size(), 1u);
    EXPECT_EQ(chain[0].action, "key.create");

    std::vector<std::string> submitted;
    for (int i = 0; i < 3; ++i) {
        const ApiResponse accepted =
            call(*client_, "POST", "/api/v1/engines/default/runs", key, kRunBody);
        ASSERT_EQ(accepted.status, 202) << accepted.raw.body;
        submitted.push_back(std::string(accepted.body.at("run_id").as_string()));
    }
    for (const auto& id : submitted) {
        EXPECT_EQ(wait_for_run(*client_, key, id, 30).at("status").as_string(), "completed") << id;
    }
    std::vector<std::string> listed;
    std::string target = "/api/v1/engines/default/runs?limit=2";
    for (int page = 0; page < 3; ++page) {
        const ApiResponse response = call(*client_, "GET", target, key);
        ASSERT_EQ(response.status, 200) << response.raw.body;
        for (const auto& run : response.body.at("data").as_array())
            listed.push_back(std::string(run.at("run_id").as_string()));
        if (!response.body.at("has_more").as_bool()) break;
        target = "/api/v1/engines/default/runs?limit=2&cursor=" +
                 std::string(response.body.at("next_cursor").as_string());
    }
    EXPECT_EQ(listed, std::vector<std::string>(submitted.rbegin(), submitted.rend()));
    EXPECT_EQ(call(*client_, "GET", "/ready", "").status, 200);

    const auto [listed_status, last_key] =
        enginectl_last_line("keys list --store '" + database_.url() + "' --org pg-org");
    EXPECT_EQ(listed_status, 0);
    EXPECT_NE(last_key.find("pg-org"), std::string::npos) << last_key;
}

TEST_F(PostgresStoreTest, AnIdempotencyKeyMakesOneRunAcrossRetries) {
    const std::string key = server_->create_key("pg-idem");
    std::vector<std::pair<std::string, std::string>> headers{{"Authorization", "Bearer " + key},
                                                             {"Content-Type", "application/json"},
                                                             {"Idempotency-Key", "retry-1"}};
    const auto first = client_->request("POST", "/api/v1/engines/default/runs", kRunBody, headers);
    const auto again = client_->request("POST", "/api/v1/engines/default/runs", kRunBody, headers);
    EXPECT_EQ(first.status, 202) << first.body;
    EXPECT_EQ(again.status, 202) << again.body;
    EXPECT_EQ(first.body, again.body) << "the first answer, replayed";
}

// The node counts what it sends the database: every statement, and the round trips they took. A
// group's BEGIN, savepoints and COMMIT travel with its statements, so there are fewer round trips.
TEST_F(PostgresStoreTest, StatementsAndRoundTripsAreCountedInTheMetrics) {
    const std::string key = server_->create_key("pg-metrics");
    const ApiResponse accepted =
        call(*client_, "POST", "/api/v1/engines/default/runs", key, kRunBody);
    ASSERT_EQ(accepted.status, 202) << accepted.raw.body;
    const std::string run_id(accepted.body.at("run_id").as_string());
    EXPECT_EQ(wait_for_run(*client_, key, run_id, 30).at("status").as_string(), "completed");

    auto metrics_client = server_->metrics_client();
    const auto exposition = parse_prometheus_text(metrics_client.request("GET", "/metrics").body);
    const double statements = exposition.value("engined_store_statements_total").value_or(0);
    const double round_trips = exposition.value("engined_store_round_trips_total").value_or(0);
    EXPECT_GT(round_trips, 0);
    EXPECT_LT(round_trips, statements);
}

// A poll is the run's read alone once the node trusts the key: the key's lookup is not repeated
// for every request (it was one round trip of the two each poll cost). Twenty polls in a row take
// twenty round trips, give or take what the node's background work (worker, webhook sender)
// sends meanwhile and one lookup per second the polls take.
TEST_F(PostgresStoreTest, APollIsOneRoundTripWhileTheNodeTrustsItsKey) {
    const std::string key = server_->create_key("pg-poll");
    const ApiResponse accepted =
        call(*client_, "POST", "/api/v1/engines/default/runs", key, kRunBody);
    ASSERT_EQ(accepted.status, 202) << accepted.raw.body;
    const std::string run_id(accepted.body.at("run_id").as_string());
    ASSERT_EQ(wait_for_run(*client_, key, run_id, 30).at("status").as_string(), "completed");

    auto metrics_client = server_->metrics_client();
    auto round_trips = [&] {
        return parse_prometheus_text(metrics_client.request("GET", "/metrics").body)
            .value("engined_store_round_trips_total")
            .value_or(0);
    };
    constexpr int kPolls = 20;
    const double before = round_trips();
    for (int i = 0; i < kPolls; ++i) {
        ASSERT_EQ(call(*client_, "GET", "/api/v1/runs/" + run_id, key).status, 200);
    }
    const double polls_cost = round_trips() - before;
    EXPECT_GE(polls_cost, kPolls) << "each poll still reads the run";
    EXPECT_LT(polls_cost, kPolls + kPolls / 2) << "a key lookup per poll would make it 40";
}

// Two nodes on one database, each trusting a key it checked for a second: a key revoked through
// one node is refused by that node on its next request, and by the other once its second is
// over, without restarting either. (The second itself is tested with a hand-moved clock in
// tests/unit/auth.)
TEST(PostgresKeyCache, AKeyRevokedOnOneNodeIsRefusedThereAtOnceAndByTheOtherNodeSoonAfter) {
    PostgresTestDatabase database;
    if (database.url().empty()) GTEST_SKIP() << kPostgresSkipReason;
    const auto shared = fresh_temp_dir("pg-keys");
    app::Config config;
    config.store = database.url();
    config.audit_key_file = shared / "audit.key";  // one audit chain, as nodes share it
    TestServer revoking(config);
    TestServer other(config);
    const auth::IssuedKey issued =
        auth::issue_key(revoking.app().store(), "pg-revoke", "test", auth::default_scopes());
    const std::string listing = "/api/v1/engines/default/runs?limit=1";
    auto revoking_client = revoking.client();
    auto other_client = other.client();
    ASSERT_EQ(call(revoking_client, "GET", listing, issued.key).status, 200);
    ASSERT_EQ(call(other_client, "GET", listing, issued.key).status, 200);

    ASSERT_TRUE(revoking.app().store().revoke_api_key(issued.id, now_unix_ms()));
    EXPECT_EQ(call(revoking_client, "GET", listing, issued.key).status, 401);
    // Generous for a loaded machine: what is tested is that the refusal comes at all.
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    int status = 200;
    while (status == 200 && std::chrono::steady_clock::now() < give_up) {
        status = call(other_client, "GET", listing, issued.key).status;
        if (status == 200) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    EXPECT_EQ(status, 401);
    std::filesystem::remove_all(shared);
}

// Two nodes on one database: a run submitted on a node that has no free worker (here, a node
// with none: its store alone) is executed by the other node at once, woken by the submit's
// NOTIFY. The lease is 90 s, so the other node's own look for claimable runs (every 30 s) cannot
// explain it.
TEST(PostgresWakeUps, ARunSubmittedOnANodeWithoutAFreeWorkerRunsAtOnceOnAnother) {
    PostgresTestDatabase database;
    if (database.url().empty()) GTEST_SKIP() << kPostgresSkipReason;
    app::Config config;
    config.store = database.url();
    config.run_lease_seconds = 90;
    TestServer server(config);
    const std::string key = server.create_key("pg-wake");
    auto client = server.client();
    const ApiResponse accepted =
        call(client, "POST", "/api/v1/engines/default/runs", key, kRunBody);
    ASSERT_EQ(accepted.status, 202) << accepted.raw.body;
    const std::string first_id(accepted.body.at("run_id").as_string());
    ASSERT_EQ(wait_for_run(client, key, first_id, 20).at("status").as_string(), "completed");

    // The other node submits the same request: its store's write, NOTIFY included.
    store::PostgresStore busy_node(store::PostgresOptions{database.url()});
    const std::optional<store::Run> first = busy_node.get_run(first_id);
    ASSERT_TRUE(first);
    store::NewRun run;
    run.id = uuid_v4();
    run.organization = first->organization;
    run.environment = first->environment;
    run.environment_id = first->environment_id;
    run.engine_slug = first->engine_slug;
    run.engine_type = first->engine_type;
    run.engine_version = first->engine_version;
    run.request_json = first->request_json;
    run.config_hash = first->config_hash;
    run.config_json = busy_node.config_json(first->config_hash).value();
    run.api_key_id = first->api_key_id;
    run.created_at_ms = now_unix_ms();
    std::promise<std::exception_ptr> committed;
    const auto submitted = std::chrono::steady_clock::now();
    busy_node.insert_run(run, [&](std::exception_ptr error) { committed.set_value(error); });
    ASSERT_FALSE(committed.get_future().get());

    EXPECT_EQ(wait_for_run(client, key, run.id, 20).at("status").as_string(), "completed");
    EXPECT_LT(std::chrono::steady_clock::now() - submitted, std::chrono::seconds(20))
        << "claimed at the notification, not at the look every third of the lease";
}

}  // namespace
}  // namespace engined::testing
