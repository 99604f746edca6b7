// The runs API end to end: real server on loopback, real store, real plugin and Lua.
#include "test_server.hpp"

#include "store/store.hpp"

#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>

#include <chrono>

#include <regex>
#include <map>
#include <mutex>
#include <set>
#include <thread>

namespace engined::testing {
namespace {

class ApiTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        server_ = new TestServer();
        key_ = server_->create_key("acme");
    }
    static void TearDownTestSuite() {
        delete server_;
        server_ = nullptr;
    }

    ApiResponse submit(const std::string& body, const std::string& key = key_,
                       const std::string& engine = "default") {
        return call(client_, "POST", "/api/v1/engines/" + engine + "/runs", key, body);
    }

    boost::json::object run_fixture(const std::string& name) {
        const ApiResponse accepted = submit(read_text(golden_dir() / (name + ".input.json")));
        EXPECT_EQ(accepted.status, 202) << accepted.raw.body;
        return wait_for_run(client_, key_, std::string(accepted.body.at("run_id").as_string()));
    }

    static TestServer* server_;
    static std::string key_;
    http::Client client_ = server_->client();
};

TestServer* ApiTest::server_ = nullptr;
std::string ApiTest::key_;

const std::string kMinimalBody =
    R"({"input":{"coverage_types":["auto"],"address":{"state":"NY","zip_code":"11231"}},
        "offerings":[{"id":"o1","provider_name":"Acme","category":"auto",
                      "attributes":{"line_premium_annual":1000}}]})";

TEST_F(ApiTest, HealthNeedsNoKey) {
    const ApiResponse response = call(client_, "GET", "/health", "");
    EXPECT_EQ(response.status, 200);
    EXPECT_EQ(response.body, boost::json::parse(R"({"status":"ok"})"));
}

TEST_F(ApiTest, SubmitAnswers202WithLocationAndTheRunIsDurablyQueued) {
    const ApiResponse response = submit(kMinimalBody);
    ASSERT_EQ(response.status, 202) << response.raw.body;
    const std::string run_id(response.body.at("run_id").as_string());
    EXPECT_EQ(response.body.at("status").as_string(), "queued");
    EXPECT_EQ(response.raw.header("Location"), server_->origin() + "/api/v1/runs/" + run_id);
    const auto stored = server_->app().store().get_run(run_id);
    ASSERT_TRUE(stored.has_value());
    // A version-7 UUID: its first 48 bits are the millisecond the submit was received, so the
    // store's index of run ids grows at its end.
    EXPECT_TRUE(std::regex_match(
        run_id, std::regex("[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")))
        << run_id;
    const long long id_ms = std::stoll(run_id.substr(0, 8) + run_id.substr(9, 4), nullptr, 16);
    EXPECT_LE(id_ms, stored->created_at_ms);
    EXPECT_GT(id_ms, stored->created_at_ms - 1000);
}

TEST_F(ApiTest, EveryGoldenFixtureCompletes) {
    for (const char* name : {"auto_only_ny", "brokerage_tx_multicarrier",
                             "missing_required_lines_ny", "pure_bundle_ca", "quotes_only_oh"}) {
        const auto run = run_fixture(name);
        EXPECT_EQ(run.at("status").as_string(), "completed")
            << name << ": " << boost::json::serialize(run);
    }
}

TEST_F(ApiTest, RunObjectCarriesTheDocumentedFields) {
    const auto run = run_fixture("pure_bundle_ca");
    for (const char* field :
         {"run_id", "engine", "engine_version", "engine_version_pin", "status", "stage",
          "environment", "output", "solutions", "error", "error_details", "created_at",
          "started_at", "completed_at", "duration_ms"}) {
        EXPECT_TRUE(run.contains(field)) << field;
    }
    EXPECT_EQ(run.at("engine").as_string(), "default");
    EXPECT_EQ(run.at("environment").as_string(), "test");
    EXPECT_TRUE(run.at("engine_version").is_null());
    EXPECT_TRUE(run.at("created_at").as_string().ends_with("Z"));
    EXPECT_FALSE(run.at("solutions").as_array().empty());

    // Numbers read as people write them ("1.46"), not in exponent form ("1.46E0").
    const auto raw =
        client_.request("GET", "/api/v1/runs/" + std::string(run.at("run_id").as_string()), "",
                        {{"Authorization", "Bearer " + key_}});
    EXPECT_FALSE(std::regex_search(raw.body, std::regex(R"([:,\[]-?[0-9]+(\.[0-9]+)?[eE])")))
        << raw.body.substr(0, 400);
}

TEST_F(ApiTest, AutoOnlyNewYorkRanksProgressiveFirstUnderBalanced) {
    const auto run = run_fixture("auto_only_ny");
    ASSERT_EQ(run.at("status").as_string(), "completed");
    const auto& first = run.at("solutions").as_array().at(0).as_object();
    EXPECT_EQ(first.at("rank").to_number<int>(), 1);
    EXPECT_EQ(first.at("offerings").as_array().at(0).at("provider_name").as_string(),
              "Progressive");
    EXPECT_EQ(run.at("output").at("tolerance_bucket").as_string(), "balanced");
}

