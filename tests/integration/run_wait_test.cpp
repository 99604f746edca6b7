// Long-poll waits on a run (GET /api/v1/runs/{id}?wait=<seconds>), end to end: answered at once
// for a terminal run, as soon as a held run finishes (on this node, and on PostgreSQL on another
// node of the same database), with the run as it is when the wait is up or the server drains; the
// limits on the wait and on the waits held at once.
#include "test_server.hpp"

#include "prometheus_text.hpp"
#include "store/store.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <stdexcept>
#include <string>
#include <thread>

namespace engined::testing {
namespace {

using Clock = std::chrono::steady_clock;

// Far beyond any test: the run stays leased to the node that never comes.
constexpr const char* kAbsentNode = "node_elsewhere";
constexpr int64_t kFarFutureMs = 4'000'000'000'000;

class RunWaitTest : public ::testing::Test {
protected:
    explicit RunWaitTest(app::Config config = {}) : server_(std::move(config)) {
        key_ = server_.create_key("org_wait");
    }

    // A run that executed, then put back to `processing` under a lease of a node that never
    // finishes it: it stays non-terminal until the test finishes it through a store.
    std::string held_run() {
        auto client = server_.client();
        const ApiResponse accepted = call(client, "POST", "/api/v1/engines/default/runs", key_,
                                          read_text(golden_dir() / "pure_bundle_ca.input.json"));
        EXPECT_EQ(accepted.status, 202) << accepted.raw.body;
        const std::string run_id(accepted.body.at("run_id").as_string());
        wait_for_run(client, key_, run_id);
        server_.store().execute(
            "UPDATE runs SET status = 'processing', stage = 'processing', completed_at_ms = NULL, "
            "lease_owner = '" +
            std::string(kAbsentNode) + "', leased_until_ms = " + std::to_string(kFarFutureMs) +
            " WHERE id = '" + run_id + "'");
        return run_id;
    }

    // Stores the held run's outcome through `store`, as the node holding it would.
    static void finish(store::Store& store, const std::string& run_id) {
        store::RunOutcome outcome;
        outcome.status = store::RunStatus::completed;
        outcome.stage = "RANK";
        outcome.completed_at_ms = 1;
        std::promise<void> stored;
        store.finish_run(run_id, kAbsentNode, outcome, [&stored](std::exception_ptr error) {
            if (error) {
                stored.set_exception(error);
            } else {
                stored.set_value();
            }
        });
        stored.get_future().get();
    }

    // GET with `?wait=` on a connection of its own, in the background.
    std::future<ApiResponse> wait_in_background(const std::string& run_id,
                                                const std::string& wait) {
        return std::async(std::launch::async, [this, run_id, wait] {
            http::Client client("127.0.0.1", server_.port());
            return call(client, "GET", "/api/v1/runs/" + run_id + "?wait=" + wait, key_);
        });
    }

    static double held_waits(const TestServer& server) {
        auto client = server.metrics_client();
        return parse_prometheus_text(client.request("GET", "/metrics").body)
            .value("engined_run_waits")
            .value_or(-1);
    }

