// Safe changes for operators, over HTTP on a real server: validation that runs the scorecard's
// hooks as a run does, the configuration's ETag and If-Match, publish plans and the reviewed
// configuration hash, and production changes reserved to live keys.
#include "test_server.hpp"

#include "common/crypto.hpp"
#include "common/json_text.hpp"
#include "common/time.hpp"
#include "store/store.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <thread>

namespace engined::testing {
namespace {

class SafeChangesTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        server_ = new TestServer();
        live_ = server_->create_key("safeco", "live", {"runs:write", "runs:read", "engines:admin"});
        test_admin_ =
            server_->create_key("safeco", "test", {"runs:write", "runs:read", "engines:admin"});
        http::Client client = server_->client();
        const ApiResponse created =
            call(client, "POST", "/api/v1/engines", live_,
                 boost::json::serialize(boost::json::object{
                     {"slug", "home"}, {"label", "Home"}, {"engine_type", "placement"}}));
        ASSERT_EQ(created.status, 201) << created.raw.body;
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

    boost::json::object config_answer() {
        const ApiResponse response = api("GET", "/api/v1/engines/home/config");
        EXPECT_EQ(response.status, 200) << response.raw.body;
        return response.body.as_object();
    }
    boost::json::object current_config() { return config_answer().at("config").as_object(); }
    std::string current_hash() {
        return std::string(config_answer().at("config_hash").as_string());
    }

    boost::json::object validate(const boost::json::object& config) {
        const ApiResponse verdict = api("POST", "/api/v1/engines/home/config/validate",
                                        boost::json::object{{"config", config}});
        EXPECT_EQ(verdict.status, 200) << verdict.raw.body;
        return verdict.body.as_object();
    }

    // A PUT with an If-Match header, which call() does not send.
    http::ClientResponse put_if_match(const boost::json::object& config,
                                      const std::string& if_match) {
        return client_.request("PUT", "/api/v1/engines/home/config",
                               boost::json::serialize(boost::json::object{{"config", config}}),
                               {{"Authorization", "Bearer " + live_}, {"If-Match", if_match}});
    }

