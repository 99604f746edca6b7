// The runs' series name built-in engines only: organisations' own engines (private slugs, and as
// many as organisations create) are all counted under engine="custom", version="custom".
#include "runs/run_metrics.hpp"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace engined::runs
