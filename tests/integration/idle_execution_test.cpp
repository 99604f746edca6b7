// A submit to an idle node, end to end: its run executes before it is stored, so the 202 answers
// a run that is terminal already, stored in one write; a run still executing at the deadline is
// answered then, queued, and finishes later; with `--execute-when-idle off` every run is queued
// and stored twice (its insert, then its outcome).
#include "test_server.hpp"

#include "prometheus_text.hpp"

#include <gtest/gtest.h>

#include <string>

namespace engined::testing {
namespace {

// Store writes so far: the commit batch histogram's sum counts every write of every commit.
double store_writes(const TestServer& server) {
    auto client = server.metrics_client();
    return parse_prometheus_text(client.request("GET", "/metrics").body)
        .value("engined_store_commit_batch_size_sum")
        .value_or(-1);
}

class IdleExecutionTest : public ::testing::Test {
protected:
    explicit IdleExecutionTest(app::Config config = {}) : server_(std::move(config)) {
        key_ = server_.create_key("org_idle", "live", {"runs:write", "runs:read", "engines:admin"});
    }

    std::string submit(const std::string& slug) {
        const ApiResponse accepted =
            call(client_, "POST", "/api/v1/engines/" + slug + "/runs", key_,
                 read_text(golden_dir() / "pure_bundle_ca.input.json"));
        EXPECT_EQ(accepted.status, 202) << accepted.raw.body;
        if (accepted.status != 202) return {};
        EXPECT_EQ(accepted.body.at("status").as_string(), "queued")
            << "the API's submit answer says queued, whatever the run's state";
        return std::string(accepted.body.at("run_id").as_string());
    }

    // The run as a GET without a wait sees it.
    boost::json::object read(const std::string& run_id) {
        const ApiResponse response = call(client_, "GET", "/api/v1/runs/" + run_id, key_);
        EXPECT_EQ(response.status, 200) << response.raw.body;
        return response.body.as_object();
    }

    TestServer server_;
    std::string key_;
    http::Client client_ = server_.client();
};

// A run executed before its 202 is terminal at once and took one store write; one that missed
// the deadline (on a busy test host an execution may) is queued and took two or more. The first
// run of an engine prepares its configuration, so a warm-up run comes first.
TEST_F(IdleExecutionTest, ARunSubmittedToAnIdleNodeIsTerminalWhenItsAcceptanceArrives) {
    wait_for_run(client_, key_, submit("default"));
    int terminal_at_answer = 0;
    for (int i = 0; i < 5; ++i) {
        SCOPED_TRACE(i);
        const double writes_before = store_writes(server_);
        const std::string run_id = submit("default");
        ASSERT_FALSE(run_id.empty());
        const boost::json::object run = read(run_id);
        if (run.at("status").as_string() != "completed") {
            EXPECT_EQ(wait_for_run(client_, key_, run_id).at("status").as_string(), "completed");
            EXPECT_GE(store_writes(server_) - writes_before, 2.0);
            continue;
        }
        ++terminal_at_answer;
        EXPECT_FALSE(run.at("solutions").as_array().empty());
        EXPECT_FALSE(run.at("started_at").is_null());
        EXPECT_EQ(store_writes(server_) - writes_before, 1.0)
            << "inserted with its outcome in one write";
    }
    EXPECT_GE(terminal_at_answer, 1) << "no run was executed before its 202";
}

// A scorecard that spends far longer than the deadline in weights() for one marked input: the
// run is stored queued and answered at the deadline, not when it ends, and its outcome is stored
// once it does.
TEST_F(IdleExecutionTest, ARunStillExecutingAtTheDeadlineIsAnsweredQueuedAndFinishesLater) {
    const ApiResponse created =
        call(client_, "POST", "/api/v1/engines", key_,
             boost::json::serialize(boost::json::object{
                 {"slug", "slow"}, {"label", "Slow scorecard"}, {"engine_type", "placement"}}));
    ASSERT_EQ(created.status, 201) << created.raw.body;
    const ApiResponse current = call(client_, "GET", "/api/v1/engines/slow/config", key_);
    ASSERT_EQ(current.status, 200) << current.raw.body;
    boost::json::object config = current.body.at("config").as_object();
    config["lua_source"] = std::string(config.at("lua_source").as_string()) +
                           "\nlocal weights_before = weights\n"
                           "function weights(bucket, input)\n"
                           "  if input.address and input.address.linger then\n"
                           "    local sum = 0\n"
                           "    for i = 1, 5000000 do sum = sum + i end\n"
                           "  end\n"
                           "  return weights_before(bucket, input)\n"
                           "end\n";
    const ApiResponse put = call(client_, "PUT", "/api/v1/engines/slow/config", key_,
                                 boost::json::serialize(boost::json::object{{"config", config}}));
    ASSERT_EQ(put.status, 200) << put.raw.body;

    boost::json::value lingering =
        boost::json::parse(read_text(golden_dir() / "pure_bundle_ca.input.json"));
    lingering.at("input").at("address").as_object()["linger"] = true;
    const double writes_before = store_writes(server_);
    const ApiResponse accepted =
        call(client_, "POST", "/api/v1/engines/slow/runs", key_, boost::json::serialize(lingering));
    ASSERT_EQ(accepted.status, 202) << accepted.raw.body;
    const std::string run_id(accepted.body.at("run_id").as_string());
    const std::string at_answer(read(run_id).at("status").as_string());
    EXPECT_TRUE(at_answer == "queued" || at_answer == "processing") << at_answer;
    EXPECT_EQ(wait_for_run(client_, key_, run_id).at("status").as_string(), "completed");
    EXPECT_GE(store_writes(server_) - writes_before, 2.0)
        << "stored queued, then its outcome (and its start, past the mark delay)";
}

app::Config turned_off() {
    app::Config config;
    config.execute_when_idle = false;
    return config;
}

class IdleExecutionOffTest : public IdleExecutionTest {
protected:
    IdleExecutionOffTest() : IdleExecutionTest(turned_off()) {}
};

TEST_F(IdleExecutionOffTest, EveryRunIsQueuedThenFinishedInTwoWrites) {
    wait_for_run(client_, key_, submit("default"));
    for (int i = 0; i < 3; ++i) {
        SCOPED_TRACE(i);
        const double writes_before = store_writes(server_);
        const std::string run_id = submit("default");
        ASSERT_FALSE(run_id.empty());
        EXPECT_EQ(wait_for_run(client_, key_, run_id).at("status").as_string(), "completed");
        EXPECT_GE(store_writes(server_) - writes_before, 2.0)
            << "its insert, then its outcome (and its start, past the mark delay)";
    }
}

}  // namespace
}  // namespace engined::testing