    static TestServer* server_;
    static std::string live_;
    static std::string test_admin_;
    http::Client client_ = server_->client();
};

TestServer* SafeChangesTest::server_ = nullptr;
std::string SafeChangesTest::live_;
std::string SafeChangesTest::test_admin_;

bool has_error(const boost::json::object& verdict, const std::string& path_prefix,
               const std::string& words, const char* list = "errors") {
    const auto& errors = verdict.at(list).as_array();
    return std::any_of(errors.begin(), errors.end(), [&](const boost::json::value& error) {
        const std::string path(error.at("path").as_string());
        const std::string message(error.at("message").as_string());
        return path.rfind(path_prefix, 0) == 0 && message.find(words) != std::string::npos;
    });
}

// An enabled Lua dimension `loyalty`, with a configured weight of 0 in every profile.
boost::json::object with_loyalty_dimension(boost::json::object config, bool scored) {
    config["scoring_dimensions"].as_array().push_back(
        {{"key", "loyalty"}, {"label", "Loyalty"}, {"method", "lua"}, {"enabled", true}});
    for (auto& profile : config["appetite_weight_profiles"].as_array()) {
        profile.as_object()["weights"].as_object()["loyalty"] = 0;
    }
    if (scored) {
        config["lua_source"] = std::string(config.at("lua_source").as_string()) +
                               "\nfunction score_loyalty(offering, input)\n  return 3\nend\n";
    }
    return config;
}

// A breaking change: the input gains a required field.
void require_broker_id(boost::json::object& config) {
    auto& input =
        config["request_schema"].as_object()["definitions"].as_object()["input"].as_object();
    input["properties"].as_object()["broker_id"] = {{"type", "string"}};
    input["required"].as_array().push_back("broker_id");
}

std::string header_value(const http::ClientResponse& response, const std::string& name) {
    for (const auto& [key, value] : response.headers) {
        if (key.size() == name.size() &&
            std::equal(key.begin(), key.end(), name.begin(),
                       [](char a, char b) { return std::tolower(a) == std::tolower(b); })) {
            return value;
        }
    }
    return {};
}

TEST_F(SafeChangesTest, ALuaDimensionTheScorecardsWeightsLeaveOutIsRefusedBeforeAnyRun) {
    const boost::json::object config = with_loyalty_dimension(current_config(), true);
    const boost::json::object verdict = validate(config);
    EXPECT_FALSE(verdict.at("valid").as_bool()) << boost::json::serialize(verdict);
    EXPECT_TRUE(has_error(verdict, "/lua_source", "no weight for enabled dimension 'loyalty'"))
        << boost::json::serialize(verdict);
    EXPECT_TRUE(has_error(verdict, "/lua_source", "invalid_weights"))
        << boost::json::serialize(verdict);

    const std::string before = current_hash();
    const ApiResponse put =
        api("PUT", "/api/v1/engines/home/config", boost::json::object{{"config", config}});
    EXPECT_EQ(put.status, 422) << put.raw.body;
    EXPECT_EQ(put.body.at("error").at("code"), "invalid_config");
    EXPECT_EQ(current_hash(), before);
}

TEST_F(SafeChangesTest, AnEnabledLuaDimensionWithoutItsScoreFunctionIsAnError) {
    const boost::json::object verdict = validate(with_loyalty_dimension(current_config(), false));
    EXPECT_FALSE(verdict.at("valid").as_bool());
    EXPECT_TRUE(has_error(verdict, "/scoring_dimensions/", "no score_loyalty function"))
        << boost::json::serialize(verdict);
}

TEST_F(SafeChangesTest, AWeightsHookThatRaisesIsRefusedNamingTheBucket) {
    boost::json::object config = current_config();
    config["lua_source"] = std::string(config.at("lua_source").as_string()) +
                           "\nfunction weights(bucket, input)\n  return input.address.state == "
                           "'TX' and {} or {}\nend\n"
                           "function self_test() return true end\n";
    const boost::json::object verdict = validate(config);
    EXPECT_FALSE(verdict.at("valid").as_bool());
    const std::string bucket(config.at("appetite_weight_profiles").at(0).at("bucket").as_string());
    EXPECT_TRUE(has_error(verdict, "/lua_source", "weights(\"" + bucket + "\", {}) failed: "))
        << boost::json::serialize(verdict);
}

TEST_F(SafeChangesTest, AFailingSelfTestSaysWhatItReturned) {
    boost::json::object config = current_config();
    config["lua_source"] =
        std::string(config.at("lua_source").as_string()) +
        "\nfunction self_test()\n  return \"bucket balanced sums to 0.9\"\nend\n";
    const boost::json::object verdict = validate(config);
    EXPECT_FALSE(verdict.at("valid").as_bool());
    EXPECT_TRUE(has_error(verdict, "/lua_source", "returned \"bucket balanced sums to 0.9\""))
        << boost::json::serialize(verdict);
}

TEST_F(SafeChangesTest, AnExampleRequestThatViolatesTheRequestSchemaIsAnError) {
    boost::json::object config = current_config();
    // A breaking change the example was not updated for: a new required field.
    require_broker_id(config);
    boost::json::object verdict = validate(config);
    EXPECT_FALSE(verdict.at("valid").as_bool());
    EXPECT_TRUE(has_error(verdict, "/example_request", "the example does not match request_schema"))
        << boost::json::serialize(verdict);

    config["example_request"].as_object()["input"].as_object()["broker_id"] = "b-17";
    verdict = validate(config);
    EXPECT_FALSE(has_error(verdict, "/example_request", "")) << boost::json::serialize(verdict);
}

TEST_F(SafeChangesTest, AnExampleResponseThatViolatesTheResponseSchemaIsAnError) {
    boost::json::object config = current_config();
    config["example_response"].as_object()["status"] = 17;
    const boost::json::object verdict = validate(config);
    EXPECT_FALSE(verdict.at("valid").as_bool());
    EXPECT_TRUE(has_error(verdict, "/example_response/status", "response_schema"))
        << boost::json::serialize(verdict);
}

TEST_F(SafeChangesTest, AStoredConfigurationThatFailsTodaysChecksIsNeitherPlannedNorPublished) {
    // Stored by an older server, which did not check examples: the example lacks a required field.
    ASSERT_EQ(api("POST", "/api/v1/engines",
                  boost::json::object{
                      {"slug", "legacy"}, {"label", "Legacy"}, {"engine_type", "placement"}})
                  .status,
              201);
    boost::json::object config = current_config();
    require_broker_id(config);
    const std::string config_json = canonical_json(config);
    ASSERT_TRUE(server_->app().store().update_engine_config("safeco", "legacy",
                                                            sha256_hex(config_json), config_json,
                                                            "api_key:older-server", now_unix_ms()));
    for (const char* target :
         {"/api/v1/engines/legacy/versions/plan", "/api/v1/engines/legacy/versions"}) {
        const ApiResponse refused = api("POST", target, boost::json::object{});
        EXPECT_EQ(refused.status, 422) << target << refused.raw.body;
        EXPECT_EQ(refused.body.at("error").at("code"), "invalid_config");
        EXPECT_NE(refused.raw.body.find("/example_request"), std::string::npos) << refused.raw.body;
    }
    EXPECT_TRUE(api("GET", "/api/v1/engines/legacy/versions").body.at("data").as_array().empty());
}

TEST_F(SafeChangesTest, ConfiguredWeightsTheScorecardOverridesWarnAndTheContractShowsWhatRunsUse) {
    // The shipped scorecard's weights() decides every bucket's weights: editing the profile
    // changes nothing a run does, and validation says so.
    boost::json::object config = current_config();
    auto& first = config["appetite_weight_profiles"].as_array()[0].as_object();
    const std::string bucket(first.at("bucket").as_string());
    auto& weights = first["weights"].as_object();
    for (auto& [key, weight] : weights) weight = 0.25;
    const boost::json::object verdict = validate(config);
    EXPECT_TRUE(verdict.at("valid").as_bool()) << boost::json::serialize(verdict);
    EXPECT_TRUE(has_error(verdict, "/appetite_weight_profiles/0/weights",
                          "overrides these weights for bucket '" + bucket + "'", "warnings"))
        << boost::json::serialize(verdict);

    const ApiResponse contract = api("GET", "/api/v1/engines/home/contract");
    ASSERT_EQ(contract.status, 200);
    for (const auto& profile : contract.body.at("appetite_weight_profiles").as_array()) {
        EXPECT_EQ(profile.at("weights_source"), "lua") << boost::json::serialize(profile);
    }
}

TEST_F(SafeChangesTest, ConfigurationCarriesItsHashAsETagAndPutHonoursIfMatch) {
    const http::ClientResponse got = client_.request("GET", "/api/v1/engines/home/config", "",
                                                     {{"Authorization", "Bearer " + live_}});
    const std::string hash = current_hash();
    EXPECT_EQ(header_value(got, "ETag"), "\"" + hash + "\"");

    boost::json::object changed = current_config();
    changed["debug"] = true;
    const http::ClientResponse stale = put_if_match(changed, "\"0000\"");
    EXPECT_EQ(stale.status, 412) << stale.body;
    EXPECT_NE(stale.body.find("\"precondition_failed\""), std::string::npos) << stale.body;
    EXPECT_EQ(current_hash(), hash);

    const http::ClientResponse fresh = put_if_match(changed, "\"" + hash + "\"");
    EXPECT_EQ(fresh.status, 200) << fresh.body;
    EXPECT_NE(current_hash(), hash);
    // The old tag is now stale: a second writer holding it is refused.
    EXPECT_EQ(put_if_match(current_config(), "\"" + hash + "\"").status, 412);
    changed["debug"] = false;
    EXPECT_EQ(put_if_match(changed, "*").status, 200);
}

TEST_F(SafeChangesTest, PlanShowsTheVersionReasonsAndDiffAndPublishesOnlyTheReviewedConfiguration) {
    ApiResponse first = api("POST", "/api/v1/engines/home/versions",
                            boost::json::object{{"config_hash", current_hash()}});
    ASSERT_TRUE(first.status == 201 || first.status == 200) << first.raw.body;
    const std::string base(first.body.at("version").as_string());

    ApiResponse plan = api("POST", "/api/v1/engines/home/versions/plan");
    ASSERT_EQ(plan.status, 200) << plan.raw.body;
    EXPECT_TRUE(plan.body.at("already_released").as_bool());
    EXPECT_TRUE(plan.body.at("diff").at("changes").as_array().empty());

    // A breaking change: the plan names the next major and why, and what changed.
    boost::json::object config = current_config();
    require_broker_id(config);
    config["example_request"].as_object()["input"].as_object()["broker_id"] = "b-17";
    ASSERT_EQ(
        api("PUT", "/api/v1/engines/home/config", boost::json::object{{"config", config}}).status,
        200);
    const std::string reviewed = current_hash();

    plan = api("POST", "/api/v1/engines/home/versions/plan", nullptr, test_admin_);
    ASSERT_EQ(plan.status, 200) << plan.raw.body;
    const int base_major = std::stoi(base.substr(0, base.find('.')));
    EXPECT_EQ(plan.body.at("version"), boost::json::value(std::to_string(base_major + 1) + ".0"));
    EXPECT_EQ(plan.body.at("bump"), "major");
    EXPECT_EQ(plan.body.at("base_version"), boost::json::value(base));
    EXPECT_EQ(plan.body.at("config_hash"), boost::json::value(reviewed));
    EXPECT_FALSE(plan.body.at("reasons").as_array().empty());
    bool saw_required = false;
    for (const auto& change : plan.body.at("diff").at("changes").as_array()) {
        if (change.at("section") == "request_schema" &&
            change.at("pointer") == "/request_schema/definitions/input/properties/broker_id") {
            saw_required = change.at("change") == "added";
        }
    }
    EXPECT_TRUE(saw_required) << boost::json::serialize(plan.body.at("diff"));
    // Planning mints nothing.
    const ApiResponse listed = api("GET", "/api/v1/engines/home/versions");
    EXPECT_EQ(listed.body.at("data").as_array().front().at("version"), boost::json::value(base));

    // Someone changes the configuration after the review: publishing the reviewed hash is refused.
    config["debug"] = true;
    ASSERT_EQ(
        api("PUT", "/api/v1/engines/home/config", boost::json::object{{"config", config}}).status,
        200);
    const ApiResponse refused = api("POST", "/api/v1/engines/home/versions",
                                    boost::json::object{{"config_hash", reviewed}});
    EXPECT_EQ(refused.status, 412) << refused.raw.body;
    EXPECT_EQ(refused.body.at("error").at("code"), "precondition_failed");
    EXPECT_EQ(api("GET", "/api/v1/engines/home/versions")
                  .body.at("data")
                  .as_array()
                  .front()
                  .at("version"),
              boost::json::value(base));

    const ApiResponse published = api("POST", "/api/v1/engines/home/versions",
                                      boost::json::object{{"config_hash", current_hash()}});
    EXPECT_EQ(published.status, 201) << published.raw.body;
    EXPECT_EQ(published.body.at("version"),
              boost::json::value(std::to_string(base_major + 1) + ".0"));
}

TEST_F(SafeChangesTest, ATestKeyCannotAlterWhatAnyRunExecutes) {
    const std::string before = current_hash();
    boost::json::object changed = current_config();
    changed["debug"] = !(changed.contains("debug") && changed.at("debug").as_bool());

    const ApiResponse put = api("PUT", "/api/v1/engines/home/config",
                                boost::json::object{{"config", changed}}, test_admin_);
    EXPECT_EQ(put.status, 403) << put.raw.body;
    EXPECT_EQ(put.body.at("error").at("code"), "forbidden");
    EXPECT_NE(std::string(put.body.at("error").at("message").as_string()).find("live key"),
              std::string::npos);
    EXPECT_EQ(
        api("POST", "/api/v1/engines/home/versions", boost::json::object{}, test_admin_).status,
        403);
    EXPECT_EQ(api("POST", "/api/v1/engines/home/archive", nullptr, test_admin_).status, 403);
    EXPECT_EQ(current_hash(), before);
    EXPECT_EQ(api("GET", "/api/v1/engines/home", nullptr, test_admin_).body.at("status"), "active");

    // Reading, validating and planning stay open to the sandbox.
    EXPECT_EQ(api("GET", "/api/v1/engines/home/config", nullptr, test_admin_).status, 200);
    const ApiResponse verdict = api("POST", "/api/v1/engines/home/config/validate",
                                    boost::json::object{{"config", changed}}, test_admin_);
    EXPECT_EQ(verdict.status, 200);
    EXPECT_TRUE(verdict.body.at("valid").as_bool()) << verdict.raw.body;
    EXPECT_EQ(api("POST", "/api/v1/engines/home/versions/plan", nullptr, test_admin_).status, 200);
}

// Recorded runs of an engine of its own, previewed under candidate configurations.
class ConfigPreviewTest : public SafeChangesTest {
protected:
    static constexpr int kRecordedRuns = 30;