TEST_F(ApiTest, MissingRequiredLinesCompletesWithZeroSolutionsAndADiagnostic) {
    const auto run = run_fixture("missing_required_lines_ny");
    ASSERT_EQ(run.at("status").as_string(), "completed");
    EXPECT_TRUE(run.at("solutions").as_array().empty());
    const std::string diagnostic(run.at("output").at("diagnostic").as_string());
    EXPECT_NE(diagnostic.find("auto"), std::string::npos) << diagnostic;
    EXPECT_NE(diagnostic.find("umbrella"), std::string::npos) << diagnostic;
    EXPECT_EQ(run.at("output").at("solutions_count").to_number<int>(), 0);
}

// The reference's key fields: solutions[*].offerings[*].attributes.line_premium_annual, each line
// as submitted; output.top_label is the recommended solution's cluster label.
TEST_F(ApiTest, SolutionsKeepTheReferenceOfferingShape) {
    const auto submitted =
        boost::json::parse(read_text(golden_dir() / "brokerage_tx_multicarrier.input.json"));
    std::map<std::string, boost::json::value> by_id;
    for (const auto& offering : submitted.at("offerings").as_array()) {
        by_id[std::string(offering.at("id").as_string())] = offering;
    }
    const auto run = run_fixture("brokerage_tx_multicarrier");
    ASSERT_EQ(run.at("status").as_string(), "completed") << boost::json::serialize(run);
    const auto& solutions = run.at("solutions").as_array();
    ASSERT_FALSE(solutions.empty());
    for (const auto& solution : solutions) {
        for (const auto& offering : solution.at("offerings").as_array()) {
            EXPECT_EQ(offering, by_id.at(std::string(offering.at("id").as_string())));
            EXPECT_TRUE(offering.at("attributes").at("line_premium_annual").is_number());
            EXPECT_TRUE(offering.at("coverage").is_object());
        }
    }
    EXPECT_EQ(run.at("output").at("top_label").as_string(), "recommended");
    std::string carriers;
    for (const auto& provider : solutions.at(0).at("providers").as_array()) {
        carriers += (carriers.empty() ? "" : " + ") + std::string(provider.as_string());
    }
    EXPECT_EQ(run.at("output").at("top_carriers").as_string(), carriers);
}

TEST_F(ApiTest, RoutingFlagsFollowTheReference) {
    const auto routed = [&](const char* request_config) {
        auto body =
            boost::json::parse(read_text(golden_dir() / "brokerage_tx_multicarrier.input.json"))
                .as_object();
        body["input"].as_object()["request_config"] = boost::json::parse(request_config);
        const ApiResponse accepted = submit(boost::json::serialize(body));
        EXPECT_EQ(accepted.status, 202) << accepted.raw.body;
        return wait_for_run(client_, key_, std::string(accepted.body.at("run_id").as_string()));
    };
    const auto analysis_alone = routed(R"({"coverage_analysis": true})");
    EXPECT_EQ(analysis_alone.at("output").at("mode").as_string(), "dual");
    EXPECT_FALSE(analysis_alone.at("solutions").as_array().empty());
    const auto both_off = routed(R"({"coverage_analysis": false, "quote_matching": false})");
    EXPECT_EQ(both_off.at("status").as_string(), "completed") << boost::json::serialize(both_off);
    EXPECT_EQ(both_off.at("output").at("mode").as_string(), "quote_matching");
    EXPECT_FALSE(both_off.at("solutions").as_array().empty());
    const auto gap_only = routed(R"({"coverage_analysis": true, "quote_matching": false})");
    EXPECT_EQ(gap_only.at("output").at("mode").as_string(), "coverage_analysis");
    EXPECT_TRUE(gap_only.at("solutions").as_array().empty());
}

// The current configuration (release 2.0) needs input.address.state for quote matching; the
// frozen "1.x" releases still run without it.
TEST_F(ApiTest, QuoteMatchingWithoutStateIsRefusedUnlessPinnedToOneX) {
    auto pinned =
        boost::json::parse(read_text(golden_dir() / "missing_state_tx.input.json")).as_object();
    ASSERT_EQ(pinned.at("engine_version").as_string(), "1.x");
    auto unpinned = pinned;
    unpinned.erase("engine_version");

    const ApiResponse refused = submit(boost::json::serialize(unpinned));
    ASSERT_EQ(refused.status, 422) << refused.raw.body;
    EXPECT_EQ(refused.body.at("error").at("code").as_string(), "contract_violation");
    const auto& details = refused.body.at("error").at("details").as_array();
    ASSERT_EQ(details.size(), 1u) << refused.raw.body;
    EXPECT_EQ(details.at(0).at("pointer").as_string(), "/input/address/state");

    auto dual = unpinned;
    dual["input"].as_object()["request_config"] =
        boost::json::parse(R"({"coverage_analysis": true})");
    EXPECT_EQ(submit(boost::json::serialize(dual)).status, 422);
    auto gap_only = unpinned;
    gap_only["input"].as_object()["request_config"] =
        boost::json::parse(R"({"coverage_analysis": true, "quote_matching": false})");
    EXPECT_EQ(submit(boost::json::serialize(gap_only)).status, 202);
    EXPECT_EQ(call(client_, "GET", "/health", "").status, 200);

    const ApiResponse accepted = submit(boost::json::serialize(pinned));
    ASSERT_EQ(accepted.status, 202) << accepted.raw.body;
    const auto run =
        wait_for_run(client_, key_, std::string(accepted.body.at("run_id").as_string()));
    EXPECT_EQ(run.at("status").as_string(), "completed") << boost::json::serialize(run);
    EXPECT_EQ(run.at("engine_version").as_string(), "1.1");
    // 1.x keeps the response contract it was released with: the flattened line summary.
    const auto& pinned_line = run.at("solutions").as_array().at(0).at("offerings").as_array().at(0);
    EXPECT_TRUE(pinned_line.at("line_premium_annual").is_number())
        << boost::json::serialize(pinned_line);
    EXPECT_FALSE(pinned_line.as_object().contains("attributes"));

    auto in_texas = unpinned;
    in_texas["input"].as_object()["address"].as_object()["state"] = "TX";
    const ApiResponse current = submit(boost::json::serialize(in_texas));
    ASSERT_EQ(current.status, 202) << current.raw.body;
    const auto current_run =
        wait_for_run(client_, key_, std::string(current.body.at("run_id").as_string()));
    EXPECT_TRUE(current_run.at("engine_version").is_null());
    EXPECT_EQ(current_run.at("output").at("filter_reasons").at("excluded_state").to_number<int>(),
              1);
}

