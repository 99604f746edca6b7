// The runs' series name built-in engines only: organisations' own engines (private slugs, and as
// many as organisations create) are all counted under engine="custom", version="custom".
#include "runs/run_metrics.hpp"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace engined::runs {
namespace {

TEST(RunMetrics, BuiltInEnginesKeepTheirLabelsAndOrganisationsEnginesAreCountedAsCustom) {
    metrics::Registry registry;
    RunMetrics run_metrics(registry);
    run_metrics.label_builtin_engines({"default", "entity-analysis"});
    run_metrics.submitted("default", std::nullopt, std::nullopt);
    run_metrics.submitted("entity-analysis", std::string("1.0"), std::nullopt);
    run_metrics.submitted("acme-secret-pricing", std::nullopt, std::nullopt);
    run_metrics.submitted("globex-private", std::string("3.7"), std::nullopt);

    store::Run run;
    run.engine_slug = "acme-secret-pricing";
    run.engine_version = "2.1";
    run.started_at_ms = 1000;
    store::RunOutcome outcome;
    outcome.status = store::RunStatus::completed;
    outcome.completed_at_ms = 1250;
    run_metrics.finished(run, outcome);

    const std::string text = registry.render();
    EXPECT_NE(text.find(R"(engined_runs_submitted_total{engine="default",version="current"} 1)"),
              std::string::npos)
        << text;
    EXPECT_NE(
        text.find(R"(engined_runs_submitted_total{engine="entity-analysis",version="1.0"} 1)"),
        std::string::npos)
        << text;
    EXPECT_NE(text.find(R"(engined_runs_submitted_total{engine="custom",version="custom"} 2)"),
              std::string::npos)
        << text;
    EXPECT_NE(
        text.find(
            R"(engined_runs_finished_total{engine="custom",version="custom",status="completed"} 1)"),
        std::string::npos)
        << text;
    EXPECT_NE(
        text.find(R"(engined_run_duration_seconds_count{engine="custom",version="custom"} 1)"),
        std::string::npos)
        << text;
    EXPECT_EQ(text.find("acme"), std::string::npos) << text;
    EXPECT_EQ(text.find("globex"), std::string::npos) << text;
}

// Under an open rollout the two shares are counted side by side, whatever the engine is called:
// two values of one label, so the series stay bounded.
TEST(RunMetrics, RunsUnderARolloutAreCountedByShare) {
    metrics::Registry registry;
    RunMetrics run_metrics(registry);
    run_metrics.submitted("acme-pricing", std::string("1.4"), std::string("new"));
    run_metrics.submitted("acme-pricing", std::string("1.3"), std::string("previous"));
    run_metrics.submitted("acme-pricing", std::string("1.3"), std::string("previous"));
    run_metrics.submitted("acme-pricing", std::string("1.3"), std::nullopt);

    store::Run run;
    run.engine_slug = "acme-pricing";
    run.engine_version = "1.4";
    run.engine_version_rollout = "new";
    store::RunOutcome outcome;
    outcome.status = store::RunStatus::failed;
    run_metrics.finished(run, outcome);

    const std::string text = registry.render();
    EXPECT_NE(text.find(R"(engined_rollout_runs_submitted_total{share="new"} 1)"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find(R"(engined_rollout_runs_submitted_total{share="previous"} 2)"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find(R"(engined_rollout_runs_finished_total{share="new",status="failed"} 1)"),
              std::string::npos)
        << text;
    EXPECT_EQ(text.find("acme"), std::string::npos) << text;
}

// The series are looked up once per (engine, version) and kept: every later count from any thread
// lands in the same series, and each version of an engine keeps a series of its own.
TEST(RunMetrics, KeptSeriesCountEveryRunFromEveryThread) {
    metrics::Registry registry;
    RunMetrics run_metrics(registry);
    run_metrics.label_builtin_engines({"default"});
    constexpr int kThreads = 4;
    constexpr int kRunsPerThread = 500;
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&run_metrics, t] {
            store::Run run;
            run.engine_slug = "default";
            run.engine_version = t % 2 == 0 ? "1.0" : "1.1";
            run.started_at_ms = 0;
            store::RunOutcome outcome;
            outcome.completed_at_ms = 2;
            for (int i = 0; i < kRunsPerThread; ++i) {
                run_metrics.submitted(run.engine_slug, run.engine_version, std::nullopt);
                outcome.status =
                    i % 5 == 0 ? store::RunStatus::failed : store::RunStatus::completed;
                run_metrics.finished(run, outcome);
            }
        });
    }
    for (auto& thread : threads) thread.join();

    const std::string text = registry.render();
    for (const char* version : {"1.0", "1.1"}) {
        const std::string labels = std::string(R"(engine="default",version=")") + version + '"';
        EXPECT_NE(text.find("engined_runs_submitted_total{" + labels + "} 1000\n"),
                  std::string::npos)
            << text;
        EXPECT_NE(
            text.find("engined_runs_finished_total{" + labels + R"(,status="completed"} 800)"),
            std::string::npos)
            << text;
        EXPECT_NE(text.find("engined_runs_finished_total{" + labels + R"(,status="failed"} 200)"),
                  std::string::npos)
            << text;
        EXPECT_NE(text.find("engined_run_duration_seconds_count{" + labels + "} 1000\n"),
                  std::string::npos)
            << text;
    }
    // No series for a status no run reached.
    EXPECT_EQ(text.find(R"(status="degraded")"), std::string::npos) << text;
}

}  // namespace
}  // namespace engined::runs
