// core/plugin — loads engine plugins (dlopen), checks the ABI handshake, and runs a plugin with
// the host services of engine_plugin.h. Knows the plugin ABI and the Lua host, not HTTP or SQL.
// plugin_registry.hpp: the loaded plugins, the results key each declares and their dataset checks.
#pragma once

#include "plugin/engine_plugin.h"

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace engined::plugin {

struct LoadedPlugin {
    std::string engine_type;
    std::string plugin_version;
    // The descriptor's results key: "solutions" or "candidates".
    std::string results_key;
    std::filesystem::path path;
    std::string binary_sha256;  // of the .so file, for reproducibility fingerprints
    const engined_engine_descriptor* descriptor = nullptr;
    // The descriptor's optional dataset validator, NULL when absent or past its struct_size.
    decltype(engined_engine_descriptor::validate_dataset) validate_dataset = nullptr;
    // The descriptor's optional dataset canonicaliser (ABI 3.1), NULL when absent or past its
    // struct_size (a plugin built for 3.0).
    decltype(engined_engine_descriptor::canonicalize_dataset) canonicalize_dataset = nullptr;
};

class PluginRegistry {
public:
    PluginRegistry() = default;
    ~PluginRegistry();
    PluginRegistry(const PluginRegistry&) = delete;
    PluginRegistry& operator=(const PluginRegistry&) = delete;

    // Loads one shared library. Returns an empty string on success, otherwise why it was refused
    // (not loadable, no entry point, another ABI major version, an incomplete descriptor, an
    // unknown results key, duplicate engine type). Policy of engine_plugin.h: a plugin of this
    // major version is served whatever its minor version; one built for another major is refused.
    std::string load(const std::filesystem::path& path);

    // Loads every *.so of `directory`; each refusal is logged as one line naming the file.
    void load_directory(const std::filesystem::path& directory);

    const LoadedPlugin* find(std::string_view engine_type) const;
    const std::vector<LoadedPlugin>& plugins() const noexcept { return plugins_; }

private:
    std::vector<LoadedPlugin> plugins_;
    std::vector<void*> handles_;
};

// One reason a plugin's validate_dataset refuses a dataset: the record (its index in the records
// array; -1 for the dataset as a whole) and why.
struct DatasetProblem {
    long long index = -1;
    std::string message;
};

// What `plugin` makes of the records of a dataset of family `kind` (a JSON array): its problems,
// empty when its runs can read every record; nullopt when the plugin reads no datasets of that
// kind (no validator, or one that does not know the kind). A validator that answers garbage is
// reported as one problem of the whole dataset.
std::optional<std::vector<DatasetProblem>> dataset_problems(const LoadedPlugin& plugin,
                                                            std::string_view kind,
                                                            std::string_view records_json);

// The records of a dataset as the engine type will read them.
struct CanonicalDataset {
    // Why the engine refuses the dataset; empty when it accepts every record.
    std::vector<DatasetProblem> problems;
    // The canonical records (a JSON array, one per record given, in the same order) when the
    // plugin canonicalised them; nullopt when it only validated them (a plugin of ABI 3.0): the
    // records are then kept as given.
    std::optional<std::string> records_json;
};

// What `plugin` makes of the records of a dataset file of family `kind`, framed as `format`
// says ("json" or "csv", see canonicalize_dataset in engine_plugin.h): its canonicaliser's
// answer, or, for a plugin of ABI 3.0, its validate_dataset's problems (csv records too are then
// checked as given). nullopt when the plugin reads no datasets of that kind. An answer the host
// cannot read is reported as one problem of the whole dataset.
std::optional<CanonicalDataset> canonical_dataset(const LoadedPlugin& plugin, std::string_view kind,
                                                  std::string_view format,
                                                  std::string_view records_json);

// Where runs of `engine_type` keep their ranked results: the results key its plugin declared
// when loaded in this process, "solutions" for an engine type no plugin declared. Process-wide
// because every rendering of a stored run (API, webhooks, replay) names the key without holding
// the registry.
std::string results_key_of(std::string_view engine_type);

// `configured` when set, else plugins/ beside a build-tree binary or lib/engined/plugins of an
// installation (relative to the running executable: engined and enginectl alike).
std::filesystem::path find_plugins_dir(const std::filesystem::path& configured);

}  // namespace engined::plugin
