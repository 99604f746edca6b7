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
    const auto canonicalize_dataset =
        ENGINED_HAS_FIELD(descriptor, engined_engine_descriptor, canonicalize_dataset)
            ? descriptor->canonicalize_dataset
            : nullptr;
    plugins_.push_back({descriptor->engine_type,
                        descriptor->plugin_version ? descriptor->plugin_version : "",
                        std::string(results_key), path, file_sha256(path), descriptor,
                        validate_dataset, canonicalize_dataset});
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

namespace {

// A dataset check's answer as the plugin filled it: its status and text (the buffer released).
struct DatasetAnswer {
    engined_status status;
    std::string text;
};

template <typename Check>
DatasetAnswer ask(const LoadedPlugin& plugin, Check check) {
    engined_buffer out{nullptr, 0};
    const engined_status status = check(&out);
    DatasetAnswer answer{status, out.data ? std::string(out.data, out.size) : std::string()};
    plugin.descriptor->release_buffer(&out);
    return answer;
}

std::vector<DatasetProblem> unreadable(const LoadedPlugin& plugin) {
    return {{-1, "the " + plugin.engine_type + " plugin could not check the dataset"}};
}

// The "errors" of a dataset check's answer; nullopt when they are not as engine_plugin.h says.
std::optional<std::vector<DatasetProblem>> problems_in(const boost::json::object& answer) {
    const auto* errors = answer.if_contains("errors");
    if (errors == nullptr || !errors->is_array()) return std::nullopt;
    std::vector<DatasetProblem> problems;
    for (const auto& error : errors->get_array()) {
        const auto* fields = error.if_object();
        const auto* index = fields ? fields->if_contains("index") : nullptr;
        const auto* message = fields ? fields->if_contains("message") : nullptr;
        if (message == nullptr || !message->is_string()) return std::nullopt;
        problems.push_back({index && index->is_int64() ? index->get_int64() : -1,
                            std::string(message->get_string())});
    }
    return problems;
}

// The answer's JSON object, or null when the plugin failed or answered something else.
std::optional<boost::json::object> answer_object(const DatasetAnswer& answer) {
    boost::system::error_code ec;
    boost::json::value value = parse_internal_json(answer.text, ec);
    if (ec || answer.status != ENGINED_OK || !value.is_object()) return std::nullopt;
    return std::move(value.get_object());
}

}  // namespace

std::optional<std::vector<DatasetProblem>> dataset_problems(const LoadedPlugin& plugin,
                                                            std::string_view kind,
                                                            std::string_view records_json) {
    if (plugin.validate_dataset == nullptr) return std::nullopt;
    const std::string kind_name(kind);
    const DatasetAnswer answer = ask(plugin, [&](engined_buffer* out) {
        return plugin.validate_dataset(kind_name.c_str(), records_json.data(), records_json.size(),
                                       out);
    });
    if (answer.status == ENGINED_DATASET_NOT_FOUND) return std::nullopt;
    const auto object = answer_object(answer);
    auto problems = object ? problems_in(*object) : std::nullopt;
    return problems ? std::move(*problems) : unreadable(plugin);
}

std::optional<CanonicalDataset> canonical_dataset(const LoadedPlugin& plugin, std::string_view kind,
                                                  std::string_view format,
                                                  std::string_view records_json) {
    if (plugin.canonicalize_dataset == nullptr) {
        // A plugin of ABI 3.0 (engine_plugin.h's policy): it validates, the records stay as given.
        auto problems = dataset_problems(plugin, kind, records_json);
        if (!problems) return std::nullopt;
        return CanonicalDataset{std::move(*problems), std::nullopt};
    }
    const std::string kind_name(kind);
    const std::string format_name(format);
    const DatasetAnswer answer = ask(plugin, [&](engined_buffer* out) {
        return plugin.canonicalize_dataset(kind_name.c_str(), format_name.c_str(),
                                           records_json.data(), records_json.size(), out);
    });
    if (answer.status == ENGINED_DATASET_NOT_FOUND) return std::nullopt;
    const auto object = answer_object(answer);
    auto problems = object ? problems_in(*object) : std::nullopt;
    if (!problems) return CanonicalDataset{unreadable(plugin), std::nullopt};
    if (!problems->empty()) return CanonicalDataset{std::move(*problems), std::nullopt};
    const auto* records = object->if_contains("records");
    if (records == nullptr || !records->is_array())
        return CanonicalDataset{unreadable(plugin), std::nullopt};
    return CanonicalDataset{{}, boost::json::serialize(*records)};
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
