// The entity-analysis engine end to end with a real Lua sandbox and a generated pool: the
// acceptance case (a California law firm shopping for professional liability), the trace,
// determinism, gap analysis, confidence, the pool cache and the failures a run can end in.
#include "entity_analysis_engine.hpp"

#include "lua_scoring_host.hpp"
#include "test_support.hpp"

#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace engined::entity_analysis {
namespace {

namespace json = boost::json;

constexpr std::array<std::string_view, 4> kTierOrder = {"STRONG_FIT", "GOOD_FIT", "MODERATE_FIT",
                                                        "WEAK_FIT"};
constexpr std::array<std::string_view, 6> kDimensions = {"appetite", "coverage",  "financial",
                                                         "pricing",  "placement", "service"};

std::int64_t count_of(const json::value& value) {
    return value.as_int64();
}

class EntityAnalysisEngine : public ::testing::Test {
protected:
    EntityAnalysisEngine()
        : host_(test::default_scorecard()), pool_(test::build_pool(test::kPoolSize)) {
        host_.add_pool(std::string(test::kSnapshot), pool_);
        for (const json::value& carrier : pool_) {
            carriers_.emplace(std::string(carrier.at("id").as_string()), carrier.as_object());
        }
    }

    AnalysisResult run(json::object input) {
        host_.next_run();
        return run_entity_analysis(test::run_request(std::move(input)), test::preset_config(),
                                   host_, cache_);
    }

    json::object completed(json::object input) {
        const AnalysisResult result = run(std::move(input));
        EXPECT_FALSE(result.failed()) << json::serialize(result.body);
        return result.body;
    }

    const json::object& carrier(const json::value& id) const {
        return carriers_.at(std::string(id.as_string()));
    }

