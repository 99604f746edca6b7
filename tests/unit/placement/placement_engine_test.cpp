// The placement engine end to end over the golden inputs, with the default scorecard running
// in a real Lua sandbox.
#include "placement_engine.hpp"

#include "lua_scoring_host.hpp"
#include "test_support.hpp"

#include <boost/json/serialize.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

namespace engined::placement {
namespace {

namespace json = boost::json;
using test::LuaScoringHost;
using ::testing::AllOf;
using ::testing::HasSubstr;

PlacementResult run(const json::object& request, LuaScoringHost& host, const json::object& config) {
    return run_placement(request, config, host);
}

PlacementResult run(const json::object& request, LuaScoringHost& host) {
    return run(request, host, test::preset_config());
}

PlacementResult run(const json::object& request) {
    LuaScoringHost host(test::default_scorecard());
    return run(request, host);
}

const json::object& output_of(const PlacementResult& result) {
    return result.body.at("output").as_object();
}

const json::array& solutions_of(const PlacementResult& result) {
    return result.body.at("solutions").as_array();
}

std::string text(const json::value& value) {
    return std::string(value.as_string());
}

// The solution's offering for `category`.
const json::object& line_of(const json::value& solution, std::string_view category) {
    for (const json::value& offering : solution.at("offerings").as_array()) {
        if (offering.at("category").as_string() == category) {
            return offering.as_object();
        }
    }
    throw std::out_of_range("solution has no " + std::string(category) + " line");
}

std::string provider_of(const json::value& solution, std::string_view category) {
    return text(line_of(solution, category).at("provider_name"));
}

double number(const json::value& value) {
    return value.to_number<double>();
}

json::object with_max_solutions(json::object request, std::int64_t max_solutions) {
    json::value& request_config = request["input"].as_object()["request_config"];
    if (!request_config.is_object()) {
        request_config = json::object{};
    }
    request_config.as_object()["max_solutions"] = max_solutions;
    return request;
}

json::object brokerage_all_solutions() {
    return with_max_solutions(test::golden_input("brokerage_tx_multicarrier"), 50);
}

class GoldenInput : public ::testing::TestWithParam<std::string_view> {};

TEST_P(GoldenInput, Completes) {
    const PlacementResult result = run(test::golden_input(GetParam()));
    ASSERT_FALSE(result.failed()) << json::serialize(result.body);
    EXPECT_EQ(result.body.at("status"), "completed");
    EXPECT_EQ(result.body.at("stage"), "RANK");
    EXPECT_EQ(output_of(result).at("solutions_count").to_number<std::size_t>(),
              solutions_of(result).size());
}

TEST_P(GoldenInput, IsDeterministic) {
    const json::object request = test::golden_input(GetParam());
    EXPECT_EQ(json::serialize(run(request).body), json::serialize(run(request).body));
}

TEST_P(GoldenInput, RanksBySortKeys) {
    const json::object request = with_max_solutions(test::golden_input(GetParam()), 50);
    const PlacementResult result = run(request);
    const json::array& solutions = solutions_of(result);
    // Under coverage_first, rank 1 may be the best-covered package moved up; the rest keep order.
    const bool coverage_first =
        request.at("input").as_object().if_contains("appetite_bucket") != nullptr &&
        request.at("input").at("appetite_bucket") == "coverage_first";
    using SortKey = std::tuple<double, double, std::int64_t, std::vector<std::string>>;
    std::vector<SortKey> keys;
    for (const json::value& solution : solutions) {
        if (coverage_first && &solution == &solutions.front()) {
            continue;
        }
        std::vector<std::string> ids;
        for (const json::value& offering : solution.at("offerings").as_array()) {
            ids.push_back(text(offering.at("id")));
        }
        keys.emplace_back(number(solution.at("scorecard").at("overall_level")),
                          number(solution.at("est_cost_low")),
                          solution.at("provider_count").to_number<std::int64_t>(), ids);
    }
    EXPECT_TRUE(std::is_sorted(keys.begin(), keys.end()));
    for (std::size_t i = 0; i < solutions.size(); ++i) {
        EXPECT_EQ(solutions[i].at("rank").to_number<std::size_t>(), i + 1);
    }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, GoldenInput, ::testing::ValuesIn(test::kGoldenInputs));

TEST(PlacementEngine, AutoOnlyNyRanksProgressiveFirstUnderBalanced) {
    const PlacementResult result = run(test::golden_input("auto_only_ny"));
    const json::array& solutions = solutions_of(result);
    ASSERT_EQ(solutions.size(), 3u);
    EXPECT_EQ(provider_of(solutions[0], "auto"), "Progressive");
    EXPECT_EQ(solutions[0].at("cluster_label"), "recommended");
    EXPECT_EQ(output_of(result).at("tolerance_bucket"), "balanced");
    EXPECT_EQ(output_of(result).at("weights_source"), "lua");
    EXPECT_EQ(output_of(result).at("top_label"), "recommended");
    EXPECT_EQ(output_of(result).at("top_carriers"), "Progressive");
    EXPECT_EQ(output_of(result).at("top_score"), solutions[0].at("scorecard").at("overall_level"));
    EXPECT_EQ(output_of(result).at("diagnostic"), nullptr);
}

TEST(PlacementEngine, MissingRequiredLinesCompleteWithDiagnostic) {
    const PlacementResult result = run(test::golden_input("missing_required_lines_ny"));
    ASSERT_FALSE(result.failed());
    EXPECT_EQ(result.body.at("status"), "completed");
    EXPECT_TRUE(solutions_of(result).empty());
    EXPECT_EQ(output_of(result).at("requirement_count"), 3);
    EXPECT_EQ(output_of(result).at("top_score"), nullptr);
    EXPECT_EQ(text(output_of(result).at("diagnostic")),
              "no eligible offering for required lines: auto, umbrella");
}

TEST(PlacementEngine, CategoryMismatchIsDiagnosed) {
    json::object request = test::golden_input("auto_only_ny");
    request["input"].as_object()["coverage_types"] = json::array{"boat"};
    const PlacementResult result = run(request);
    EXPECT_TRUE(solutions_of(result).empty());
    EXPECT_THAT(text(output_of(result).at("diagnostic")), HasSubstr("category mismatch"));
    EXPECT_EQ(output_of(result).at("filter_reasons").at("category_not_requested"), 3);
}

TEST(PlacementEngine, EverythingFilteredIsDiagnosed) {
    json::object request = test::golden_input("auto_only_ny");
    for (json::value& offering : request["offerings"].as_array()) {
        offering.as_object()["constraints"] = json::object{{"excluded_states", json::array{"NY"}}};
    }
    const PlacementResult result = run(request);
    EXPECT_THAT(text(output_of(result).at("diagnostic")),
                HasSubstr("every offering was filtered out"));
    EXPECT_EQ(output_of(result).at("filter_reasons").at("excluded_state"), 3);
}

class Brokerage : public ::testing::Test {
protected:
    Brokerage()
        : host_(test::default_scorecard()), result_(run(brokerage_all_solutions(), host_)) {}