TEST_F(ApiTest, DefensibilityPacketExplainsTheRun) {
    const auto run = run_fixture("brokerage_tx_multicarrier");
    const std::string id(run.at("run_id").as_string());
    const ApiResponse packet =
        call(client_, "GET", "/api/v1/runs/" + id + "/defensibility-packet", key_);
    ASSERT_EQ(packet.status, 200) << packet.raw.body;
    const auto& body = packet.body.as_object();
    EXPECT_EQ(body.at("version").to_number<int>(), 1);
    EXPECT_EQ(body.at("run").at("run_id").as_string(), id);
    EXPECT_EQ(body.at("provenance_coverage").as_string(), "present");
    EXPECT_TRUE(body.at("model_calls").as_array().empty());
    EXPECT_TRUE(body.at("external_calls").as_array().empty());

    std::vector<std::string> stages;
    for (const auto& event : body.at("events").as_array()) {
        stages.push_back(std::string(event.at("stage").as_string()));
        if (event.as_object().contains("duration_ms")) {
            EXPECT_GE(event.at("duration_ms").to_number<double>(), 0.0);
        }
    }
    EXPECT_EQ(stages,
              (std::vector<std::string>{"VALIDATE", "FILTER", "ASSEMBLE", "EVALUATE", "RANK"}));

    std::map<std::string, std::string> reasons;  // dropped offering → reason
    for (const auto& item : body.at("provenance").at("dropped").as_array()) {
        if (item.as_object().contains("offering_id") && !item.as_object().contains("umbrella_id")) {
            reasons[std::string(item.at("offering_id").as_string())] =
                std::string(item.at("reason").as_string());
        }
    }
    EXPECT_EQ(reasons["ql_kemp_auto_001"], "quote_expired");
    EXPECT_EQ(reasons["ql_natw_auto_001"], "excluded_state");
    EXPECT_EQ(reasons["ql_neptune_flood_001"], "category_not_requested");
    EXPECT_EQ(body.at("provenance").at("weights_source").as_string(), "lua");
    const auto& results = body.at("provenance").at("results").as_array();
    ASSERT_EQ(results.size(), run.at("solutions").as_array().size());
    EXPECT_TRUE(results.at(0).at("dimensions").as_object().contains("pricing_competitiveness"));
    EXPECT_EQ(body.at("output"), run.at("output"));

    // The legacy audit URL serves the same packet; another organisation gets 404.
    const ApiResponse trace = call(client_, "GET", "/traces/" + id, key_);
    EXPECT_EQ(trace.body, packet.body);
    EXPECT_EQ(call(client_, "GET", "/traces/" + id, server_->create_key("nosy")).status, 404);
}

TEST_F(ApiTest, BadJsonIsInvalidRequest) {
    const ApiResponse response = submit(R"({"input": {)");
    EXPECT_EQ(response.status, 400);
    EXPECT_EQ(response.body.at("error").at("code").as_string(), "invalid_request");
    EXPECT_TRUE(response.body.at("error").at("details").is_array());
}

TEST_F(ApiTest, MissingInputIsInvalidRequestNamingTheField) {
    const ApiResponse response = submit(R"({"offerings": []})");
    EXPECT_EQ(response.status, 400);
    EXPECT_NE(std::string(response.body.at("error").at("message").as_string()).find("input"),
              std::string::npos);
}

TEST_F(ApiTest, ContractViolationListsEachFailureWithItsPointer) {
    const ApiResponse response = submit(
        R"({"input":{"coverage_types":["auto"],"address":{"state":"New York"},"appetite_bucket":"reckless"},
            "offerings":[{"id":"o1","category":"auto"},{"category":"auto"}]})");
    ASSERT_EQ(response.status, 422) << response.raw.body;
    EXPECT_EQ(response.body.at("error").at("code").as_string(), "contract_violation");
    std::set<std::string> pointers;
    for (const auto& detail : response.body.at("error").at("details").as_array()) {
        pointers.insert(std::string(detail.at("pointer").as_string()));
    }
    EXPECT_TRUE(pointers.count("/input/address/state")) << response.raw.body;
    EXPECT_TRUE(pointers.count("/input/appetite_bucket")) << response.raw.body;
    EXPECT_TRUE(pointers.count("/offerings/1/id")) << response.raw.body;
    const std::string message(response.body.at("error").at("message").as_string());
    EXPECT_NE(message.find(std::to_string(pointers.size()) + " problem(s)"), std::string::npos)
        << message;
}

TEST_F(ApiTest, NoKeyIsUnauthorized) {
    const ApiResponse response = submit(kMinimalBody, "");
    EXPECT_EQ(response.status, 401);
    EXPECT_EQ(response.body.at("error").at("code").as_string(), "unauthorized");
}

