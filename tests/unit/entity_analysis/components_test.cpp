// The entity-analysis components one at a time: configuration checks, pool parsing, the
// filter's rules, the levels, confidence, tiers and the pool cache.
#include "assess.hpp"
#include "carrier.hpp"
#include "carrier_records.hpp"
#include "config.hpp"
#include "filter.hpp"
#include "pool_cache.hpp"
#include "prospect.hpp"
#include "rank.hpp"
#include "sdk_names.hpp"

#include "test_support.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

namespace engined::entity_analysis {
namespace {

namespace json = boost::json;

std::vector<std::string> problem_paths(const json::object& config) {
    std::vector<std::string> paths;
    for (const ConfigProblem& problem : check_config(config)) {
        paths.push_back(problem.path);
    }
    return paths;
}

Carrier carrier_from(std::string_view json_text) {
    return parse_pool("[" + std::string(json_text) + "]").carriers.at(0);
}

Prospect prospect_from(std::string_view profile_json) {
    return read_prospect(json::object{{"profile", json::parse(profile_json)}});
}

TEST(EntityAnalysisConfig, ThePresetIsValid) {
    for (const ConfigProblem& problem : check_config(test::preset_config())) {
        ADD_FAILURE() << problem.path << ": " << problem.message;
    }
}

TEST(EntityAnalysisConfig, EveryProblemIsReportedWithItsPath) {
    json::object config = test::preset_config();
    json::array& dimensions = config["scoring_dimensions"].as_array();
    dimensions[1].as_object()["method"] = "lua";
    dimensions[2].as_object()["enabled"] = false;
    dimensions.pop_back();
    config["appetite_weight_profiles"].as_array()[0].as_object()["weights"].as_object()["pricing"] =
        -1;
    config["parameters"].as_object()["tier_thresholds"] =
        json::object{{"STRONG_FIT", 3}, {"GOOD_FIT", 2}, {"MODERATE_FIT", 3.5}};
    config["parameters"].as_object()["max_candidates_default"] = 600;
    config["schema_version"] = 2;
    EXPECT_EQ(
        problem_paths(config),
        (std::vector<std::string>{
            "/schema_version", "/scoring_dimensions/1/method", "/scoring_dimensions/2/enabled",
            "/scoring_dimensions", "/appetite_weight_profiles/0/weights/pricing",
            "/parameters/tier_thresholds", "/parameters/max_candidates_default"}));
}

TEST(EntityAnalysisConfig, AnInvalidConfigurationFailsTheRun) {
    json::object config = test::preset_config();
    config.erase("appetite_weight_profiles");
    try {
        parse_config(config);
        FAIL() << "parse_config accepted a configuration without weight profiles";
    } catch (const RunFailure& failure) {
        EXPECT_EQ(failure.code(), "invalid_config");
        EXPECT_FALSE(failure.details().empty());
    }
}

TEST(EntityAnalysisCarrierRecords, AnIdIsLettersDigitsAndThreeMarksUpTo64) {
    EXPECT_TRUE(is_carrier_id("Car_0007.b-2"));
    EXPECT_TRUE(is_carrier_id(std::string(64, 'a')));
    EXPECT_FALSE(is_carrier_id(std::string(65, 'a')));
    EXPECT_FALSE(is_carrier_id(""));
    EXPECT_FALSE(is_carrier_id("car 7"));
    EXPECT_FALSE(is_carrier_id("car/7"));
    EXPECT_FALSE(is_carrier_id("car:7"));
}

TEST(EntityAnalysisCarrierRecords, EveryBrokenRecordIsOneErrorAndAHeaderProblemStopsTheCheck) {
    const auto answer =
        canonical_carriers(boost::json::parse(R"([{"id": "b", "name": "B", "states": ["NY"],
                                "lines": [{"line": "cyber", "appetite": "preferred"}]},
                               7, {"id": "a"}])")
                               .as_array(),
                           RecordSource::json);
    EXPECT_EQ(boost::json::serialize(answer.at("errors")),
              R"([{"index":1,"message":"expected a carrier object"},)"
              R"({"index":2,"message":"name is required"}])");
    EXPECT_EQ(answer.at("records").as_array().size(), 1u);
    const auto header = canonical_carriers(
        boost::json::parse(R"([{"id": "a", "name": "A", "states": "NY"}])").as_array(),
        RecordSource::csv);
    EXPECT_EQ(boost::json::serialize(header.at("errors")),
              R"([{"index":-1,"message":"the header has no 'lines' column"}])");
}

