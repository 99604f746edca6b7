#include "runs/run_metrics.hpp"

namespace engined::runs {
namespace {

std::string version_label(const std::optional<std::string>& version) { return version.value_or("current"); }

}  // namespace

RunMetrics::RunMetrics(metrics::Registry& registry)
    : registry_(registry),
      lua_instructions_(registry.counter(
          "engined_lua_instructions_total",
          "Lua VM instructions charged to runs' budgets, in steps of 1000 (the budget check's interval)")) {}

void RunMetrics::submitted(const std::string& engine, const std::optional<std::string>& version) {
    registry_.counter("engined_runs_submitted_total", "Runs accepted (202) and stored",
                      {{"engine", engine}, {"version", version_label(version)}})
        .inc();
}

void RunMetrics::finished(const store::Run& run, const store::RunOutcome& outcome) {
    const std::string version = version_label(run.engine_version);
    registry_.counter("engined_runs_finished_total", "Runs that reached a terminal status",
                      {{"engine", run.engine_slug}, {"version", version},
                       {"status", std::string(store::to_string(outcome.status))}})
        .inc();
    if (!run.started_at_ms) return;
    registry_
        .histogram("engined_run_duration_seconds", "Time from a worker claiming a run to its outcome",
                   metrics::duration_buckets(), {{"engine", run.engine_slug}, {"version", version}})
        .observe(static_cast<double>(outcome.completed_at_ms - *run.started_at_ms) / 1000.0);
}

void RunMetrics::lua_error(lua::FailureKind kind) {
    registry_.counter("engined_lua_errors_total", "Lua failures raised while running scorecards, by kind",
                      {{"kind", std::string(lua::to_string(kind))}})
        .inc();
}

}  // namespace engined::runs