TEST_F(ApiTest, KeyIsAcceptedAsXApiKeyToo) {
    const auto raw =
        client_.request("GET", "/api/v1/engines/default/runs", "", {{"X-API-Key", key_}});
    EXPECT_EQ(raw.status, 200) << raw.body;
}

TEST_F(ApiTest, UnknownAndMalformedKeysAreUnauthorized) {
    EXPECT_EQ(submit(kMinimalBody, "nx_test_" + std::string(64, '0')).status, 401);
    EXPECT_EQ(submit(kMinimalBody, "sk_live_whatever").status, 401);
}

TEST_F(ApiTest, MissingScopeIsForbidden) {
    const std::string read_only = server_->create_key("acme", "test", {"runs:read"});
    const ApiResponse response = submit(kMinimalBody, read_only);
    EXPECT_EQ(response.status, 403);
    EXPECT_EQ(response.body.at("error").at("code").as_string(), "forbidden");
}

TEST_F(ApiTest, AnotherOrganisationOrEnvironmentGets404OnTheRun) {
    const ApiResponse accepted = submit(kMinimalBody);
    ASSERT_EQ(accepted.status, 202);
    const std::string run_id(accepted.body.at("run_id").as_string());
    const std::string other_org = server_->create_key("globex");
    const std::string live_key = server_->create_key("acme", "live");
    for (const std::string& key : {other_org, live_key}) {
        const ApiResponse response = call(client_, "GET", "/api/v1/runs/" + run_id, key);
        EXPECT_EQ(response.status, 404);
        EXPECT_EQ(response.body.at("error").at("code").as_string(), "not_found");
    }
    EXPECT_EQ(call(client_, "GET", "/api/v1/runs/" + run_id, key_).status, 200);
}

TEST_F(ApiTest, EngineScopedGetChecksTheEngine) {
    const ApiResponse accepted = submit(kMinimalBody);
    const std::string run_id(accepted.body.at("run_id").as_string());
    EXPECT_EQ(call(client_, "GET", "/api/v1/engines/default/runs/" + run_id, key_).status, 200);
    EXPECT_EQ(call(client_, "GET", "/api/v1/engines/entity-analysis/runs/" + run_id, key_).status,
              404);
    EXPECT_EQ(submit(kMinimalBody, key_, "no-such-engine").status, 404);
}

TEST_F(ApiTest, ListingIsNewestFirstWithCursorPaginationAndStatusFilter) {
    const std::string key = server_->create_key("pager");
    std::vector<std::string> submitted;
    for (int i = 0; i < 5; ++i) {
        const ApiResponse accepted = submit(kMinimalBody, key);
        submitted.push_back(std::string(accepted.body.at("run_id").as_string()));
    }
    for (const auto& id : submitted) wait_for_run(client_, key, id);
    std::vector<std::string> listed;
    std::string target = "/api/v1/engines/default/runs?limit=2";
    for (int page = 0; page < 5; ++page) {
        const ApiResponse response = call(client_, "GET", target, key);
        ASSERT_EQ(response.status, 200) << response.raw.body;
        for (const auto& run : response.body.at("data").as_array())
            listed.push_back(std::string(run.at("run_id").as_string()));
        if (!response.body.at("has_more").as_bool()) break;
        target = "/api/v1/engines/default/runs?limit=2&cursor=" +
                 std::string(response.body.at("next_cursor").as_string());
    }
    EXPECT_EQ(listed, std::vector<std::string>(submitted.rbegin(), submitted.rend()));

    const ApiResponse completed =
        call(client_, "GET", "/api/v1/engines/default/runs?status=completed&limit=100", key);
    EXPECT_EQ(completed.body.at("data").as_array().size(), 5u);
    const ApiResponse queued =
        call(client_, "GET", "/api/v1/engines/default/runs?status=queued", key);
    EXPECT_TRUE(queued.body.at("data").as_array().empty());
    EXPECT_EQ(call(client_, "GET", "/api/v1/engines/default/runs?status=done", key).status, 400);
    EXPECT_EQ(call(client_, "GET", "/api/v1/engines/default/runs?cursor=bogus", key).status, 400);
    EXPECT_EQ(call(client_, "GET", "/api/v1/engines/default/runs?limit=0", key).status, 400);
    EXPECT_EQ(call(client_, "GET", "/api/v1/engines/default/runs?limit=101", key).status, 400);
}

