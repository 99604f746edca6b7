#include "app/config.hpp"

#include "http/links.hpp"
#include "store/store_url.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <functional>
#include <sstream>
#include <stdexcept>

namespace engined::app {
namespace {

template <typename Number>
Number parse_number(const std::string& text, const std::string& name, Number min_value) {
    Number value{};
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || value < min_value) {
        throw std::invalid_argument(name + " must be a whole number >= " +
                                    std::to_string(min_value) + ", got '" + text + "'");
    }
    return value;
}

bool parse_on_off(const std::string& text, const std::string& name) {
    if (text != "on" && text != "off")
        throw std::invalid_argument(name + " must be 'on' or 'off', got '" + text + "'");
    return text == "on";
}

// "a, b,c" → {"a", "b", "c"}; empty items are dropped.
std::vector<std::string> split_list(const std::string& text) {
    std::vector<std::string> items;
    std::size_t start = 0;
    while (start <= text.size()) {
        const std::size_t comma = std::min(text.find(',', start), text.size());
        std::string item = text.substr(start, comma - start);
        item.erase(0, item.find_first_not_of(' '));
        item.erase(item.find_last_not_of(' ') + 1);
        if (!item.empty()) items.push_back(std::move(item));
        start = comma + 1;
    }
    return items;
}

// One table of settings: flag name, environment variable, config-file key and how to apply it.
struct Setting {
    const char* flag;
    const char* env;
    const char* key;
    std::function<void(Config&, const std::string&, const std::string&)> apply;
};

const std::vector<Setting>& settings() {
    static const std::vector<Setting> table = {
        {"--listen", "ENGINED_LISTEN", "listen",
         [](Config& c, const std::string& v, const std::string&) { c.listen = v; }},
        {"--public-url", "ENGINED_PUBLIC_URL", "public_url",
         [](Config& c, const std::string& v, const std::string& n) {
             if (v.empty()) {
                 c.public_url.clear();
                 return;
             }
             const auto url = http::normalised_public_url(v);
             if (!url) {
                 throw std::invalid_argument(n +
                                             " must be an absolute http(s) URL without user info, "
                                             "query or fragment, got '" +
                                             v + "'");
             }
             c.public_url = *url;
         }},
        {"--metrics-listen", "ENGINED_METRICS_LISTEN", "metrics_listen",
         [](Config& c, const std::string& v, const std::string& n) {
             if (!v.empty()) parse_listen_address(v, n);
             c.metrics_listen = v;
         }},
        {"--data-dir", "ENGINED_DATA_DIR", "data_dir",
         [](Config& c, const std::string& v, const std::string&) { c.data_dir = v; }},
        {"--store", "ENGINED_STORE", "store",
         [](Config& c, const std::string& v, const std::string& n) {
             try {
                 store::parse_store_url(v);
             } catch (const std::invalid_argument& error) {
                 throw std::invalid_argument(n + ": " + error.what());
             }
             c.store = v;
         }},
        {"--audit-key-file", "ENGINED_AUDIT_KEY_FILE", "audit_key_file",
         [](Config& c, const std::string& v, const std::string&) { c.audit_key_file = v; }},
        {"--resources-dir", "ENGINED_RESOURCES_DIR", "resources_dir",
         [](Config& c, const std::string& v, const std::string&) { c.resources_dir = v; }},
        {"--plugins-dir", "ENGINED_PLUGINS_DIR", "plugins_dir",
         [](Config& c, const std::string& v, const std::string&) { c.plugins_dir = v; }},
        {"--http-threads", "ENGINED_HTTP_THREADS", "http_threads",
         [](Config& c, const std::string& v, const std::string& n) {
             c.http_threads = parse_number<int>(v, n, 1);
         }},
        {"--workers", "ENGINED_WORKERS", "workers",
         [](Config& c, const std::string& v, const std::string& n) {
             c.workers = parse_number<int>(v, n, 1);
         }},
        {"--max-run-attempts", "ENGINED_MAX_RUN_ATTEMPTS", "max_run_attempts",
         [](Config& c, const std::string& v, const std::string& n) {
             c.max_run_attempts = parse_number<int>(v, n, 1);
         }},
        {"--run-lease-seconds", "ENGINED_RUN_LEASE_SECONDS", "run_lease_seconds",
         [](Config& c, const std::string& v, const std::string& n) {
             c.run_lease_seconds = parse_number<int>(v, n, 1);
         }},
        {"--body-limit", "ENGINED_BODY_LIMIT", "body_limit_bytes",
         [](Config& c, const std::string& v, const std::string& n) {
             c.body_limit_bytes = parse_number<std::size_t>(v, n, 1);
         }},
        {"--header-limit", "ENGINED_HEADER_LIMIT", "header_limit_bytes",
         [](Config& c, const std::string& v, const std::string& n) {
             c.header_limit_bytes = parse_number<std::size_t>(v, n, 1);
         }},
        {"--json-max-depth", "ENGINED_JSON_MAX_DEPTH", "json_max_depth",
         [](Config& c, const std::string& v, const std::string& n) {
             c.json_max_depth = parse_number<std::size_t>(v, n, 1);
         }},
        {"--json-max-elements", "ENGINED_JSON_MAX_ELEMENTS", "json_max_elements",
         [](Config& c, const std::string& v, const std::string& n) {
             c.json_max_elements = parse_number<std::size_t>(v, n, 1);
         }},
        {"--max-url-bytes", "ENGINED_MAX_URL_BYTES", "max_url_bytes",
         [](Config& c, const std::string& v, const std::string& n) {
             c.max_url_bytes = parse_number<std::size_t>(v, n, 1);
         }},
        {"--max-connections", "ENGINED_MAX_CONNECTIONS", "max_connections",
         [](Config& c, const std::string& v, const std::string& n) {
             c.max_connections = parse_number<std::size_t>(v, n, 1);
         }},
        {"--max-connections-per-address", "ENGINED_MAX_CONNECTIONS_PER_ADDRESS",
         "max_connections_per_address",
         [](Config& c, const std::string& v, const std::string& n) {
             c.max_connections_per_address = parse_number<std::size_t>(v, n, 0);
         }},
        {"--max-offerings", "ENGINED_MAX_OFFERINGS", "max_offerings",
         [](Config& c, const std::string& v, const std::string& n) {
             c.max_offerings = parse_number<std::size_t>(v, n, 1);
         }},
        {"--max-queue-depth", "ENGINED_MAX_QUEUE_DEPTH", "max_queue_depth",
         [](Config& c, const std::string& v, const std::string& n) {
             c.max_queue_depth = parse_number<std::size_t>(v, n, 1);
         }},
        {"--max-run-wait", "ENGINED_MAX_RUN_WAIT", "max_run_wait_s",
         [](Config& c, const std::string& v, const std::string& n) {
             c.max_run_wait_s = parse_number<int>(v, n, 0);
         }},
        {"--max-run-waits", "ENGINED_MAX_RUN_WAITS", "max_run_waits",
         [](Config& c, const std::string& v, const std::string& n) {
             c.max_run_waits = parse_number<std::size_t>(v, n, 1);
         }},
        {"--check-threads", "ENGINED_CHECK_THREADS", "check_threads",
         [](Config& c, const std::string& v, const std::string& n) {
             c.check_threads = parse_number<std::size_t>(v, n, 1);
         }},
        {"--check-queue", "ENGINED_CHECK_QUEUE", "check_queue",
         [](Config& c, const std::string& v, const std::string& n) {
             c.check_queue = parse_number<std::size_t>(v, n, 1);
         }},
        {"--checks-per-key", "ENGINED_CHECKS_PER_KEY", "checks_per_key",
         [](Config& c, const std::string& v, const std::string& n) {
             c.checks_per_key = parse_number<std::size_t>(v, n, 1);
         }},
        {"--idle-timeout", "ENGINED_IDLE_TIMEOUT", "idle_timeout_s",
         [](Config& c, const std::string& v, const std::string& n) {
             c.idle_timeout_s = parse_number<int>(v, n, 1);
         }},
        {"--read-timeout", "ENGINED_READ_TIMEOUT", "read_timeout_s",
         [](Config& c, const std::string& v, const std::string& n) {
             c.read_timeout_s = parse_number<int>(v, n, 1);
         }},
        {"--write-timeout", "ENGINED_WRITE_TIMEOUT", "write_timeout_s",
         [](Config& c, const std::string& v, const std::string& n) {
             c.write_timeout_s = parse_number<int>(v, n, 1);
         }},
        {"--lua-instruction-budget", "ENGINED_LUA_INSTRUCTION_BUDGET", "lua_instruction_budget",
         [](Config& c, const std::string& v, const std::string& n) {
             c.lua_instruction_budget = parse_number<uint64_t>(v, n, 1000);
         }},
        {"--lua-memory", "ENGINED_LUA_MEMORY", "lua_memory_bytes",
         [](Config& c, const std::string& v, const std::string& n) {
             c.lua_memory_bytes = parse_number<std::size_t>(v, n, 65536);
         }},
        {"--lua-wall-clock-ms", "ENGINED_LUA_WALL_CLOCK_MS", "lua_wall_clock_ms",
         [](Config& c, const std::string& v, const std::string& n) {
             c.lua_wall_clock_ms = parse_number<int>(v, n, 1);
         }},
        {"--rate-limit", "ENGINED_RATE_LIMIT", "rate_limit_per_second",
         [](Config& c, const std::string& v, const std::string& n) {
             try {
                 std::size_t used = 0;
                 c.rate_limit_per_second = std::stod(v, &used);
                 if (used != v.size() || !(c.rate_limit_per_second > 0))
                     throw std::invalid_argument(v);
             } catch (const std::logic_error&) {
                 throw std::invalid_argument(
                     n + " must be a positive number of requests per second, got '" + v + "'");
             }
         }},
        {"--rate-burst", "ENGINED_RATE_BURST", "rate_limit_burst",
         [](Config& c, const std::string& v, const std::string& n) {
             c.rate_limit_burst = parse_number<int64_t>(v, n, 1);
         }},
        {"--webhook-allowed-hosts", "ENGINED_WEBHOOK_ALLOWED_HOSTS", "webhook_allowed_hosts",
         [](Config& c, const std::string& v, const std::string&) {
             c.webhook_allowed_hosts = split_list(v);
         }},
        {"--webhook-retry-schedule", "ENGINED_WEBHOOK_RETRY_SCHEDULE", "webhook_retry_schedule",
         [](Config& c, const std::string& v, const std::string& n) {
             c.webhook_retry_schedule_s.clear();
             for (const std::string& step : split_list(v)) {
                 try {
                     std::size_t used = 0;
                     const double seconds = std::stod(step, &used);
                     if (used != step.size() || !(seconds >= 0)) throw std::invalid_argument(step);
                     c.webhook_retry_schedule_s.push_back(seconds);
                 } catch (const std::logic_error&) {
                     throw std::invalid_argument(
                         n + " must be comma-separated delays in seconds (e.g. 30,120,600), got '" +
                         v + "'");
                 }
             }
         }},
        {"--webhook-disable-after", "ENGINED_WEBHOOK_DISABLE_AFTER", "webhook_disable_after",
         [](Config& c, const std::string& v, const std::string& n) {
             c.webhook_disable_after = parse_number<int>(v, n, 0);
         }},
        {"--webhook-workers", "ENGINED_WEBHOOK_WORKERS", "webhook_workers",
         [](Config& c, const std::string& v, const std::string& n) {
             c.webhook_workers = parse_number<int>(v, n, 1);
         }},
        {"--webhook-timeout-ms", "ENGINED_WEBHOOK_TIMEOUT_MS", "webhook_timeout_ms",
         [](Config& c, const std::string& v, const std::string& n) {
             c.webhook_timeout_ms = parse_number<int>(v, n, 100);
         }},
        {"--webhook-ca-file", "ENGINED_WEBHOOK_CA_FILE", "webhook_ca_file",
         [](Config& c, const std::string& v, const std::string&) { c.webhook_ca_file = v; }},
        {"--sync", "ENGINED_SYNC", "sync",
         [](Config& c, const std::string& v, const std::string& n) {
             if (v != "full" && v != "normal")
                 throw std::invalid_argument(n + " must be 'full' or 'normal', got '" + v + "'");
             c.sync_full = v == "full";
         }},
        {"--wal-preallocate", "ENGINED_WAL_PREALLOCATE", "wal_preallocate",
         [](Config& c, const std::string& v, const std::string& n) {
             c.wal_preallocate = parse_on_off(v, n);
         }},
        {"--execute-when-idle", "ENGINED_EXECUTE_WHEN_IDLE", "execute_when_idle",
         [](Config& c, const std::string& v, const std::string& n) {
             c.execute_when_idle = parse_on_off(v, n);
         }},
        {"--access-log", "ENGINED_ACCESS_LOG", "access_log",
         [](Config& c, const std::string& v, const std::string& n) {
             c.access_log = parse_on_off(v, n);
         }},
    };
    return table;
}

void apply_file(Config& config, const std::filesystem::path& path) {
    std::ifstream in(path);
    if (!in) throw std::invalid_argument("cannot read config file " + path.string());
    std::ostringstream text;
    text << in.rdbuf();
    boost::system::error_code ec;
    const boost::json::value doc = boost::json::parse(text.str(), ec);
    if (ec || !doc.is_object()) {
        throw std::invalid_argument("config file " + path.string() + " must hold a JSON object");
    }
    // Not a structured binding: clang 14 (the fuzzing build) cannot capture one in a lambda.
    for (const auto& member : doc.get_object()) {
        const boost::json::string_view key = member.key();
        const boost::json::value& value = member.value();
        const auto& table = settings();
        const auto it = std::find_if(table.begin(), table.end(),
                                     [&](const Setting& s) { return key == s.key; });
        if (it == table.end()) {
            throw std::invalid_argument("config file " + path.string() + ": unknown setting '" +
                                        std::string(key) + "'");
        }
        auto as_text = [](const boost::json::value& item) {
            return item.is_string() ? std::string(item.get_string()) : boost::json::serialize(item);
        };
        // A list setting may be written as a JSON array or as a comma-separated string.
        std::string text_value;
        if (value.is_array()) {
            for (const auto& item : value.get_array())
                text_value += (text_value.empty() ? "" : ",") + as_text(item);
        } else {
            text_value = as_text(value);
        }
        it->apply(config, text_value, std::string(key) + " in " + path.string());
    }
}

}  // namespace