TEST(EntityAnalysisPool, RecordsReadWithUnknownsLeftUnknown) {
    const Carrier carrier = carrier_from(
        R"({"id": "c1", "name": "Alder", "am_best_rating": "A-", "financial_size": "IX",
        "states": ["CA", "ny", "TX"], "lines": [{"line": "cyber", "appetite": "preferred"}, {"line": "marine", "appetite": "preferred"},
        {"line": "epli", "appetite": "excluded"}, {"line": "bop"}], "revenue_max": 5e6, "pricing_index": 0.9})");
    EXPECT_EQ(carrier.rating_rank, 3);
    EXPECT_EQ(carrier.size_class, 9);
    EXPECT_TRUE(carrier.writes_state("CA"));
    EXPECT_FALSE(carrier.writes_state("NY"));  // codes are upper case
    EXPECT_EQ(carrier.appetite_for(Line::cyber), Appetite::preferred);
    EXPECT_EQ(carrier.appetite_for(Line::epli), Appetite::excluded);
    EXPECT_EQ(carrier.appetite_for(Line::bop), Appetite::acceptable);
    EXPECT_EQ(carrier.appetite_for(Line::umbrella), Appetite::not_written);
    EXPECT_FALSE(carrier.revenue_min);
    EXPECT_EQ(carrier.revenue_max, 5e6);
    EXPECT_FALSE(carrier.commission);

    EXPECT_TRUE(carrier_from(R"({"id": "c2", "states": ["*"]})").writes_state("WY"));
    EXPECT_EQ(carrier_from(R"({"id": "c3"})").name, "c3");
}

TEST(EntityAnalysisPool, AnUnreadablePoolIsRefused) {
    for (const char* text : {"{", "{}", "[1]", R"([{"name": "no id"}])"}) {
        try {
            parse_pool(text);
            ADD_FAILURE() << text;
        } catch (const RunFailure& failure) {
            EXPECT_EQ(failure.code(), "dataset_invalid") << text;
        }
    }
}

TEST(EntityAnalysisFilter, RulesApplyInOrderAndUnknownFactsNeverExclude) {
    const Carrier carrier = carrier_from(
        R"({"id": "c", "states": ["CA"], "lines": [{"line": "cyber", "appetite": "preferred"},
        {"line": "epli", "appetite": "excluded"}], "prohibited_naics": ["5411"], "revenue_min": 1e6, "revenue_max": 5e7,
        "employees_max": 100})");
    const auto reason = [&](std::string_view profile) {
        const auto found = ineligibility(carrier, prospect_from(profile));
        return found ? std::string(filter_reason_name(*found)) : std::string("eligible");
    };
    EXPECT_EQ(reason(R"({"entity": "x"})"), "eligible");
    EXPECT_EQ(reason(R"({"entity": "x", "state": "NV", "line": "epli"})"), "state_not_written");
    EXPECT_EQ(reason(R"({"entity": "x", "state": "CA", "line": "epli"})"), "line_excluded");
    EXPECT_EQ(reason(R"({"entity": "x", "line": "umbrella"})"), "line_not_written");
    EXPECT_EQ(reason(R"({"entity": "x", "lines": ["epli", "cyber"]})"), "eligible");
    EXPECT_EQ(reason(R"({"entity": "x", "naics": "541110"})"), "naics_prohibited");
    EXPECT_EQ(reason(R"({"entity": "x", "naics": "54"})"),
              "eligible");  // 54 is wider than the prohibited 5411
    EXPECT_EQ(reason(R"({"entity": "x", "revenue": 60000000})"), "revenue_out_of_band");
    EXPECT_EQ(reason(R"({"entity": "x", "revenue": 500000})"), "revenue_out_of_band");
    EXPECT_EQ(reason(R"({"entity": "x", "employees": 101})"), "employees_out_of_band");
    EXPECT_EQ(reason(R"({"entity": "x", "state": "ca", "revenue": 1000000, "employees": 100})"),
              "eligible");
}