TEST_F(ApiTest, ListingFiltersByExactEngineVersion) {
    const std::string key = server_->create_key("version-filter");
    std::map<std::string, std::vector<std::string>> by_version;
    for (const char* pin : {"1.0", "2.0", "1.0", "1.x"}) {
        auto body = boost::json::parse(kMinimalBody).as_object();
        body["engine_version"] = pin;
        const ApiResponse accepted = submit(boost::json::serialize(body), key);
        ASSERT_EQ(accepted.status, 202) << accepted.raw.body;
        const auto run =
            wait_for_run(client_, key, std::string(accepted.body.at("run_id").as_string()));
        auto& newest_first = by_version[std::string(run.at("engine_version").as_string())];
        newest_first.insert(newest_first.begin(), std::string(run.at("run_id").as_string()));
    }
    ASSERT_EQ(by_version["1.0"].size(), 2u);
    for (const auto& [version, newest_first] : by_version) {
        for (const std::string status : {"", "&status=completed"}) {
            const ApiResponse listed =
                call(client_, "GET",
                     "/api/v1/engines/default/runs?engine_version=" + version + status, key);
            ASSERT_EQ(listed.status, 200) << listed.raw.body;
            std::vector<std::string> ids;
            for (const auto& run : listed.body.at("data").as_array())
                ids.push_back(std::string(run.at("run_id").as_string()));
            EXPECT_EQ(ids, newest_first) << version << status;
        }
    }
    const ApiResponse none =
        call(client_, "GET", "/api/v1/engines/default/runs?engine_version=9.9", key);
    ASSERT_EQ(none.status, 200);
    EXPECT_TRUE(none.body.at("data").as_array().empty());
    // A page of one: the cursor keeps the filter's rows only.
    const ApiResponse first =
        call(client_, "GET", "/api/v1/engines/default/runs?engine_version=1.0&limit=1", key);
    ASSERT_TRUE(first.body.at("has_more").as_bool());
    const ApiResponse second =
        call(client_, "GET",
             "/api/v1/engines/default/runs?engine_version=1.0&limit=1&cursor=" +
                 std::string(first.body.at("next_cursor").as_string()),
             key);
    EXPECT_EQ(second.body.at("data").at(0).at("run_id").as_string(), by_version["1.0"][1]);
    EXPECT_FALSE(second.body.at("has_more").as_bool());
    for (const char* bad : {"1.x", "1", "v1.0", "01.0", ""}) {
        const ApiResponse refused = call(
            client_, "GET", std::string("/api/v1/engines/default/runs?engine_version=") + bad, key);
        EXPECT_EQ(refused.status, 400) << bad;
        EXPECT_EQ(refused.body.at("error").at("code").as_string(), "invalid_request") << bad;
    }
}

TEST_F(ApiTest, MeDescribesTheCallingKeyWhateverItsScopes) {
    const std::string admin_only = server_->create_key("acme", "live", {"engines:admin"});
    const ApiResponse me = call(client_, "GET", "/api/v1/me", admin_only);
    ASSERT_EQ(me.status, 200) << me.raw.body;
    EXPECT_EQ(me.body.at("organization").as_string(), "acme");
    EXPECT_EQ(me.body.at("environment").as_string(), "live");
    EXPECT_EQ(me.body.at("scopes"), boost::json::parse(R"(["engines:admin"])"));
    EXPECT_TRUE(me.body.at("key_id").as_string().starts_with("key_")) << me.raw.body;
    const auto live = server_->app().store().find_environment("acme", "live");
    ASSERT_TRUE(live);
    EXPECT_EQ(me.body.at("environment_id").as_string(), live->id);
    EXPECT_EQ(me.body.as_object().size(), 5u) << me.raw.body;
    EXPECT_EQ(call(client_, "GET", "/api/v1/me", "").status, 401);
    const ApiResponse wrong = call(client_, "GET", "/api/v1/me", "nx_test_" + std::string(64, '0'));
    EXPECT_EQ(wrong.status, 401);
    EXPECT_EQ(wrong.body.at("error").at("code").as_string(), "unauthorized");
}

TEST_F(ApiTest, PinGrammarIsEnforcedAtSubmit) {
    for (const char* pin : {"1", "1.0.0", "v1.2", "x.1"}) {
        auto body = boost::json::parse(kMinimalBody).as_object();
        body["engine_version"] = pin;
        const ApiResponse response = submit(boost::json::serialize(body));
        EXPECT_EQ(response.status, 400) << pin;
        EXPECT_NE(std::string(response.body.at("error").at("message").as_string())
                      .find("^(0|[1-9]\\d*)\\.(0|[1-9]\\d*|x)$"),
                  std::string::npos)
            << response.raw.body;
    }
    auto body = boost::json::parse(kMinimalBody).as_object();
    body["engine_version"] = "9.x";
    const ApiResponse response = submit(boost::json::serialize(body));
    EXPECT_EQ(response.status, 422);
    EXPECT_EQ(response.body.at("error").at("code").as_string(), "unknown_engine_version");
}

TEST_F(ApiTest, DefaultEngineShipsReleasesOneZeroOneOneAndTwoZero) {
    const ApiResponse versions = call(client_, "GET", "/api/v1/engines/default/versions", key_);
    ASSERT_EQ(versions.status, 200) << versions.raw.body;
    std::vector<std::string> names;
    for (const auto& release : versions.body.at("data").as_array())
        names.push_back(std::string(release.at("version").as_string()));
    EXPECT_EQ(names, (std::vector<std::string>{"2.0", "1.1", "1.0"}));
    for (const auto& [pin, expected] :
         {std::pair{"1.x", "1.1"}, std::pair{"1.0", "1.0"}, std::pair{"2.x", "2.0"}}) {
        auto body =
            boost::json::parse(read_text(golden_dir() / "auto_only_ny.input.json")).as_object();
        body["engine_version"] = pin;
        const ApiResponse accepted = submit(boost::json::serialize(body));
        ASSERT_EQ(accepted.status, 202) << accepted.raw.body;
        const auto run =
            wait_for_run(client_, key_, std::string(accepted.body.at("run_id").as_string()));
        EXPECT_EQ(run.at("engine_version").as_string(), expected);
        EXPECT_EQ(run.at("status").as_string(), "completed");
        // The packet names the exact release by its content hash.
        const ApiResponse packet = call(
            client_, "GET",
            "/api/v1/runs/" + std::string(run.at("run_id").as_string()) + "/defensibility-packet",
            key_);
        const ApiResponse release =
            call(client_, "GET", std::string("/api/v1/engines/default/versions/") + expected, key_);
        EXPECT_EQ(packet.body.at("run").at("content_hash"), release.body.at("content_hash"));
    }
    // The built-in engine starts out exactly at its newest shipped release, a major one: unpinned
    // runs use the 2.0 contract.
    const ApiResponse current = call(client_, "GET", "/api/v1/engines/default/config", key_);
    const ApiResponse newest = call(client_, "GET", "/api/v1/engines/default/versions/2.0", key_);
    EXPECT_EQ(newest.body.at("bump").as_string(), "major");
    EXPECT_EQ(current.body.at("config"), newest.body.at("config"));
}

