// Canary rollouts of a minor to the runs pinned "<major>.x", over HTTP on a real server: the share
// by run id, abort and promote, exact pins untouched, live keys only, the percent's bounds. The
// share over 2,000 run ids is measured on the resolver itself (rollout_policy), the same function
// the submissions above go through.
#include "test_server.hpp"

#include "common/json_text.hpp"
#include "engines/rollout_policy.hpp"
#include "prometheus_text.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace engined::testing {
namespace {

class RolloutTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        server_ = new TestServer();
        // Hundreds of submissions in a row: no rate limit in the way.
        live_ = server_->create_key("canaryco", "live",
                                    {"runs:write", "runs:read", "engines:admin"}, 10000.0, 10000);
        test_admin_ =
            server_->create_key("canaryco", "test", {"runs:write", "runs:read", "engines:admin"});
        request_ = read_text(golden_dir() / "brokerage_tx_multicarrier.input.json");
    }
    static void TearDownTestSuite() {
        delete server_;
        server_ = nullptr;
    }

    ApiResponse api(const std::string& method, const std::string& target,
                    const boost::json::value& body = nullptr, const std::string& key = live_) {
        return call(client_, method, target, key,
                    body.is_null() ? std::string() : boost::json::serialize(body));
    }

    // A new engine of the organisation with releases 1.0 … 1.`minors`; the last one published with
    // `rollout_percent` when given.
    void engine_with_minors(const std::string& slug, int minors,
                            std::optional<int> rollout_percent = std::nullopt) {
        ASSERT_EQ(
            api("POST", "/api/v1/engines",
                boost::json::object{{"slug", slug}, {"label", slug}, {"engine_type", "placement"}})
                .status,
            201);
        for (int minor = 0; minor <= minors; ++minor) {
            if (minor > 0) {
                // Any change the comparator does not call breaking makes the next minor.
                ApiResponse config = api("GET", "/api/v1/engines/" + slug + "/config");
                boost::json::object changed = config.body.at("config").as_object();
                changed["debug"] = minor % 2 == 1;
                ASSERT_EQ(api("PUT", "/api/v1/engines/" + slug + "/config",
                              boost::json::object{{"config", changed}})
                              .status,
                          200);
            }
            boost::json::object body;
            if (minor == minors && minor > 0 && rollout_percent)
                body["rollout_percent"] = *rollout_percent;
            const ApiResponse published =
                api("POST", "/api/v1/engines/" + slug + "/versions", body);
            ASSERT_EQ(published.status, 201) << published.raw.body;
            ASSERT_EQ(published.body.at("version"),
                      boost::json::value("1." + std::to_string(minor)));
        }
    }

    // Submits `count` runs with `pin` (empty: none, so the environment's pins apply) and returns them as stored (their resolution is made at
    // submit, so the runs need not finish).
    std::vector<boost::json::object> submit(const std::string& slug, const std::string& pin,
                                            int count) {
        boost::json::object body = parse_internal_json(request_).as_object();
        if (!pin.empty()) body["engine_version"] = pin;
        const std::string text = boost::json::serialize(body);
        std::vector<std::string> ids;
        for (int i = 0; i < count; ++i) {
            const ApiResponse accepted =
                call(client_, "POST", "/api/v1/engines/" + slug + "/runs", live_, text);
            EXPECT_EQ(accepted.status, 202) << accepted.raw.body;
            if (accepted.status != 202) break;
            ids.emplace_back(accepted.body.at("run_id").as_string());
        }
        std::vector<boost::json::object> runs;
        for (const auto& id : ids)
            runs.push_back(api("GET", "/api/v1/runs/" + id).body.as_object());
        return runs;
    }

    // Runs the server counted under an open rollout for `share`, over every test of the suite so
    // far (the counters are the server's, shared by the suite's tests).
    double rollout_submitted(const std::string& share) const {
        http::Client metrics = server_->metrics_client();
        return parse_prometheus_text(metrics.request("GET", "/metrics", "", {}).body)
            .value("engined_rollout_runs_submitted_total", {{"share", share}})
            .value_or(0.0);
    }

    static TestServer* server_;
    static std::string live_;
    static std::string test_admin_;
    static std::string request_;
    http::Client client_ = server_->client();
};

TestServer* RolloutTest::server_ = nullptr;
std::string RolloutTest::live_;
std::string RolloutTest::test_admin_;
std::string RolloutTest::request_;

std::string error_code(const ApiResponse& response) {
    return std::string(response.body.at("error").at("code").as_string());
}