TEST(EntityAnalysisProspect, TheStateMayComeFromThePrimaryAddress) {
    const Prospect prospect =
        read_prospect(json::object{{"prospect",
                                    {{"entity", "Acme"},
                                     {"primary_address", {{"state", "tx"}}},
                                     {"lines", {"cyber", "epli", "cyber"}}}}});
    EXPECT_EQ(prospect.state, "TX");
    EXPECT_EQ(prospect.lines, (std::vector<Line>{Line::cyber, Line::epli}));
    for (const char* bad :
         {R"({"entity": "x", "naics": "5"})", R"({"entity": "x", "naics": 541110})",
          R"({"entity": "x", "state": "Texas"})", R"({"entity": ""})"}) {
        EXPECT_THROW(prospect_from(bad), RunFailure) << bad;
    }
}

TEST(EntityAnalysisAssess, LevelsFollowTheDocumentedThresholds) {
    const Prospect prospect = prospect_from(
        R"({"entity": "x", "state": "CA", "lines": ["cyber", "epli"], "naics": "541110",
        "revenue": 10000000})");
    const AssessContext context{.prospect = prospect, .gap_lines = {}};
    const Carrier strong =
        carrier_from(R"({"id": "s", "am_best_rating": "A+", "financial_size": "XII",
        "lines": [{"line": "cyber", "appetite": "preferred"}, {"line": "epli", "appetite": "preferred"}],
        "pricing_index": 0.9, "commission": 0.16, "quote_turnaround_days": 3, "claims_satisfaction": 0.9,
        "revenue_min": 0, "revenue_max": 20000000})");
    EXPECT_EQ(assess_levels(strong, context), (Levels{1, 1, 1, 1, 1, 1}));

    const Carrier weak = carrier_from(R"({"id": "w", "am_best_rating": "B", "financial_size": "IV",
        "lines": [{"line": "cyber", "appetite": "acceptable"}], "avoided_naics": ["54"],
        "pricing_index": 1.2, "commission": 0.05, "quote_turnaround_days": 12, "claims_satisfaction": 0.5,
        "revenue_min": 9000000, "revenue_max": 100000000})");
    EXPECT_EQ(assess_levels(weak, context), (Levels{4, 2, 4, 4, 4, 4}));
    const Scores scores = explain_scores(weak, context);
    EXPECT_EQ(scores[0].reason, "acceptable appetite for cyber; avoids NAICS 54 (prospect 541110)");
    EXPECT_EQ(scores[1].reason, "writes 1 of 2 requested lines");
    EXPECT_EQ(scores[2].reason, "B (IV) rated, a small balance sheet");
    EXPECT_EQ(scores[3].reason, "pricing 20% over market");
    EXPECT_EQ(scores[4].reason,
              "5% commission, quotes in 12 days, revenue near the edge of its $9M-$100M band");
    EXPECT_EQ(scores[5].reason, "claims satisfaction 0.50, slow to quote (12 days)");

    const Carrier blank =
        carrier_from(R"({"id": "b", "lines": [{"line": "cyber", "appetite": "preferred"}]})");
    EXPECT_EQ(explain_scores(blank, context)[2].reason, "no AM Best rating on file");
    EXPECT_EQ(explain_scores(blank, context)[3].reason, "no pricing index on file");
}