TEST_F(ApiTest, JobsApiRunsTheDefaultEngine) {
    const ApiResponse accepted = call(client_, "POST", "/api/v1/jobs", key_,
                                      read_text(golden_dir() / "auto_only_ny.input.json"));
    ASSERT_EQ(accepted.status, 202) << accepted.raw.body;
    const std::string id(accepted.body.at("job_id").as_string());
    EXPECT_EQ(accepted.raw.header("Location"), server_->origin() + "/api/v1/jobs/" + id);
    wait_for_run(client_, key_, id);
    const ApiResponse job = call(client_, "GET", "/api/v1/jobs/" + id, key_);
    ASSERT_EQ(job.status, 200);
    EXPECT_EQ(job.body.at("engine").as_string(), "default");
    EXPECT_EQ(job.body.at("status").as_string(), "completed");
}

// The reference's polling loop stops only on completed or failed: through the legacy jobs
// routes a degraded run (a Lua dimension that errored and was left out) reads completed, with
// the warning in output.degradation_reason.
TEST_F(ApiTest, ADegradedRunReadsCompletedOnTheLegacyJobsRoutes) {
    const std::string admin =
        server_->create_key("acme", "live", {"runs:write", "runs:read", "engines:admin"});
    const ApiResponse copied = call(client_, "POST", "/api/v1/engines", admin,
                                    R"({"slug": "household-rules", "copy_from": "default"})");
    ASSERT_EQ(copied.status, 201) << copied.raw.body;
    auto config = call(client_, "GET", "/api/v1/engines/household-rules/config", admin)
                      .body.at("config")
                      .as_object();
    config["scoring_dimensions"].as_array().push_back({{"key", "household_fit"},
                                                       {"label", "Household fit"},
                                                       {"method", "lua"},
                                                       {"enabled", true}});
    for (auto& profile : config["appetite_weight_profiles"].as_array()) {
        profile.at("weights").as_object()["household_fit"] = 0.2;
    }
    config["lua_source"] =
        R"(function score_household_fit(package, ctx) error("no household data") end)";
    const ApiResponse put = call(client_, "PUT", "/api/v1/engines/household-rules/config", admin,
                                 boost::json::serialize(boost::json::object{{"config", config}}));
    ASSERT_EQ(put.status, 200) << put.raw.body;

    const ApiResponse accepted = call(client_, "POST", "/api/v1/engines/household-rules/runs", key_,
                                      read_text(golden_dir() / "auto_only_ny.input.json"));
    ASSERT_EQ(accepted.status, 202) << accepted.raw.body;
    const std::string id(accepted.body.at("run_id").as_string());
    const auto run = wait_for_run(client_, key_, id);
    ASSERT_EQ(run.at("status"), "degraded") << boost::json::serialize(run);

    // The reference's client: at most 10 polls, until completed or failed.
    const std::set<std::string> reference_statuses{"queued", "processing", "completed", "failed"};
    ApiResponse job;
    for (int attempt = 0; attempt < 10; ++attempt) {
        job = call(client_, "GET", "/api/v1/jobs/" + id, key_);
        ASSERT_EQ(job.status, 200) << job.raw.body;
        ASSERT_TRUE(reference_statuses.contains(std::string(job.body.at("status").as_string())))
            << job.raw.body;
        if (job.body.at("status") == "completed" || job.body.at("status") == "failed") break;
    }
    EXPECT_EQ(job.body.at("status"), "completed");
    EXPECT_EQ(job.body.at("output").at("degradation_reason"),
              run.at("output").at("degradation_reason"));
    EXPECT_NE(std::string(job.body.at("output").at("degradation_reason").as_string())
                  .find("household_fit"),
              std::string::npos);
    EXPECT_EQ(job.body.at("solutions"), run.at("solutions"));
    // The engines API keeps the fifth status.
    EXPECT_EQ(call(client_, "GET", "/api/v1/runs/" + id, key_).body.at("status"), "degraded");
}

TEST_F(ApiTest, RequestIdIsEchoedOrGenerated) {
    const auto echoed = client_.request("GET", "/health", "", {{"X-Request-Id", "trace-42"}});
    EXPECT_EQ(echoed.header("X-Request-Id"), "trace-42");
    const auto first = client_.request("GET", "/health");
    const auto second = client_.request("GET", "/health");
    EXPECT_FALSE(first.header("X-Request-Id").empty());
    EXPECT_NE(first.header("X-Request-Id"), second.header("X-Request-Id"));
}