    // Until `server` holds `count` waits (generous: a loaded machine may be slow to connect). A
    // held wait is forgotten just after its answer went out, so a client that has its answer
    // waits here for the count to come back to 0; it fails if the count never does.
    static void until_waits_held(const TestServer& server, double count) {
        const auto deadline = Clock::now() + std::chrono::seconds(20);
        while (held_waits(server) != count) {
            if (Clock::now() > deadline) {
                throw std::runtime_error("the server never held " + std::to_string(count) +
                                         " waits");
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
    }

    ApiResponse get(const std::string& target) {
        auto client = server_.client();
        return call(client, "GET", target, key_);
    }

    TestServer server_;
    std::string key_;
};

TEST_F(RunWaitTest, TerminalRunIsAnsweredAtOnceWithThePlainBody) {
    auto client = server_.client();
    const ApiResponse accepted = call(client, "POST", "/api/v1/engines/default/runs", key_,
                                      read_text(golden_dir() / "pure_bundle_ca.input.json"));
    const std::string run_id(accepted.body.at("run_id").as_string());
    wait_for_run(client, key_, run_id);

    const ApiResponse plain = get("/api/v1/runs/" + run_id);
    const ApiResponse waited = get("/api/v1/runs/" + run_id + "?wait=30");
    EXPECT_EQ(waited.status, 200);
    EXPECT_EQ(waited.body, plain.body);
    EXPECT_EQ(held_waits(server_), 0);
}

TEST_F(RunWaitTest, HeldWaitIsAnsweredWhenTheRunFinishes) {
    const std::string run_id = held_run();
    auto waiting = wait_in_background(run_id, "30");
    until_waits_held(server_, 1);

    finish(server_.app().store(), run_id);
    const ApiResponse answer = waiting.get();
    EXPECT_EQ(answer.status, 200) << answer.raw.body;
    EXPECT_EQ(answer.body.at("status"), "completed");
    EXPECT_EQ(answer.body, get("/api/v1/runs/" + run_id).body);
    until_waits_held(server_, 0);
}

TEST_F(RunWaitTest, EngineScopedGetWaitsToo) {
    const std::string run_id = held_run();
    auto waiting = std::async(std::launch::async, [this, run_id] {
        http::Client client("127.0.0.1", server_.port());
        return call(client, "GET", "/api/v1/engines/default/runs/" + run_id + "?wait=30", key_);
    });
    until_waits_held(server_, 1);
    finish(server_.app().store(), run_id);
    EXPECT_EQ(waiting.get().body.at("status"), "completed");
}

TEST_F(RunWaitTest, UnknownRunIsNotFoundWithoutWaiting) {
    const ApiResponse answer = get("/api/v1/runs/00000000-0000-4000-8000-000000000000?wait=30");
    EXPECT_EQ(answer.status, 404);
    until_waits_held(server_, 0);
}

TEST_F(RunWaitTest, BadWaitValuesAreRefused) {
    const std::string run_id = held_run();
    for (const std::string bad : {"abc", "-1", "1.5", "", "31", "1s", "99999999999"}) {
        const ApiResponse answer = get("/api/v1/runs/" + run_id + "?wait=" + bad);
        EXPECT_EQ(answer.status, 400) << "wait=" << bad;
        EXPECT_EQ(answer.body.at("error").at("code"), "invalid_request") << "wait=" << bad;
        EXPECT_NE(
            std::string(answer.body.at("error").at("message").as_string()).find("from 0 to 30"),
            std::string::npos)
            << answer.raw.body;
    }
    // wait=0 is a plain GET.
    const ApiResponse now = get("/api/v1/runs/" + run_id + "?wait=0");
    EXPECT_EQ(now.status, 200);
    EXPECT_EQ(now.body.at("status"), "processing");
}

TEST_F(RunWaitTest, DrainAnswersTheWaitsWithTheRunAsItIs) {
    const std::string run_id = held_run();
    auto waiting = wait_in_background(run_id, "30");
    until_waits_held(server_, 1);

    const auto stopping = Clock::now();
    server_.app().stop();
    const ApiResponse answer = waiting.get();
    EXPECT_EQ(answer.status, 200) << answer.raw.body;
    EXPECT_EQ(answer.body.at("status"), "processing");
    // Well under the 30 s asked for and the 10 s drain timeout: the drain answered it.
    EXPECT_LT(Clock::now() - stopping, std::chrono::seconds(9));
}

// A server with one limit lowered, so that the tests at and past it stay short.
template <auto limit, auto value>
class RunWaitLimitTest : public RunWaitTest {
protected:
    RunWaitLimitTest() : RunWaitTest(lowered()) {}

private:
    static app::Config lowered() {
        app::Config config;
        config.*limit = value;
        return config;
    }
};

// The longest wait: 1 s.
using RunWaitTimeTest = RunWaitLimitTest<&app::Config::max_run_wait_s, 1>;
// One wait held at a time.
using RunWaitCountTest = RunWaitLimitTest<&app::Config::max_run_waits, std::size_t{1}>;

TEST_F(RunWaitTimeTest, WaitAtTheLimitEndsWithTheRunAsItIsAndPastItIsRefused) {
    const std::string run_id = held_run();
    const auto asked = Clock::now();
    const ApiResponse answer = get("/api/v1/runs/" + run_id + "?wait=1");
    EXPECT_GE(Clock::now() - asked, std::chrono::seconds(1));
    EXPECT_EQ(answer.status, 200) << answer.raw.body;
    EXPECT_EQ(answer.body.at("status"), "processing");
    until_waits_held(server_, 0);

    const ApiResponse past = get("/api/v1/runs/" + run_id + "?wait=2");
    EXPECT_EQ(past.status, 400);
    EXPECT_EQ(past.body.at("error").at("message"),
              "wait must be a whole number of seconds from 0 to 1");
}

TEST_F(RunWaitCountTest, OneWaitPastTheLimitIsRefusedAndPlainGetsStillAnswer) {
    const std::string run_id = held_run();
    auto waiting = wait_in_background(run_id, "30");  // at the limit: held
    until_waits_held(server_, 1);

    const ApiResponse refused = get("/api/v1/runs/" + run_id + "?wait=30");
    EXPECT_EQ(refused.status, 503) << refused.raw.body;
    EXPECT_EQ(refused.body.at("error").at("code"), "unavailable");
    EXPECT_EQ(refused.raw.header("Retry-After"), "1");
    EXPECT_EQ(get("/api/v1/runs/" + run_id).status, 200);

    finish(server_.app().store(), run_id);
    EXPECT_EQ(waiting.get().body.at("status"), "completed");
    until_waits_held(server_, 0);
}

// A submit that waits (POST .../runs?wait=<seconds>): answered once its run is terminal, 200 with
// the run as a GET shows it; when the wait is up first, 202 with the run as it is then.
class SubmitWaitTest : public RunWaitTest {
protected:
    explicit SubmitWaitTest(app::Config config = {}) : RunWaitTest(std::move(config)) {}

    ApiResponse submit(const std::string& query) {
        auto client = server_.client();
        return call(client, "POST", "/api/v1/engines/default/runs" + query, key_,
                    read_text(golden_dir() / "pure_bundle_ca.input.json"));
    }

    // Each answered 200 with its completed run exactly as a GET of its Location shows it, and
    // each wait let go.
    void expect_waiting_submits_answered_with_their_terminal_runs() {
        for (int i = 0; i < 3; ++i) {
            SCOPED_TRACE(i);
            const ApiResponse answer = submit("?wait=30");
            ASSERT_EQ(answer.status, 200) << answer.raw.body;
            EXPECT_EQ(answer.body.at("status"), "completed");
            EXPECT_FALSE(answer.body.at("solutions").as_array().empty());
            const std::string run_id(answer.body.at("run_id").as_string());
            const std::string location = answer.raw.header("Location");
            EXPECT_TRUE(location.ends_with("/api/v1/runs/" + run_id)) << location;
            EXPECT_EQ(answer.body, get("/api/v1/runs/" + run_id).body);
            until_waits_held(server_, 0);
        }
    }
};

TEST_F(SubmitWaitTest, ASubmitThatWaitsIsAnsweredWithItsTerminalRun) {
    expect_waiting_submits_answered_with_their_terminal_runs();
    // wait=0 is a plain submit.
    const ApiResponse plain = submit("?wait=0");
    EXPECT_EQ(plain.status, 202) << plain.raw.body;
    EXPECT_EQ(plain.body,
              boost::json::parse(R"({"run_id":)" + boost::json::serialize(plain.body.at("run_id")) +
                                 R"(,"status":"queued"})"));
}

TEST_F(SubmitWaitTest, ABadWaitIsRefusedBeforeAnythingIsStored) {
    for (const std::string bad : {"abc", "-1", "1.5", "", "31"}) {
        const ApiResponse answer = submit("?wait=" + bad);
        EXPECT_EQ(answer.status, 400) << "wait=" << bad;
        EXPECT_EQ(answer.body.at("error").at("code"), "invalid_request") << "wait=" << bad;
    }
    EXPECT_TRUE(get("/api/v1/engines/default/runs").body.at("data").as_array().empty());
}

// The waiting answer is the run, results included: a key that may submit but not read runs is
// refused the wait, before anything is stored.
TEST_F(SubmitWaitTest, AWaitNeedsTheScopeThatReadsRuns) {
    const std::string write_only = server_.create_key("org_wait", "test", {"runs:write"});
    auto client = server_.client();
    const ApiResponse refused =
        call(client, "POST", "/api/v1/engines/default/runs?wait=10", write_only,
             read_text(golden_dir() / "pure_bundle_ca.input.json"));
    EXPECT_EQ(refused.status, 403) << refused.raw.body;
    EXPECT_EQ(refused.body.at("error").at("code"), "forbidden");
    EXPECT_TRUE(get("/api/v1/engines/default/runs").body.at("data").as_array().empty());
    const ApiResponse plain = call(client, "POST", "/api/v1/engines/default/runs", write_only,
                                   read_text(golden_dir() / "pure_bundle_ca.input.json"));
    EXPECT_EQ(plain.status, 202) << plain.raw.body;
}

// Replays answer the acceptance the ledger recorded, as for any submit.
TEST_F(SubmitWaitTest, AReplayOfAWaitingSubmitAnswersTheRecordedAcceptance) {
    const std::string body = read_text(golden_dir() / "pure_bundle_ca.input.json");
    const auto post = [&] {
        auto client = server_.client();
        ApiResponse response;
        response.raw =
            client.request("POST", "/api/v1/engines/default/runs?wait=30", body,
                           {{"Authorization", "Bearer " + key_}, {"Idempotency-Key", "wait-once"}});
        response.status = response.raw.status;
        response.body = boost::json::parse(response.raw.body);
        return response;
    };
    const ApiResponse first = post();
    ASSERT_EQ(first.status, 200) << first.raw.body;
    const ApiResponse replay = post();
    EXPECT_EQ(replay.status, 202) << replay.raw.body;
    EXPECT_EQ(replay.body.at("run_id"), first.body.at("run_id"));
    EXPECT_EQ(replay.body.at("status"), "queued");
    EXPECT_EQ(get("/api/v1/engines/default/runs").body.at("data").as_array().size(), 1u);
}

app::Config queued_first() {
    app::Config config;
    config.execute_when_idle = false;
    return config;
}

// Every run is stored queued before it executes: the wait is held until the worker's outcome.
class SubmitWaitOnQueuedRunsTest : public SubmitWaitTest {
protected:
    SubmitWaitOnQueuedRunsTest() : SubmitWaitTest(queued_first()) {}
};

TEST_F(SubmitWaitOnQueuedRunsTest, TheWaitIsAnsweredWhenTheWorkerStoresTheOutcome) {
    expect_waiting_submits_answered_with_their_terminal_runs();
}

app::Config short_waits_long_scorecards() {
    app::Config config;
    config.max_run_wait_s = 1;
    config.lua_wall_clock_ms = 2500;
    config.lua_instruction_budget = 1'000'000'000'000;
    return config;
}

// Waits of at most 1 s, scorecards allowed 2.5 s: a scorecard that spins for one marked input.
class SubmitWaitPastTheWaitTest : public SubmitWaitTest {
protected:
    SubmitWaitPastTheWaitTest() : SubmitWaitTest(short_waits_long_scorecards()) {
        auto client = server_.client();
        create_stalling_engine(client, admin_, "slow");
    }

    std::string admin_ =
        server_.create_key("org_wait", "live", {"runs:write", "runs:read", "engines:admin"});
};

TEST_F(SubmitWaitPastTheWaitTest, ARunThatOutlastsTheWaitIsAnswered202AsItIsThen) {
    boost::json::value stalling =
        boost::json::parse(read_text(golden_dir() / "pure_bundle_ca.input.json"));
    stalling.at("input").at("address").as_object()["stall"] = true;
    auto client = server_.client();
    const auto asked = Clock::now();
    const ApiResponse answer = call(client, "POST", "/api/v1/engines/slow/runs?wait=1", admin_,
                                    boost::json::serialize(stalling));
    EXPECT_GE(Clock::now() - asked, std::chrono::seconds(1));
    ASSERT_EQ(answer.status, 202) << answer.raw.body;
    const std::string status(answer.body.at("status").as_string());
    EXPECT_TRUE(status == "queued" || status == "processing") << status;
    EXPECT_TRUE(answer.body.as_object().contains("created_at"))
        << "the run object, not the acceptance";
    until_waits_held(server_, 0);
    const std::string run_id(answer.body.at("run_id").as_string());
    EXPECT_EQ(wait_for_run(client, admin_, run_id).at("status"), "failed")
        << "the spinning scorecard ends on the wall clock";
}

// A node holding its limit of waits still stores the run, and answers the plain acceptance.
TEST_F(RunWaitCountTest, ASubmitWithoutRoomForItsWaitIsAnsweredThePlainAcceptance) {
    const std::string run_id = held_run();
    auto waiting = wait_in_background(run_id, "30");  // at the limit: held
    until_waits_held(server_, 1);

    auto client = server_.client();
    const ApiResponse accepted = call(client, "POST", "/api/v1/engines/default/runs?wait=30", key_,
                                      read_text(golden_dir() / "pure_bundle_ca.input.json"));
    EXPECT_EQ(accepted.status, 202) << accepted.raw.body;
    EXPECT_EQ(accepted.body.at("status"), "queued");
    EXPECT_FALSE(accepted.body.as_object().contains("created_at"));
    EXPECT_EQ(wait_for_run(client, key_, std::string(accepted.body.at("run_id").as_string()))
                  .at("status"),
              "completed");

    finish(server_.app().store(), run_id);
    EXPECT_EQ(waiting.get().body.at("status"), "completed");
    until_waits_held(server_, 0);
}

// Two nodes on one PostgreSQL database: a wait held by one is answered when the other stores the
// run's outcome, told by the other's NOTIFY.
TEST_F(RunWaitTest, RunFinishedOnAnotherNodeAnswersTheWait) {
    if (!testing_on_postgres()) GTEST_SKIP() << "nodes share a store only on PostgreSQL";
    app::Config same_database;
    same_database.store = server_.config().store;
    TestServer other(same_database);

    const std::string run_id = held_run();
    auto waiting = wait_in_background(run_id, "30");
    until_waits_held(server_, 1);

    const auto finishing = Clock::now();
    finish(other.app().store(), run_id);
    const ApiResponse answer = waiting.get();
    EXPECT_EQ(answer.status, 200) << answer.raw.body;
    EXPECT_EQ(answer.body.at("status"), "completed");
    // Told, not found at the end of the 30 s wait.
    EXPECT_LT(Clock::now() - finishing, std::chrono::seconds(20));
}

}  // namespace
}  // namespace engined::testing
