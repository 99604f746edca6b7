// Preset configurations of the engine types, composed from the repository's files, and the
// engine plugin's own verdict on a configuration.
#pragma once

#include "common/api_error.hpp"
#include "plugin/plugin_registry.hpp"

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace engined::engines {

// A JSON file shipped with the product. Throws std::runtime_error naming it when it is missing
// or not JSON.
boost::json::value read_json(const std::filesystem::path& path);

// contracts/<type>/engine.json + request/response schemas + examples, and
// scripts/lua/<type>/scorecard.lua, as one configuration object. Throws std::runtime_error
// naming the file that is missing or bad.
boost::json::object load_preset_config(const std::filesystem::path& resources_dir,
                                       const std::string& engine_type);

// The errors the engine type's plugin finds in `config` (validate_config), as JSON Pointers.
std::vector<ErrorDetail> plugin_config_errors(const plugin::PluginRegistry& plugins,
                                              const std::string& engine_type,
                                              const boost::json::value& config);

}  // namespace engined::engines
