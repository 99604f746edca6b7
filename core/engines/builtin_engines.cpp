#include "engines/builtin_engines.hpp"

#include "engines/presets.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <stdexcept>

namespace engined::engines {

std::vector<BuiltinEngine> read_builtin_engines(const std::filesystem::path& resources_dir) {
    std::vector<BuiltinEngine> engines;
    const auto versions_dir = resources_dir / "versions";
    if (!std::filesystem::is_directory(versions_dir)) return engines;
    for (const auto& engine_dir : std::filesystem::directory_iterator(versions_dir)) {
        const auto file = engine_dir.path() / kBuiltinEngineFile;
        if (!engine_dir.is_directory() || !std::filesystem::exists(file)) continue;
        const std::string where = "versions/" + engine_dir.path().filename().string() + "/" +
                                  std::string(kBuiltinEngineFile);
        const boost::json::value parsed = read_json(file);
        const auto* fields = parsed.if_object();
        const auto text_of = [&](const char* key) {
            const auto* value = fields ? fields->if_contains(key) : nullptr;
            if (value == nullptr || !value->is_string()) {
                throw std::runtime_error(
                    "built-in engine " + where +
                    " must be a JSON object with string engine_type, label and description");
            }
            return std::string(value->get_string());
        };
        engines.push_back({engine_dir.path().filename().string(), text_of("engine_type"),
                           text_of("label"), text_of("description")});
    }
    std::sort(engines.begin(), engines.end(),
              [](const auto& a, const auto& b) { return a.slug < b.slug; });
    return engines;
}

}  // namespace engined::engines
