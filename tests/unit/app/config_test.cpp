#include "app/config.hpp"

#include "common/crypto.hpp"

#include <gtest/gtest.h>

#include <fstream>

namespace engined::app {
namespace {

TEST(Config, DefaultsServeLoopback8080OnData) {
    const Config config = load_config({}, {});
    EXPECT_EQ(config.host(), "127.0.0.1");
    EXPECT_EQ(config.port(), 8080);
    EXPECT_EQ(config.data_dir, "./data");
    EXPECT_TRUE(config.sync_full);
    EXPECT_TRUE(config.wal_preallocate);
    EXPECT_EQ(config.max_run_attempts, 3);
    EXPECT_EQ(config.run_lease_seconds, 30);
}

TEST(Config, RunLeaseIsAtLeastOneSecond) {
    EXPECT_EQ(load_config({"--run-lease-seconds", "1"}, {}).run_lease_seconds, 1);
    EXPECT_EQ(load_config({}, {{"ENGINED_RUN_LEASE_SECONDS", "90"}}).run_lease_seconds, 90);
    EXPECT_THROW(load_config({"--run-lease-seconds", "0"}, {}), std::invalid_argument);
}

TEST(Config, MaxRunAttemptsIsAtLeastOne) {
    EXPECT_EQ(load_config({"--max-run-attempts", "1"}, {}).max_run_attempts, 1);
    EXPECT_THROW(load_config({"--max-run-attempts", "0"}, {}), std::invalid_argument);
}

TEST(Config, DefaultLimitsAndAccessLog) {
    const Config config = load_config({}, {});
    EXPECT_EQ(config.max_connections, 1024u);
    EXPECT_EQ(config.max_url_bytes, 8192u);
    EXPECT_EQ(config.json_max_elements, 100'000u);
    EXPECT_EQ(config.max_offerings, 500u);
    EXPECT_EQ(config.max_queue_depth, 10'000u);
    EXPECT_TRUE(config.access_log);
}

TEST(Config, ConnectionHoggingDefaultsAndSettings) {
    const Config defaults = load_config({}, {});
    EXPECT_EQ(defaults.max_connections_per_address, 64u);
    EXPECT_EQ(defaults.idle_timeout_s, 5);
    EXPECT_LT(defaults.idle_timeout_s, defaults.read_timeout_s);
    const Config set = load_config({"--max-connections-per-address", "0", "--idle-timeout=2"}, {});
    EXPECT_EQ(set.max_connections_per_address, 0u);  // off, behind a load balancer
    EXPECT_EQ(set.idle_timeout_s, 2);
    EXPECT_EQ(
        load_config({}, {{"ENGINED_MAX_CONNECTIONS_PER_ADDRESS", "8"}}).max_connections_per_address,
        8u);
    EXPECT_THROW(load_config({"--idle-timeout", "0"}, {}), std::invalid_argument);
    EXPECT_THROW(load_config({"--max-connections-per-address", "-1"}, {}), std::invalid_argument);
}

TEST(Config, MetricsAreServedOnlyOnTheirOwnListenerWhenOneIsNamed) {
    EXPECT_EQ(load_config({}, {}).metrics_listen, "");
    EXPECT_EQ(load_config({"--metrics-listen", "127.0.0.1:9464"}, {}).metrics_listen,
              "127.0.0.1:9464");
    EXPECT_EQ(load_config({}, {{"ENGINED_METRICS_LISTEN", "127.0.0.1:0"}}).metrics_listen,
              "127.0.0.1:0");
    try {
        load_config({"--metrics-listen", "9464"}, {});
        ADD_FAILURE() << "accepted a metrics address without a host";
    } catch (const std::invalid_argument& error) {
        EXPECT_NE(std::string(error.what()).find("--metrics-listen must be HOST:PORT"),
                  std::string::npos)
            << error.what();
    }
    EXPECT_THROW(load_config({"--metrics-listen", "127.0.0.1:99999"}, {}), std::invalid_argument);
}

TEST(Config, LimitsAndTheAccessLogComeFromEverySource) {
    const auto file =
        std::filesystem::temp_directory_path() / ("engined-config-" + random_hex(4) + ".json");
    std::ofstream(file)
        << R"({"max_connections": 10, "max_url_bytes": 2048, "json_max_elements": 500,
                               "max_offerings": 50, "max_queue_depth": 100, "access_log": "off"})";
    const Config from_file = load_config({"--config", file.string()}, {});
    std::filesystem::remove(file);
    EXPECT_EQ(from_file.max_connections, 10u);
    EXPECT_EQ(from_file.max_url_bytes, 2048u);
    EXPECT_EQ(from_file.json_max_elements, 500u);
    EXPECT_EQ(from_file.max_offerings, 50u);
    EXPECT_EQ(from_file.max_queue_depth, 100u);
    EXPECT_FALSE(from_file.access_log);

    const Config from_environment = load_config({}, {{"ENGINED_MAX_CONNECTIONS", "11"},
                                                     {"ENGINED_MAX_URL_BYTES", "4096"},
                                                     {"ENGINED_JSON_MAX_ELEMENTS", "600"},
                                                     {"ENGINED_MAX_OFFERINGS", "60"},
                                                     {"ENGINED_MAX_QUEUE_DEPTH", "200"},
                                                     {"ENGINED_ACCESS_LOG", "off"}});
    EXPECT_EQ(from_environment.max_connections, 11u);
    EXPECT_EQ(from_environment.max_url_bytes, 4096u);
    EXPECT_EQ(from_environment.json_max_elements, 600u);
    EXPECT_EQ(from_environment.max_offerings, 60u);
    EXPECT_EQ(from_environment.max_queue_depth, 200u);
    EXPECT_FALSE(from_environment.access_log);

    const Config from_flags = load_config(
        {"--max-connections", "12", "--max-url-bytes=1024", "--json-max-elements", "700",
         "--max-offerings", "70", "--max-queue-depth", "300", "--access-log", "on"},
        {{"ENGINED_ACCESS_LOG", "off"}});
    EXPECT_EQ(from_flags.max_connections, 12u);
    EXPECT_EQ(from_flags.max_url_bytes, 1024u);
    EXPECT_EQ(from_flags.json_max_elements, 700u);
    EXPECT_EQ(from_flags.max_offerings, 70u);
    EXPECT_EQ(from_flags.max_queue_depth, 300u);
    EXPECT_TRUE(from_flags.access_log);
}

TEST(Config, FlagsBeatEnvironmentWhichBeatsTheFileWhichBeatsDefaults) {
    const auto file =
        std::filesystem::temp_directory_path() / ("engined-config-" + random_hex(4) + ".json");
    std::ofstream(file)
        << R"({"listen": "127.0.0.1:9001", "workers": 3, "http_threads": 5, "sync": "normal"})";
    const Config config =
        load_config({"--config", file.string(), "--listen=127.0.0.1:9003"},
                    {{"ENGINED_LISTEN", "127.0.0.1:9002"}, {"ENGINED_WORKERS", "4"}});
    std::filesystem::remove(file);
    EXPECT_EQ(config.port(), 9003);     // flag
    EXPECT_EQ(config.workers, 4);       // environment over file
    EXPECT_EQ(config.http_threads, 5);  // file over default
    EXPECT_FALSE(config.sync_full);     // file
}

TEST(Config, PublicUrlComesFromEverySourceNormalised) {
    EXPECT_EQ(load_config({}, {}).public_url, "");
    EXPECT_EQ(load_config({"--public-url", "https://api.example.com/"}, {}).public_url,
              "https://api.example.com");
    EXPECT_EQ(
        load_config({}, {{"ENGINED_PUBLIC_URL", "HTTP://10.0.0.5:8080/engined//"}}).public_url,
        "http://10.0.0.5:8080/engined");
    const auto file =
        std::filesystem::temp_directory_path() / ("engined-config-" + random_hex(4) + ".json");
    std::ofstream(file) << R"({"public_url": "https://engined.example.org"})";
    const Config from_file = load_config({"--config", file.string()}, {});
    std::filesystem::remove(file);
    EXPECT_EQ(from_file.public_url, "https://engined.example.org");
}

TEST(Config, PublicUrlMustBeAnAbsoluteHttpUrlWithoutQueryOrFragment) {
    for (const char* bad :
         {"api.example.com", "/engined", "ftp://api.example.com", "https://",
          "https://api.example.com?x=1", "https://api.example.com/#top",
          "https://user:pw@api.example.com", "https://api example.com", "https://api.example.com:0",
          "https://api.example.com:65536", "https://api.example.com/a b"}) {
        try {
            load_config({"--public-url", bad}, {});
            ADD_FAILURE() << bad << " was accepted";
        } catch (const std::invalid_argument& error) {
            EXPECT_NE(std::string(error.what()).find("--public-url"), std::string::npos)
                << error.what();
        }
    }
}

TEST(Config, ConfigFileMayComeFromTheEnvironment) {
    const auto file =
        std::filesystem::temp_directory_path() / ("engined-config-" + random_hex(4) + ".json");
    std::ofstream(file) << R"({"data_dir": "/srv/engined"})";
    const Config config = load_config({}, {{"ENGINED_CONFIG", file.string()}});
    std::filesystem::remove(file);
    EXPECT_EQ(config.data_dir, "/srv/engined");
}

TEST(Config, WebhookListsComeAsCommaSeparatedTextOrJsonArrays) {
    const auto file =
        std::filesystem::temp_directory_path() / ("engined-config-" + random_hex(4) + ".json");
    std::ofstream(file)
        << R"({"webhook_allowed_hosts": ["hooks.internal", "127.0.0.1"], "webhook_retry_schedule": [1, 2.5]})";
    Config config = load_config({"--config", file.string()}, {});
    EXPECT_EQ(config.webhook_allowed_hosts,
              (std::vector<std::string>{"hooks.internal", "127.0.0.1"}));
    EXPECT_EQ(config.webhook_retry_schedule_s, (std::vector<double>{1, 2.5}));
    config = load_config(
        {"--config", file.string(), "--webhook-allowed-hosts", " a.example , b.example,"},
        {{"ENGINED_WEBHOOK_RETRY_SCHEDULE", "30,120"}});
    std::filesystem::remove(file);
    EXPECT_EQ(config.webhook_allowed_hosts, (std::vector<std::string>{"a.example", "b.example"}));
    EXPECT_EQ(config.webhook_retry_schedule_s, (std::vector<double>{30, 120}));
    EXPECT_TRUE(load_config({}, {}).webhook_retry_schedule_s.empty())
        << "empty: the built-in schedule";
    EXPECT_EQ(load_config({}, {}).webhook_disable_after, 50);
    EXPECT_EQ(load_config({"--webhook-disable-after", "0"}, {}).webhook_disable_after, 0);
    for (const char* bad : {"30,soon", "-1", "1,,x"}) {
        try {
            load_config({"--webhook-retry-schedule", bad}, {});
            ADD_FAILURE() << bad;
        } catch (const std::invalid_argument& error) {
            EXPECT_NE(std::string(error.what()).find("--webhook-retry-schedule"), std::string::npos)
                << error.what();
        }
    }
    EXPECT_THROW(load_config({"--webhook-timeout-ms", "99"}, {}), std::invalid_argument);
}

TEST(Config, TheCheckPoolIsSizedFromEverySource) {
    const Config defaults = load_config({}, {});
    EXPECT_EQ(defaults.check_threads, 2u);
    EXPECT_EQ(defaults.check_queue, 32u);
    EXPECT_EQ(defaults.checks_per_key, 2u);
    const Config set = load_config({"--check-threads", "4", "--checks-per-key", "1"},
                                   {{"ENGINED_CHECK_QUEUE", "8"}});
    EXPECT_EQ(set.check_threads, 4u);
    EXPECT_EQ(set.check_queue, 8u);
    EXPECT_EQ(set.checks_per_key, 1u);
    for (const char* flag : {"--check-threads", "--check-queue", "--checks-per-key"}) {
        try {
            load_config({flag, "0"}, {});
            ADD_FAILURE() << flag << " 0 was accepted";
        } catch (const std::invalid_argument& error) {
            EXPECT_NE(std::string(error.what()).find(flag), std::string::npos) << error.what();
        }
    }
}

TEST(Config, LongPollWaitsAreBoundedFromEverySource) {
    const Config defaults = load_config({}, {});
    EXPECT_EQ(defaults.max_run_wait_s, 30);
    EXPECT_EQ(defaults.max_run_waits, 1000u);
    const Config set =
        load_config({"--max-run-wait", "0", "--max-run-waits", "1"}, {});  // at the limits
    EXPECT_EQ(set.max_run_wait_s, 0);
    EXPECT_EQ(set.max_run_waits, 1u);
    EXPECT_EQ(load_config({}, {{"ENGINED_MAX_RUN_WAIT", "120"}}).max_run_wait_s, 120);
    EXPECT_THROW(load_config({"--max-run-wait", "-1"}, {}), std::invalid_argument);
    EXPECT_THROW(load_config({"--max-run-waits", "0"}, {}), std::invalid_argument);
}

// Why load_config refused these settings, or "accepted".
std::string message_of(const std::vector<std::string>& args,
                       const std::map<std::string, std::string>& env) {
    try {
        load_config(args, env);
    } catch (const std::invalid_argument& error) {
        return std::string(error.what());
    }
    return std::string("accepted");
}

TEST(Config, RejectsMistakesNamingTheSetting) {
    EXPECT_NE(message_of({"--workers", "0"}, {}).find("--workers"), std::string::npos);
    EXPECT_NE(message_of({"--listen", "8080"}, {}).find("HOST:PORT"), std::string::npos);
    EXPECT_NE(message_of({"--listen", "127.0.0.1:99999"}, {}).find("port"), std::string::npos);
    EXPECT_EQ(message_of({"--bogus", "1"}, {}), "unknown option --bogus");
    EXPECT_NE(message_of({"--workers"}, {}).find("needs a value"), std::string::npos);
    EXPECT_NE(message_of({}, {{"ENGINED_SYNC", "sometimes"}}).find("ENGINED_SYNC"),
              std::string::npos);
    EXPECT_NE(message_of({"--config", "/nonexistent/engined.json"}, {}).find("cannot read"),
              std::string::npos);
    EXPECT_NE(message_of({"--max-connections", "0"}, {}).find("--max-connections"),
              std::string::npos);
    EXPECT_NE(message_of({"--max-queue-depth", "-1"}, {}).find("--max-queue-depth"),
              std::string::npos);
    EXPECT_NE(message_of({"--max-offerings", "0"}, {}).find("--max-offerings"), std::string::npos);
    EXPECT_NE(message_of({"--max-url-bytes", "x"}, {}).find("--max-url-bytes"), std::string::npos);
    EXPECT_NE(message_of({"--json-max-elements", "0"}, {}).find("--json-max-elements"),
              std::string::npos);
    EXPECT_NE(message_of({"--access-log", "yes"}, {}).find("'on' or 'off'"), std::string::npos);
    EXPECT_NE(message_of({"--wal-preallocate", "1"}, {}).find("--wal-preallocate must be 'on'"),
              std::string::npos);
    EXPECT_NE(
        message_of({"--execute-when-idle", "no"}, {}).find("--execute-when-idle must be 'on'"),
        std::string::npos);
}

// An on/off setting that is on by default: `off` from the flag, the environment or the file turns
// it off, and the flag beats the environment.
void expect_turned_off_from_every_source(bool Config::*setting, const std::string& flag,
                                         const std::string& environment_variable,
                                         const std::string& file_key) {
    SCOPED_TRACE(flag);
    EXPECT_TRUE(load_config({}, {}).*setting);
    EXPECT_FALSE(load_config({flag, "off"}, {}).*setting);
    EXPECT_FALSE(load_config({}, {{environment_variable, "off"}}).*setting);
    EXPECT_TRUE(load_config({flag, "on"}, {{environment_variable, "off"}}).*setting);
    const auto file =
        std::filesystem::temp_directory_path() / ("engined-config-" + random_hex(4) + ".json");
    std::ofstream(file) << "{\"" << file_key << "\": \"off\"}";
    const Config from_file = load_config({"--config", file.string()}, {});
    std::filesystem::remove(file);
    EXPECT_FALSE(from_file.*setting);
}

TEST(Config, ExecutingRunsOnAnIdleNodeBeforeTheirInsertIsTurnedOffFromFlagEnvironmentOrFile) {
    expect_turned_off_from_every_source(&Config::execute_when_idle, "--execute-when-idle",
                                        "ENGINED_EXECUTE_WHEN_IDLE", "execute_when_idle");
}

TEST(Config, ThePreallocatedWalIsTurnedOffFromFlagEnvironmentOrFile) {
    expect_turned_off_from_every_source(&Config::wal_preallocate, "--wal-preallocate",
                                        "ENGINED_WAL_PREALLOCATE", "wal_preallocate");
}

TEST(Config, TheStoreIsAUrlOfEitherBackendFromFlagEnvironmentOrFile) {
    EXPECT_EQ(load_config({}, {}).store, "") << "unset: the SQLite file under --data-dir";
    EXPECT_EQ(load_config({"--store", "sqlite:/var/lib/engined/store.sqlite3"}, {}).store,
              "sqlite:/var/lib/engined/store.sqlite3");
    EXPECT_EQ(load_config({}, {{"ENGINED_STORE", "postgresql://engined@db:5432/engined"}}).store,
              "postgresql://engined@db:5432/engined");
    EXPECT_EQ(load_config({"--store", "postgres://a@b/c"}, {{"ENGINED_STORE", "sqlite:x"}}).store,
              "postgres://a@b/c")
        << "the flag wins";
    for (const char* bad : {"mysql://engined@db/engined", "sqlite:", "/var/lib/engined.sqlite3"}) {
        EXPECT_NE(message_of({"--store", bad}, {}).find("sqlite:PATH or postgresql://"),
                  std::string::npos)
            << bad;
    }
    EXPECT_EQ(message_of({"--store", "mysql://user:secret@db/x"}, {}).find("secret"),
              std::string::npos)
        << "a refused URL's password is not echoed";
}

}  // namespace
}  // namespace engined::app
