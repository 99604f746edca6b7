#include "app/backup_command.hpp"

#include "store/sqlite/sqlite_store.hpp"

#include <chrono>
#include <filesystem>
#include <map>

namespace engined::app {
namespace {

constexpr const char* kUsage = "usage: engined backup --data-dir DIR --to FILE\n";

}  // namespace

int run_backup_command(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
    // Flags as the server takes them: `--name value` or `--name=value`.
    std::map<std::string, std::string> flags{{"--data-dir", ""}, {"--to", ""}};
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& given = args[i];
        std::string name = given;
        std::string value;
        if (const auto eq = name.find('='); eq != std::string::npos) {
            value = name.substr(eq + 1);
            name = name.substr(0, eq);
        } else if (i + 1 < args.size()) {
            value = args[++i];
        }
        if (!flags.count(name) || value.empty()) {
            err << "engined backup: unknown option or missing value '" << given << "'\n" << kUsage;
            return 2;
        }
        flags[name] = value;
    }
    if (flags["--data-dir"].empty() || flags["--to"].empty()) {
        err << kUsage;
        return 2;
    }
    const std::filesystem::path database = std::filesystem::path(flags["--data-dir"]) / "engined.sqlite3";
    // Opening a Store creates a missing file: a mistyped folder must not yield an empty backup.
    if (!std::filesystem::is_regular_file(database)) {
        err << "engined backup: no store at " << database.string() << "\n";
        return 1;
    }
    try {
        const auto started = std::chrono::steady_clock::now();
        store::SqliteOptions options;
        options.path = database.string();
        const store::SqliteStore store(options);
        const int64_t pages = store.backup_to(flags["--to"]);
        const auto elapsed_ms =
            std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count();
        out << "backed up " << database.string() << " to " << flags["--to"] << " (" << pages << " pages, "
            << std::filesystem::file_size(flags["--to"]) << " bytes, integrity ok, " << elapsed_ms << " ms)\n";
        return 0;
    } catch (const std::exception& error) {
        err << "engined backup: " << error.what() << "\n";
        return 1;
    }
}

}  // namespace engined::app
