// The placement contracts under valijson, the validator the host uses: every golden input
// satisfies the request schema, every result the response schema, and the preset
// configuration and default scorecard agree with each other.
#include "config.hpp"
#include "placement_engine.hpp"

#include "lua_scoring_host.hpp"
#include "test_support.hpp"

#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>
#include <valijson/adapters/boost_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>

#include <string>

namespace engined::placement {
namespace {

namespace json = boost::json;

class Contract {
public:
    explicit Contract(std::string_view relative_path) : document_(test::read_json_object(relative_path)) {
        valijson::SchemaParser parser;
        parser.populateSchema(valijson::adapters::BoostJsonAdapter(document_), schema_);
    }

    // Every failure, one per line; empty when `value` satisfies the schema.
    std::string violations(const json::value& value) const {
        valijson::Validator validator;
        valijson::ValidationResults results;
        validator.validate(schema_, valijson::adapters::BoostJsonAdapter(value), &results);
        std::string report;
        valijson::ValidationResults::Error error;
        while (results.popError(error)) {
            for (const std::string& step : error.context) {
                report += step;
            }
            report += ": " + error.description + "\n";
        }
        return report;
    }

private:
    json::value document_;
    valijson::Schema schema_;
};

TEST(PlacementContract, SchemasAvoidFormatChecks) {
    for (const char* path : {"contracts/placement/request.schema.json", "contracts/placement/response.schema.json"}) {
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
    EXPECT_EQ(request.violations(test::read_json_object("contracts/placement/example_request.json")), "");
}

TEST(PlacementContract, RequestSchemaRefusesMalformedRuns) {
    const Contract request("contracts/placement/request.schema.json");
    const json::value malformed = json::parse(R"({
        "input": {"coverage_types": ["auto", "auto"], "address": {"state": "tx"},
                  "appetite_bucket": "reckless", "request_config": {"max_solutions": 51}},
        "offerings": [{"id": "o1"}, {"id": "o2", "category": "auto", "attributes": {"line_premium_annual": -5}}]
    })");
    const std::string violations = request.violations(malformed);
    for (const char* expected : {"[coverage_types]", "[state]", "[appetite_bucket]", "[max_solutions]",
                                 "[offerings][0]", "[line_premium_annual]"}) {
        EXPECT_NE(violations.find(expected), std::string::npos) << expected << " in\n" << violations;
    }
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
