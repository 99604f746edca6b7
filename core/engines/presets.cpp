#include "engines/presets.hpp"

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

}  // namespace

boost::json::value read_json(const std::filesystem::path& path) {
    boost::system::error_code ec;
    boost::json::value value = boost::json::parse(read_file(path), ec);
    if (ec) throw std::runtime_error(path.string() + " is not valid JSON: " + ec.message());
    return value;
}

boost::json::object load_preset_config(const std::filesystem::path& resources_dir,
                                       const std::string& engine_type) {
    const auto contract_dir = resources_dir / "contracts" / engine_type;
    boost::json::value preset = read_json(contract_dir / "engine.json");
    if (!preset.is_object())
        throw std::runtime_error((contract_dir / "engine.json").string() + " must hold an object");
    boost::json::object config = std::move(preset.get_object());
    config["request_schema"] = read_json(contract_dir / "request.schema.json");
    config["response_schema"] = read_json(contract_dir / "response.schema.json");
    for (const char* example : {"example_request", "example_response"}) {
        const auto path = contract_dir / (std::string(example) + ".json");
        if (std::filesystem::exists(path)) config[example] = read_json(path);
    }
    config["lua_source"] =
        read_file(resources_dir / "scripts" / "lua" / engine_type / "scorecard.lua");
    return config;
}

std::vector<ErrorDetail> plugin_config_errors(const plugin::PluginRegistry& plugins,
                                              const std::string& engine_type,
                                              const boost::json::value& config) {
    const plugin::LoadedPlugin* plugin = plugins.find(engine_type);
    if (plugin == nullptr)
        return {{"", "engine type '" + engine_type + "' is not installed on this server"}};
    const std::string text = boost::json::serialize(config);
    engined_buffer out{nullptr, 0};
    plugin->descriptor->validate_config(text.data(), text.size(), &out);
    const std::string verdict_text = out.data ? std::string(out.data, out.size) : std::string("{}");
    plugin->descriptor->release_buffer(&out);
    boost::system::error_code ec;
    const boost::json::value verdict = boost::json::parse(verdict_text, ec);
    const auto* errors =
        ec || !verdict.is_object() ? nullptr : verdict.get_object().if_contains("errors");
    if (errors == nullptr || !errors->is_array()) {
        return {{"", "plugin '" + engine_type + "' answered validate_config with malformed JSON"}};
    }
    std::vector<ErrorDetail> details;
    for (const auto& error : errors->get_array()) {
        if (!error.is_object()) continue;
        const auto* path = error.get_object().if_contains("path");
        const auto* message = error.get_object().if_contains("message");
        details.push_back(
            {path && path->is_string() ? std::string(path->get_string()) : "",
             message && message->is_string() ? std::string(message->get_string()) : "invalid"});
    }
    return details;
}

}  // namespace engined::engines
