// The ranking diff of a preview: one stored outcome against a candidate's, and their aggregate.
#include "runs/config_preview.hpp"

#include <boost/json.hpp>

#include <gtest/gtest.h>

namespace engined::runs {
namespace {

// A ranked list of solutions named by their offerings, best first, with overall levels.
std::string solutions(const std::vector<std::pair<std::string, double>>& ranked) {
    boost::json::array out;
    int rank = 1;
    for (const auto& [name, level] : ranked) {
        out.push_back({{"rank", rank++},
                       {"offerings", {{{"id", name}}}},
                       {"scorecard", {{"overall_level", level}}}});
    }
    return boost::json::serialize(out);
}

store::Run stored(const std::string& results,
                  store::RunStatus status = store::RunStatus::completed) {
    store::Run run;
    run.id = "run_1";
    run.status = status;
    run.results_json = results;
    return run;
}

store::RunOutcome candidate(const std::string& results,
                            store::RunStatus status = store::RunStatus::completed) {
    store::RunOutcome outcome;
    outcome.status = status;
    outcome.results_json = results;
    return outcome;
}

TEST(ConfigPreview, TheSameRankingIsNoChange) {
    const std::string ranking = solutions({{"a", 1.2}, {"b", 1.5}, {"c", 2.0}});
    const auto report = compare_run(stored(ranking), candidate(ranking));
    EXPECT_FALSE(report.at("top1_changed").as_bool());
    EXPECT_EQ(report.at("kendall_tau").as_double(), 1.0);
    EXPECT_EQ(report.at("overall_level_delta").as_double(), 0.0);
    EXPECT_EQ(report.at("solutions_gained"), 0);
    EXPECT_EQ(report.at("solutions_lost"), 0);
}

TEST(ConfigPreview, ARescoredSolutionKeepsItsIdentity) {
    // Only the scorecard moved: the same solutions in the same order.
    const auto report = compare_run(stored(solutions({{"a", 1.2}, {"b", 1.5}})),
                                    candidate(solutions({{"a", 1.0}, {"b", 1.9}})));
    EXPECT_FALSE(report.at("top1_changed").as_bool());
    EXPECT_EQ(report.at("kendall_tau").as_double(), 1.0);
    EXPECT_NEAR(report.at("overall_level_delta").as_double(), -0.2, 1e-12);
}

TEST(ConfigPreview, AReversedRankingHasTauMinusOne) {
    const auto report = compare_run(stored(solutions({{"a", 1}, {"b", 2}, {"c", 3}, {"d", 4}})),
                                    candidate(solutions({{"d", 1}, {"c", 2}, {"b", 3}, {"a", 4}})));
    EXPECT_TRUE(report.at("top1_changed").as_bool());
    EXPECT_EQ(report.at("kendall_tau").as_double(), -1.0);
}

TEST(ConfigPreview, OneSwapOfFourLowersTauByAThird) {
    // 6 pairs, one discordant: (5 - 1) / 6.
    const auto report = compare_run(stored(solutions({{"a", 1}, {"b", 2}, {"c", 3}, {"d", 4}})),
                                    candidate(solutions({{"a", 1}, {"b", 2}, {"d", 3}, {"c", 4}})));
    EXPECT_FALSE(report.at("top1_changed").as_bool());
    EXPECT_NEAR(report.at("kendall_tau").as_double(), 4.0 / 6.0, 1e-12);
}

TEST(ConfigPreview, SolutionsGainedAndLostAndANewFailure) {
    auto report = compare_run(stored(solutions({{"a", 1}, {"b", 2}})),
                              candidate(solutions({{"a", 1}, {"c", 2}, {"d", 3}})));
    EXPECT_EQ(report.at("solutions_gained"), 2);
    EXPECT_EQ(report.at("solutions_lost"), 1);

    report =
        compare_run(stored(solutions({{"a", 1}})), candidate("null", store::RunStatus::failed));
    EXPECT_TRUE(report.at("newly_failing").as_bool());
    EXPECT_TRUE(report.at("top1_changed").as_bool());
    EXPECT_TRUE(report.at("overall_level_delta").is_null());
    // A run that had failed already is not newly failing.
    report = compare_run(stored("null", store::RunStatus::failed),
                         candidate("null", store::RunStatus::failed));
    EXPECT_FALSE(report.at("newly_failing").as_bool());
    EXPECT_FALSE(report.at("top1_changed").as_bool());

    report = compare_run(stored(solutions({{"a", 1}})),
                         candidate(solutions({{"a", 1}}), store::RunStatus::degraded));
    EXPECT_TRUE(report.at("newly_degraded").as_bool());
}

TEST(ConfigPreview, TheSummaryCountsTheShareAndListsTheMostChangedFirst) {
    const std::string same = solutions({{"a", 1}, {"b", 2}});
    std::vector<boost::json::object> compared;
    compared.push_back(compare_run(stored(same), candidate(same)));
    compared.push_back(compare_run(stored(same), candidate(solutions({{"a", 1}, {"c", 2}}))));
    compared.push_back(compare_run(stored(same), candidate(solutions({{"b", 1}, {"a", 2}}))));
    compared.push_back(compare_run(stored(same), candidate("null", store::RunStatus::failed)));
    compared[3]["run_id"] = "run_failing";
    const auto summary = summarize_preview(compared);
    EXPECT_EQ(summary.at("runs"), 4u);
    EXPECT_EQ(summary.at("top1_changed"), 2);
    EXPECT_EQ(summary.at("top1_change_share").as_double(), 0.5);
    EXPECT_EQ(summary.at("newly_failing"), 1);
    EXPECT_EQ(summary.at("runs_changed"), 3u);
    ASSERT_EQ(summary.at("most_changed").as_array().size(), 3u);
    EXPECT_EQ(summary.at("most_changed").at(0).at("run_id"), "run_failing");
    EXPECT_TRUE(summary.at("most_changed").at(1).at("top1_changed").as_bool());

    EXPECT_EQ(summarize_preview({}).at("top1_change_share").as_double(), 0.0);
}

}  // namespace
}  // namespace engined::runs