TEST_F(ApiTest, UnknownRouteIs404AndWrongMethodIs405InTheEnvelope) {
    const ApiResponse missing = call(client_, "GET", "/api/v1/nothing-here", key_);
    EXPECT_EQ(missing.status, 404);
    EXPECT_EQ(missing.body.at("error").at("code").as_string(), "not_found");
    const ApiResponse wrong = call(client_, "DELETE", "/health", key_);
    EXPECT_EQ(wrong.status, 405);
    EXPECT_EQ(wrong.body.at("error").at("code").as_string(), "method_not_allowed");
}

TEST_F(ApiTest, RateLimitCountsDownAndRefusesPastTheBurst) {
    const std::string limited = server_->create_key("acme", "test", {}, 5.0, 5);
    for (int expected_remaining = 4; expected_remaining >= 0; --expected_remaining) {
        const ApiResponse response =
            call(client_, "GET", "/api/v1/engines/default/runs?limit=1", limited);
        ASSERT_EQ(response.status, 200) << response.raw.body;
        EXPECT_EQ(response.raw.header("X-RateLimit-Limit"), "5");
        EXPECT_EQ(response.raw.header("X-RateLimit-Remaining"), std::to_string(expected_remaining));
        EXPECT_FALSE(response.raw.header("X-RateLimit-Reset").empty());
    }
    const ApiResponse refused =
        call(client_, "GET", "/api/v1/engines/default/runs?limit=1", limited);
    EXPECT_EQ(refused.status, 429);
    EXPECT_EQ(refused.body.at("error").at("code").as_string(), "rate_limited");
    EXPECT_GE(std::stoi(refused.raw.header("Retry-After")), 1);
    EXPECT_EQ(refused.raw.header("X-RateLimit-Remaining"), "0");
    // Another key is not affected, and failed requests of an authenticated key carry the counters too.
    const ApiResponse other = call(client_, "GET", "/api/v1/runs/no-such-run", key_);
    EXPECT_EQ(other.status, 404);
    EXPECT_FALSE(other.raw.header("X-RateLimit-Remaining").empty());
    // The public health check is not rate limited and carries no counters.
    EXPECT_TRUE(client_.request("GET", "/health").header("X-RateLimit-Limit").empty());
}

ApiResponse post_with_key(http::Client& client, const std::string& target,
                          const std::string& api_key, const std::string& idempotency_key,
                          const std::string& body) {
    ApiResponse response;
    response.raw = client.request(
        "POST", target, body,
        {{"Authorization", "Bearer " + api_key}, {"Idempotency-Key", idempotency_key}});
    response.status = response.raw.status;
    boost::system::error_code ec;
    response.body = boost::json::parse(response.raw.body, ec);
    return response;
}

std::size_t runs_of(http::Client& client, const std::string& key) {
    const ApiResponse page = call(client, "GET", "/api/v1/engines/default/runs?limit=100", key);
    return page.body.at("data").as_array().size();
}

TEST_F(ApiTest, SameIdempotencyKeyAndBodyReplaysTheFirstAnswer) {
    const std::string key = server_->create_key("idem-replay");
    const ApiResponse first =
        post_with_key(client_, "/api/v1/engines/default/runs", key, "k-1", kMinimalBody);
    ASSERT_EQ(first.status, 202) << first.raw.body;
    // The same JSON with other spacing and key order is the same request.
    const std::string reordered = boost::json::serialize(boost::json::parse(kMinimalBody));
    const ApiResponse again =
        post_with_key(client_, "/api/v1/engines/default/runs", key, "k-1", reordered);
    EXPECT_EQ(again.status, 202);
    EXPECT_EQ(again.body.at("run_id"), first.body.at("run_id"));
    EXPECT_EQ(again.raw.header("Location"), first.raw.header("Location"));
    EXPECT_EQ(again.raw.header("Idempotent-Replayed"), "true");
    EXPECT_EQ(runs_of(client_, key), 1u);

    const ApiResponse other_body =
        post_with_key(client_, "/api/v1/engines/default/runs", key, "k-1",
                      read_text(golden_dir() / "auto_only_ny.input.json"));
    EXPECT_EQ(other_body.status, 409);
    EXPECT_EQ(other_body.body.at("error").at("code").as_string(), "idempotency_conflict");
    EXPECT_EQ(runs_of(client_, key), 1u);

    // Keys are per organisation and environment: another organisation's same key is its own.
    const std::string other_org = server_->create_key("idem-other");
    EXPECT_NE(post_with_key(client_, "/api/v1/engines/default/runs", other_org, "k-1", kMinimalBody)
                  .body.at("run_id"),
              first.body.at("run_id"));
}

TEST_F(ApiTest, RefusalsAreReplayedTooAndMalformedKeysRefused) {
    const std::string key = server_->create_key("idem-refusal");
    const ApiResponse refused =
        post_with_key(client_, "/api/v1/engines/default/runs", key, "k-bad", R"({"offerings":[]})");
    EXPECT_EQ(refused.status, 400);
    const ApiResponse replayed =
        post_with_key(client_, "/api/v1/engines/default/runs", key, "k-bad", R"({"offerings":[]})");
    EXPECT_EQ(replayed.status, 400);
    EXPECT_EQ(replayed.raw.header("Idempotent-Replayed"), "true");
    EXPECT_EQ(post_with_key(client_, "/api/v1/engines/default/runs", key, std::string(256, 'k'),
                            kMinimalBody)
                  .status,
              400);
}

