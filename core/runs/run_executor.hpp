// core/runs — the runs use cases: submit, read, list and execute. Knows the store's interface,
// the engine catalog and the plugin host; does not know SQL or HTTP.
// run_executor.hpp: one stored run through its engine's plugin, into a terminal outcome.
#pragma once

#include "lua/sandbox.hpp"
#include "plugin/plugin_registry.hpp"
#include "runs/run_metrics.hpp"
#include "store/store.hpp"

namespace engined::runs {

class RunExecutor {
public:
    RunExecutor(const store::Store& store, const plugin::PluginRegistry& plugins, lua::Limits limits,
                RunMetrics& metrics);

    // Never throws: every fault (missing plugin, Lua breach, plugin failure) becomes a `failed`
    // outcome for this run alone. Compiled scorecards are cached per calling thread. The outcome,
    // the Lua instructions spent and any Lua failure are counted in the metrics.
    store::RunOutcome execute(const store::Run& run) const;

private:
    store::RunOutcome execute_stages(const store::Run& run) const;

    const store::Store& store_;
    const plugin::PluginRegistry& plugins_;
    lua::Limits limits_;
    RunMetrics& metrics_;
};

}  // namespace engined::runs
