// The entity-analysis contracts under valijson, the validator the host uses: the example
// request and every result satisfy their schemas, the example response is a real result of the
// example request, and the preset configuration and default scorecard agree with each other.
#include "config.hpp"
#include "entity_analysis_engine.hpp"

#include "json_schema.hpp"
#include "lua_scoring_host.hpp"
#include "test_support.hpp"

#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>

#include <string>

namespace engined::entity_analysis {
namespace {

namespace json = boost::json;

using plugin_sdk::test::Contract;

constexpr std::string_view kRequestSchema = "contracts/entity_analysis/request.schema.json";
constexpr std::string_view kResponseSchema = "contracts/entity_analysis/response.schema.json";

// The example request run against the test pool, as the host stores it.
AnalysisResult example_result() {
    test::LuaScoringHost host(test::default_scorecard());
    host.add_pool(std::string(test::kSnapshot), test::build_pool(test::kPoolSize));
    PoolCache cache;
    json::object request = test::read_json_object("contracts/entity_analysis/example_request.json");
    request = test::run_request(request.at("input").as_object());
    return run_entity_analysis(request, test::preset_config(), host, cache);
}

TEST(EntityAnalysisContract, SchemasAvoidFormatChecks) {
    for (const std::string_view path : {kRequestSchema, kResponseSchema}) {
        EXPECT_EQ(test::read_source_file(path).find("\"format\""), std::string::npos) << path;
    }
}

TEST(EntityAnalysisContract, ExampleRequestSatisfiesTheRequestSchema) {
    const Contract request(kRequestSchema);
    EXPECT_EQ(request.violations(
                  test::read_json_object("contracts/entity_analysis/example_request.json")),
              "");
    // With the pool reference the host adds, too.
    EXPECT_EQ(request.violations(test::run_request({{"profile", test::law_firm()}})), "");
}

TEST(EntityAnalysisContract, RequestSchemaRefusesMalformedRuns) {
    const Contract request(kRequestSchema);
    const json::value malformed = json::parse(R"({"input": {
        "profile": {"state": "California", "line": "marine", "naics": "5", "revenue": -1},
        "request_config": {"max_candidates": 501}}})");
    const std::string violations = request.violations(malformed);
    for (const char* expected :
         {"'entity'", "[state]", "[line]", "[naics]", "[revenue]", "[max_candidates]", "'pool'"}) {
        EXPECT_NE(violations.find(expected), std::string::npos) << expected << " in\n"
                                                                << violations;
    }
    EXPECT_NE(request.violations(json::parse(R"({"input": {"pool": "carriers:all"}})")), "");
}

TEST(EntityAnalysisContract, ResultsSatisfyTheResponseSchema) {
    const Contract response(kResponseSchema);
    test::LuaScoringHost host(test::default_scorecard());
    host.add_pool(std::string(test::kSnapshot), test::build_pool(test::kPoolSize));
    PoolCache cache;
    json::object alaska = test::law_firm();
    alaska["state"] = "AK";
    alaska["line"] = "umbrella";
    for (const json::object& input :
         {json::object{{"profile", test::law_firm()},
                       {"request_config", {{"max_candidates", 500}, {"gap_analysis", true}}}},
          json::object{{"prospect", {{"entity", "Acme"}}}}, json::object{{"profile", alaska}}}) {
        host.next_run();
        const AnalysisResult result =
            run_entity_analysis(test::run_request(input), test::preset_config(), host, cache);
        ASSERT_FALSE(result.failed()) << json::serialize(result.body);
        EXPECT_EQ(response.violations(result.body), "") << json::serialize(input);
    }
}

TEST(EntityAnalysisContract, ExampleResponseIsTheResultOfTheExampleRequest) {
    const AnalysisResult result = example_result();
    ASSERT_FALSE(result.failed()) << json::serialize(result.body);
    const json::value example =
        test::read_json_object("contracts/entity_analysis/example_response.json");
    EXPECT_EQ(json::value(result.body), example) << json::serialize(result.body);
    EXPECT_EQ(Contract(kResponseSchema).violations(example), "");
}

TEST(EntityAnalysisContract, PresetConfigurationIsValid) {
    for (const ConfigProblem& problem : check_config(test::preset_config())) {
        ADD_FAILURE() << problem.path << ": " << problem.message;
    }
}

// The scorecard and the configuration are two sources for the same numbers; they must not
// drift apart.
TEST(EntityAnalysisContract, ScorecardAgreesWithTheConfiguration) {
    test::LuaScoringHost host(test::default_scorecard());
    const json::object config = test::preset_config();
    const json::value& balanced = config.at("appetite_weight_profiles").at(0);
    ASSERT_EQ(balanced.at("bucket"), config.at("default_appetite_bucket"));
    EXPECT_EQ(host.call("weights", json::array{json::object{}}), balanced.at("weights"));
    EXPECT_EQ(host.call("tiers", json::array{}), config.at("parameters").at("tier_thresholds"));
    EXPECT_EQ(host.call("self_test", json::array{}), json::value(true));
}

}  // namespace
}  // namespace engined::entity_analysis