// Every run pinned "1.x" got the version its run id's bucket gives, and says which share it was.
int expect_shared_by_run_id(const std::vector<boost::json::object>& runs, int percent) {
    int new_share = 0;
    for (const auto& run : runs) {
        const bool is_new =
            engines::rollout_bucket(std::string(run.at("run_id").as_string())) < percent;
        new_share += is_new ? 1 : 0;
        EXPECT_EQ(run.at("engine_version"), boost::json::value(is_new ? "1.1" : "1.0"))
            << boost::json::serialize(run);
        EXPECT_EQ(run.at("engine_version_rollout"),
                  boost::json::value(is_new ? "new" : "previous"));
        EXPECT_EQ(run.at("engine_version_pin"), "1.x");
    }
    return new_share;
}

void expect_all_at(const std::vector<boost::json::object>& runs, const std::string& version) {
    for (const auto& run : runs) {
        EXPECT_EQ(run.at("engine_version"), boost::json::value(version))
            << boost::json::serialize(run);
        EXPECT_TRUE(run.at("engine_version_rollout").is_null());
    }
}

TEST_F(RolloutTest, ARangePinSharesRunsByRunIdUntilAbortOrPromoteAndExactPinsStay) {
    // Published straight into a rollout at 10 %: "1.x" never meant 1.1 for everyone.
    engine_with_minors("canary", 1, 10);
    const ApiResponse version = api("GET", "/api/v1/engines/canary/versions/1.1");
    ASSERT_EQ(version.status, 200);
    EXPECT_EQ(version.body.at("rollout").at("state"), "open");
    EXPECT_EQ(version.body.at("rollout").at("percent"), 10);
    EXPECT_EQ(version.body.at("rollout").at("from_version"), "1.0");
    const ApiResponse listed = api("GET", "/api/v1/engines/canary/versions");
    EXPECT_EQ(listed.body.at("data").at(0).at("rollout").at("state"), "open");
    EXPECT_TRUE(listed.body.at("data").at(1).at("rollout").is_null());

    const double new_before = rollout_submitted("new");
    const double previous_before = rollout_submitted("previous");
    const auto shared = submit("canary", "1.x", 200);
    ASSERT_EQ(shared.size(), 200u);
    const int new_share = expect_shared_by_run_id(shared, 10);
    EXPECT_GT(new_share, 0);
    EXPECT_LT(new_share, 60);
    expect_all_at(submit("canary", "1.0", 20), "1.0");
    expect_all_at(submit("canary", "1.1", 20), "1.1");

    // The two shares side by side in the metrics.
    EXPECT_EQ(rollout_submitted("new") - new_before, new_share);
    EXPECT_EQ(rollout_submitted("previous") - previous_before, 200 - new_share);

    // No other minor of 1.x while the rollout is open.
    ApiResponse config = api("GET", "/api/v1/engines/canary/config");
    boost::json::object changed = config.body.at("config").as_object();
    changed["debug"] = false;
    ASSERT_EQ(api("PUT", "/api/v1/engines/canary/config", boost::json::object{{"config", changed}})
                  .status,
              200);
    const ApiResponse blocked =
        api("POST", "/api/v1/engines/canary/versions", boost::json::object{});
    EXPECT_EQ(blocked.status, 409) << blocked.raw.body;
    EXPECT_EQ(error_code(blocked), "rollout_open");

    // Abort: every "1.x" run is back on 1.0, and stays there.
    const ApiResponse aborted = api("POST", "/api/v1/engines/canary/versions/1.1/rollout/abort");
    ASSERT_EQ(aborted.status, 200) << aborted.raw.body;
    EXPECT_EQ(aborted.body.at("state"), "aborted");
    EXPECT_FALSE(aborted.body.at("closed_at").is_null());
    expect_all_at(submit("canary", "1.x", 60), "1.0");
    expect_all_at(submit("canary", "1.1", 5), "1.1");
    EXPECT_EQ(api("POST", "/api/v1/engines/canary/versions/1.1/rollout/abort").status, 409);

    // Rolled out again, widened, then promoted: every "1.x" run gets 1.1.
    const ApiResponse reopened = api("POST", "/api/v1/engines/canary/versions/1.1/rollout",
                                     boost::json::object{{"percent", 30}});
    ASSERT_EQ(reopened.status, 201) << reopened.raw.body;
    const ApiResponse widened = api("POST", "/api/v1/engines/canary/versions/1.1/rollout",
                                    boost::json::object{{"percent", 60}});
    ASSERT_EQ(widened.status, 200) << widened.raw.body;
    EXPECT_EQ(widened.body.at("percent"), 60);
    expect_shared_by_run_id(submit("canary", "1.x", 40), 60);
    const ApiResponse promoted = api("POST", "/api/v1/engines/canary/versions/1.1/rollout/promote");
    ASSERT_EQ(promoted.status, 200) << promoted.raw.body;
    EXPECT_EQ(promoted.body.at("state"), "promoted");
    EXPECT_EQ(api("GET", "/api/v1/engines/canary/versions/1.1/rollout").body.at("state"),
              "promoted");
    expect_all_at(submit("canary", "1.x", 60), "1.1");
    expect_all_at(submit("canary", "1.0", 5), "1.0");

    // Each rollout step is on the organisation's audit trail, newest first.
    const ApiResponse trail = api("GET", "/api/v1/audit-log?limit=200");
    ASSERT_EQ(trail.status, 200) << trail.raw.body;
    std::vector<std::string> steps;
    for (const auto& record : trail.body.at("data").as_array()) {
        if (record.at("target") == "canary@1.1") {
            steps.emplace_back(record.at("action").as_string());
        }
    }
    const std::vector<std::string> expected_steps = {
        "version.rollout.promote", "version.rollout.percent", "version.rollout.open",
        "version.rollout.abort", "version.rollout.open"};
    EXPECT_EQ(std::vector<std::string>(steps.begin(),
                                       steps.begin() + std::min(steps.size(), std::size_t{5})),
              expected_steps);

    // Promoted, the major is open to new minors again.
    EXPECT_EQ(api("POST", "/api/v1/engines/canary/versions", boost::json::object{}).status, 201);
}

