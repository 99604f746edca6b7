// engined and enginectl on a PostgreSQL store (--store postgresql://…), end to end over loopback:
// keys minted by enginectl in the database authenticate at the server, runs are accepted,
// executed, listed with the cursor and replayed under an Idempotency-Key. Needs the throwaway
// server of tools/with-postgres.sh; without it the tests skip, saying why.
#include "test_server.hpp"

#include "postgres_database.hpp"
#include "store/store.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
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
    const auto [status, key] = enginectl_last_line("keys create --store '" + database_.url() +
                                                   "' --org pg-org --env test");
    ASSERT_EQ(status, 0);
    ASSERT_EQ(key.rfind("nx_test_", 0), 0u) << "the key on the last line: " << key;

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

// Two nodes on one database. Node A (a child process) holds a run that stalls; node B (in this
// process) claims whatever else is due, but never A's run while A lives and renews its lease.
// A is killed with -9: once its lease expired B takes the run over and executes it once more.
TEST(PostgresQueue, ARunWhoseNodeDiedIsTakenOverAndALiveNodesRunIsNot) {
    PostgresTestDatabase database;
    if (database.url().empty()) GTEST_SKIP() << kPostgresSkipReason;
    const auto [status, key] = enginectl_last_line(
        "keys create --store '" + database.url() +
        "' --org pg-org --env live --scopes runs:write,runs:read,engines:admin");
    ASSERT_EQ(status, 0) << key;
    constexpr int kLeaseSeconds = 2;
    const auto data_dir = fresh_temp_dir("engined-pg-node-a");
    const uint16_t port = chaos::free_loopback_port();
    auto node_a = std::make_unique<chaos::ChildEngined>(
        child_launch(data_dir, {"--store", database.url(), "--run-lease-seconds",
                                std::to_string(kLeaseSeconds), "--lua-wall-clock-ms", "120000",
                                "--lua-instruction-budget", "1000000000000"}),
        port);
    http::Client client_a("127.0.0.1", port);

    // An engine whose scorecard spins for a marked input: its run stays processing on A.
    ASSERT_EQ(call(client_a, "POST", "/api/v1/engines", key,
                   R"({"slug":"slow","label":"Slow","engine_type":"placement"})")
                  .status,
              201);
    boost::json::object config =
        call(client_a, "GET", "/api/v1/engines/slow/config", key).body.at("config").as_object();
    config["lua_source"] = std::string(config.at("lua_source").as_string()) +
                           "\nlocal weights_before_stall = weights\n"
                           "function weights(bucket, input)\n"
                           "  if input.address and input.address.stall then while true do end end\n"
                           "  return weights_before_stall(bucket, input)\nend\n";
    ASSERT_EQ(call(client_a, "PUT", "/api/v1/engines/slow/config", key,
                   boost::json::serialize(boost::json::object{{"config", config}}))
                  .status,
              200);
    boost::json::object stalling = boost::json::parse(kRunBody).as_object();
    stalling["input"].as_object()["address"].as_object()["stall"] = true;
    const ApiResponse held =
        call(client_a, "POST", "/api/v1/engines/slow/runs", key, boost::json::serialize(stalling));
    ASSERT_EQ(held.status, 202) << held.raw.body;
    const std::string held_id(held.body.at("run_id").as_string());
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (call(client_a, "GET", "/api/v1/runs/" + held_id, key).body.at("status").as_string() !=
               "processing" &&
           std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    // A's one worker is busy: this run waits in the queue for any node.
    const ApiResponse waiting =
        call(client_a, "POST", "/api/v1/engines/default/runs", key, kRunBody);
    ASSERT_EQ(waiting.status, 202) << waiting.raw.body;
    const std::string waiting_id(waiting.body.at("run_id").as_string());

    app::Config config_b;
    config_b.store = database.url();
    config_b.run_lease_seconds = kLeaseSeconds;
    config_b.lua_wall_clock_ms = 200;
    TestServer node_b(config_b);
    http::Client client_b = node_b.client();
    EXPECT_EQ(wait_for_run(client_b, key, waiting_id, 30).at("status").as_string(), "completed");
    store::Store& store = node_b.app().store();
    const std::optional<std::string> owner_a = store.get_run(held_id)->lease_owner;
    ASSERT_TRUE(owner_a);
    // Three leases long, B keeps looking (its poll runs every third of a lease); A's run stays A's.
    const auto watch_until =
        std::chrono::steady_clock::now() + std::chrono::seconds(3 * kLeaseSeconds);
    while (std::chrono::steady_clock::now() < watch_until) {
        const auto run = store.get_run(held_id);
        ASSERT_EQ(run->status, store::RunStatus::processing);
        ASSERT_EQ(run->lease_owner, owner_a);
        ASSERT_EQ(run->attempts, 1);
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }

    node_a->kill_hard();
    node_a.reset();
    const boost::json::value taken_over = wait_for_run(client_b, key, held_id, 60);
    EXPECT_EQ(taken_over.at("status").as_string(), "failed") << "B's wall clock ended the spin";
    const auto run = store.get_run(held_id);
    EXPECT_EQ(run->attempts, 2);
    EXPECT_NE(run->lease_owner, owner_a);
    EXPECT_EQ(store.get_run(waiting_id)->attempts, 1);
    std::filesystem::remove_all(data_dir);
}

}  // namespace
}  // namespace engined::testing
