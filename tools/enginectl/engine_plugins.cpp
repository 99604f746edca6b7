#include "engine_plugins.hpp"

#include <cstdlib>
#include <stdexcept>
#include <system_error>

namespace engined::cli {

namespace fs = std::filesystem;

fs::path plugins_dir(const Arguments& args) {
    if (args.has("plugins-dir")) return args.required("plugins-dir");
    if (const char* configured = std::getenv("ENGINED_PLUGINS_DIR"); configured && *configured)
        return configured;
    return plugin::find_plugins_dir({});
}

const plugin::LoadedPlugin& load_plugin(plugin::PluginRegistry& registry, const fs::path& folder,
                                        const std::string& engine_type) {
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(folder, ec)) {
        if (entry.path().extension() != ".so") continue;
        registry.load(entry.path());
        if (const auto* found = registry.find(engine_type)) return *found;
    }
    throw std::runtime_error("no plugin for engine type '" + engine_type + "' in " +
                             folder.string() +
                             " (--plugins-dir DIR or $ENGINED_PLUGINS_DIR names the folder)");
}

}  // namespace engined::cli
