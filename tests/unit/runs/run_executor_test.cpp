#include "runs/run_executor.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace engined::runs {
namespace {

// The stored trace: each event the plugin sent, in order, with its stage and its time in
// milliseconds; an event that is JSON is kept as the JSON it is, any other as a string.
TEST(TraceJson, KeepsEachEventInOrderAsJsonOrElseAsAString) {
    const std::vector<plugin::TraceEvent> events{
        {"FILTER", R"({"event":"filter_summary","offerings":3,"weights":{"a":2.5E-1}})", 95'839},
        {"LUA \"log\"", "not JSON {", 1'500'000},
        {"RANK", R"( [1, "two"] )", 2'000'000'000},
        {"EMPTY", "", 0}};
    const std::string text = trace_json(events);
    const boost::json::value trace = boost::json::parse(text);
    ASSERT_EQ(trace.as_array().size(), events.size()) << text;
    const boost::json::value expected = boost::json::parse(R"([
        {"stage":"FILTER","at_ms":0.095839,
         "event":{"event":"filter_summary","offerings":3,"weights":{"a":0.25}}},
        {"stage":"LUA \"log\"","at_ms":1.5,"event":"not JSON {"},
        {"stage":"RANK","at_ms":2000.0,"event":[1,"two"]},
        {"stage":"EMPTY","at_ms":0.0,"event":""}])");
    EXPECT_EQ(trace, expected) << text;
    // Member order as the API reads it, and the plugin's JSON exactly as it came.
    EXPECT_TRUE(text.starts_with(
        R"([{"stage":"FILTER","at_ms":9.5839E-2,"event":{"event":"filter_summary","offerings":3,)"))
        << text;
    EXPECT_EQ(trace_json({}), "[]");
}

// A result's members give the outcome, read from the text as written, or through Boost.JSON
// when a key is escaped: both readings agree.
TEST(OutcomeFromResult, ReadsTheResultsMembersAsWrittenOrThroughBoostJson) {
    const std::string solutions = R"([{"rank":1,"score":1.5E0,"note":"a \"b\" ]}"}])";
    const std::string as_written = R"({"status":"degraded","stage":"EVALUATE","output":{"n":1},)"
                                   R"("solutions":)" +
                                   solutions + "}";
    const std::string escaped_key = R"({"st\u0061tus":"degr\u0061ded","stage":"EVALUATE",)"
                                    R"("output":{"n":1},"solutions":)" +
                                    solutions + "}";
    for (const std::string& text : {as_written, escaped_key}) {
        const store::RunOutcome outcome = outcome_from_result(text, "solutions");
        EXPECT_EQ(outcome.status, store::RunStatus::degraded) << text;
        EXPECT_EQ(outcome.stage, "EVALUATE") << text;
        EXPECT_EQ(boost::json::parse(outcome.output_json), boost::json::parse(R"({"n":1})"));
        EXPECT_EQ(boost::json::parse(outcome.results_json), boost::json::parse(solutions));
        EXPECT_EQ(outcome.error_details_json, "null");
    }
    EXPECT_EQ(outcome_from_result(as_written, "solutions").results_json, solutions)
        << "stored as the plugin wrote it";

    const store::RunOutcome bare =
        outcome_from_result(R"({"stage":7,"candidates":[]})", "solutions");
    EXPECT_EQ(bare.status, store::RunStatus::completed);
    EXPECT_EQ(bare.stage, "RANK");
    EXPECT_EQ(bare.output_json, "{}");
    EXPECT_EQ(bare.results_json, "[]");
    EXPECT_EQ(outcome_from_result(R"({"candidates":[{"id":"c"}]})", "candidates").results_json,
              R"([{"id":"c"}])");
}

}  // namespace
}  // namespace engined::runs
