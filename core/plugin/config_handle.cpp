#include "plugin/config_handle.hpp"

#include <string>

namespace engined::plugin {

std::variant<ConfigHandle, RunFailure> ConfigHandle::create(const LoadedPlugin& plugin,
                                                            std::string_view config_json) {
    engined_config* config = nullptr;
    engined_buffer out{nullptr, 0};
    const engined_status status =
        plugin.descriptor->config_new(config_json.data(), config_json.size(), &config, &out);
    const std::string text = out.data ? std::string(out.data, out.size) : std::string();
    plugin.descriptor->release_buffer(&out);
    if (status == ENGINED_OK && config != nullptr) return ConfigHandle(plugin, config);
    if (config != nullptr) plugin.descriptor->config_free(config);
    RunFailure failure = failure_from_plugin(text);
    if (status == ENGINED_OK)
        failure = {"plugin_fault", "the engine plugin prepared no handle for the configuration",
                   "[]"};
    return failure;
}

ConfigHandle::ConfigHandle(ConfigHandle&& other) noexcept
    : plugin_(other.plugin_), config_(other.config_) {
    other.config_ = nullptr;
}

ConfigHandle::~ConfigHandle() {
    if (config_ != nullptr) plugin_->descriptor->config_free(config_);
}

}  // namespace engined::plugin