    test::LuaScoringHost host_;
    PoolCache cache_;
    json::array pool_;
    std::map<std::string, json::object> carriers_;
};

bool writes_state(const json::object& carrier, std::string_view state) {
    const json::array& states = carrier.at("states").as_array();
    return std::any_of(states.begin(), states.end(), [&](const json::value& s) {
        return s.as_string() == "*" || s.as_string() == state;
    });
}

std::string appetite_for(const json::object& carrier, std::string_view line) {
    for (const json::value& written : carrier.at("lines").as_array()) {
        if (written.at("line").as_string() == line) {
            return std::string(written.at("appetite").as_string());
        }
    }
    return "not_written";
}

TEST_F(EntityAnalysisEngine, EveryCandidateIsEligibleForTheStateAndTheLine) {
    const json::object body =
        completed({{"profile", test::law_firm()}, {"request_config", {{"max_candidates", 500}}}});
    const json::array& candidates = body.at("candidates").as_array();
    ASSERT_FALSE(candidates.empty());
    for (const json::value& candidate : candidates) {
        const json::object& record = carrier(candidate.at("carrier_id"));
        EXPECT_TRUE(writes_state(record, "CA")) << candidate.at("carrier_id");
        const std::string appetite = appetite_for(record, "professional_liability");
        EXPECT_TRUE(appetite == "preferred" || appetite == "acceptable")
            << candidate.at("carrier_id");
        EXPECT_EQ(record.at("prohibited_naics").as_array(), json::array{"23"})
            << candidate.at("carrier_id");
    }
}

TEST_F(EntityAnalysisEngine, CountsAddUpToThePool) {
    const json::object body =
        completed({{"profile", test::law_firm()}, {"request_config", {{"max_candidates", 10}}}});
    const json::object& output = body.at("output").as_object();
    EXPECT_EQ(count_of(output.at("pool_size")), static_cast<std::int64_t>(test::kPoolSize));
    EXPECT_EQ(count_of(output.at("filtered")) + count_of(output.at("eligible_count")),
              count_of(output.at("pool_size")));
    EXPECT_EQ(count_of(output.at("candidates_count")), 10);
    EXPECT_EQ(body.at("candidates").as_array().size(), 10u);
    EXPECT_GT(count_of(output.at("eligible_count")), 10);

    std::int64_t by_reason = 0;
    for (const auto& [reason, count] : output.at("filter_reasons").as_object()) {
        by_reason += count_of(count);
    }
    EXPECT_EQ(by_reason, count_of(output.at("filtered")));
    for (const char* reason :
         {"state_not_written", "line_excluded", "line_not_written", "naics_prohibited",
          "revenue_out_of_band", "employees_out_of_band"}) {
        EXPECT_GT(count_of(output.at("filter_reasons").at(reason)), 0) << reason;
    }
    std::int64_t tiered = 0;
    for (const std::string_view tier : kTierOrder) {
        tiered += count_of(output.at("tier_counts").at(tier));
    }
    EXPECT_EQ(tiered, count_of(output.at("eligible_count")));
    EXPECT_EQ(output.at("pool_synthetic"), output.at("pool_size"));
    EXPECT_TRUE(output.at("diagnostic").is_null());
}

TEST_F(EntityAnalysisEngine, CandidatesAreRankedByTierThenAggregateThenName) {
    const json::object body =
        completed({{"profile", test::law_firm()}, {"request_config", {{"max_candidates", 500}}}});
    const json::array& candidates = body.at("candidates").as_array();
    for (std::size_t i = 0; i < candidates.size(); ++i) {
        const json::object& c = candidates[i].as_object();
        EXPECT_EQ(count_of(c.at("rank")), static_cast<std::int64_t>(i + 1));
        if (i == 0) {
            continue;
        }
        const json::object& previous = candidates[i - 1].as_object();
        const auto tier_index = [](const json::object& candidate) {
            return std::find(kTierOrder.begin(), kTierOrder.end(),
                             candidate.at("tier").as_string()) -
                   kTierOrder.begin();
        };
        EXPECT_LE(tier_index(previous), tier_index(c));
        const double before = previous.at("aggregate_level").to_number<double>();
        const double after = c.at("aggregate_level").to_number<double>();
        EXPECT_LE(before, after);
        if (before == after) {
            EXPECT_LE(previous.at("name").as_string(), c.at("name").as_string());
        }
    }
    EXPECT_EQ(candidates.front().at("tier"), "STRONG_FIT");
}

TEST_F(EntityAnalysisEngine, EveryCandidateHasSixLevelsWithReasons) {
    const json::object body = completed({{"profile", test::law_firm()}});
    for (const json::value& candidate : body.at("candidates").as_array()) {
        const json::object& scores = candidate.at("scores").as_object();
        EXPECT_EQ(scores.size(), 6u);
        for (const std::string_view dimension : kDimensions) {
            const json::string& level = scores.at(dimension).at("level").as_string();
            EXPECT_TRUE(level == "L1" || level == "L2" || level == "L3" || level == "L4") << level;
            EXPECT_FALSE(scores.at(dimension).at("reason").as_string().empty());
        }
        const double aggregate = candidate.at("aggregate_level").to_number<double>();
        EXPECT_GE(aggregate, 1.0);
        EXPECT_LE(aggregate, 4.0);
    }
}

TEST_F(EntityAnalysisEngine, ReasoningCitesTheCarriersOwnFacts) {
    const json::object body = completed({{"profile", test::law_firm()}});
    std::set<std::string> distinct;
    const json::array& candidates = body.at("candidates").as_array();
    for (const json::value& candidate : candidates) {
        const std::string reasoning(candidate.at("reasoning").as_string());
        const json::object& record = carrier(candidate.at("carrier_id"));
        const std::string rating = std::string(record.at("am_best_rating").as_string()) + " (" +
                                   std::string(record.at("financial_size").as_string()) + ")";
        EXPECT_NE(reasoning.find(rating), std::string::npos) << reasoning;
        EXPECT_NE(reasoning.find("professional liability in CA"), std::string::npos) << reasoning;
        const std::string appetite = appetite_for(record, "professional_liability");
        EXPECT_EQ(reasoning.rfind(appetite == "preferred" ? "Preferred" : "Acceptable", 0), 0u)
            << reasoning;
        distinct.insert(reasoning);
    }
    EXPECT_GT(distinct.size(), candidates.size() * 3 / 4);
}

TEST_F(EntityAnalysisEngine, ReasoningNamesAnAvoidedSector) {
    const json::object body =
        completed({{"profile", test::law_firm()}, {"request_config", {{"max_candidates", 500}}}});
    bool seen = false;
    for (const json::value& candidate : body.at("candidates").as_array()) {
        const bool avoids =
            !carrier(candidate.at("carrier_id")).at("avoided_naics").as_array().empty();
        const std::string reasoning(candidate.at("reasoning").as_string());
        EXPECT_EQ(reasoning.find("avoids NAICS 54") != std::string::npos, avoids) << reasoning;
        if (avoids) {
            seen = true;
            const json::string& level =
                candidate.at("scores").at("appetite").at("level").as_string();
            EXPECT_TRUE(level == "L3" || level == "L4");
        }
    }
    EXPECT_TRUE(seen);
}

TEST_F(EntityAnalysisEngine, AProhibitedNaicsCarrierIsAbsentAndTheTraceSaysWhy) {
    // car-0007 writes CA and professional liability but prohibits NAICS 5411.
    const json::object& prohibited = carriers_.at("car-0007");
    ASSERT_EQ(prohibited.at("prohibited_naics").as_array(), json::array{"5411"});
    ASSERT_TRUE(writes_state(prohibited, "CA"));

    const json::object body =
        completed({{"profile", test::law_firm()}, {"request_config", {{"max_candidates", 500}}}});
    for (const json::value& candidate : body.at("candidates").as_array()) {
        EXPECT_NE(candidate.at("carrier_id"), "car-0007");
    }
    std::map<std::string, std::string> reasons;
    for (const json::object& event : host_.events("FILTER", "carriers_excluded")) {
        EXPECT_LE(event.at("exclusions").as_array().size(), 500u);
        for (const json::value& exclusion : event.at("exclusions").as_array()) {
            reasons[std::string(exclusion.at("carrier_id").as_string())] =
                exclusion.at("reason").as_string();
        }
    }
    EXPECT_EQ(reasons.at("car-0007"), "naics_prohibited");
    EXPECT_EQ(reasons.at("car-0011"), "state_not_written");
    EXPECT_EQ(reasons.at("car-0013"), "line_excluded");
    EXPECT_EQ(reasons.at("car-0019"), "line_not_written");
    EXPECT_EQ(static_cast<std::int64_t>(reasons.size()),
              count_of(body.at("output").at("filtered")));

    const auto summaries = host_.events("FILTER", "filter_summary");
    ASSERT_EQ(summaries.size(), 1u);
    EXPECT_EQ(summaries.front().at("filter_reasons"), body.at("output").at("filter_reasons"));
    EXPECT_EQ(host_.events("ASSESS", "assess_summary").size(), 1u);
    EXPECT_EQ(host_.events("RANK", "rank_summary").size(), 1u);
}

TEST_F(EntityAnalysisEngine, RunsAreDeterministic) {
    const json::object input{
        {"profile", test::law_firm()},
        {"current_portfolio",
         {{"lines", {{{"line", "general_liability"}, {"limit", 1'000'000}}}}}}};
    const json::object first = completed(input);
    const json::object second = completed(input);
    EXPECT_EQ(json::serialize(first), json::serialize(second));

    // A fresh cache and host read the pool again and still agree.
    test::LuaScoringHost other_host(test::default_scorecard());
    other_host.add_pool(std::string(test::kSnapshot), pool_);
    PoolCache other_cache;
    const AnalysisResult third = run_entity_analysis(
        test::run_request(input), test::preset_config(), other_host, other_cache);
    EXPECT_EQ(json::serialize(third.body), json::serialize(first));
}

TEST_F(EntityAnalysisEngine, TheDatasetIsLoadedOnceForTwoRunsOfTheSameSnapshot) {
    completed({{"profile", test::law_firm()}});
    EXPECT_EQ(host_.events("FILTER", "pool_loaded").front().at("cache"), "miss");
    completed({{"prospect", test::law_firm()}});
    EXPECT_EQ(host_.events("FILTER", "pool_loaded").front().at("cache"), "hit");
    EXPECT_EQ(host_.dataset_loads(), 1);
    EXPECT_EQ(cache_.size(), 1u);
}

TEST_F(EntityAnalysisEngine, GapAnalysisRanksGapsBySeverity) {
    json::object input{{"profile", test::law_firm()},
                       {"current_portfolio",
                        {{"lines",
                          {{{"line", "general_liability"},
                            {"limit", 1'000'000},
                            {"carrier", "Pacific Mutual"}}}}}}};
    const json::object body = completed(input);
    const json::object& output = body.at("output").as_object();
    EXPECT_EQ(output.at("gap_analysis"), true);
    const json::array& gaps = output.at("coverage_gaps").as_array();
    std::vector<std::string> found;
    for (const json::value& gap : gaps) {
        found.push_back(std::string(gap.at("severity").as_string()) + " " +
                        std::string(gap.at("gap").as_string()) + " " +
                        std::string(gap.at("line").as_string()));
        EXPECT_FALSE(gap.at("recommendation").as_string().empty());
    }
    // NAICS 54 with 48 employees and $12M revenue: workers' compensation is statutory, cyber and
    // EPLI are typical, and $1M of general liability is under the $2M minimum for its size.
    // Professional liability is the line being placed, so it is no gap.
    EXPECT_EQ(found, (std::vector<std::string>{
                         "high missing_line workers_compensation", "medium missing_line cyber",
                         "medium limit_below_minimum general_liability", "low missing_line epli"}));

    input["request_config"] = json::object{{"gap_analysis", false}};
    EXPECT_TRUE(completed(input).at("output").at("coverage_gaps").as_array().empty());
}

TEST_F(EntityAnalysisEngine, GapLinesImproveTheCoverageOfCarriersThatWriteThem) {
    json::object with_gaps{{"profile", test::law_firm()},
                           {"request_config", {{"gap_analysis", true}, {"max_candidates", 500}}}};
    const json::object body = completed(with_gaps);
    for (const json::value& candidate : body.at("candidates").as_array()) {
        const bool writes_cyber =
            appetite_for(carrier(candidate.at("carrier_id")), "cyber") == "preferred";
        const std::string reason(candidate.at("scores").at("coverage").at("reason").as_string());
        // Gap lines: workers' compensation, cyber, EPLI (no current portfolio: general liability
        // is missing too).
        EXPECT_NE(
            reason.find(writes_cyber ? "2 of 4 coverage-gap lines" : "1 of 4 coverage-gap lines"),
            std::string::npos)
            << reason;
    }
}

TEST_F(EntityAnalysisEngine, ConfidenceFollowsProfileCompleteness) {
    EXPECT_EQ(completed({{"profile", test::law_firm()}}).at("output").at("confidence"), "HIGH");

    json::object without_naics = test::law_firm();
    without_naics.erase("naics");
    const json::object medium = completed({{"profile", without_naics}});
    EXPECT_EQ(medium.at("output").at("confidence"), "MEDIUM");
    EXPECT_EQ(medium.at("output").at("profile_facts").at("missing"), json::array{"naics"});

    const json::object low =
        completed({{"profile", {{"entity", "Acme"}, {"state", "CA"}, {"line", "cyber"}}}});
    EXPECT_EQ(low.at("output").at("confidence"), "LOW");
    for (const json::value& candidate : low.at("candidates").as_array()) {
        EXPECT_EQ(candidate.at("confidence"), "LOW");
    }
}

TEST_F(EntityAnalysisEngine, ACarrierWithoutFiguresLowersItsOwnConfidence) {
    const json::object body =
        completed({{"profile", test::law_firm()}, {"request_config", {{"max_candidates", 500}}}});
    bool seen = false;
    for (const json::value& candidate : body.at("candidates").as_array()) {
        const bool sparse = !carrier(candidate.at("carrier_id")).contains("pricing_index");
        seen = seen || sparse;
        EXPECT_EQ(candidate.at("confidence"), sparse ? "LOW" : "HIGH")
            << candidate.at("carrier_id");
    }
    EXPECT_TRUE(seen);
}

TEST_F(EntityAnalysisEngine, NoEligibleCarrierGivesADiagnostic) {
    // Only the nationwide carriers write Alaska, and none of them writes umbrella.
    json::object profile = test::law_firm();
    profile["state"] = "AK";
    profile["line"] = "umbrella";
    const json::object body = completed({{"profile", profile}});
    const json::object& output = body.at("output").as_object();
    EXPECT_EQ(count_of(output.at("eligible_count")), 0);
    EXPECT_TRUE(body.at("candidates").as_array().empty());
    const std::string diagnostic(output.at("diagnostic").as_string());
    EXPECT_NE(diagnostic.find("state_not_written"), std::string::npos) << diagnostic;
}

TEST_F(EntityAnalysisEngine, ClaimsHeavyProspectsGetLuaWeights) {
    json::object profile = test::law_firm();
    profile["claims_last_5_years"] = 4;
    const json::object body = completed({{"profile", profile}});
    const json::object& output = body.at("output").as_object();
    EXPECT_EQ(output.at("weights_source"), "lua");
    EXPECT_EQ(output.at("tiers_source"), "lua");
    EXPECT_EQ(output.at("weights").at("service"), 0.15);
    EXPECT_EQ(output.at("weights").at("pricing"), 0.10);
}

TEST_F(EntityAnalysisEngine, WithoutLuaHooksTheConfigurationDecides) {
    test::LuaScoringHost bare("local unused = 1");
    bare.add_pool(std::string(test::kSnapshot), pool_);
    json::object config = test::preset_config();
    config["parameters"].as_object()["tier_thresholds"] =
        json::object{{"STRONG_FIT", 1.5}, {"GOOD_FIT", 2.0}, {"MODERATE_FIT", 3.0}};
    const AnalysisResult result = run_entity_analysis(
        test::run_request({{"profile", test::law_firm()}}), config, bare, cache_);
    ASSERT_FALSE(result.failed()) << json::serialize(result.body);
    const json::object& output = result.body.at("output").as_object();
    EXPECT_EQ(output.at("weights_source"), "config");
    EXPECT_EQ(output.at("tiers_source"), "config");
    EXPECT_EQ(output.at("tier_thresholds").at("STRONG_FIT"), 1.5);
}

TEST_F(EntityAnalysisEngine, AMissingEntityIsAnInvalidRequest) {
    json::object profile = test::law_firm();
    profile.erase("entity");
    const AnalysisResult result = run({{"profile", profile}});
    ASSERT_TRUE(result.failed());
    EXPECT_EQ(result.body.at("code"), "invalid_request");
    EXPECT_NE(std::string(result.body.at("message").as_string()).find("profile.entity"),
              std::string::npos);

    const AnalysisResult no_profile = run({});
    EXPECT_EQ(no_profile.body.at("code"), "invalid_request");

    json::object bad_line = test::law_firm();
    bad_line["line"] = "marine";
    EXPECT_EQ(run({{"profile", bad_line}}).body.at("code"), "invalid_request");
}

TEST_F(EntityAnalysisEngine, AnUnknownSnapshotIsDatasetMissing) {
    const AnalysisResult result =
        run_entity_analysis(test::run_request({{"profile", test::law_firm()}}, "feedface"),
                            test::preset_config(), host_, cache_);
    ASSERT_TRUE(result.failed());
    EXPECT_EQ(result.body.at("code"), "dataset_missing");

    json::object unresolved{{"input", {{"profile", test::law_firm()}, {"pool", "carriers:all"}}}};
    EXPECT_EQ(run_entity_analysis(unresolved, test::preset_config(), host_, cache_).body.at("code"),
              "dataset_missing");
}

TEST_F(EntityAnalysisEngine, AnUnreadablePoolIsDatasetInvalid) {
    host_.add_pool("broken", json::array{json::object{{"name", "no id"}}});
    const AnalysisResult result =
        run_entity_analysis(test::run_request({{"profile", test::law_firm()}}, "broken"),
                            test::preset_config(), host_, cache_);
    EXPECT_EQ(result.body.at("code"), "dataset_invalid");
}

TEST_F(EntityAnalysisEngine, LuaBreachesFailTheRun) {
    lua::Limits tight;
    tight.instruction_budget = 100'000;
    test::LuaScoringHost spinning("function weights(input) while true do end end", tight);
    spinning.add_pool(std::string(test::kSnapshot), pool_);
    const AnalysisResult budget =
        run_entity_analysis(test::run_request({{"profile", test::law_firm()}}),
                            test::preset_config(), spinning, cache_);
    EXPECT_EQ(budget.body.at("code"), "lua_budget_exceeded");

    lua::Limits small;
    small.memory_bytes = 256 * 1024;
    test::LuaScoringHost hoarding(
        "function tiers() local t = {} for i = 1, 10000000 do t[i] = string.rep('x', 64) .. i end "
        "return t end",
        small);
    hoarding.add_pool(std::string(test::kSnapshot), pool_);
    const AnalysisResult memory =
        run_entity_analysis(test::run_request({{"profile", test::law_firm()}}),
                            test::preset_config(), hoarding, cache_);
    EXPECT_EQ(memory.body.at("code"), "lua_memory_exceeded");

    test::LuaScoringHost failing("function weights(input) error('no weights today') end");
    failing.add_pool(std::string(test::kSnapshot), pool_);
    EXPECT_EQ(run_entity_analysis(test::run_request({{"profile", test::law_firm()}}),
                                  test::preset_config(), failing, cache_)
                  .body.at("code"),
              "lua_error");
}

TEST_F(EntityAnalysisEngine, UnusableLuaAnswersAreRefused) {
    test::LuaScoringHost negative(
        "function weights(input) return {appetite = -1, coverage = 1, financial = 1, pricing = 1, "
        "placement = 1, service = 1} end");
    negative.add_pool(std::string(test::kSnapshot), pool_);
    EXPECT_EQ(run_entity_analysis(test::run_request({{"profile", test::law_firm()}}),
                                  test::preset_config(), negative, cache_)
                  .body.at("code"),
              "invalid_weights");

    test::LuaScoringHost descending(
        "function tiers() return {STRONG_FIT = 3, GOOD_FIT = 2, MODERATE_FIT = 1.5} end");
    descending.add_pool(std::string(test::kSnapshot), pool_);
    EXPECT_EQ(run_entity_analysis(test::run_request({{"profile", test::law_firm()}}),
                                  test::preset_config(), descending, cache_)
                  .body.at("code"),
              "invalid_tiers");
}

}  // namespace
}  // namespace engined::entity_analysis