TEST_F(RolloutTest, AMinorRolledOutAfterPublishingTakesTheShareFromThePreviousMinor) {
    engine_with_minors("late", 1);
    expect_all_at(submit("late", "1.x", 5), "1.1");
    ASSERT_EQ(api("POST", "/api/v1/engines/late/versions/1.1/rollout",
                  boost::json::object{{"percent", 25}})
                  .status,
              201);
    expect_shared_by_run_id(submit("late", "1.x", 40), 25);

    // The environment's pin "1.x" for this engine shares the same way.
    ASSERT_EQ(api("PATCH", "/api/v1/environments/live",
                  boost::json::object{{"engine_pins", {{"late", "1.x"}}}})
                  .status,
              200);
    const auto by_environment = submit("late", "", 40);
    expect_shared_by_run_id(by_environment, 25);
    for (const auto& run : by_environment)
        EXPECT_EQ(run.at("engine_version_pin_source"), "engine_pin");
    ASSERT_EQ(
        api("PATCH", "/api/v1/environments/live", boost::json::object{{"engine_pins", nullptr}})
            .status,
        200);
}

TEST_F(RolloutTest, PercentIsOneToNinetyNineAndRefusalsSayWhy) {
    engine_with_minors("bounds", 2);
    const std::string rollout = "/api/v1/engines/bounds/versions/1.2/rollout";
    for (const boost::json::value& percent :
         {boost::json::value(0), boost::json::value(100), boost::json::value(-5),
          boost::json::value(10.5), boost::json::value("10")}) {
        const ApiResponse refused = api("POST", rollout, boost::json::object{{"percent", percent}});
        EXPECT_EQ(refused.status, 422) << boost::json::serialize(percent);
        EXPECT_EQ(error_code(refused), "invalid_rollout_percent");
        EXPECT_EQ(refused.body.at("error").at("details").at(0).at("pointer"), "/percent");
    }
    EXPECT_EQ(api("POST", rollout, boost::json::object{}).status, 400);
    EXPECT_EQ(api("GET", rollout).status, 404) << "nothing was opened";

    const ApiResponse lowest = api("POST", rollout, boost::json::object{{"percent", 1}});
    ASSERT_EQ(lowest.status, 201) << lowest.raw.body;
    EXPECT_EQ(lowest.body.at("percent"), 1);
    EXPECT_EQ(lowest.body.at("from_version"), "1.1");
    const ApiResponse highest = api("POST", rollout, boost::json::object{{"percent", 99}});
    ASSERT_EQ(highest.status, 200) << highest.raw.body;
    EXPECT_EQ(highest.body.at("percent"), 99);
    EXPECT_EQ(api("POST", rollout, boost::json::object{{"percent", 100}}).status, 422);
    EXPECT_EQ(api("GET", rollout).body.at("percent"), 99) << "a refused change changes nothing";
    // Publishing into a rollout keeps the same bounds, and a refused publish mints nothing.
    for (const int percent : {0, 100}) {
        const ApiResponse refused = api("POST", "/api/v1/engines/bounds/versions",
                                        boost::json::object{{"rollout_percent", percent}});
        EXPECT_EQ(refused.status, 422) << refused.raw.body;
        EXPECT_EQ(error_code(refused), "invalid_rollout_percent");
        EXPECT_EQ(refused.body.at("error").at("details").at(0).at("pointer"), "/rollout_percent");
    }
    EXPECT_EQ(api("GET", "/api/v1/engines/bounds/versions").body.at("data").as_array().size(), 3u);

    // Only the newest minor rolls out; the first of a major has nothing to share runs with.
    const ApiResponse older = api("POST", "/api/v1/engines/bounds/versions/1.1/rollout",
                                  boost::json::object{{"percent", 10}});
    EXPECT_EQ(older.status, 409);
    EXPECT_EQ(error_code(older), "rollout_not_newest");
    engine_with_minors("single", 0);
    const ApiResponse first = api("POST", "/api/v1/engines/single/versions/1.0/rollout",
                                  boost::json::object{{"percent", 10}});
    EXPECT_EQ(first.status, 409);
    EXPECT_EQ(error_code(first), "rollout_without_previous");
    EXPECT_EQ(api("POST", "/api/v1/engines/bounds/versions/1.9/rollout",
                  boost::json::object{{"percent", 10}})
                  .status,
              404);
    EXPECT_EQ(api("POST", "/api/v1/engines/bounds/versions/1.x/rollout",
                  boost::json::object{{"percent", 10}})
                  .status,
              400);
    const ApiResponse none = api("POST", "/api/v1/engines/single/versions/1.0/rollout/promote");
    EXPECT_EQ(none.status, 409);
    EXPECT_EQ(error_code(none), "no_open_rollout");
    // A built-in engine is read-only to every key.
    EXPECT_EQ(api("POST", "/api/v1/engines/default/versions/1.0/rollout",
                  boost::json::object{{"percent", 10}})
                  .status,
              403);
}

