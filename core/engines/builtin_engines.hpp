// The built-in engines every organisation shares, as the product ships them: one folder
// versions/<slug>/ per engine, whose engine.json names its type, label and description (its
// preset configuration comes from contracts/<engine_type>/, its releases are the <M>.<m>.json
// bundles beside it). Nothing about them is written in code.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace engined::engines {

// The file in versions/<slug>/ that makes <slug> a built-in engine.
inline constexpr const char* kBuiltinEngineFile = "engine.json";

struct BuiltinEngine {
    std::string slug;  // the folder's name
    std::string engine_type;
    std::string label;
    std::string description;
};

// Every versions/<slug>/engine.json under `resources_dir`, in slug order; none when there is no
// versions/ folder. Throws std::runtime_error naming the file when one is not an object of
// strings `engine_type`, `label` and `description`.
std::vector<BuiltinEngine> read_builtin_engines(const std::filesystem::path& resources_dir);

}  // namespace engined::engines
