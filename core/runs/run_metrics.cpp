#include "runs/run_metrics.hpp"

#include <algorithm>

namespace engined::runs {
namespace {

// Organisations' own engines are all counted as "custom": their slugs are private to the
// organisation, and their number (and their versions') has no bound.
constexpr const char* kCustomEngineLabel = "custom";

}  // namespace

void RunMetrics::label_builtin_engines(std::vector<std::string> slugs) {
    builtin_engines_ = std::move(slugs);
}

metrics::Labels RunMetrics::engine_labels(const std::string& engine,
                                          const std::optional<std::string>& version) const {
    if (std::find(builtin_engines_.begin(), builtin_engines_.end(), engine) ==
        builtin_engines_.end())
        return {{"engine", kCustomEngineLabel}, {"version", kCustomEngineLabel}};
    return {{"engine", engine}, {"version", version.value_or("current")}};
}

RunMetrics::RunMetrics(metrics::Registry& registry)
    : registry_(registry),
      lua_instructions_(registry.counter("engined_lua_instructions_total",
                                         "Lua VM instructions charged to runs' budgets, in steps "
                                         "of 1000 (the budget check's interval)")) {}

void RunMetrics::submitted(const std::string& engine, const std::optional<std::string>& version,
                           const std::optional<std::string>& rollout_share) {
    registry_
        .counter("engined_runs_submitted_total", "Runs accepted (202) and stored",
                 engine_labels(engine, version))
        .inc();
    if (rollout_share) {
        registry_
            .counter("engined_rollout_runs_submitted_total",
                     "Runs a \"<major>.x\" pin resolved under an open rollout, by share: new "
                     "(the rolled-out minor) or previous",
                     {{"share", *rollout_share}})
            .inc();
    }
}

void RunMetrics::finished(const store::Run& run, const store::RunOutcome& outcome) {
    metrics::Labels labels = engine_labels(run.engine_slug, run.engine_version);
    if (run.started_at_ms) {
        registry_
            .histogram("engined_run_duration_seconds",
                       "Time from a worker claiming a run to its outcome",
                       metrics::duration_buckets(), labels)
            .observe(static_cast<double>(outcome.completed_at_ms - *run.started_at_ms) / 1000.0);
    }
    const std::string status(store::to_string(outcome.status));
    labels.emplace_back("status", status);
    registry_
        .counter("engined_runs_finished_total", "Runs that reached a terminal status",
                 std::move(labels))
        .inc();
    if (run.engine_version_rollout) {
        registry_
            .counter("engined_rollout_runs_finished_total",
                     "Runs resolved under an open rollout that reached a terminal status, by "
                     "share (new | previous)",
                     {{"share", *run.engine_version_rollout}, {"status", status}})
            .inc();
    }
}

void RunMetrics::lua_error(lua::FailureKind kind) {
    registry_
        .counter("engined_lua_errors_total",
                 "Lua failures raised while running scorecards, by kind",
                 {{"kind", std::string(lua::to_string(kind))}})
        .inc();
}

}  // namespace engined::runs
