// A plugin's handle for one engine configuration (engine_plugin.h: config_new / config_free),
// owned by the host: created once per configuration, freed when its last user lets go.
#pragma once

#include "plugin/plugin_registry.hpp"
#include "plugin/run_host.hpp"

#include <string_view>
#include <variant>

namespace engined::plugin {

class ConfigHandle {
public:
    // The plugin's handle for `config_json`, or why the plugin could not prepare it (which fails
    // every run resolved to that configuration). Never throws for what the plugin answers.
    static std::variant<ConfigHandle, RunFailure> create(const LoadedPlugin& plugin,
                                                         std::string_view config_json);

    ConfigHandle(ConfigHandle&& other) noexcept;
    ConfigHandle& operator=(ConfigHandle&&) = delete;
    ConfigHandle(const ConfigHandle&) = delete;
    ConfigHandle& operator=(const ConfigHandle&) = delete;
    // Calls the plugin's config_free: only once no execute uses the handle (callers share a
    // ConfigHandle through a std::shared_ptr held for the length of each run).
    ~ConfigHandle();

    const LoadedPlugin& plugin() const noexcept { return *plugin_; }
    const engined_config* get() const noexcept { return config_; }

private:
    ConfigHandle(const LoadedPlugin& plugin, engined_config* config) noexcept
        : plugin_(&plugin), config_(config) {}

    const LoadedPlugin* plugin_;
    engined_config* config_;
};

}  // namespace engined::plugin
