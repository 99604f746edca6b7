#include "plugin/plugin_registry.hpp"

#include "common/crypto.hpp"
#include "common/json_text.hpp"
#include "common/log.hpp"

#include <boost/json.hpp>

#include <dlfcn.h>

#include <algorithm>
#include <cstddef>
#include <fstream>
#include <map>
#include <mutex>
#include <shared_mutex>
#include <sstream>
#include <system_error>

namespace engined::plugin {
namespace {

std::string file_sha256(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream bytes;
    bytes << in.rdbuf();
    return sha256_hex(bytes.str());
}

struct ResultsKeys {
    std::shared_mutex mutex;
    std::map<std::string, std::string, std::less<>> by_engine_type;
};

ResultsKeys& results_keys() {
    static ResultsKeys keys;
    return keys;
}

// The smallest descriptor this host serves: the required fields of ABI 3.0 (every one before the
// optional validate_dataset).
constexpr std::size_t kMinimumDescriptorSize =
    offsetof(engined_engine_descriptor, validate_dataset);

// Why a plugin of another major version is refused, naming both versions and what to do.
std::string other_major(uint32_t plugin_major) {
    return "built for plugin ABI " + std::to_string(plugin_major) + "; this host serves ABI " +
           std::to_string(ENGINED_PLUGIN_ABI_VERSION) + ": rebuild it against this engine_plugin.h";
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
    auto entry =
        reinterpret_cast<engined_plugin_entry_fn>(dlsym(handle, ENGINED_PLUGIN_ENTRY_SYMBOL));
    if (entry == nullptr) return refuse("has no entry point '" ENGINED_PLUGIN_ENTRY_SYMBOL "'");
    const engined_engine_descriptor* descriptor = entry(ENGINED_PLUGIN_ABI_VERSION);
    if (descriptor == nullptr) {
        // A plugin of an older major declines this host; asked in its own terms it says which one
        // it speaks (every major's descriptor starts with abi_version), so the refusal can name it.
        const engined_engine_descriptor* older = entry(ENGINED_PLUGIN_ABI_VERSION - 1);
        if (older != nullptr && older->abi_version == ENGINED_PLUGIN_ABI_VERSION - 1) {
            return refuse(other_major(older->abi_version));
        }
        return refuse("declined host ABI version " + std::to_string(ENGINED_PLUGIN_ABI_VERSION));
    }
    if (descriptor->abi_version != ENGINED_PLUGIN_ABI_VERSION)
        return refuse(other_major(descriptor->abi_version));
    if (descriptor->struct_size < kMinimumDescriptorSize) {
        return refuse("has a descriptor of " + std::to_string(descriptor->struct_size) +
                      " bytes, smaller than ABI " + std::to_string(ENGINED_PLUGIN_ABI_VERSION) +
                      ".0 defines");
    }
    if (descriptor->engine_type == nullptr || descriptor->execute == nullptr ||
        descriptor->validate_config == nullptr || descriptor->release_buffer == nullptr ||
        descriptor->config_new == nullptr || descriptor->config_free == nullptr) {
        return refuse(
            "has an incomplete descriptor (engine_type, validate_config, config_new, config_free, "
            "execute and release_buffer are required)");
    }
    const std::string_view results_key = descriptor->results_key ? descriptor->results_key : "";
    if (results_key != "solutions" && results_key != "candidates") {
        return refuse("declares results key '" + std::string(results_key) +
                      "'; it must be \"solutions\" or \"candidates\"");
    }
    if (find(descriptor->engine_type) != nullptr) {
        return refuse(std::string("duplicates engine type '") + descriptor->engine_type + "'");
    }
    handles_.push_back(handle);
    const auto validate_dataset =
        ENGINED_HAS_FIELD(descriptor, engined_engine_descriptor, validate_dataset)
            ? descriptor->validate_dataset
            : nullptr;
    plugins_.push_back(
        {descriptor->engine_type, descriptor->plugin_version ? descriptor->plugin_version : "",
         std::string(results_key), path, file_sha256(path), descriptor, validate_dataset});
    {
        ResultsKeys& keys = results_keys();
        const std::unique_lock lock(keys.mutex);
        keys.by_engine_type.insert_or_assign(descriptor->engine_type, std::string(results_key));
    }
    return {};
}

void PluginRegistry::load_directory(const std::filesystem::path& directory) {
    std::vector<std::filesystem::path> candidates;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(directory, ec)) {
        if (entry.path().extension() == ".so") candidates.push_back(entry.path());
    }
    if (ec) {
        log::error("cannot read plugin directory",
                   {{"path", directory.string()}, {"detail", ec.message()}});
        return;
    }
    std::sort(candidates.begin(), candidates.end());
    for (const auto& path : candidates) {
        const std::string refusal = load(path);
        if (refusal.empty()) {
            log::info("plugin loaded",
                      {{"path", path.string()}, {"engine_type", plugins_.back().engine_type}});
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

std::optional<std::vector<DatasetProblem>> dataset_problems(const LoadedPlugin& plugin,
                                                            std::string_view kind,
                                                            std::string_view records_json) {
    if (plugin.validate_dataset == nullptr) return std::nullopt;
    const std::string kind_name(kind);
    engined_buffer out{nullptr, 0};
    const engined_status status =
        plugin.validate_dataset(kind_name.c_str(), records_json.data(), records_json.size(), &out);
    const std::string text = out.data ? std::string(out.data, out.size) : std::string();
    plugin.descriptor->release_buffer(&out);
    if (status == ENGINED_DATASET_NOT_FOUND) return std::nullopt;
    const std::vector<DatasetProblem> unreadable{
        {-1, "the " + plugin.engine_type + " plugin could not check the dataset"}};
    boost::system::error_code ec;
    const boost::json::value answer = parse_internal_json(text, ec);
    const auto* errors = !ec && status == ENGINED_OK && answer.is_object()
                             ? answer.get_object().if_contains("errors")
                             : nullptr;
    if (errors == nullptr || !errors->is_array()) return unreadable;
    std::vector<DatasetProblem> problems;
    for (const auto& error : errors->get_array()) {
        const auto* fields = error.if_object();
        const auto* index = fields ? fields->if_contains("index") : nullptr;
        const auto* message = fields ? fields->if_contains("message") : nullptr;
        if (message == nullptr || !message->is_string()) return unreadable;
        problems.push_back({index && index->is_int64() ? index->get_int64() : -1,
                            std::string(message->get_string())});
    }
    return problems;
}

std::string results_key_of(std::string_view engine_type) {
    ResultsKeys& keys = results_keys();
    const std::shared_lock lock(keys.mutex);
    const auto found = keys.by_engine_type.find(engine_type);
    return found == keys.by_engine_type.end() ? "solutions" : found->second;
}

std::filesystem::path find_plugins_dir(const std::filesystem::path& configured) {
    if (!configured.empty()) return configured;
    std::error_code ec;
    const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
    const auto executable_dir = ec ? std::filesystem::current_path() : self.parent_path();
    const auto beside = executable_dir / "plugins";
    const auto installed = executable_dir.parent_path() / "lib" / "engined" / "plugins";
    return std::filesystem::is_directory(beside) || !std::filesystem::is_directory(installed)
               ? beside
               : installed;
}

}  // namespace engined::plugin
