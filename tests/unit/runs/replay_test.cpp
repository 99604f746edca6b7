// Comparing a replayed outcome with the stored run: the bytes compared, the report, and the
// JSON Pointer of the first difference.
#include "runs/replay.hpp"

#include "common/crypto.hpp"
#include "plugin/plugin_registry.hpp"
#include "runs/fingerprint.hpp"

#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>

#include <filesystem>

namespace engined::runs {
namespace {

store::Run stored_run(const std::string& engine_type) {
    store::Run run;
    run.id = "run-1";
    run.engine_type = engine_type;
    run.status = store::RunStatus::completed;
    run.output_json = R"({"top_score":1.46,"weights":{"a":0.5,"b":0.5}})";
    run.results_json = R"([{"rank":1,"id":"x"},{"rank":2,"id":"y"}])";
    run.trace_json = R"([{"stage":"FILTER","at_ms":0.25}])";
    run.fingerprint = std::string(64, 'f');
    return run;
}

store::RunOutcome same_outcome(const store::Run& run) {
    store::RunOutcome outcome;
    outcome.status = run.status;
    outcome.output_json = run.output_json;
    outcome.results_json = run.results_json;
    outcome.trace_json = R"([{"stage":"FILTER","at_ms":0.75}])";
    outcome.fingerprint = std::string(64, 'e');
    return outcome;
}

TEST(Replay, ComparedDocumentHoldsStatusOutputAndTheEnginesResultsVerbatim) {
    EXPECT_EQ(compared_document(stored_run("placement")),
              R"({"status":"completed","output":{"top_score":1.46,"weights":{"a":0.5,"b":0.5}},)"
              R"("solutions":[{"rank":1,"id":"x"},{"rank":2,"id":"y"}]})");
    plugin::PluginRegistry plugins;  // the engine's plugin declares where its results go
    ASSERT_EQ(
        plugins.load(std::filesystem::path(ENGINED_BINARY_DIR) / "plugins" / "entity_analysis.so"),
        "");
    const store::Run entity = stored_run("entity_analysis");
    EXPECT_EQ(compared_document(entity),
              compared_document("entity_analysis", same_outcome(entity)));
    EXPECT_NE(compared_document(entity).find(R"("candidates":[)"), std::string::npos);
}

TEST(Replay, IdenticalOutcomeWithADifferentTraceIsIdentical) {
    const store::Run run = stored_run("placement");
    const boost::json::object report = replay_report(run, same_outcome(run));
    EXPECT_EQ(report.at("run_id"), "run-1");
    EXPECT_EQ(report.at("identical"), true);
    EXPECT_EQ(report.at("fingerprint"), boost::json::value(std::string(64, 'f')));
    EXPECT_EQ(report.at("replay_fingerprint"), boost::json::value(std::string(64, 'e')));
    const std::string digest = sha256_hex(compared_document(run));
    EXPECT_EQ(report.at("output_sha256").at("original"), boost::json::value(digest));
    EXPECT_EQ(report.at("output_sha256").at("replay"), boost::json::value(digest));
    EXPECT_TRUE(report.at("first_difference").is_null());
}

TEST(Replay, EachComparedPartPointsAtItsFirstDifference) {
    const store::Run run = stored_run("placement");
    auto differing = [&](auto change) {
        store::RunOutcome outcome = same_outcome(run);
        change(outcome);
        const boost::json::object report = replay_report(run, outcome);
        EXPECT_EQ(report.at("identical"), false);
        EXPECT_NE(report.at("output_sha256").at("original"),
                  report.at("output_sha256").at("replay"));
        return std::string(report.at("first_difference").as_string());
    };
    EXPECT_EQ(differing([](auto& o) { o.status = store::RunStatus::degraded; }), "/status");
    EXPECT_EQ(differing([](auto& o) {
                  o.output_json = R"({"top_score":1.47,"weights":{"a":0.5,"b":0.5}})";
              }),
              "/output/top_score");
    // Same members in another order: the bytes differ, and so does the member at that position.
    EXPECT_EQ(differing([](auto& o) {
                  o.output_json = R"({"top_score":1.46,"weights":{"b":0.5,"a":0.5}})";
              }),
              "/output/weights/a");
    EXPECT_EQ(
        differing([](auto& o) { o.results_json = R"([{"rank":1,"id":"x"},{"rank":2,"id":"z"}])"; }),
        "/solutions/1/id");
    EXPECT_EQ(differing([](auto& o) { o.results_json = R"([{"rank":1,"id":"x"}])"; }),
              "/solutions/1");
    EXPECT_EQ(differing([](auto& o) {
                  o.results_json = R"([{"rank":1,"id":"x","extra":true},{"rank":2,"id":"y"}])";
              }),
              "/solutions/0/extra");
    // 0.5 and 5e-1 are the same number to JSON, not the same bytes.
    EXPECT_EQ(differing([](auto& o) {
                  o.output_json = R"({"top_score":1.46,"weights":{"a":0.5,"b":5e-1}})";
              }),
              "");
}

// Fingerprint components as the executor records them (format 2 unless told otherwise).
std::string components(const std::string& plugin_sha256, const std::string& platform,
                       std::optional<int> format = kFingerprintFormat) {
    boost::json::object json{{"input_sha256", std::string(64, '1')},
                             {"version_content_hash", "config:abc"},
                             {"plugin_sha256", plugin_sha256},
                             {"platform_version", platform}};
    if (format) {
        json["format"] = *format;
        json["reference_time"] = "2026-11-23T12:00:00.000Z";
    }
    return boost::json::serialize(json);
}

TEST(ReplayVerdict, NamesWhatTheRunWasRecordedUnderWhenItDiffers) {
    const std::string plugin_then = "77b0c1d2e3f4" + std::string(52, 'a');
    const std::string plugin_now = "9a1c00112233" + std::string(52, 'b');
    store::Run run = stored_run("placement");
    run.fingerprint_json = components(plugin_then, "0.1.0");
    store::RunOutcome replayed = same_outcome(run);
    replayed.fingerprint_json = components(plugin_now, "0.1.0");

    // Identical bytes are identical whatever recorded them.
    boost::json::object report = replay_report(run, replayed);
    EXPECT_EQ(report.at("verdict"), "identical");
    EXPECT_TRUE(report.at("verdict_detail").is_null());

    replayed.output_json = R"({"top_score":1.47,"weights":{"a":0.5,"b":0.5}})";
    report = replay_report(run, replayed);
    EXPECT_EQ(report.at("identical"), false);
    EXPECT_EQ(report.at("verdict"), "recorded_under_other_plugin");
    const std::string detail(report.at("verdict_detail").as_string());
    EXPECT_NE(detail.find("recorded under plugin 77b0c1d2e3f4, replayed under plugin 9a1c00112233"),
              std::string::npos)
        << detail;

    // The plugin is named first: it decides the output more than engined's version does.
    replayed.fingerprint_json = components(plugin_now, "0.2.0");
    EXPECT_EQ(replay_verdict(run, replayed, false).verdict, "recorded_under_other_plugin");

    replayed.fingerprint_json = components(plugin_then, "0.2.0");
    const ReplayVerdict platform = replay_verdict(run, replayed, false);
    EXPECT_EQ(platform.verdict, "recorded_under_other_platform");
    EXPECT_EQ(platform.detail, "recorded under engined 0.1.0, replayed under 0.2.0");
}

TEST(ReplayVerdict, AFormat1RunThatDiffersSaysItsFingerprintFormat) {
    const std::string plugin = std::string(64, 'c');
    store::Run run = stored_run("placement");
    run.fingerprint_json = components(plugin, "0.1.0", std::nullopt);
    store::RunOutcome replayed = same_outcome(run);
    // Its replay is fingerprinted in format 1 too (see fingerprint_format).
    replayed.fingerprint_json = components(plugin, "0.1.0", std::nullopt);
    const ReplayVerdict verdict = replay_verdict(run, replayed, false);
    EXPECT_EQ(verdict.verdict, "recorded_under_other_fingerprint_format");
    ASSERT_TRUE(verdict.detail);
    EXPECT_NE(verdict.detail->find("recorded under fingerprint format 1"), std::string::npos)
        << *verdict.detail;
    EXPECT_EQ(replay_verdict(run, replayed, true).verdict, "identical");
}

TEST(ReplayVerdict, TheSameBuildDifferingIsNotReproducedAndNoFingerprintIsUnverifiable) {
    const std::string plugin = std::string(64, 'd');
    store::Run run = stored_run("placement");
    run.fingerprint_json = components(plugin, "0.1.0");
    store::RunOutcome replayed = same_outcome(run);
    replayed.fingerprint_json = components(plugin, "0.1.0");
    EXPECT_EQ(replay_verdict(run, replayed, false).verdict, "not_reproduced");

    run.fingerprint.reset();
    run.fingerprint_json.reset();
    EXPECT_EQ(replay_verdict(run, replayed, false).verdict, "unverifiable");
}

TEST(Replay, PointerTokensAreEscaped) {
    EXPECT_EQ(first_difference(R"({"a/b":{"c~d":1}})", R"({"a/b":{"c~d":2}})"), "/a~1b/c~0d");
    EXPECT_EQ(first_difference(R"({"a":1})", R"({"a":1})"), std::nullopt);
}

}  // namespace
}  // namespace engined::runs
