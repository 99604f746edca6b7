// The engine plugins enginectl loads itself (eval, pools import): where they are and which one
// serves an engine type.
#pragma once

#include "commands.hpp"

#include "plugin/plugin_registry.hpp"

#include <filesystem>
#include <string>

namespace engined::cli {

// --plugins-dir, else $ENGINED_PLUGINS_DIR, else where engined looks (plugin::find_plugins_dir).
std::filesystem::path plugins_dir(const Arguments& args);

// The plugin for `engine_type` among the *.so files of `folder` (each loaded until it is found).
const plugin::LoadedPlugin& load_plugin(plugin::PluginRegistry& registry,
                                        const std::filesystem::path& folder,
                                        const std::string& engine_type);

}  // namespace engined::cli