    static void SetUpTestSuite() {
        SafeChangesTest::SetUpTestSuite();
        http::Client client = server_->client();
        ASSERT_EQ(call(client, "POST", "/api/v1/engines", live_,
                       boost::json::serialize(boost::json::object{
                           {"slug", "ranker"}, {"label", "Ranker"}, {"engine_type", "placement"}}))
                      .status,
                  201);
        const std::string body = read_text(golden_dir() / "brokerage_tx_multicarrier.input.json");
        std::vector<std::string> ids;
        for (int i = 0; i < kRecordedRuns; ++i) {
            const ApiResponse accepted =
                call(client, "POST", "/api/v1/engines/ranker/runs", live_, body);
            ASSERT_EQ(accepted.status, 202) << accepted.raw.body;
            ids.emplace_back(accepted.body.at("run_id").as_string());
        }
        for (const auto& id : ids)
            ASSERT_EQ(wait_for_run(client, live_, id, 60).at("status"), "completed");
        first_run_ = ids.front();
    }

    ApiResponse preview(const boost::json::object& body, const std::string& key = live_) {
        return api("POST", "/api/v1/engines/ranker/config/preview", body, key);
    }

    // The ranker's configuration with every bucket weighing only `dimension`.
    boost::json::object weighing_only(const std::string& dimension) {
        const ApiResponse got = api("GET", "/api/v1/engines/ranker/config");
        boost::json::object config = got.body.at("config").as_object();
        config["lua_source"] =
            std::string(config.at("lua_source").as_string()) +
            "\nfunction weights(bucket, input)\n  local only = {pricing_competitiveness = 0, "
            "coverage_completeness = 0, carrier_quality = 0, simplicity = 0}\n  only." +
            dimension + " = 1\n  return only\nend\n";
        return config;
    }

