#include "app/backup_command.hpp"

#include "common/cli_args.hpp"
#include "store/sqlite/sqlite_store.hpp"

#include <chrono>
#include <filesystem>
#include <map>

namespace engined::app {
namespace {

const cli::CommandSpec& backup_spec() {
    static const cli::CommandSpec spec{
        "engined backup",
        "Copies the store of an engined that may be serving from DIR at the same time, and "
        "verifies the copy.",
        {{"data-dir",
          "DIR",
          "the data folder holding engined.sqlite3",
          cli::ValueKind::kText,
          {},
          true},
         {"to", "FILE", "where to write the copy", cli::ValueKind::kText, {}, true}},
        {},
        {}};
    return spec;
}

}  // namespace

int run_backup_command(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
    std::map<std::string, std::string> flags;
    try {
        const cli::Arguments parsed(args, backup_spec());
        if (parsed.help_requested()) {
            out << backup_spec().help();
            return 0;
        }
        flags = {{"--data-dir", parsed.required("data-dir")}, {"--to", parsed.required("to")}};
    } catch (const cli::UsageError& error) {
        err << "engined backup: " << error.what() << "\n" << backup_spec().short_usage();
        return 2;
    }
    const std::filesystem::path database =
        std::filesystem::path(flags["--data-dir"]) / "engined.sqlite3";
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
        const auto elapsed_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                    std::chrono::steady_clock::now() - started)
                                    .count();
        out << "backed up " << database.string() << " to " << flags["--to"] << " (" << pages
            << " pages, " << std::filesystem::file_size(flags["--to"]) << " bytes, integrity ok, "
            << elapsed_ms << " ms)\n";
        return 0;
    } catch (const std::exception& error) {
        err << "engined backup: " << error.what() << "\n";
        return 1;
    }
}

}  // namespace engined::app
