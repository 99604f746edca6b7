// tools/chaos — fault and endurance campaigns against a real engined run as a child process on
// loopback: kill -9 at random moments (engined-chaos) and a steady load for minutes while its
// memory is sampled (engined-soak). This header: what both share.
#pragma once

#include "common/cli_args.hpp"

#include <sys/types.h>

#include <charconv>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

namespace engined::chaos {

// A command-line number: whole, at least `min_value`; std::invalid_argument naming the flag.
template <typename Number>
Number parse_number(const std::string& text, const std::string& name, Number min_value) {
    Number value{};
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || value < min_value) {
        throw std::invalid_argument(name +
                                    " must be a whole number >= " + std::to_string(min_value));
    }
    return value;
}

// A fresh folder under the system's temp directory.
std::filesystem::path fresh_temp_dir(const std::string& prefix);
std::string read_text(const std::filesystem::path& path);
uint16_t free_loopback_port();

// What every campaign takes: the engined binary, the resources it serves, the request body it
// submits, how many threads submit, and whether the data directory is kept.
struct CampaignOptions {
    std::filesystem::path engined;
    std::filesystem::path resources_dir;
    std::filesystem::path body;
    int threads = 0;
    bool keep = false;
};

// The options every campaign declares, after the campaign's own; `default_threads` is named in
// the help.
std::vector<cli::OptionSpec> campaign_option_specs(std::vector<cli::OptionSpec> own,
                                                   int default_threads);
// Reads them: engined defaults to the binary beside this tool, resources to the source tree the
// tool was built from, the body to a golden placement input there.
CampaignOptions read_campaign_options(const cli::Arguments& args, int default_threads);

// A campaign tool's main(): reads the command line against `spec` (printing the help when asked,
// exit 0), the options every campaign takes into `Options` (a CampaignOptions) and then the
// tool's own with `read_own(args, options)`, and returns what `run(options)` returns. Exit 2,
// naming the tool, when the command line is wrong or the campaign could not run.
template <class Options, class ReadOwn, class Run>
int campaign_main(int argc, char** argv, const cli::CommandSpec& spec, int default_threads,
                  ReadOwn read_own, Run run) {
    try {
        const cli::Arguments args(std::vector<std::string>(argv + 1, argv + argc), spec);
        if (args.help_requested()) {
            std::cout << spec.help();
            return 0;
        }
        Options options;
        static_cast<CampaignOptions&>(options) = read_campaign_options(args, default_threads);
        read_own(args, options);
        return run(options);
    } catch (const cli::UsageError& error) {
        std::cerr << spec.name << ": " << error.what() << "\n" << spec.short_usage();
        return 2;
    } catch (const std::exception& error) {
        std::cerr << spec.name << ": " << error.what() << "\n";
        return 2;
    }
}

// Issues a runs:write,runs:read key for organisation `chaos` (environment test) straight into
// the store `store_url` names (empty: the SQLite file of `data_dir`), with no rate limit worth the
// name; returns the key.
std::string create_key(const std::filesystem::path& data_dir, const std::string& store_url = {});

// engined on 127.0.0.1:<port> with `data_dir`; stderr is appended to <data_dir>/engined.log.
class ChildEngined {
public:
    struct Launch {
        std::filesystem::path binary;
        std::filesystem::path data_dir;
        std::filesystem::path resources_dir;
        std::vector<std::string> extra_args;
    };

    // Starts it and waits (up to 30 s) until GET /health answers; throws std::runtime_error.
    ChildEngined(const Launch& launch, uint16_t port);
    ~ChildEngined();  // kills it if still running
    ChildEngined(const ChildEngined&) = delete;
    ChildEngined& operator=(const ChildEngined&) = delete;

    pid_t pid() const { return pid_; }
    uint16_t port() const { return port_; }
    void kill_hard();
    // SIGTERM and wait; returns the exit status (as waitpid reports it).
    int terminate();

private:
    pid_t pid_ = -1;
    uint16_t port_ = 0;
};

// Resident set size of a process from /proc/<pid>/status, in KiB; -1 when it cannot be read.
long resident_kib(pid_t pid);

}  // namespace engined::chaos
