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
#include <vector>

namespace engined::runs {

class RunMetrics {
public:
    explicit RunMetrics(metrics::Registry& registry);

    // The built-in engines, counted under their own slug (every other engine is "custom"); set
    // once at start-up, before any run is counted.
    void label_builtin_engines(std::vector<std::string> slugs);

    // `rollout_share`: new | previous when an open rollout chose the version.
    void submitted(const std::string& engine, const std::optional<std::string>& version,
                   const std::optional<std::string>& rollout_share);
    // `run.started_at_ms` set: the duration started → completed is observed too.
    void finished(const store::Run& run, const store::RunOutcome& outcome);
    void lua_instructions(uint64_t count) { lua_instructions_.inc(static_cast<double>(count)); }
    void lua_error(lua::FailureKind kind);

private:
    metrics::Labels engine_labels(const std::string& engine,
                                  const std::optional<std::string>& version) const;

    metrics::Registry& registry_;
    std::vector<std::string> builtin_engines_;  // a handful: a scan beats a hash
    metrics::Counter& lua_instructions_;
};

}  // namespace engined::runs
