#include "engines/engine_catalog.hpp"

#include "common/crypto.hpp"
#include "lua/sandbox.hpp"

#include <boost/json.hpp>

#include <fstream>
#include <sstream>
#include <stdexcept>

namespace engined::engines {
namespace {

std::string read_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read " + path.string());
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

boost::json::value read_json(const std::filesystem::path& path) {
    boost::system::error_code ec;
    boost::json::value value = boost::json::parse(read_file(path), ec);
    if (ec) throw std::runtime_error(path.string() + " is not valid JSON: " + ec.message());
    return value;
}

struct BuiltinEngine {
    const char* slug;
    const char* engine_type;
    const char* label;
    const char* description;
};

constexpr BuiltinEngine kBuiltinEngines[] = {
    {"default", "placement", "Personal lines placement",
     "Ranks carrier quotes for home, auto and umbrella into packages."},
    {"entity-analysis", "entity_analysis", "Commercial entity analysis",
     "Ranks a pool of carriers for a commercial prospect."},
};

// Asks the plugin whether it accepts the configuration; its errors name JSON Pointers.
void check_with_plugin(const plugin::LoadedPlugin& plugin, const std::string& config_json,
                       const std::string& slug) {
    engined_buffer out{nullptr, 0};
    plugin.descriptor->validate_config(config_json.data(), config_json.size(), &out);
    const std::string text = out.data ? std::string(out.data, out.size) : std::string("{}");
    plugin.descriptor->release_buffer(&out);
    boost::system::error_code ec;
    const boost::json::value verdict = boost::json::parse(text, ec);
    const auto* errors = ec || !verdict.is_object() ? nullptr : verdict.get_object().if_contains("errors");
    if (errors == nullptr || !errors->is_array()) {
        throw std::runtime_error("plugin '" + plugin.engine_type + "' answered validate_config with malformed JSON");
    }
    if (!errors->get_array().empty()) {
        throw std::runtime_error("the preset configuration of engine '" + slug +
                                 "' is invalid: " + boost::json::serialize(*errors));
    }
}

}  // namespace

boost::json::object load_preset_config(const std::filesystem::path& resource_root,
                                       const std::string& engine_type) {
    const auto contract_dir = resource_root / "contracts" / engine_type;
    boost::json::value preset = read_json(contract_dir / "engine.json");
    if (!preset.is_object()) throw std::runtime_error((contract_dir / "engine.json").string() + " must hold an object");
    boost::json::object config = std::move(preset.get_object());
    config["request_schema"] = read_json(contract_dir / "request.schema.json");
    config["response_schema"] = read_json(contract_dir / "response.schema.json");
    config["lua_source"] = read_file(resource_root / "scripts" / "lua" / engine_type / "scorecard.lua");
    return config;
}

EngineCatalog EngineCatalog::builtin(const std::filesystem::path& resource_root,
                                     const plugin::PluginRegistry& plugins) {
    EngineCatalog catalog;
    for (const BuiltinEngine& builtin : kBuiltinEngines) {
        const plugin::LoadedPlugin* plugin = plugins.find(builtin.engine_type);
        if (plugin == nullptr) continue;
        boost::json::object config = load_preset_config(resource_root, builtin.engine_type);
        Engine engine;
        engine.slug = builtin.slug;
        engine.label = builtin.label;
        engine.description = builtin.description;
        engine.engine_type = builtin.engine_type;
        try {
            engine.request_contract =
                std::make_shared<const contracts::ContractValidator>(config.at("request_schema"));
        } catch (const std::invalid_argument& error) {
            throw std::runtime_error("the request schema of engine '" + engine.slug + "': " + error.what());
        }
        // A scorecard that does not compile or fails while defining its functions would fail
        // every run; refuse it at start instead.
        try {
            lua::Sandbox(config.at("lua_source").as_string(), "scorecard.lua").begin_run();
        } catch (const lua::LuaError& error) {
            throw std::runtime_error("the Lua scorecard of engine '" + engine.slug + "' (scripts/lua/" +
                                     engine.engine_type + "/scorecard.lua) is unusable: " + error.what());
        }
        engine.config_json = boost::json::serialize(config);
        engine.config_hash = sha256_hex(engine.config_json);
        check_with_plugin(*plugin, engine.config_json, engine.slug);
        catalog.engines_.push_back(std::move(engine));
    }
    return catalog;
}

const Engine* EngineCatalog::find(std::string_view slug) const {
    for (const Engine& engine : engines_) {
        if (engine.slug == slug) return &engine;
    }
    return nullptr;
}

}  // namespace engined::engines