TEST(EntityAnalysisRank, ConfidenceRules) {
    const auto confidence = [](std::string_view profile) {
        return confidence_name(profile_confidence(completeness(prospect_from(profile))));
    };
    EXPECT_EQ(
        confidence(
            R"({"entity": "x", "naics": "54", "revenue": 1, "employees": 1, "state": "CA", "line": "cyber",
        "years_in_business": 3})"),
        "HIGH");
    EXPECT_EQ(
        confidence(
            R"({"entity": "x", "naics": "54", "revenue": 1, "employees": 1, "state": "CA", "line": "cyber"})"),
        "HIGH");
    EXPECT_EQ(
        confidence(
            R"({"entity": "x", "naics": "54", "revenue": 1, "state": "CA", "line": "cyber"})"),
        "MEDIUM");
    EXPECT_EQ(
        confidence(R"({"entity": "x", "revenue": 1, "employees": 1, "state": "CA", "line": "cyber",
        "years_in_business": 3})"),
        "MEDIUM");
    EXPECT_EQ(confidence(R"({"entity": "x", "state": "CA", "line": "cyber", "naics": "54"})"),
              "MEDIUM");
    EXPECT_EQ(confidence(R"({"entity": "x", "state": "CA", "line": "cyber"})"), "LOW");

    const Carrier full =
        carrier_from(R"({"id": "f", "am_best_rating": "A", "pricing_index": 1, "commission": 0.1,
        "claims_satisfaction": 0.8, "quote_turnaround_days": 4})");
    const Carrier partial = carrier_from(
        R"({"id": "p", "am_best_rating": "A", "pricing_index": 1, "commission": 0.1})");
    EXPECT_EQ(candidate_confidence(Confidence::high, full), Confidence::high);
    EXPECT_EQ(candidate_confidence(Confidence::high, partial), Confidence::medium);
    EXPECT_EQ(candidate_confidence(Confidence::low, full), Confidence::low);
}

TEST(EntityAnalysisRank, TiersAndAggregates) {
    const TierThresholds thresholds;
    EXPECT_EQ(tier_of(1.0, thresholds), "STRONG_FIT");
    EXPECT_EQ(tier_of(1.75, thresholds), "STRONG_FIT");
    EXPECT_EQ(tier_of(1.7501, thresholds), "GOOD_FIT");
    EXPECT_EQ(tier_of(3.25, thresholds), "MODERATE_FIT");
    EXPECT_EQ(tier_of(3.3, thresholds), "WEAK_FIT");
    EXPECT_DOUBLE_EQ(aggregate_level({1, 2, 3, 4, 1, 1}, {1, 1, 1, 1, 0, 0}), 2.5);
    EXPECT_DOUBLE_EQ(aggregate_level({1, 2, 2, 2, 2, 2}, {1, 1, 1, 0, 0, 0}), 1.6667);
    EXPECT_FALSE(threshold_problems({1.5, 1.4, 3.0}).empty());
    EXPECT_FALSE(threshold_problems({1.0, 2.0, 3.0}).empty());
    EXPECT_TRUE(threshold_problems({1.5, 2.0, 4.0}).empty());
}

std::shared_ptr<const Pool> pool_of(std::size_t size) {
    auto pool = std::make_shared<Pool>();
    pool->carriers.resize(size);
    return pool;
}

TEST(EntityAnalysisPoolCache, KeepsTheMostRecentlyUsedSnapshots) {
    PoolCache cache(2);
    cache.insert("a", pool_of(1));
    cache.insert("b", pool_of(2));
    ASSERT_TRUE(cache.find("a"));
    cache.insert("c", pool_of(3));  // b is the least recently used
    EXPECT_TRUE(cache.find("a"));
    EXPECT_FALSE(cache.find("b"));
    EXPECT_EQ(cache.find("c")->carriers.size(), 3u);
    EXPECT_EQ(cache.size(), 2u);
    // The first pool cached for a snapshot stays: a second parse of it is dropped.
    EXPECT_EQ(cache.insert("c", pool_of(9))->carriers.size(), 3u);
}

TEST(EntityAnalysisPoolCache, IsSafeUnderConcurrentUse) {
    PoolCache cache(4);
    std::atomic<int> misses = 0;
    std::vector<std::thread> workers;
    for (int t = 0; t < 8; ++t) {
        workers.emplace_back([&cache, &misses, t] {
            for (int i = 0; i < 2000; ++i) {
                const std::string snapshot = "s" + std::to_string((i + t) % 6);
                if (!cache.find(snapshot)) {
                    ++misses;
                    cache.insert(snapshot, pool_of(static_cast<std::size_t>((i + t) % 6)));
                }
            }
        });
    }
    for (std::thread& worker : workers) {
        worker.join();
    }
    EXPECT_LE(cache.size(), 4u);
    EXPECT_GT(misses.load(), 0);
    for (int s = 0; s < 6; ++s) {
        if (const auto pool = cache.find("s" + std::to_string(s))) {
            EXPECT_EQ(pool->carriers.size(), static_cast<std::size_t>(s));
        }
    }
}

}  // namespace
}  // namespace engined::entity_analysis
