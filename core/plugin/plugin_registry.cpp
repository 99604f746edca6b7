#include "plugin/plugin_registry.hpp"

#include "common/crypto.hpp"
#include "common/log.hpp"

#include <dlfcn.h>

#include <algorithm>
#include <fstream>
#include <sstream>

namespace engined::plugin {
namespace {

std::string file_sha256(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream bytes;
    bytes << in.rdbuf();
    return sha256_hex(bytes.str());
}

}  // namespace

PluginRegistry::~PluginRegistry() {
    for (void* handle : handles_) dlclose(handle);
}

std::string PluginRegistry::load(const std::filesystem::path& path) {
    void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) {
        const char* why = dlerror();
        return std::string("cannot be loaded: ") + (why ? why : "unknown dlopen error");
    }
    auto refuse = [&](std::string why) {
        dlclose(handle);
        return why;
    };
    auto entry = reinterpret_cast<engined_plugin_entry_fn>(dlsym(handle, ENGINED_PLUGIN_ENTRY_SYMBOL));
    if (entry == nullptr) return refuse("has no entry point '" ENGINED_PLUGIN_ENTRY_SYMBOL "'");
    const engined_engine_descriptor* descriptor = entry(ENGINED_PLUGIN_ABI_VERSION);
    if (descriptor == nullptr) {
        return refuse("declined host ABI version " + std::to_string(ENGINED_PLUGIN_ABI_VERSION));
    }
    if (descriptor->abi_version != ENGINED_PLUGIN_ABI_VERSION) {
        return refuse("speaks plugin ABI version " + std::to_string(descriptor->abi_version) +
                      ", this host speaks " + std::to_string(ENGINED_PLUGIN_ABI_VERSION));
    }
    if (descriptor->engine_type == nullptr || descriptor->execute == nullptr ||
        descriptor->validate_config == nullptr || descriptor->release_buffer == nullptr) {
        return refuse("has an incomplete descriptor (engine_type, execute, validate_config and release_buffer are required)");
    }
    if (find(descriptor->engine_type) != nullptr) {
        return refuse(std::string("duplicates engine type '") + descriptor->engine_type + "'");
    }
    handles_.push_back(handle);
    plugins_.push_back({descriptor->engine_type,
                        descriptor->plugin_version ? descriptor->plugin_version : "",
                        path, file_sha256(path), descriptor});
    return {};
}

void PluginRegistry::load_directory(const std::filesystem::path& directory) {
    std::vector<std::filesystem::path> candidates;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(directory, ec)) {
        if (entry.path().extension() == ".so") candidates.push_back(entry.path());
    }
    if (ec) {
        log::error("cannot read plugin directory", {{"path", directory.string()}, {"detail", ec.message()}});
        return;
    }
    std::sort(candidates.begin(), candidates.end());
    for (const auto& path : candidates) {
        const std::string refusal = load(path);
        if (refusal.empty()) {
            log::info("plugin loaded", {{"path", path.string()}, {"engine_type", plugins_.back().engine_type}});
        } else {
            log::error("plugin refused", {{"path", path.string()}, {"reason", refusal}});
        }
    }
}

const LoadedPlugin* PluginRegistry::find(std::string_view engine_type) const {
    for (const LoadedPlugin& plugin : plugins_) {
        if (plugin.engine_type == engine_type) return &plugin;
    }
    return nullptr;
}

}  // namespace engined::plugin
