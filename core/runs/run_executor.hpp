// core/runs — the runs use cases: submit, read, list and execute. Knows the store's interface,
// the engine catalog and the plugin host; does not know SQL or HTTP.
// run_executor.hpp: one stored run through its engine's plugin, into a terminal outcome.
#pragma once

#include "common/shared_lru_cache.hpp"
#include "lua/sandbox.hpp"
#include "plugin/plugin_registry.hpp"
#include "runs/run_metrics.hpp"
#include "store/store.hpp"

#include <cstddef>
#include <memory>
#include <string>

namespace engined::runs {

// How many engine configurations the executor keeps prepared (each a plugin's handle with its
// parsed configuration, and the host's reading of it), shared by all workers.
inline constexpr std::size_t kDefaultPreparedConfigs = 64;

class RunExecutor {
public:
    // `platform_version`: engined's version, one component of every run's fingerprint.
    // `prepared_configs`: see kDefaultPreparedConfigs; past it the least recently used goes.
    RunExecutor(const store::Store& store, const plugin::PluginRegistry& plugins, lua::Limits limits,
                std::string platform_version, RunMetrics& metrics,
                std::size_t prepared_configs = kDefaultPreparedConfigs);

    // Never throws: every fault (missing plugin, Lua breach, plugin failure) becomes a `failed`
    // outcome for this run alone. Compiled scorecards are cached per calling thread. Stores
    // nothing: the same call executes a queued run and replays a finished one. The outcome
    // carries the run's fingerprint (runs/fingerprint.hpp) once the plugin is found; the Lua
    // instructions spent and any Lua failure are counted in the metrics.
    store::RunOutcome execute(const store::Run& run) const;

private:
    store::RunOutcome execute_stages(const store::Run& run) const;
    store::RunOutcome execute_plugin(const store::Run& run, const plugin::LoadedPlugin& plugin) const;

    // A configuration as runs use it: read from the store, parsed and handed to the plugin's
    // config_new once per (engine type, configuration hash), not once per run.
    struct PreparedConfig;
    std::shared_ptr<const PreparedConfig> prepared_config(const store::Run& run, const plugin::LoadedPlugin& plugin) const;

    const store::Store& store_;
    const plugin::PluginRegistry& plugins_;
    lua::Limits limits_;
    std::string platform_version_;
    RunMetrics& metrics_;
    mutable SharedLruCache<PreparedConfig> prepared_;
};

}  // namespace engined::runs
