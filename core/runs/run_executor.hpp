// core/runs — the runs use cases: submit, read, list and execute. Knows the store's interface,
// the engine catalog and the plugin host; does not know SQL or HTTP.
// run_executor.hpp: one stored run through its engine's plugin, into a terminal outcome.
#pragma once

#include "common/shared_lru_cache.hpp"
#include "lua/sandbox.hpp"
#include "plugin/plugin_registry.hpp"
#include "plugin/run_host.hpp"
#include "runs/run_metrics.hpp"
#include "store/store.hpp"

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace engined::runs {

// A run's trace as stored: [{"stage", "at_ms", "event"}, …] in the order the plugin sent its
// events. An event the plugin sent as JSON is copied as it came; any other is kept as a string.
std::string trace_json(const std::vector<plugin::TraceEvent>& events);

// The outcome a plugin's result describes: `status` "degraded" or else completed, `stage`
// (default "RANK"), `output` (default {}) and the engine's results key (default []).
// `result_json` is JSON and an object (RunHost::execute checked it).
store::RunOutcome outcome_from_result(std::string_view result_json, const std::string& results_key);

// How many engine configurations the executor keeps prepared (each a plugin's handle with its
// parsed configuration, and the host's reading of it), shared by all workers.
inline constexpr std::size_t kDefaultPreparedConfigs = 64;

class RunExecutor {
public:
    // `platform_version`: engined's version, one component of every run's fingerprint.
    // `prepared_configs`: see kDefaultPreparedConfigs; past it the least recently used goes.
    RunExecutor(const store::Store& store, const plugin::PluginRegistry& plugins,
                lua::Limits limits, std::string platform_version, RunMetrics& metrics,
                std::size_t prepared_configs = kDefaultPreparedConfigs);

    // Never throws: every fault (missing plugin, Lua breach, plugin failure) becomes a `failed`
    // outcome for this run alone. Compiled scorecards are cached per calling thread. Stores
    // nothing: the same call executes a queued run and replays a finished one. The outcome
    // carries the run's fingerprint (runs/fingerprint.hpp) once the plugin is found; the Lua
    // instructions spent and any Lua failure are counted in the metrics.
    store::RunOutcome execute(const store::Run& run) const;

    // The run's stored request executed under another configuration (a preview of a candidate):
    // never throws, stores nothing, carries no fingerprint (it is not the run's).
    store::RunOutcome execute_with_config(const store::Run& run,
                                          const std::string& config_json) const;

private:
    // A configuration as runs use it: read, parsed and handed to the plugin's config_new once per
    // (engine type, configuration), not once per run.
    struct PreparedConfig;

    store::RunOutcome execute_stages(const store::Run& run) const;
    store::RunOutcome execute_plugin(const store::Run& run, const plugin::LoadedPlugin& plugin,
                                     const std::shared_ptr<const PreparedConfig>& config) const;
    // Runs `stages`, turning any exception into a failed outcome and stamping completed_at_ms.
    template <typename Stages>
    store::RunOutcome guarded(const store::Run& run, Stages&& stages) const;

    // Cached under `config_key` (a configuration hash); `read_config` is called on a miss and
    // answers nullopt when the configuration is gone (nothing is cached then).
    std::shared_ptr<const PreparedConfig> prepared_config(
        const plugin::LoadedPlugin& plugin, const std::string& config_key,
        const std::function<std::optional<std::string>()>& read_config) const;

    const store::Store& store_;
    const plugin::PluginRegistry& plugins_;
    lua::Limits limits_;
    std::string platform_version_;
    RunMetrics& metrics_;
    mutable SharedLruCache<PreparedConfig> prepared_;
};

}  // namespace engined::runs
