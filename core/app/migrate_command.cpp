#include "app/migrate_command.hpp"

#include "store/store_url.hpp"

#include <exception>

namespace engined::app {
namespace {

constexpr const char* kUsage = "usage: engined migrate --store URL | --data-dir DIR\n";

}  // namespace

int run_migrate_command(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
    std::string url;
    std::string data_dir;
    for (std::size_t i = 0; i < args.size(); ++i) {
        std::string name = args[i];
        std::string value;
        if (const auto eq = name.find('='); eq != std::string::npos) {
            value = name.substr(eq + 1);
            name = name.substr(0, eq);
        } else if (i + 1 < args.size()) {
            value = args[++i];
        }
        std::string* target = name == "--store" ? &url : name == "--data-dir" ? &data_dir : nullptr;
        if (target == nullptr || value.empty()) {
            err << "engined migrate: unknown option or missing value '" << args[i] << "'\n" << kUsage;
            return 2;
        }
        *target = value;
    }
    if (url.empty() == data_dir.empty()) {
        err << kUsage;
        return 2;
    }
    try {
        const auto store = store::open_store(store::resolve_store_url(url, data_dir));
        out << "store migrated: schema version " << store->schema_version() << "\n";
        return 0;
    } catch (const std::exception& error) {
        err << "engined migrate: " << error.what() << "\n";
        return 1;
    }
}

}  // namespace engined::app
