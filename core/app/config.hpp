// core/app — configuration, wiring and main(). config.hpp: every setting with its default,
// overridden in order by a JSON config file, ENGINED_* environment variables and flags.
#pragma once

#include "common/cli_args.hpp"

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace engined::app {

struct Config {
    std::string listen = "127.0.0.1:8080";
    // The base of absolute links in answers (http/links.hpp), normalised; empty: each answer's
    // links use the request's Host, and webhook deliveries the listen address.
    std::string public_url;
    // HOST:PORT of a second listener that serves only GET /metrics; empty: metrics are not served.
    std::string metrics_listen;
    std::filesystem::path data_dir = "./data";
    // sqlite:PATH or postgresql://USER@HOST:PORT/DB (store/store_url.hpp); empty: the SQLite file
    // under data_dir.
    std::string store;
    // The key that seals the audit log (core/audit), kept out of the database; empty: audit.key in
    // data_dir, written (0600) at the first start. Every node of one store needs the same key.
    std::filesystem::path audit_key_file;
    std::filesystem::path resources_dir;  // empty: ./, <binary>/.. or <binary>/../share/engined
    std::filesystem::path
        plugins_dir;  // empty: <binary dir>/plugins or <binary>/../lib/engined/plugins
    int http_threads = 2;
    int workers = 2;
    int max_run_attempts = 3;  // claims of one run that never finished before it is failed
    // How long a claimed run stays leased to this node without a heartbeat; another node takes
    // over a run whose lease expired.
    int run_lease_seconds = 30;
    std::size_t body_limit_bytes = 1024 * 1024;
    std::size_t header_limit_bytes = 16 * 1024;
    std::size_t json_max_depth = 64;
    std::size_t json_max_elements = 100'000;  // values in one request body
    std::size_t max_url_bytes = 8192;
    std::size_t max_connections = 1024;
    std::size_t max_connections_per_address = 64;  // 0: no limit (behind a load balancer)
    std::size_t max_offerings = 500;               // per run
    std::size_t max_queue_depth = 10'000;          // runs accepted but not yet claimed by a worker
    int max_run_wait_s = 30;           // the longest long-poll `GET …/runs/{id}?wait=` (seconds)
    std::size_t max_run_waits = 1000;  // long-poll waits held open at once on this node
    // The check pool: replays, configuration validate, PUT config and publish (api/off_thread.hpp).
    std::size_t check_threads = 2;
    std::size_t check_queue = 32;    // waiting for a check thread
    std::size_t checks_per_key = 2;  // queued or running for one API key
    bool access_log = true;          // one JSON line per request on stderr
    int idle_timeout_s = 5;          // a connection with no request under way is closed after it
    int read_timeout_s = 30;
    int write_timeout_s = 30;
    uint64_t lua_instruction_budget = 50'000'000;
    std::size_t lua_memory_bytes = 32u * 1024u * 1024u;
    int lua_wall_clock_ms = 2000;
    bool sync_full = true;              // fsync every group commit
    bool wal_preallocate = true;        // SQLite: store::SqliteOptions::preallocate_wal
    bool execute_when_idle = true;      // runs::RunService::submit: one commit for a lone run
    double rate_limit_per_second = 50;  // default per-key token bucket (keys may set their own)
    int64_t rate_limit_burst = 100;
    // Webhook delivery (docs/webhooks.md).
    std::vector<std::string> webhook_allowed_hosts;  // exempt from the private-address guard
    std::vector<double> webhook_retry_schedule_s;    // empty: the default (~23 h over 8 retries)
    int webhook_disable_after = 50;                  // consecutive failed attempts; 0: never
    int webhook_workers = 16;
    int webhook_timeout_ms = 10000;
    std::filesystem::path webhook_ca_file;  // extra trust anchors for https receivers

    std::string host() const;
    uint16_t port() const;
};

// A listener address: `HOST:PORT`, HOST an IP address.
struct ListenAddress {
    std::string host;
    uint16_t port = 0;
};

// Throws std::invalid_argument naming `setting` when `text` is not HOST:PORT.
ListenAddress parse_listen_address(const std::string& text, const std::string& setting);

// Parses `args` (without argv[0]) over `environment` over the --config file over defaults.
// Throws std::invalid_argument with a message naming the setting and its source; a
// cli::UsageError (one) for an unknown flag or a flag without its value.
Config load_config(const std::vector<std::string>& args,
                   const std::map<std::string, std::string>& environment);

// engined's command line: every setting's flag, --config, --version and --help.
const cli::CommandSpec& command_spec();

// The release engined was built as, e.g. "0.9.0".
std::string version();

}  // namespace engined::app
