// The runs' series in the metrics registry: submissions and outcomes per engine and version, run
// durations, the queue's depth and what Lua scorecards spent. The `version` label is the resolved
// version ("1.2") or "current" for a run of the engine's current configuration; organisations' own
// engines are labelled engine="custom", version="custom". Runs a "<major>.x" pin resolved under an
// open rollout are also counted by their share (new | previous), the two side by side.
#pragma once

#include "lua/sandbox.hpp"
#include "metrics/registry.hpp"
#include "store/store.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace engined::runs {

class RunMetrics {
public:
    explicit RunMetrics(metrics::Registry& registry);

    // `rollout_share`: new | previous when an open rollout chose the version.
    void submitted(const std::string& engine, const std::optional<std::string>& version,
                   const std::optional<std::string>& rollout_share);
    // `run.started_at_ms` set: the duration started → completed is observed too.
    void finished(const store::Run& run, const store::RunOutcome& outcome);
    void lua_instructions(uint64_t count) { lua_instructions_.inc(static_cast<double>(count)); }
    void lua_error(lua::FailureKind kind);

private:
    metrics::Registry& registry_;
    metrics::Counter& lua_instructions_;
};

}  // namespace engined::runs
