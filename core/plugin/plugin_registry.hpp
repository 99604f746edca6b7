// core/plugin — loads engine plugins (dlopen), checks the ABI handshake, and runs a plugin with
// the host services of engine_plugin.h. Knows the plugin ABI and the Lua host, not HTTP or SQL.
#pragma once

#include "plugin/engine_plugin.h"

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace engined::plugin {

struct LoadedPlugin {
    std::string engine_type;
    std::string plugin_version;
    std::filesystem::path path;
    std::string binary_sha256;  // of the .so file, for reproducibility fingerprints
    const engined_engine_descriptor* descriptor = nullptr;
};

class PluginRegistry {
public:
    PluginRegistry() = default;
    ~PluginRegistry();
    PluginRegistry(const PluginRegistry&) = delete;
    PluginRegistry& operator=(const PluginRegistry&) = delete;

    // Loads one shared library. Returns an empty string on success, otherwise why it was refused
    // (not loadable, no entry point, wrong ABI version, duplicate engine type).
    std::string load(const std::filesystem::path& path);

    // Loads every *.so of `directory`; each refusal is logged as one line naming the file.
    void load_directory(const std::filesystem::path& directory);

    const LoadedPlugin* find(std::string_view engine_type) const;
    const std::vector<LoadedPlugin>& plugins() const noexcept { return plugins_; }

private:
    std::vector<LoadedPlugin> plugins_;
    std::vector<void*> handles_;
};

}  // namespace engined::plugin
