// engined: serve the API until SIGTERM or SIGINT, then shut down gracefully; or, as
// `engined backup`, copy a serving engined's store online; or, as `engined migrate`, apply the
// store's migrations.
#include "app/allocator.hpp"
#include "app/app.hpp"
#include "app/backup_command.hpp"
#include "app/migrate_command.hpp"
#include "common/log.hpp"

#include <csignal>
#include <iostream>
#include <map>
#include <string>
#include <vector>

extern char** environ;

int main(int argc, char** argv) {
    using namespace engined;
    // First, before anything large is allocated and freed: RSS must stay flat under steady load.
    app::pin_malloc_thresholds();
    std::vector<std::string> args(argv + 1, argv + argc);
    // A write past the file-size limit must fail like a full disk (the store answers 503 and
    // recovers), not kill the process with SIGXFSZ.
    std::signal(SIGXFSZ, SIG_IGN);
    if (!args.empty() && args[0] == "backup") {
        return app::run_backup_command({args.begin() + 1, args.end()}, std::cout, std::cerr);
    }
    if (!args.empty() && args[0] == "migrate") {
        return app::run_migrate_command({args.begin() + 1, args.end()}, std::cout, std::cerr);
    }
    try {
        const cli::Arguments flags(args, app::command_spec());
        if (flags.help_requested()) {
            std::cout << app::command_spec().help();
            return 0;
        }
        if (flags.has("version")) {
            std::cout << "engined " << app::version() << "\n";
            return 0;
        }
    } catch (const cli::UsageError& error) {
        std::cerr << "engined: " << error.what() << "\n" << app::command_spec().short_usage();
        return 2;
    }
    std::map<std::string, std::string> environment;
    for (char** entry = environ; *entry != nullptr; ++entry) {
        const std::string text(*entry);
        if (const auto eq = text.find('='); eq != std::string::npos)
            environment[text.substr(0, eq)] = text.substr(eq + 1);
    }

    // Block the signals in every thread; this thread alone waits for them.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);

    try {
        app::App server(app::load_config(args, environment));
        server.start();
        int received = 0;
        sigwait(&signals, &received);
        log::info("shutting down", {{"signal", received == SIGTERM ? "SIGTERM" : "SIGINT"}});
        server.stop();
        log::info("stopped");
        return 0;
    } catch (const std::exception& error) {
        log::error("engined cannot start", {{"detail", error.what()}});
        return 1;
    }
}
