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

RunMetrics::LabelPair RunMetrics::engine_labels(const std::string& engine,
                                                const std::optional<std::string>& version) const {
    if (std::find(builtin_engines_.begin(), builtin_engines_.end(), engine) ==
        builtin_engines_.end())
        return {kCustomEngineLabel, kCustomEngineLabel};
    return {engine, version ? std::string_view(*version) : std::string_view("current")};
}

RunMetrics::RunMetrics(metrics::Registry& registry)
    : registry_(registry),
      lua_instructions_(registry.counter("engined_lua_instructions_total",
                                         "Lua VM instructions charged to runs' budgets, in steps "
                                         "of 1000 (the budget check's interval)")) {}

RunMetrics::EngineSeries& RunMetrics::series_of(LabelPair labels) {
    {
        std::shared_lock lock(series_mutex_);
        if (const auto found = series_.find(labels); found != series_.end()) return found->second;
    }
    std::unique_lock lock(series_mutex_);
    return series_.try_emplace({std::string(labels.first), std::string(labels.second)})
        .first->second;
}

template <typename Series, typename Lookup>
Series& RunMetrics::kept(std::atomic<Series*>& slot, const Lookup& lookup) {
    Series* series = slot.load(std::memory_order_acquire);
    if (series == nullptr) {
        // Two threads may both look up: the registry gives them the same series.
        series = &lookup();
        slot.store(series, std::memory_order_release);
    }
    return *series;
}

void RunMetrics::submitted(const std::string& engine, const std::optional<std::string>& version,
                           const std::optional<std::string>& rollout_share) {
    const LabelPair labels = engine_labels(engine, version);
    kept(series_of(labels).submitted, [&]() -> metrics::Counter& {
        return registry_.counter(
            "engined_runs_submitted_total", "Runs accepted (202) and stored",
            {{"engine", std::string(labels.first)}, {"version", std::string(labels.second)}});
    }).inc();
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
    const LabelPair labels = engine_labels(run.engine_slug, run.engine_version);
    EngineSeries& series = series_of(labels);
    if (run.started_at_ms) {
        kept(series.duration, [&]() -> metrics::Histogram& {
            return registry_.histogram(
                "engined_run_duration_seconds", "Time from a worker claiming a run to its outcome",
                metrics::duration_buckets(),
                {{"engine", std::string(labels.first)}, {"version", std::string(labels.second)}});
        }).observe(static_cast<double>(outcome.completed_at_ms - *run.started_at_ms) / 1000.0);
    }
    const std::string_view status = store::to_string(outcome.status);
    kept(series.finished.at(static_cast<std::size_t>(outcome.status)), [&]() -> metrics::Counter& {
        return registry_.counter("engined_runs_finished_total",
                                 "Runs that reached a terminal status",
                                 {{"engine", std::string(labels.first)},
                                  {"version", std::string(labels.second)},
                                  {"status", std::string(status)}});
    }).inc();
    if (run.engine_version_rollout) {
        registry_
            .counter("engined_rollout_runs_finished_total",
                     "Runs resolved under an open rollout that reached a terminal status, by "
                     "share (new | previous)",
                     {{"share", *run.engine_version_rollout}, {"status", std::string(status)}})
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
