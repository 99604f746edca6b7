#include "app/migrate_command.hpp"

#include "common/cli_args.hpp"
#include "store/store_url.hpp"

#include <exception>

namespace engined::app {
namespace {

const cli::CommandSpec& migrate_spec() {
    static const cli::CommandSpec spec{
        "engined migrate",
        "Applies the store's migrations (before a rolling upgrade, or to prepare an empty "
        "database).",
        {{"store", "URL", "the store: sqlite:PATH or postgresql://USER@HOST:PORT/DB"},
         {"data-dir", "DIR", "instead of --store: the SQLite store under DIR"}},
        {},
        {}};
    return spec;
}

}  // namespace

int run_migrate_command(const std::vector<std::string>& args, std::ostream& out,
                        std::ostream& err) {
    std::string url;
    std::string data_dir;
    try {
        const cli::Arguments parsed(args, migrate_spec());
        if (parsed.help_requested()) {
            out << migrate_spec().help();
            return 0;
        }
        url = parsed.optional("store", "");
        data_dir = parsed.optional("data-dir", "");
        if (url.empty() == data_dir.empty())
            throw cli::UsageError("give exactly one of --store URL and --data-dir DIR");
    } catch (const cli::UsageError& error) {
        err << "engined migrate: " << error.what() << "\n" << migrate_spec().short_usage();
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
