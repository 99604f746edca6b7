// The placement contracts under valijson, the validator the host uses: every golden input
// satisfies the request schema, every result the response schema, and the preset
// configuration and default scorecard agree with each other.
#include "config.hpp"
#include "placement_engine.hpp"

#include "json_schema.hpp"
#include "lua_scoring_host.hpp"
#include "test_support.hpp"

#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>

#include <string>

namespace engined::placement {
namespace {

namespace json = boost::json;

using plugin_sdk::test::Contract;

TEST(PlacementContract, SchemasAvoidFormatChecks) {
    for (const char* path :
         {"contracts/placement/request.schema.json", "contracts/placement/response.schema.json"}) {
        EXPECT_EQ(test::read_source_file(path).find("\"format\""), std::string::npos) << path;
    }
}

TEST(PlacementContract, GoldenInputsAndResultsSatisfyTheContracts) {
    const Contract request("contracts/placement/request.schema.json");
    const Contract response("contracts/placement/response.schema.json");
    for (const std::string_view name : test::kGoldenInputs) {
        const json::object input = test::golden_input(name);
        EXPECT_EQ(request.violations(input), "") << name;

        test::LuaScoringHost host(test::default_scorecard());
        const PlacementResult result = run_placement(input, test::preset_config(), host);
        ASSERT_FALSE(result.failed()) << json::serialize(result.body);
        EXPECT_EQ(response.violations(result.body), "") << name;
    }
}

TEST(PlacementContract, ExampleRequestSatisfiesTheRequestSchema) {
    const Contract request("contracts/placement/request.schema.json");
    EXPECT_EQ(
        request.violations(test::read_json_object("contracts/placement/example_request.json")), "");
}

TEST(PlacementContract, RequestSchemaRefusesMalformedRuns) {
    const Contract request("contracts/placement/request.schema.json");
    const json::value malformed = json::parse(R"({
        "input": {"coverage_types": ["auto", "auto"], "address": {"state": "tx"},
                  "appetite_bucket": "reckless", "request_config": {"max_solutions": 51}},
        "offerings": [{"id": "o1"}, {"id": "o2", "category": "auto", "attributes": {"line_premium_annual": -5}}]
    })");
    const std::string violations = request.violations(malformed);
    for (const char* expected : {"[coverage_types]", "[state]", "[appetite_bucket]",
                                 "[max_solutions]", "[offerings][0]", "[line_premium_annual]"}) {
        EXPECT_NE(violations.find(expected), std::string::npos) << expected << " in\n"
                                                                << violations;
    }
}

// Quote matching and dual runs need input.address.state; only a gap-only run goes without.
TEST(PlacementContract, RequestSchemaRequiresStateUnlessGapOnly) {
    const Contract request("contracts/placement/request.schema.json");
    json::object body = test::golden_input("missing_state_tx");
    body.erase("engine_version");
    json::object& input = body["input"].as_object();
    EXPECT_NE(request.violations(body).find("Missing required property 'state'"),
              std::string::npos);

    input["request_config"] = json::object{{"coverage_analysis", true}, {"quote_matching", true}};
    EXPECT_NE(request.violations(body).find("'state'"), std::string::npos) << "a dual run needs it";
    input["request_config"] = json::object{{"coverage_analysis", true}};
    EXPECT_NE(request.violations(body).find("'state'"), std::string::npos)
        << "coverage_analysis alone is dual";
    input["request_config"] = json::object{{"coverage_analysis", false}, {"quote_matching", false}};
    EXPECT_NE(request.violations(body).find("'state'"), std::string::npos)
        << "falls back to quote matching";

    input["request_config"] = json::object{{"coverage_analysis", true}, {"quote_matching", false}};
    EXPECT_EQ(request.violations(body), "");
    input.erase("request_config");
    input["current_portfolio"] = json::object{};
    EXPECT_EQ(request.violations(body), "") << "a portfolio without flags is gap-only";
    input["address"].as_object()["state"] = "TX";
    input.erase("current_portfolio");
    EXPECT_EQ(request.violations(body), "");
    input.erase("address");
    EXPECT_NE(request.violations(body).find("'address'"), std::string::npos);
}

// "1.x" is frozen: the newest 1.x release still takes a request without a state.
TEST(PlacementContract, FrozenOneXContractAcceptsARequestWithoutState) {
    const json::object bundle = test::read_json_object("versions/default/1.1.json");
    const Contract request(bundle.at("config").at("request_schema").as_object());
    json::object body = test::golden_input("missing_state_tx");
    body.erase("engine_version");
    EXPECT_EQ(request.violations(body), "");
}

TEST(PlacementContract, PresetConfigurationIsValid) {
    for (const ConfigProblem& problem : check_config(test::preset_config())) {
        ADD_FAILURE() << problem.path << ": " << problem.message;
    }
}

// The scorecard's weights and the configuration's profiles are two sources for the same
// numbers; they must not drift apart.
TEST(PlacementContract, ScorecardWeightsMatchTheConfiguredProfiles) {
    test::LuaScoringHost host(test::default_scorecard());
    const json::object config = test::preset_config();
    for (const json::value& profile : config.at("appetite_weight_profiles").as_array()) {
        const json::value bucket = profile.at("bucket");
        const json::value weights = host.call("weights", json::array{bucket, json::object{}});
        EXPECT_EQ(weights, profile.at("weights")) << bucket;
    }
}

}  // namespace
}  // namespace engined::placement
