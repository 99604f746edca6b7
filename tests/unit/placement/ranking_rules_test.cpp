// The ranking rules a broker checks a placement against: bundles known by their package premium,
// umbrella minimums over the insured's current policies, underinsured dwellings, the unbundling
// surcharge and the cluster labels and coverage_first order.
#include "config.hpp"
#include "offering.hpp"
#include "placement_engine.hpp"
#include "rank.hpp"
#include "scorers.hpp"

#include "lua_scoring_host.hpp"
#include "test_support.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace engined::placement {
namespace {

namespace json = boost::json;

PlacementResult run(const json::object& request, const json::object& config = test::preset_config(),
                    const std::string& scorecard = test::default_scorecard()) {
    test::LuaScoringHost host(scorecard);
    return run_placement(request, config, host);
}

const json::array& solutions_of(const PlacementResult& result) {
    return result.body.at("solutions").as_array();
}

const json::object& output_of(const PlacementResult& result) {
    return result.body.at("output").as_object();
}

std::vector<std::string> offering_ids(const json::value& solution) {
    std::vector<std::string> ids;
    for (const json::value& offering : solution.at("offerings").as_array()) {
        ids.emplace_back(offering.at("id").as_string());
    }
    return ids;
}

const json::value* solution_with(const PlacementResult& result,
                                 const std::vector<std::string>& ids) {
    for (const json::value& solution : solutions_of(result)) {
        if (offering_ids(solution) == ids) {
            return &solution;
        }
    }
    return nullptr;
}

double coverage_level(const json::value& solution) {
    return solution.at("scorecard")
        .at("dimensions")
        .at("coverage_completeness")
        .at("level")
        .to_number<double>();
}

json::object line(std::string id, std::string provider, std::string category, double premium,
                  json::object coverage = {}, json::object attributes = {},
                  json::object constraints = {}) {
    attributes["line_premium_annual"] = premium;
    return {{"id", std::move(id)},
            {"provider_name", std::move(provider)},
            {"category", std::move(category)},
            {"quality_rating", "A"},
            {"coverage", std::move(coverage)},
            {"attributes", std::move(attributes)},
            {"constraints", std::move(constraints)}};
}

json::object request(json::array coverage_types, json::array offerings,
                     json::object input_extra = {}) {
    json::object input{{"coverage_types", std::move(coverage_types)},
                       {"address", json::object{{"state", "OH"}}},
                       {"request_config", json::object{{"max_solutions", 50}}}};
    for (const auto& member : input_extra) {
        input[member.key()] = member.value();
    }
    return {{"input", std::move(input)}, {"offerings", std::move(offerings)}};
}

// --- item: lines of one carrier sharing a package premium are its original bundle ----------

json::object travelers_bundle_by_premium() {
    const json::object bundle{{"package_premium_annual", 10500}};
    return request(json::array{"home", "auto"},
                   json::array{line("trv_home", "Travelers", "home", 6240, {}, bundle),
                               line("trv_auto", "Travelers", "auto", 5400, {}, bundle),
                               line("saf_home", "Safeco", "home", 5900),
                               line("saf_auto", "Safeco", "auto", 5200)});
}

TEST(BundleByPackagePremium, PricesACarriersLinesAtTheirSharedPackagePremium) {
    const PlacementResult result = run(travelers_bundle_by_premium());
    ASSERT_FALSE(result.failed()) << json::serialize(result.body);
    const json::value* bundle = solution_with(result, {"trv_home", "trv_auto"});
    ASSERT_NE(bundle, nullptr);
    EXPECT_EQ(bundle->at("is_original_bundle"), true);
    EXPECT_EQ(bundle->at("est_cost_low").to_number<double>(), 10500);  // not 6,240 + 5,400 = 11,640
    EXPECT_EQ(bundle->at("est_cost_high").to_number<double>(), 10500);
    EXPECT_EQ(bundle->at("package_id"), nullptr);  // none was quoted: package_id is a passthrough
}

TEST(BundleByPackagePremium, SplittingItAddsTheSurchargeToTheSplitLineOnly) {
    const PlacementResult result = run(travelers_bundle_by_premium());
    const json::value* split = solution_with(result, {"trv_home", "saf_auto"});
    ASSERT_NE(split, nullptr);
    EXPECT_EQ(split->at("is_original_bundle"), false);
    EXPECT_EQ(split->at("est_cost_low").to_number<double>(), 6240 + 5200);
    EXPECT_DOUBLE_EQ(split->at("est_cost_high").to_number<double>(), 6240 * 1.12 + 5200);
}

TEST(BundleByPackagePremium, DifferentCarriersAtTheSamePremiumAreNoBundle) {
    const json::object same{{"package_premium_annual", 10500}};
    const PlacementResult result =
        run(request(json::array{"home", "auto"},
                    json::array{line("trv_home", "Travelers", "home", 6240, {}, same),
                                line("saf_auto", "Safeco", "auto", 5400, {}, same)}));
    const json::value* mixed = solution_with(result, {"trv_home", "saf_auto"});
    ASSERT_NE(mixed, nullptr);
    EXPECT_EQ(mixed->at("is_original_bundle"), false);
    EXPECT_EQ(mixed->at("est_cost_low").to_number<double>(), 11640);
}

TEST(BundleByPackagePremium, TheSearchAndTheExhaustiveRankingAgree) {
    const json::object config = test::preset_config();
    test::LuaScoringHost searched_host(test::default_scorecard());
    test::LuaScoringHost exhaustive_host(test::default_scorecard());
    const PlacementResult searched =
        run_placement(travelers_bundle_by_premium(), config, searched_host);
    const PlacementResult exhaustive = run_placement(travelers_bundle_by_premium(), config,
                                                     exhaustive_host, RankingStrategy::exhaustive);
    EXPECT_EQ(json::serialize(searched.body.at("solutions")),
              json::serialize(exhaustive.body.at("solutions")));
}

// --- item: umbrella minimums against the current policies of lines not being placed --------

json::object umbrella_only(double current_bi_per_person, double current_bi_per_accident) {
    const json::object minimums{{"min_underlying_auto_bi_per_person", 250000},
                                {"min_underlying_auto_bi_per_accident", 500000}};
    return request(
        json::array{"umbrella"},
        json::array{
            line("umb_strict", "Chubb", "umbrella", 450, {{"limit", 1000000}}, {}, minimums),
            line("umb_open", "Erie", "umbrella", 520, {{"limit", 1000000}})},
        {{"current_coverage",
          json::object{
              {"auto",
               json::object{{"carrier", "Allstate"},
                            {"limit_bodily_injury_per_person", current_bi_per_person},
                            {"limit_bodily_injury_per_accident", current_bi_per_accident}}}}}});
}

TEST(UmbrellaOverCurrentPolicies, RejectsAnUmbrellaTheCurrentAutoLimitsDoNotMeet) {
    const PlacementResult result = run(umbrella_only(100000, 300000));
    ASSERT_FALSE(result.failed()) << json::serialize(result.body);
    ASSERT_EQ(solutions_of(result).size(), 1u);
    EXPECT_EQ(offering_ids(solutions_of(result)[0]), std::vector<std::string>{"umb_open"});
    EXPECT_EQ(output_of(result).at("filter_reasons").at("underlying_auto_bi_below_minimum"), 1);
}

TEST(UmbrellaOverCurrentPolicies, AcceptsLimitsAtTheMinimumAndRejectsOneDollarBelow) {
    EXPECT_EQ(solutions_of(run(umbrella_only(250000, 500000))).size(), 2u);
    EXPECT_EQ(solutions_of(run(umbrella_only(250000, 499999))).size(), 1u);
    EXPECT_EQ(solutions_of(run(umbrella_only(249999, 500000))).size(), 1u);
}

TEST(UmbrellaOverCurrentPolicies, AppliesHomeLiabilityMinimumsToTheCurrentHomePolicy) {
    const json::object minimum{{"min_underlying_home_liability", 300000}};
    const auto with_home_liability = [&](double liability) {
        return request(
            json::array{"umbrella"},
            json::array{line("umb", "Chubb", "umbrella", 450, {{"limit", 1000000}}, {}, minimum)},
            {{"current_coverage",
              json::object{{"home", json::object{{"personal_liability_limit", liability}}}}}});
    };
    EXPECT_EQ(solutions_of(run(with_home_liability(300000))).size(), 1u);
    const PlacementResult below = run(with_home_liability(299999));
    EXPECT_TRUE(solutions_of(below).empty());
    EXPECT_EQ(output_of(below).at("filter_reasons").at("underlying_home_liability_below_minimum"),
              1);
    EXPECT_FALSE(output_of(below).at("diagnostic").is_null());
}

TEST(UmbrellaOverCurrentPolicies, APolicyThatStatesNoLimitDoesNotRejectTheUmbrella) {
    const json::object minimums{{"min_underlying_auto_bi_per_person", 250000}};
    const PlacementResult result = run(request(
        json::array{"umbrella"},
        json::array{line("umb", "Chubb", "umbrella", 450, {{"limit", 1000000}}, {}, minimums)},
        {{"current_coverage", json::object{{"auto", json::object{{"annual_premium", 2100}}}}}}));
    EXPECT_EQ(solutions_of(result).size(), 1u);
}

TEST(UmbrellaOverCurrentPolicies, AQuotedUnderlyingLineIsJudgedByItsQuoteNotTheCurrentPolicy) {
    const json::object minimums{{"min_underlying_auto_bi_per_person", 250000},
                                {"min_underlying_auto_bi_per_accident", 500000}};
    const PlacementResult result = run(request(
        json::array{"auto", "umbrella"},
        json::array{line("auto_250_500", "Chubb", "auto", 2100,
                         {{"limit_bodily_injury_per_person", 250000},
                          {"limit_bodily_injury_per_accident", 500000}}),
                    line("umb", "Chubb", "umbrella", 450, {{"limit", 1000000}}, {}, minimums)},
        {{"current_coverage",
          json::object{{"auto", json::object{{"limit_bodily_injury_per_person", 50000},
                                             {"limit_bodily_injury_per_accident", 100000}}}}}}));
    EXPECT_EQ(solutions_of(result).size(), 1u);
}

// --- item: a dwelling under the coinsurance threshold ---------------------------------------

Offering home_offering(std::vector<Offering>& storage, json::array& sources, double dwelling) {
    sources.push_back(line("home", "Carrier", "home", 1000, {{"dwelling_limit", dwelling}}));
    storage = read_offerings(sources);
    return storage.back();
}

double dwelling_level(double dwelling, std::optional<double> replacement_cost,
                      std::optional<double> best_quote) {
    json::array sources;
    std::vector<Offering> storage;
    const Offering offering = home_offering(storage, sources, dwelling);
    Market market;
    market.replacement_cost = replacement_cost;
    market.best_quoted["home"].dwelling = best_quote;
    const std::vector<CoverageCheck> checks = coverage_checks(offering, market);
    const auto dwelling_check = std::find_if(
        checks.begin(), checks.end(),
        [](const CoverageCheck& c) { return c.reason.starts_with("home dwelling limit"); });
    if (dwelling_check == checks.end()) {
        throw std::logic_error("no dwelling check");
    }
    return dwelling_check->level;
}

TEST(UnderinsuredDwelling, UnderTheCoinsuranceThresholdIsTheWorstLevel) {
    EXPECT_EQ(dwelling_level(600000, 600000, std::nullopt), 1.0);
    EXPECT_DOUBLE_EQ(dwelling_level(480000, 600000, std::nullopt), 2.0);  // exactly 80 %
    EXPECT_EQ(dwelling_level(479999, 600000, std::nullopt), 4.0);         // just under
}

TEST(UnderinsuredDwelling, SupplyingTheReplacementCostNeverImprovesTheLevel) {
    // 500,000 against a 700,000 best quote, and 91 % of a 550,000 replacement cost.
    const double without = dwelling_level(500000, std::nullopt, 700000);
    EXPECT_GE(dwelling_level(500000, 550000, 700000), without);
    // Under the threshold it only gets worse.
    EXPECT_GT(dwelling_level(500000, 700000, 500000), dwelling_level(500000, std::nullopt, 500000));
}

TEST(UnderinsuredDwelling, ScoresWorseOnCoverageThanFullReplacementCostEvenWithALowerDeductible) {
    const PlacementResult result =
        run(request(json::array{"home"},
                    json::array{line("full", "Travelers", "home", 2400,
                                     {{"dwelling_limit", 600000}, {"deductible_default", 2500}}),
                                line("under", "Travelers", "home", 2400,
                                     {{"dwelling_limit", 450000}, {"deductible_default", 1000}})},
                    {{"residence", json::object{{"replacement_cost", 600000}}}}));
    const json::value* full = solution_with(result, {"full"});
    const json::value* under = solution_with(result, {"under"});
    ASSERT_NE(full, nullptr);
    ASSERT_NE(under, nullptr);
    EXPECT_LT(coverage_level(*full), coverage_level(*under));
    EXPECT_EQ(coverage_level(*under),
              4.0);  // the coinsurance shortfall pins the package's coverage
    EXPECT_EQ(offering_ids(solutions_of(result)[0]), std::vector<std::string>{"full"});
}

TEST(UnderinsuredDwelling, PinsTheWholePackagesCoverageWhateverTheOtherLines) {
    // Underinsured home with the best auto quote still scores the worst coverage, as a package.
    const PlacementResult result = run(request(
        json::array{"home", "auto"},
        json::array{line("under", "Travelers", "home", 2000, {{"dwelling_limit", 470000}}),
                    line("full", "Travelers", "home", 2600, {{"dwelling_limit", 600000}}),
                    line("auto", "Travelers", "auto", 1500, {{"limit_combined_single", 500000}})},
        {{"residence", json::object{{"replacement_cost", 600000}}}}));
    const json::value* under = solution_with(result, {"under", "auto"});
    const json::value* full = solution_with(result, {"full", "auto"});
    ASSERT_NE(under, nullptr);
    ASSERT_NE(full, nullptr);
    EXPECT_EQ(coverage_level(*under), 4.0);
    EXPECT_EQ(coverage_level(*full), 1.0);
}

// --- item: labels a broker can check --------------------------------------------------------

Package scored(double cost, double pricing, double coverage, double simplicity = 1.0) {
    Package package;
    package.est_cost_low = package.est_cost_high = cost;
    for (const auto& [key, level] :
         {std::pair{kPricingCompetitiveness, pricing}, std::pair{kCoverageCompleteness, coverage},
          std::pair{kSimplicity, simplicity}}) {
        package.scorecard.dimensions.push_back({.key = std::string(key),
                                                .label = std::string(key),
                                                .level = level,
                                                .weight = 1.0,
                                                .reason = ""});
    }
    return package;
}

std::vector<std::string_view> labels_of(const std::vector<RankedSolution>& solutions) {
    std::vector<std::string_view> labels;
    for (const RankedSolution& solution : solutions) {
        labels.push_back(solution.cluster_label);
    }
    return labels;
}

TEST(ClusterLabels, BestValueNeverGoesToADearerPackageNoBetterCovered) {
    const Package first = scored(1000, 1.0, 1.5);
    const Package dominated = scored(1100, 1.2, 2.0);  // dearer than the first and worse covered
    const Package trade_off = scored(1200, 1.4, 1.2);  // dearer, but better covered
    const auto solutions = label_solutions({&first, &dominated, &trade_off});
    EXPECT_EQ(solutions[1].cluster_label, cluster_label::kAlternative);
    EXPECT_EQ(solutions[2].cluster_label, cluster_label::kBestValue);
}

TEST(ClusterLabels, EqualCoverageAtAHigherPriceIsDominatedToo) {
    const Package first = scored(1000, 1.0, 1.5);
    const Package same_cover = scored(1100, 1.2, 1.5);
    const auto solutions = label_solutions({&first, &same_cover});
    EXPECT_NE(solutions[1].cluster_label, cluster_label::kBestValue);
}

TEST(ClusterLabels, BestCoverageIsNotAwardedWhenAllTieOnCoverage) {
    const Package a = scored(1000, 1.0, 1.8, 1.0);
    const Package b = scored(1100, 1.5, 1.8, 2.0);
    const Package c = scored(1200, 2.0, 1.8, 3.0);
    const auto labels = labels_of(label_solutions({&a, &b, &c}));
    EXPECT_EQ(std::count(labels.begin(), labels.end(), cluster_label::kBestCoverage), 0);
    EXPECT_EQ(labels[0], cluster_label::kRecommended);
    // b and c are dominated (no best_value) and no simpler than a (no simplest).
    EXPECT_EQ(labels[1], cluster_label::kAlternative);
    EXPECT_EQ(labels[2], cluster_label::kAlternative);
}

TEST(ClusterLabels, BestCoverageAndSimplestMustBeatTheRecommendedPackage) {
    const Package first = scored(1000, 1.2, 1.2, 1.0);
    const Package same_cover = scored(900, 1.0, 1.2, 2.0);  // cheaper, as well covered, less simple
    const Package worse = scored(1100, 1.5, 1.8, 3.0);
    const auto labels = labels_of(label_solutions({&first, &same_cover, &worse}));
    EXPECT_EQ(labels,
              (std::vector<std::string_view>{cluster_label::kRecommended, cluster_label::kBestValue,
                                             cluster_label::kAlternative}));
    const Package cheaper = scored(900, 1.0, 1.5, 1.0);
    const Package better_cover = scored(1300, 2.0, 1.0, 1.0);
    const auto with_better = labels_of(label_solutions({&first, &cheaper, &better_cover}));
    EXPECT_EQ(with_better,
              (std::vector<std::string_view>{cluster_label::kRecommended, cluster_label::kBestValue,
                                             cluster_label::kBestCoverage}));
}

TEST(ClusterLabels, NoLabelForADimensionOnWhichAllTie) {
    const Package a = scored(1000, 1.0, 1.8, 2.0);
    const Package b = scored(1000, 1.0, 1.8, 2.0);
    const auto labels = labels_of(label_solutions({&a, &b}));
    EXPECT_EQ(labels, (std::vector<std::string_view>{cluster_label::kRecommended,
                                                     cluster_label::kAlternative}));
}

TEST(ClusterLabels, BestCoverageGoesToTheBestCoveredAlternativeOtherwise) {
    const Package a = scored(1000, 1.0, 1.8);
    const Package b = scored(1000, 1.0, 1.8);
    const Package c = scored(1300, 2.0, 1.1);
    const auto labels = labels_of(label_solutions({&a, &b, &c}));
    EXPECT_EQ(labels[2], cluster_label::kBestCoverage);
}

TEST(CoverageFirstOrder, PutsTheBestCoveredFirstWithinThePriceCap) {
    const Package cheap = scored(1000, 1.0, 2.0);
    const Package covered = scored(1250, 1.5, 1.2);
    // 1.25 x the cheapest 1,000: at the cap it goes first, one cent past it it does not.
    auto at_cap = label_solutions({&cheap, &covered}, 1250.0);
    EXPECT_EQ(at_cap[0].package, &covered);
    EXPECT_EQ(at_cap[0].rank, 1u);
    EXPECT_EQ(at_cap[1].package, &cheap);
    const auto past_cap = label_solutions({&cheap, &covered}, 1249.99);
    EXPECT_EQ(past_cap[0].package, &cheap);
}

TEST(CoverageFirstOrder, OnlyTheCoverageFirstBucketReorders) {
    const auto request_with = [](std::string_view bucket) {
        return request(
            json::array{"home"},
            json::array{line("cheap", "Budget", "home", 1000, {{"dwelling_limit", 450000}}),
                        line("covered", "Budget", "home", 1200, {{"dwelling_limit", 600000}})},
            {{"appetite_bucket", bucket},
             {"residence", json::object{{"replacement_cost", 600000}}}});
    };
    // Configured weights that ignore coverage (the scorecard defers to them), so that only the
    // coverage_first rule can put "covered" first.
    const std::string deferring_scorecard = "function weights(bucket, input) return nil end";
    json::object cost_only = test::preset_config();
    for (json::value& profile : cost_only.at("appetite_weight_profiles").as_array()) {
        profile.as_object()["weights"] = json::object{{"pricing_competitiveness", 1.0},
                                                      {"coverage_completeness", 0.0},
                                                      {"carrier_quality", 0.0},
                                                      {"simplicity", 0.0}};
    }
    EXPECT_EQ(offering_ids(solutions_of(
                  run(request_with("coverage_first"), cost_only, deferring_scorecard))[0]),
              std::vector<std::string>{"covered"});
    EXPECT_EQ(offering_ids(
                  solutions_of(run(request_with("balanced"), cost_only, deferring_scorecard))[0]),
              std::vector<std::string>{"cheap"});
    // A ratio under 1.2 puts the 1,200 package past the cap.
    cost_only["parameters"].as_object()["coverage_first_price_ratio"] = 1.19;
    EXPECT_EQ(offering_ids(solutions_of(
                  run(request_with("coverage_first"), cost_only, deferring_scorecard))[0]),
              std::vector<std::string>{"cheap"});
}

TEST(CoverageFirstOrder, TheRatioIsCheckedWithTheConfiguration) {
    json::object config = test::preset_config();
    for (const double bad : {0.99, 10.01}) {
        config["parameters"].as_object()["coverage_first_price_ratio"] = bad;
        const auto problems = check_config(config);
        ASSERT_EQ(problems.size(), 1u) << bad;
        EXPECT_EQ(problems[0].path, "/parameters/coverage_first_price_ratio");
    }
    for (const double good : {1.0, 10.0}) {
        config["parameters"].as_object()["coverage_first_price_ratio"] = good;
        EXPECT_TRUE(check_config(config).empty()) << good;
    }
}

}  // namespace
}  // namespace engined::placement