    // Polls a preview job until it is no longer running (the machine may be loaded: up to 60 s).
    boost::json::object poll_job(const std::string& job_id) {
        for (int attempt = 0; attempt < 600; ++attempt) {
            const ApiResponse polled =
                api("GET", "/api/v1/engines/ranker/config/preview/" + job_id);
            EXPECT_EQ(polled.status, 200) << polled.raw.body;
            if (polled.status != 200 || polled.body.at("status") != "running")
                return polled.body.as_object();
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        return {};
    }

    static std::string first_run_;
};

std::string ConfigPreviewTest::first_run_;

TEST_F(ConfigPreviewTest, TheCurrentConfigurationChangesNothing) {
    const ApiResponse answer = preview({});
    ASSERT_EQ(answer.status, 200) << answer.raw.body;
    const auto& summary = answer.body.at("summary");
    EXPECT_EQ(summary.at("runs"), kRecordedRuns);
    EXPECT_EQ(answer.body.at("data").as_array().size(), static_cast<std::size_t>(kRecordedRuns));
    EXPECT_EQ(summary.at("top1_changed"), 0);
    EXPECT_EQ(summary.at("top1_change_share").to_number<double>(), 0.0);
    EXPECT_EQ(summary.at("runs_changed"), 0);
    EXPECT_EQ(summary.at("newly_failing"), 0);
    EXPECT_EQ(summary.at("mean_kendall_tau").to_number<double>(), 1.0);
    for (const auto& run : answer.body.at("data").as_array()) {
        EXPECT_EQ(run.at("solutions_gained"), 0);
        EXPECT_EQ(run.at("solutions_lost"), 0);
        EXPECT_EQ(run.at("overall_level_delta").to_number<double>(), 0.0);
    }
}

TEST_F(ConfigPreviewTest, AWeightChangeMovesTheTopSolutionAndStoresNothing) {
    const ApiResponse before = api("GET", "/api/v1/runs/" + first_run_);
    const std::string hash_before(
        api("GET", "/api/v1/engines/ranker/config").body.at("config_hash").as_string());

    // The recorded request's best package is the cheapest; weighing carrier quality alone, a
    // package of better-rated carriers comes first, and scores better on that single dimension.
    const ApiResponse answer =
        preview({{"config", weighing_only("carrier_quality")}, {"runs", 10}});
    ASSERT_EQ(answer.status, 200) << answer.raw.body;
    const auto& summary = answer.body.at("summary");
    EXPECT_EQ(summary.at("runs"), 10);
    EXPECT_EQ(summary.at("top1_change_share").to_number<double>(), 1.0)
        << boost::json::serialize(summary);
    EXPECT_EQ(summary.at("most_changed").as_array().size(), 10u);
    for (const auto& run : answer.body.at("data").as_array()) {
        EXPECT_EQ(run.at("status_after"), "completed");
        EXPECT_TRUE(run.at("top1_changed").as_bool());
        EXPECT_LT(run.at("overall_level_delta").to_number<double>(), 0.0)
            << boost::json::serialize(run);
        EXPECT_LT(run.at("kendall_tau").to_number<double>(), 1.0);
    }

    // Nothing written: the run and the configuration are as they were.
    const ApiResponse after = api("GET", "/api/v1/runs/" + first_run_);
    EXPECT_EQ(after.body, before.body);
    EXPECT_EQ(api("GET", "/api/v1/engines/ranker/config").body.at("config_hash"),
              boost::json::value(hash_before));
}

TEST_F(ConfigPreviewTest, TheSampleIsTheCallersEnvironmentAndBounded) {
    // The runs were recorded by live keys: a test key's preview has none to re-execute.
    const ApiResponse sandbox = preview({}, test_admin_);
    ASSERT_EQ(sandbox.status, 200) << sandbox.raw.body;
    EXPECT_EQ(sandbox.body.at("summary").at("runs"), 0);

    EXPECT_EQ(preview({{"runs", 200}}).status, 200);
    for (const boost::json::value& bad :
         {boost::json::value(0), boost::json::value(1001), boost::json::value("ten")}) {
        const ApiResponse refused = preview({{"runs", bad}});
        EXPECT_EQ(refused.status, 400) << refused.raw.body;
        EXPECT_EQ(refused.body.at("error").at("details").at(0).at("pointer"), "/runs");
    }
    EXPECT_EQ(preview({{"engine_version", "1.x"}}).status, 400);
    EXPECT_EQ(preview({{"since", "yesterday"}}).status, 400);
    // A window after every recorded run samples none.
    EXPECT_EQ(preview({{"since", "2999-01-01T00:00:00Z"}}).body.at("summary").at("runs"), 0);

    boost::json::object broken = weighing_only("pricing_competitiveness");
    broken["lua_source"] = "function (";
    EXPECT_EQ(preview({{"config", broken}}).status, 422);
}

TEST_F(ConfigPreviewTest, PublishRefusesPastTheTop1GateUnlessForced) {
    ASSERT_EQ(api("PUT", "/api/v1/engines/ranker/config",
                  boost::json::object{{"config", weighing_only("carrier_quality")}})
                  .status,
              200);
    const ApiResponse refused = api("POST", "/api/v1/engines/ranker/versions",
                                    boost::json::object{{"max_top1_change", 0.0}});
    EXPECT_EQ(refused.status, 422) << refused.raw.body;
    EXPECT_EQ(refused.body.at("error").at("code"), "preview_gate_exceeded");
    EXPECT_NE(
        std::string(refused.body.at("error").at("message").as_string()).find("top-1 solution"),
        std::string::npos);
    EXPECT_TRUE(api("GET", "/api/v1/engines/ranker/versions").body.at("data").as_array().empty());

    EXPECT_EQ(api("POST", "/api/v1/engines/ranker/versions",
                  boost::json::object{{"max_top1_change", 1.5}})
                  .status,
              400);
    const ApiResponse forced = api("POST", "/api/v1/engines/ranker/versions",
                                   boost::json::object{{"max_top1_change", 0.0}, {"force", true}});
    EXPECT_EQ(forced.status, 201) << forced.raw.body;
}

TEST_F(ConfigPreviewTest, MoreThan200RunsBecomeAJobToPollOfTheCallersEnvironment) {
    const ApiResponse started = preview({{"runs", 201}});
    ASSERT_EQ(started.status, 202) << started.raw.body;
    const std::string job_id(started.body.at("job_id").as_string());
    EXPECT_NE(header_value(started.raw, "Location")
                  .find("/api/v1/engines/ranker/config/preview/" + job_id),
              std::string::npos);
    const boost::json::object done = poll_job(job_id);
    ASSERT_EQ(done.at("status"), "completed") << boost::json::serialize(done);
    EXPECT_EQ(done.at("result").at("summary").at("runs"), kRecordedRuns);
    // Another environment's key does not see it.
    EXPECT_EQ(
        api("GET", "/api/v1/engines/ranker/config/preview/" + job_id, nullptr, test_admin_).status,
        404);
    EXPECT_EQ(api("GET", "/api/v1/engines/ranker/config/preview/preview_nope").status, 404);
    // A job's own bad candidate fails the job, saying why.
    boost::json::object broken = weighing_only("carrier_quality");
    broken["lua_source"] = "function (";
    const ApiResponse failing = preview({{"runs", 300}, {"config", broken}});
    ASSERT_EQ(failing.status, 202) << failing.raw.body;
    const boost::json::object failed = poll_job(std::string(failing.body.at("job_id").as_string()));
    EXPECT_EQ(failed.at("status"), "failed");
    EXPECT_EQ(failed.at("error").at("code"), "invalid_config");
}

// A server of its own, so that no other test's jobs are held.
class PreviewJobLimitTest : public ConfigPreviewTest {};

TEST_F(PreviewJobLimitTest, AtMost16PreviewJobsAreHeld) {
    // Finished jobs count until they expire: fill the registry to its bound, then one more is refused.
    int started = 0;
    ApiResponse answer;
    while ((answer = preview({{"runs", 1000}})).status == 202) {
        ++started;
        ASSERT_LE(started, 16);
        poll_job(std::string(answer.body.at("job_id").as_string()));
    }
    EXPECT_EQ(answer.status, 503) << answer.raw.body;
    EXPECT_NE(
        std::string(answer.body.at("error").at("message").as_string()).find("16 preview jobs"),
        std::string::npos);
    EXPECT_EQ(started, 16);
    // Up to 200 runs still answer at once.
    EXPECT_EQ(preview({{"runs", 200}}).status, 200);
}

}  // namespace
}  // namespace engined::testing