    std::vector<std::string> filtered_with(std::string_view reason) const {
        std::vector<std::string> ids;
        for (const json::object& event : host_.events("FILTER", "offering_filtered")) {
            if (event.at("reason").as_string() == reason) {
                ids.push_back(text(event.at("offering_id")));
            }
        }
        return ids;
    }

    const json::value* solution_with(const std::vector<std::string>& ids) const {
        for (const json::value& solution : solutions_of(result_)) {
            std::vector<std::string> solution_ids;
            for (const json::value& offering : solution.at("offerings").as_array()) {
                solution_ids.push_back(text(offering.at("id")));
            }
            if (solution_ids == ids) {
                return &solution;
            }
        }
        return nullptr;
    }

    LuaScoringHost host_;
    PlacementResult result_;
};

TEST_F(Brokerage, DropsTheExpiredKemperQuote) {
    EXPECT_THAT(filtered_with("quote_expired"), ::testing::ElementsAre("ql_kemp_auto_001"));
    EXPECT_EQ(output_of(result_).at("filter_reasons").at("quote_expired"), 1);
}

TEST_F(Brokerage, DropsNationwideExcludedInTexas) {
    EXPECT_THAT(filtered_with("excluded_state"),
                ::testing::ElementsAre("ql_natw_home_001", "ql_natw_auto_001"));
}

TEST_F(Brokerage, IgnoresTheUnrequestedFloodLine) {
    EXPECT_THAT(filtered_with("category_not_requested"),
                ::testing::ElementsAre("ql_neptune_flood_001"));
    EXPECT_EQ(output_of(result_).at("filtered_count"), 4);
    for (const json::value& solution : solutions_of(result_)) {
        for (const json::value& offering : solution.at("offerings").as_array()) {
            EXPECT_NE(offering.at("provider_name"), "Kemper");
            EXPECT_NE(offering.at("provider_name"), "Nationwide");
        }
    }
}

TEST_F(Brokerage, ChubbUmbrellaSitsOnlyOverChubbLines) {
    bool chubb_umbrella_placed = false;
    for (const json::value& solution : solutions_of(result_)) {
        if (provider_of(solution, "umbrella") == "Chubb") {
            chubb_umbrella_placed = true;
            EXPECT_EQ(provider_of(solution, "home"), "Chubb");
            EXPECT_EQ(provider_of(solution, "auto"), "Chubb");
        }
    }
    EXPECT_TRUE(chubb_umbrella_placed);
    EXPECT_GT(output_of(result_)
                  .at("umbrella_rejections")
                  .at("underlying_provider_mismatch")
                  .to_number<int>(),
              0);
}

TEST_F(Brokerage, UmbrellaMinimumsRejectSafecoAutoLimits) {
    // Safeco auto (100/300 BI) is below every umbrella's 250/500 minimum.
    for (const json::value& solution : solutions_of(result_)) {
        EXPECT_NE(provider_of(solution, "auto"), "Safeco");
    }
    EXPECT_GT(output_of(result_)
                  .at("umbrella_rejections")
                  .at("underlying_auto_bi_below_minimum")
                  .to_number<int>(),
              0);
}

TEST_F(Brokerage, PricesOriginalBundlesAtThePackagePremium) {
    const json::value* chubb =
        solution_with({"ql_chubb_home_001", "ql_chubb_auto_001", "ql_chubb_umbrella_001"});
    ASSERT_NE(chubb, nullptr);
    EXPECT_EQ(chubb->at("is_original_bundle"), true);
    EXPECT_EQ(chubb->at("package_id"), "pkg_chubb_1");
    EXPECT_EQ(number(chubb->at("est_cost_low")), 8890);
    EXPECT_EQ(number(chubb->at("est_cost_high")), 8890);
    EXPECT_EQ(chubb->at("scorecard").at("dimensions").at("simplicity").at("level"), 1);
}

TEST_F(Brokerage, AddsTheLostDiscountWhenABundleIsSplit) {
    // Openly home (its own one-line quote, kept whole) under Travelers auto and umbrella, split
    // from pkg_trvl_1: only the split lines lose the discount.
    const json::value* split =
        solution_with({"ql_open_home_001", "ql_trvl_auto_001", "ql_trvl_umbrella_001"});
    ASSERT_NE(split, nullptr);
    EXPECT_EQ(split->at("is_original_bundle"), false);
    EXPECT_EQ(split->at("package_id"), nullptr);
    EXPECT_EQ(number(split->at("est_cost_low")), 2480 + 3010 + 410);
    EXPECT_DOUBLE_EQ(number(split->at("est_cost_high")), 2480 + (3010 + 410) * 1.12);

    // Travelers home split from pkg_trvl_1 with Progressive's whole pkg_prog_1: the surcharge is on
    // the home line alone, not on the intact Progressive bundle.
    const json::value* mixed =
        solution_with({"ql_trvl_home_001", "ql_prog_auto_001", "ql_prog_umbrella_001"});
    ASSERT_NE(mixed, nullptr);
    EXPECT_EQ(number(mixed->at("est_cost_low")), 3150 + 2210 + 350);
    EXPECT_DOUBLE_EQ(number(mixed->at("est_cost_high")), 3150 * 1.12 + 2210 + 350);

    // Progressive auto and umbrella are all of pkg_prog_1: nothing is split, nothing is lost.
    const json::value* intact =
        solution_with({"ql_open_home_001", "ql_prog_auto_001", "ql_prog_umbrella_001"});
    ASSERT_NE(intact, nullptr);
    EXPECT_EQ(number(intact->at("est_cost_high")), number(intact->at("est_cost_low")));
}

TEST_F(Brokerage, LabelsEachClusterAtMostOnce) {
    const json::array& solutions = solutions_of(result_);
    ASSERT_GT(solutions.size(), 4u);
    EXPECT_EQ(solutions[0].at("cluster_label"), "recommended");
    std::multiset<std::string> labels;
    for (const json::value& solution : solutions) {
        labels.insert(text(solution.at("cluster_label")));
    }
    for (const char* label : {"recommended", "best_value", "best_coverage", "simplest"}) {
        EXPECT_LE(labels.count(label), 1u) << label;
    }
}

TEST_F(Brokerage, TracesEveryStage) {
    EXPECT_EQ(host_.events("FILTER", "offering_filtered").size(), 4u);
    ASSERT_EQ(host_.events("ASSEMBLE", "assemble_summary").size(), 1u);
    EXPECT_EQ(host_.events("ASSEMBLE", "assemble_summary")[0].at("combinations_total"), 4 * 4 * 3);
    EXPECT_EQ(output_of(result_).at("combinations_total"), 4 * 4 * 3);
    ASSERT_EQ(host_.events("EVALUATE", "evaluate_summary").size(), 1u);
    EXPECT_EQ(host_.events("EVALUATE", "evaluate_summary")[0].at("weights_source"), "lua");
    EXPECT_EQ(host_.events("RANK", "rank_summary").size(), 1u);
}

TEST_F(Brokerage, ExplainsEveryDimension) {
    for (const json::value& solution : solutions_of(result_)) {
        for (const auto& dimension : solution.at("scorecard").at("dimensions").as_object()) {
            EXPECT_FALSE(dimension.value().at("reason").as_string().empty()) << dimension.key();
            EXPECT_GE(number(dimension.value().at("level")), 1.0);
            EXPECT_LE(number(dimension.value().at("level")), 4.0);
        }
    }
}

TEST(PlacementEngine, QuotesOnlyRunConvertsQuotesAndUsesItsBucket) {
    const PlacementResult result = run(test::golden_input("quotes_only_oh"));
    ASSERT_FALSE(result.failed()) << json::serialize(result.body);
    const json::object& output = output_of(result);
    EXPECT_EQ(output.at("offerings_source"), "input.quotes");
    EXPECT_EQ(output.at("tolerance_bucket"), "cost_sensitive");
    EXPECT_EQ(output.at("weights").at("pricing_competitiveness"), 0.55);
    ASSERT_EQ(solutions_of(result).size(), 4u);
    const json::value& top = solutions_of(result)[0];
    EXPECT_EQ(top.at("package_id"), "pkg_erie_1");
    EXPECT_EQ(number(top.at("est_cost_low")), 3610);
    EXPECT_EQ(line_of(top, "home").at("attributes").at("quote_id"), "qt_erie_home");
    EXPECT_EQ(line_of(top, "home").at("provider_id"), "erie");
}

TEST(PlacementEngine, MaxSolutionsIsRespected) {
    const PlacementResult result = run(with_max_solutions(test::golden_input("auto_only_ny"), 2));
    EXPECT_EQ(solutions_of(result).size(), 2u);
    EXPECT_EQ(output_of(result).at("solutions_count"), 2);
}

json::object many_auto_offerings(std::size_t count) {
    json::array offerings;
    for (std::size_t i = 0; i < count; ++i) {
        offerings.push_back(json::object{
            {"id", "auto_" + std::to_string(1000 + i)},
            {"provider_name", "Carrier " + std::to_string(i)},
            {"category", "auto"},
            {"attributes",
             json::object{{"line_premium_annual", 1000 + 10 * static_cast<std::int64_t>(i)}}},
        });
    }
    return {{"input", json::object{{"coverage_types", json::array{"auto"}}}},
            {"offerings", std::move(offerings)}};
}

TEST(PlacementEngine, MaxSolutionsDefaultsToTenAndIsCappedAtTheLimit) {
    EXPECT_EQ(solutions_of(run(many_auto_offerings(60))).size(), 10u);
    const PlacementResult capped = run(with_max_solutions(many_auto_offerings(60), 500));
    EXPECT_EQ(solutions_of(capped).size(), 50u);
}

TEST(PlacementEngine, TooManyPackagesExaminedFailsTheRun) {
    json::object config = test::preset_config();
    config["parameters"].as_object()["max_packages_examined"] = 1;
    LuaScoringHost host(test::default_scorecard());
    const PlacementResult result =
        run(test::golden_input("brokerage_tx_multicarrier"), host, config);
    ASSERT_TRUE(result.failed());
    EXPECT_EQ(result.body.at("code"), "too_many_packages_examined");
    EXPECT_THAT(text(result.body.at("message")), HasSubstr("more than 1 packages"));
}

// The preset with one more, Lua-scored dimension that every profile weighs.
json::object config_with_lua_dimension() {
    json::object config = test::preset_config();
    config["scoring_dimensions"].as_array().push_back(json::object{{"key", "household_fit"},
                                                                   {"label", "Household fit"},
                                                                   {"method", "lua"},
                                                                   {"enabled", true}});
    for (json::value& profile : config["appetite_weight_profiles"].as_array()) {
        profile.at("weights").as_object()["household_fit"] = 0.2;
    }
    return config;
}

TEST(PlacementEngine, FailingLuaDimensionDegradesTheRun) {
    LuaScoringHost host(
        R"(function score_household_fit(package, ctx) error("no household data") end)");
    const PlacementResult result =
        run(test::golden_input("auto_only_ny"), host, config_with_lua_dimension());
    ASSERT_FALSE(result.failed()) << json::serialize(result.body);
    EXPECT_EQ(result.body.at("status"), "degraded");
    EXPECT_THAT(text(output_of(result).at("degradation_reason")),
                AllOf(HasSubstr("household_fit"), HasSubstr("no household data")));
    EXPECT_EQ(output_of(result).at("weights_source"), "config");
    for (const json::value& solution : solutions_of(result)) {
        EXPECT_FALSE(
            solution.at("scorecard").at("dimensions").as_object().contains("household_fit"));
    }
}

TEST(PlacementEngine, LuaDimensionScoresEveryPackage) {
    LuaScoringHost host(R"(
        function score_household_fit(package, ctx)
          if package.offerings[1].provider_name == "Safeco" then
            return {level = 1.0, reason = "preferred household carrier"}
          end
          return {level = 3.0, reason = "no household discount"}
        end)");
    const PlacementResult result =
        run(test::golden_input("auto_only_ny"), host, config_with_lua_dimension());
    ASSERT_FALSE(result.failed()) << json::serialize(result.body);
    EXPECT_EQ(result.body.at("status"), "completed");
    for (const json::value& solution : solutions_of(result)) {
        const json::value& fit = solution.at("scorecard").at("dimensions").at("household_fit");
        EXPECT_EQ(number(fit.at("level")), provider_of(solution, "auto") == "Safeco" ? 1.0 : 3.0);
    }
}

TEST(PlacementEngine, RunawayWeightsFunctionExceedsTheBudget) {
    lua::Limits limits;
    limits.instruction_budget = 100'000;
    LuaScoringHost host("function weights(bucket, input) while true do end end", limits);
    const PlacementResult result = run(test::golden_input("auto_only_ny"), host);
    ASSERT_TRUE(result.failed());
    EXPECT_EQ(result.body.at("code"), "lua_budget_exceeded");
}

TEST(PlacementEngine, MemoryBombInWeightsExceedsTheMemoryCap) {
    lua::Limits limits;
    limits.memory_bytes = 1024 * 1024;
    LuaScoringHost host(R"(
        function weights(bucket, input)
          local t = {}
          for i = 1, 10000000 do t[i] = string.rep("x", 64) .. i end
          return t
        end)",
                        limits);
    const PlacementResult result = run(test::golden_input("auto_only_ny"), host);
    ASSERT_TRUE(result.failed());
    EXPECT_EQ(result.body.at("code"), "lua_memory_exceeded");
}

TEST(PlacementEngine, ScriptErrorInWeightsFailsTheRun) {
    LuaScoringHost host(R"(function weights(bucket, input) error("broken weights") end)");
    const PlacementResult result = run(test::golden_input("auto_only_ny"), host);
    ASSERT_TRUE(result.failed());
    EXPECT_EQ(result.body.at("code"), "lua_error");
    EXPECT_THAT(text(result.body.at("message")), HasSubstr("broken weights"));
}

TEST(PlacementEngine, NegativeLuaWeightIsInvalid) {
    LuaScoringHost host(R"(
        function weights(bucket, input)
          return {pricing_competitiveness = -1, coverage_completeness = 1, carrier_quality = 1, simplicity = 1}
        end)");
    const PlacementResult result = run(test::golden_input("auto_only_ny"), host);
    ASSERT_TRUE(result.failed());
    EXPECT_EQ(result.body.at("code"), "invalid_weights");
    EXPECT_THAT(text(result.body.at("message")), HasSubstr("pricing_competitiveness"));
}

TEST(PlacementEngine, LuaWeightsMustCoverEnabledDimensions) {
    LuaScoringHost host("function weights(bucket, input) return {pricing_competitiveness = 1} end");
    const PlacementResult result = run(test::golden_input("auto_only_ny"), host);
    ASSERT_TRUE(result.failed());
    EXPECT_EQ(result.body.at("code"), "invalid_weights");
    EXPECT_THAT(text(result.body.at("message")), HasSubstr("coverage_completeness"));
}

TEST(PlacementEngine, ScorecardWithoutWeightsFallsBackToTheConfiguration) {
    LuaScoringHost host("local unused = 1");
    const PlacementResult result = run(test::golden_input("auto_only_ny"), host);
    ASSERT_FALSE(result.failed());
    EXPECT_EQ(output_of(result).at("weights_source"), "config");
    EXPECT_EQ(output_of(result).at("weights").at("pricing_competitiveness"), 0.4);
    EXPECT_EQ(host.events("EVALUATE", "evaluate_summary").at(0).at("weights_source"), "config");
}

TEST(PlacementEngine, InvalidConfigurationFailsTheRun) {
    json::object config = test::preset_config();
    config["default_appetite_bucket"] = "nonexistent";
    LuaScoringHost host(test::default_scorecard());
    const PlacementResult result = run(test::golden_input("auto_only_ny"), host, config);
    ASSERT_TRUE(result.failed());
    EXPECT_EQ(result.body.at("code"), "invalid_config");
    EXPECT_EQ(result.body.at("details").at(0).at("path"), "/default_appetite_bucket");
}

TEST(PlacementEngine, InvalidQuoteExpiryIsFiltered) {
    json::object request = test::golden_input("auto_only_ny");
    request["offerings"].as_array()[0].as_object()["attributes"].as_object()["quote_expires_at"] =
        "next tuesday";
    const PlacementResult result = run(request);
    EXPECT_EQ(output_of(result).at("filter_reasons").at("invalid_quote_expiry"), 1);
    EXPECT_EQ(solutions_of(result).size(), 2u);
}

// The reference time is 2026-11-23T12:00:00Z: 07:00 in New York, 04:00 in Los Angeles.
TEST(PlacementEngine, DateOnlyQuoteExpiryCountsToTheEndOfThatDayInTheInsuredsState) {
    for (const char* state : {"NY", "CA"}) {
        for (const auto& [expiry, expired] :
             {std::pair{"2026-11-22", true}, std::pair{"2026-11-23", false},
              std::pair{"2026-12-31", false}}) {
            json::object request = test::golden_input("auto_only_ny");
            request["input"].as_object()["address"].as_object()["state"] = state;
            request["offerings"]
                .as_array()[0]
                .as_object()["attributes"]
                .as_object()["quote_expires_at"] = expiry;
            const PlacementResult result = run(request);
            const json::object& reasons = output_of(result).at("filter_reasons").as_object();
            EXPECT_FALSE(reasons.contains("invalid_quote_expiry")) << state << " " << expiry;
            EXPECT_EQ(reasons.contains("quote_expired"), expired) << state << " " << expiry;
        }
    }
}

TEST(PlacementEngine, OfferingWithoutPremiumIsFiltered) {
    json::object request = test::golden_input("auto_only_ny");
    request["offerings"].as_array()[1].as_object()["attributes"].as_object().erase(
        "line_premium_annual");
    const PlacementResult result = run(request);
    EXPECT_EQ(output_of(result).at("filter_reasons").at("missing_premium"), 1);
}

TEST(PlacementEngine, LargePassThroughFieldDoesNotReachTheScorecard) {
    // The sandbox refuses strings over 64 KiB; weights() and the Lua dimensions get only the
    // fields a rule reads.
    json::object request = test::golden_input("auto_only_ny");
    request["input"].as_object()["broker_notes"] = std::string(70 * 1024, 'n');
    const PlacementResult weighted = run(request);
    ASSERT_FALSE(weighted.failed()) << json::serialize(weighted.body);
    EXPECT_EQ(weighted.body.at("status"), "completed");
    EXPECT_EQ(output_of(weighted).at("weights_source"), "lua");
    EXPECT_EQ(solutions_of(weighted).size(), 3u);

    LuaScoringHost host(
        "function score_household_fit(package, ctx) return {level = 2.0, reason = ctx.bucket} end");
    const PlacementResult scored = run(request, host, config_with_lua_dimension());
    ASSERT_FALSE(scored.failed()) << json::serialize(scored.body);
    EXPECT_EQ(scored.body.at("status"), "completed");
}

TEST(PlacementEngine, LuaDimensionSeesASmallContext) {
    LuaScoringHost host(R"(
        function score_household_fit(package, ctx)
          local fields = {}
          for key in pairs(ctx) do fields[#fields + 1] = key end
          table.sort(fields)
          return {level = 1.0, reason = table.concat(fields, ",") .. ":" .. ctx.state}
        end)");
    const PlacementResult result =
        run(test::golden_input("brokerage_tx_multicarrier"), host, config_with_lua_dimension());
    ASSERT_FALSE(result.failed()) << json::serialize(result.body);
    EXPECT_EQ(
        solutions_of(result)[0].at("scorecard").at("dimensions").at("household_fit").at("reason"),
        "bucket,coverage_types,current_coverage,residence,state:TX");
}

TEST(PlacementEngine, AdjustVetoDropsPackagesWithLuaVeto) {
    LuaScoringHost host(test::default_scorecard() + R"(
        function adjust(package, ctx)
          for _, offering in ipairs(package.offerings) do
            if offering.provider_name == "Travelers" then return {veto = true, reason = "no Travelers"} end
          end
          return {veto = false}
        end)");
    const PlacementResult result = run(brokerage_all_solutions(), host);
    ASSERT_FALSE(result.failed()) << json::serialize(result.body);
    const json::array& solutions = solutions_of(result);
    ASSERT_FALSE(solutions.empty());
    for (const json::value& solution : solutions) {
        for (const json::value& offering : solution.at("offerings").as_array()) {
            EXPECT_NE(offering.at("provider_name"), "Travelers");
        }
    }
    const auto vetoed = host.events("RANK", "package_vetoed");
    ASSERT_FALSE(vetoed.empty());
    EXPECT_EQ(output_of(result).at("vetoed_count").to_number<std::size_t>(), vetoed.size());
    EXPECT_EQ(vetoed[0].at("reason"), "lua_veto");
    EXPECT_EQ(vetoed[0].at("detail"), "no Travelers");
}

TEST(PlacementEngine, AdjustReturningNilKeepsEveryPackage) {
    LuaScoringHost host(test::default_scorecard() + "function adjust(package, ctx) return nil end");
    const PlacementResult result = run(test::golden_input("auto_only_ny"), host);
    EXPECT_EQ(solutions_of(result).size(), 3u);
    EXPECT_EQ(output_of(result).at("vetoed_count"), 0);
}

TEST(PlacementEngine, MalformedAdjustFailsTheRun) {
    LuaScoringHost host(test::default_scorecard() + "function adjust(package, ctx) return 7 end");
    const PlacementResult result = run(test::golden_input("auto_only_ny"), host);
    ASSERT_TRUE(result.failed());
    EXPECT_EQ(result.body.at("code"), "lua_error");
}

TEST_F(Brokerage, CoverageAnalysisReportsTheThreeGaps) {
    const json::object& output = output_of(result_);
    EXPECT_EQ(output.at("mode"), "dual");
    const json::array& gaps = output.at("coverage_gaps").as_array();
    std::vector<std::string> found;
    for (const json::value& gap : gaps) {
        found.push_back(text(gap.at("line")) + ":" + text(gap.at("gap")) + ":" +
                        text(gap.at("severity")));
        EXPECT_FALSE(gap.at("recommendation").as_string().empty());
    }
    EXPECT_EQ(found, (std::vector<std::string>{"home:dwelling_below_replacement_cost:high",
                                               "auto:auto_liability_below_250_500:high",
                                               "umbrella:no_umbrella:medium"}));
    EXPECT_THAT(text(gaps[0].at("detail")), AllOf(HasSubstr("$480,000"), HasSubstr("$610,000")));
    EXPECT_THAT(text(gaps[1].at("detail")), HasSubstr("100/300"));
}

TEST(PlacementEngine, CoverageAnalysisOnlyRunHasNoSolutions) {
    json::object request = test::golden_input("brokerage_tx_multicarrier");
    request["input"].as_object()["request_config"] =
        json::object{{"coverage_analysis", true}, {"quote_matching", false}};
    const PlacementResult result = run(request);
    ASSERT_FALSE(result.failed()) << json::serialize(result.body);
    EXPECT_EQ(result.body.at("status"), "completed");
    EXPECT_TRUE(solutions_of(result).empty());
    EXPECT_EQ(output_of(result).at("mode"), "coverage_analysis");
    EXPECT_EQ(output_of(result).at("coverage_gaps").as_array().size(), 3u);
}

TEST(PlacementEngine, CurrentPortfolioWithoutFlagsMeansCoverageAnalysis) {
    json::object request = test::golden_input("brokerage_tx_multicarrier");
    json::object& input = request["input"].as_object();
    input.erase("request_config");
    input["current_portfolio"] = input["current_coverage"];
    input.erase("current_coverage");
    const PlacementResult result = run(request);
    ASSERT_FALSE(result.failed()) << json::serialize(result.body);
    EXPECT_EQ(output_of(result).at("mode"), "coverage_analysis");
    EXPECT_TRUE(solutions_of(result).empty());
    EXPECT_EQ(output_of(result).at("coverage_gaps").as_array().size(), 3u);
}

TEST(PlacementEngine, WithoutFlagsOrPortfolioTheRunMatchesQuotes) {
    const PlacementResult result = run(test::golden_input("auto_only_ny"));
    EXPECT_EQ(output_of(result).at("mode"), "quote_matching");
    EXPECT_FALSE(output_of(result).contains("coverage_gaps"));
}

// The reference's routing table: quote matching stays on unless turned off explicitly.
json::object routed(json::object request_config) {
    json::object request = test::golden_input("brokerage_tx_multicarrier");
    request["input"].as_object()["request_config"] = std::move(request_config);
    return request;
}

TEST(PlacementEngine, CoverageAnalysisAloneKeepsQuoteMatchingOn) {
    const PlacementResult result = run(routed({{"coverage_analysis", true}}));
    ASSERT_FALSE(result.failed()) << json::serialize(result.body);
    EXPECT_EQ(output_of(result).at("mode"), "dual");
    EXPECT_FALSE(solutions_of(result).empty());
    EXPECT_EQ(output_of(result).at("coverage_gaps").as_array().size(), 3u);
}

TEST(PlacementEngine, BothFlagsOffFallsBackToQuoteMatching) {
    for (json::object flags :
         {json::object{{"quote_matching", false}, {"coverage_analysis", false}},
          json::object{{"quote_matching", false}}}) {
        const PlacementResult result = run(routed(flags));
        ASSERT_FALSE(result.failed()) << json::serialize(flags) << json::serialize(result.body);
        EXPECT_EQ(output_of(result).at("mode"), "quote_matching") << json::serialize(flags);
        EXPECT_FALSE(solutions_of(result).empty());
        EXPECT_FALSE(output_of(result).contains("coverage_gaps"));
    }
}

TEST(PlacementEngine, QuoteMatchingTrueAloneMatchesQuotesOnly) {
    const PlacementResult result = run(routed({{"quote_matching", true}}));
    EXPECT_EQ(output_of(result).at("mode"), "quote_matching");
    EXPECT_FALSE(output_of(result).contains("coverage_gaps"));
}

// solutions[*].offerings[*] read as the reference's key-fields table:
// offerings[*].attributes.line_premium_annual, with coverage and passthrough attributes kept.
TEST(PlacementEngine, SolutionOfferingsKeepTheSubmittedShape) {
    const json::object request = test::golden_input("brokerage_tx_multicarrier");
    std::map<std::string, json::object, std::less<>> submitted;
    for (const json::value& offering : request.at("offerings").as_array()) {
        submitted[text(offering.at("id"))] = offering.as_object();
    }
    const PlacementResult result = run(with_max_solutions(request, 50));
    ASSERT_FALSE(solutions_of(result).empty());
    for (const json::value& solution : solutions_of(result)) {
        for (const json::value& offering : solution.at("offerings").as_array()) {
            const json::object& sent = submitted.at(text(offering.at("id")));
            EXPECT_EQ(offering.as_object(), sent);
            EXPECT_TRUE(offering.at("attributes").as_object().contains("line_premium_annual"));
            EXPECT_FALSE(offering.as_object().contains("line_premium_annual"));
            EXPECT_FALSE(offering.as_object().contains("quote_id"));
        }
    }
}

// A configuration without parameters.solution_offerings (the 1.x releases) keeps the line
// summary its response contract describes.
TEST(PlacementEngine, ConfigurationsWithoutTheParameterKeepTheLineSummary) {
    json::object config = test::preset_config();
    config["parameters"].as_object().erase("solution_offerings");
    LuaScoringHost host(test::default_scorecard());
    const PlacementResult result = run(test::golden_input("auto_only_ny"), host, config);
    ASSERT_FALSE(solutions_of(result).empty());
    const json::object& line = line_of(solutions_of(result).at(0), "auto");
    EXPECT_EQ(number(line.at("line_premium_annual")), 1445);
    EXPECT_EQ(line.at("quote_id"), nullptr);
    EXPECT_FALSE(line.contains("attributes"));
    EXPECT_FALSE(line.contains("coverage"));
}

TEST(PlacementEngine, OfferingsConvertedFromQuotesCarryTheirAttributes) {
    const PlacementResult result = run(test::golden_input("quotes_only_oh"));
    ASSERT_FALSE(solutions_of(result).empty());
    EXPECT_EQ(output_of(result).at("offerings_source"), "input.quotes");
    for (const json::value& offering : solutions_of(result).at(0).at("offerings").as_array()) {
        const json::object& attributes = offering.at("attributes").as_object();
        EXPECT_TRUE(attributes.at("line_premium_annual").is_number()) << json::serialize(offering);
        EXPECT_TRUE(attributes.at("quote_id").is_string()) << json::serialize(offering);
        EXPECT_TRUE(offering.at("provider_name").is_string());
        EXPECT_TRUE(offering.at("provider_id").is_string());
    }
}

TEST(PlacementEngine, OfferingWithoutProviderNameIsNamedByItsProviderId) {
    json::object request = test::golden_input("auto_only_ny");
    for (json::value& offering : request["offerings"].as_array()) {
        offering.as_object().erase("provider_name");
    }
    const PlacementResult result = run(request);
    ASSERT_FALSE(solutions_of(result).empty());
    const json::object& line = line_of(solutions_of(result).at(0), "auto");
    EXPECT_EQ(line.at("provider_name"), line.at("provider_id"));
}

// top_label is the rank-1 package's cluster label; its carriers have a field of their own.
TEST(PlacementEngine, TopLabelIsTheClusterLabelAndCarriersStandApart) {
    const PlacementResult result = run(test::golden_input("brokerage_tx_multicarrier"));
    const json::array& solutions = solutions_of(result);
    ASSERT_FALSE(solutions.empty());
    EXPECT_EQ(output_of(result).at("top_label"), solutions[0].at("cluster_label"));
    EXPECT_EQ(output_of(result).at("top_label"), "recommended");
    std::string carriers;
    for (const json::value& provider : solutions[0].at("providers").as_array()) {
        carriers += (carriers.empty() ? "" : " + ") + text(provider);
    }
    EXPECT_EQ(text(output_of(result).at("top_carriers")), carriers);
    EXPECT_EQ(text(output_of(result).at("top_carriers")).find("original bundle"),
              std::string::npos);
}

TEST(PlacementEngine, RunWithoutSolutionsHasNoTopLabelOrCarriers) {
    const PlacementResult result = run(test::golden_input("missing_required_lines_ny"));
    EXPECT_EQ(output_of(result).at("top_label"), nullptr);
    EXPECT_EQ(output_of(result).at("top_carriers"), nullptr);
}

// Without a state the engine cannot apply excluded_states: what a "1.x" pin still allows (the
// current contract refuses such a request; see contract_test.cpp).
TEST(PlacementEngine, WithoutStateExcludedCarriersStayInTheRanking) {
    json::object request = test::golden_input("missing_state_tx");
    const PlacementResult unknown_state = run(request);
    EXPECT_EQ(output_of(unknown_state).at("filter_reasons").as_object().count("excluded_state"),
              0u);
    request["input"].as_object()["address"].as_object()["state"] = "TX";
    const PlacementResult in_texas = run(request);
    EXPECT_EQ(output_of(in_texas).at("filter_reasons").at("excluded_state"), 1);
}

// Three home offerings on which the buckets disagree: the cheapest (thin limits, weak carrier,
// its own provider), the best covered (dearest, strong carrier), and a one-carrier bundle.
json::object bucket_instance(std::string_view bucket) {
    const auto offering = [](std::string id, std::string provider, std::string line,
                             std::string rating, std::int64_t premium, json::object coverage,
                             json::object attributes = {}) {
        attributes["line_premium_annual"] = premium;
        return json::object{{"id", std::move(id)},
                            {"provider_name", std::move(provider)},
                            {"category", std::move(line)},
                            {"quality_rating", std::move(rating)},
                            {"coverage", std::move(coverage)},
                            {"attributes", std::move(attributes)}};
    };
    const json::object bundle{{"package_id", "pkg_one"}, {"package_premium_annual", 3900}};
    json::array offerings{
        offering("h_cheap", "Budget", "home", "B", 1200,
                 {{"dwelling_limit", 400000}, {"deductible_default", 5000}}),
        offering("h_best", "Premier", "home", "A++", 2600,
                 {{"dwelling_limit", 700000}, {"deductible_default", 500}}),
        offering("h_one", "OneCo", "home", "A-", 2100,
                 {{"dwelling_limit", 550000}, {"deductible_default", 2500}}, bundle),
        offering("a_cheap", "Budget2", "auto", "B", 1000,
                 {{"limit_combined_single", 300000}, {"deductible_default", 1000}}),
        offering("a_best", "Elite", "auto", "A++", 2200,
                 {{"limit_combined_single", 1000000}, {"deductible_default", 250}}),
        offering("a_one", "OneCo", "auto", "A-", 2000,
                 {{"limit_combined_single", 500000}, {"deductible_default", 500}}, bundle),
    };
    return {{"input", json::object{{"coverage_types", json::array{"home", "auto"}},
                                   {"appetite_bucket", bucket},
                                   {"residence", json::object{{"replacement_cost", 700000}}}}},
            {"offerings", std::move(offerings)}};
}

std::vector<std::string> top_ids(std::string_view bucket) {
    const PlacementResult result = run(bucket_instance(bucket));
    std::vector<std::string> ids;
    for (const json::value& offering : solutions_of(result).at(0).at("offerings").as_array()) {
        ids.push_back(text(offering.at("id")));
    }
    return ids;
}

TEST(AppetiteBuckets, CostSensitivePutsTheCheapestFirst) {
    EXPECT_EQ(top_ids("cost_sensitive"), (std::vector<std::string>{"h_cheap", "a_cheap"}));
}

TEST(AppetiteBuckets, CoverageFirstPutsTheBestCoverageFirst) {
    EXPECT_EQ(top_ids("coverage_first"), (std::vector<std::string>{"h_best", "a_best"}));
}

TEST(AppetiteBuckets, SimplicityPutsASingleProviderFirst) {
    EXPECT_EQ(top_ids("simplicity"), (std::vector<std::string>{"h_one", "a_one"}));
}

TEST(AppetiteBuckets, BalancedSitsBetweenTheExtremes) {
    const std::vector<std::string> balanced = top_ids("balanced");
    EXPECT_NE(balanced, top_ids("cost_sensitive"));
    EXPECT_NE(balanced, top_ids("coverage_first"));
}

}  // namespace
}  // namespace engined::placement