ListenAddress parse_listen_address(const std::string& text, const std::string& setting) {
    const auto colon = text.rfind(':');
    if (colon == std::string::npos || colon == 0) {
        throw std::invalid_argument(setting + " must be HOST:PORT, got '" + text + "'");
    }
    return {text.substr(0, colon),
            parse_number<uint16_t>(text.substr(colon + 1), setting + " port", 0)};
}

std::string Config::host() const {
    return listen.substr(0, listen.rfind(':'));
}

uint16_t Config::port() const {
    return parse_listen_address(listen, "listen address").port;
}

Config load_config(const std::vector<std::string>& args,
                   const std::map<std::string, std::string>& environment) {
    const cli::Arguments flags(args, command_spec());
    Config config;
    std::string config_file;
    if (auto it = environment.find("ENGINED_CONFIG"); it != environment.end())
        config_file = it->second;
    config_file = flags.optional("config", config_file);
    if (!config_file.empty()) apply_file(config, config_file);
    for (const Setting& setting : settings()) {
        if (auto it = environment.find(setting.env); it != environment.end()) {
            setting.apply(config, it->second, setting.env);
        }
    }
    for (const Setting& setting : settings()) {
        const std::string name = std::string(setting.flag).substr(2);
        if (flags.has(name)) setting.apply(config, flags.required(name), setting.flag);
    }
    config.port();
    return config;
}

const cli::CommandSpec& command_spec() {
    static const cli::CommandSpec spec = [] {
        cli::CommandSpec declared{
            "engined",
            "Serves the API until SIGTERM or SIGINT. Each setting is also an ENGINED_<NAME> "
            "environment\n"
            "variable and a key of the --config file; flags win over the environment, which wins "
            "over the file.",
            {{"config", "FILE", "a JSON object of settings (also ENGINED_CONFIG)"}},
            {},
            "\n  engined backup --data-dir DIR --to FILE   copies a serving engined's store "
            "online\n"
            "  engined migrate --store URL|--data-dir DIR applies the store's migrations\n"
            "  engined --version                        prints the version\n"};
        for (const Setting& setting : settings()) {
            declared.options.push_back({std::string(setting.flag).substr(2), "VALUE",
                                        std::string(setting.env) + ", \"" + setting.key + "\""});
        }
        declared.options.push_back({"version", "", "print the version and exit"});
        return declared;
    }();
    return spec;
}

std::string version() {
    return ENGINED_VERSION;
}

}  // namespace engined::app