TEST_F(ApiTest, ConcurrentRequestsWithOneKeyCreateOneRun) {
    const std::string key = server_->create_key("idem-race");
    std::vector<std::thread> clients;
    std::mutex mutex;
    std::set<std::string> run_ids;
    int accepted = 0;
    int conflicts = 0;
    for (int i = 0; i < 20; ++i) {
        clients.emplace_back([&] {
            http::Client client = server_->client();
            const ApiResponse response =
                post_with_key(client, "/api/v1/engines/default/runs", key, "race-1", kMinimalBody);
            std::lock_guard lock(mutex);
            if (response.status == 202) {
                ++accepted;
                run_ids.insert(std::string(response.body.at("run_id").as_string()));
            } else if (response.status == 409) {
                ++conflicts;
            }
        });
    }
    for (auto& client : clients) client.join();
    EXPECT_EQ(accepted + conflicts, 20);
    EXPECT_EQ(run_ids.size(), 1u);
    EXPECT_EQ(runs_of(client_, key), 1u);
    // Once the first answer is stored, a retry replays it.
    const ApiResponse retry =
        post_with_key(client_, "/api/v1/engines/default/runs", key, "race-1", kMinimalBody);
    EXPECT_EQ(retry.status, 202);
    EXPECT_EQ(std::string(retry.body.at("run_id").as_string()), *run_ids.begin());
}

class LimitsTest : public ::testing::Test {
protected:
    static app::Config small_limits() {
        app::Config config;
        config.body_limit_bytes = 4096;
        config.header_limit_bytes = 2048;
        config.json_max_depth = 8;
        config.read_timeout_s = 2;
        return config;
    }
    TestServer server_{small_limits()};
    std::string key_ = server_.create_key("acme");
    http::Client client_ = server_.client();
};

TEST_F(LimitsTest, BodyAtTheLimitIsReadAndPastItIs413) {
    // A JSON body of exactly the limit: padding inside a string field keeps it valid JSON.
    const std::string head = R"({"input":{"coverage_types":["auto"],"note":")";
    const std::string tail = R"("}})";
    const std::string at_limit = head + std::string(4096 - head.size() - tail.size(), 'x') + tail;
    ASSERT_EQ(at_limit.size(), 4096u);
    const ApiResponse ok = call(client_, "POST", "/api/v1/engines/default/runs", key_, at_limit);
    EXPECT_NE(ok.status, 413) << ok.raw.body;

    http::Client fresh = server_.client();
    const std::string past_limit = head + std::string(4097 - head.size() - tail.size(), 'x') + tail;
    const ApiResponse too_large =
        call(fresh, "POST", "/api/v1/engines/default/runs", key_, past_limit);
    EXPECT_EQ(too_large.status, 413);
    EXPECT_EQ(too_large.body.at("error").at("code").as_string(), "payload_too_large");
}

TEST_F(LimitsTest, OversizedHeadersAreRefused) {
    const auto response =
        client_.request("GET", "/health", "", {{"X-Padding", std::string(4096, 'a')}});
    EXPECT_EQ(response.status, 431);
    EXPECT_NE(response.body.find("headers_too_large"), std::string::npos);
}

TEST_F(LimitsTest, SlowClientIsCutOffAtTheReadTimeoutWhileOthersAreServed) {
    namespace net = boost::asio;
    net::io_context ioc;
    net::ip::tcp::socket slow(ioc);
    slow.connect({net::ip::make_address("127.0.0.1"), server_.port()});
    // Without blocking: has the server closed the connection (end of stream or reset)?
    const auto closed_by_server = [&slow] {
        slow.non_blocking(true);
        char byte = 0;
        boost::system::error_code ec;
        slow.read_some(net::buffer(&byte, 1), ec);
        slow.non_blocking(false);
        return ec && ec != net::error::would_block;
    };
    // One byte every 250 ms: the whole request would take ~14 s; the server allows 2 s.
    const std::string request =
        "GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: abcdefghijklmnopqrstuvwxyz\r\n\r\n";
    const auto started = std::chrono::steady_clock::now();
    bool cut_off = false;
    for (std::size_t i = 0; i < request.size() && !cut_off; ++i) {
        boost::system::error_code ec;
        net::write(slow, net::buffer(&request[i], 1), ec);
        // Meanwhile other clients are served at once.
        if (i == 3) {
            EXPECT_EQ(server_.client().request("GET", "/health").status, 200);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(250));
        cut_off = ec || closed_by_server();
    }
    const auto elapsed = std::chrono::steady_clock::now() - started;
    EXPECT_TRUE(cut_off) << "the slow client was never disconnected";
    EXPECT_GE(elapsed, std::chrono::milliseconds(1500));
    EXPECT_LT(elapsed, std::chrono::seconds(5));
}

TEST_F(LimitsTest, JsonNestedAtTheLimitParsesAndDeeperIsInvalidRequest) {
    auto nested = [](int depth) {
        std::string inner = "1";
        for (int i = 0; i < depth - 2; ++i) inner = "[" + inner + "]";
        return R"({"input":{"deep":)" + inner + "}}";
    };
    const ApiResponse at_limit =
        call(client_, "POST", "/api/v1/engines/default/runs", key_, nested(8));
    EXPECT_NE(at_limit.status, 400) << at_limit.raw.body;
    const ApiResponse too_deep =
        call(client_, "POST", "/api/v1/engines/default/runs", key_, nested(9));
    EXPECT_EQ(too_deep.status, 400);
    EXPECT_NE(
        std::string(too_deep.body.at("error").at("message").as_string()).find("deeper than 8"),
        std::string::npos);
}

}  // namespace
}  // namespace engined::testing