TEST_F(RolloutTest, ATestKeyCanReadARolloutButNotChangeIt) {
    engine_with_minors("sandboxed", 1);
    const std::string rollout = "/api/v1/engines/sandboxed/versions/1.1/rollout";
    const ApiResponse opened =
        api("POST", rollout, boost::json::object{{"percent", 10}}, test_admin_);
    EXPECT_EQ(opened.status, 403) << opened.raw.body;
    EXPECT_EQ(error_code(opened), "forbidden");
    EXPECT_NE(std::string(opened.body.at("error").at("message").as_string()).find("live key"),
              std::string::npos);
    ASSERT_EQ(api("POST", rollout, boost::json::object{{"percent", 10}}).status, 201);
    EXPECT_EQ(api("POST", rollout, boost::json::object{{"percent", 50}}, test_admin_).status, 403);
    EXPECT_EQ(api("POST", rollout + "/promote", nullptr, test_admin_).status, 403);
    EXPECT_EQ(api("POST", rollout + "/abort", nullptr, test_admin_).status, 403);
    const ApiResponse read = api("GET", rollout, nullptr, test_admin_);
    EXPECT_EQ(read.status, 200);
    EXPECT_EQ(read.body.at("state"), "open");
    EXPECT_EQ(read.body.at("percent"), 10);
}

// The acceptance figure on the resolver every submission goes through: across 2,000 run ids, a
// rollout at 10 % gives the new minor to 8–12 % of them; closed, it gives it to all or none.
TEST(RolloutShare, TenPercentOf2000RunIdsGetTheNewMinor) {
    std::vector<store::ReleaseRecord> releases(2);
    releases[0].minor = 3;
    releases[1].minor = 4;
    store::RolloutRecord rollout;
    rollout.from_minor = 3;
    rollout.to_minor = 4;
    rollout.percent = 10;
    std::vector<store::RolloutRecord> rollouts{rollout};

    auto count_new = [&] {
        int count = 0;
        for (int i = 0; i < 2000; ++i) {
            const std::string run_id = "run_" + std::to_string(i) + "-canary";
            const auto choice = engines::choose_in_range(releases, rollouts, 1, run_id);
            if (choice.release->minor == 4) ++count;
        }
        return count;
    };
    const int open = count_new();
    EXPECT_GE(open, 160);
    EXPECT_LE(open, 240);
    // Without a run id (the contract, an environment's pin check): the previous minor.
    EXPECT_EQ(engines::choose_in_range(releases, rollouts, 1, std::nullopt).release->minor, 3);

    rollouts[0].state = "aborted";
    EXPECT_EQ(count_new(), 0);
    rollouts[0].state = "promoted";
    EXPECT_EQ(count_new(), 2000);
    rollouts.clear();
    EXPECT_EQ(count_new(), 2000) << "without a rollout, 1.x is the newest minor";
}

}  // namespace
}  // namespace engined::testing
