// core/engines — the engines a server offers and the configuration each runs with. A preset
// configuration is composed from contracts/<type>/ and scripts/lua/<type>/ and checked by the
// engine type's plugin before it is served. Knows files and plugins, not HTTP or SQL.
#pragma once

#include "contracts/contract_validator.hpp"
#include "plugin/plugin_registry.hpp"

#include <boost/json/object.hpp>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace engined::engines {

struct Engine {
    std::string slug;
    std::string label;
    std::string description;
    std::string engine_type;
    std::string config_json;  // canonical text: what runs are executed with and hashed by
    std::string config_hash;  // SHA-256 of config_json
    std::shared_ptr<const contracts::ContractValidator> request_contract;
};

// contracts/<type>/engine.json + request/response schemas + scripts/lua/<type>/scorecard.lua,
// as one configuration object. Throws std::runtime_error naming the file that is missing or bad.
boost::json::object load_preset_config(const std::filesystem::path& resource_root,
                                       const std::string& engine_type);

class EngineCatalog {
public:
    // The out-of-the-box engines — `default` (placement) and `entity-analysis` (entity_analysis) —
    // for each engine type whose plugin is loaded. Throws std::runtime_error when a preset does
    // not pass its plugin's validate_config.
    static EngineCatalog builtin(const std::filesystem::path& resource_root,
                                 const plugin::PluginRegistry& plugins);

    const Engine* find(std::string_view slug) const;
    const std::vector<Engine>& engines() const noexcept { return engines_; }

private:
    std::vector<Engine> engines_;
};

}  // namespace engined::engines
