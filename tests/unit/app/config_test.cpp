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
    EXPECT_EQ(config.max_run_attempts, 3);
}

TEST(Config, MaxRunAttemptsIsAtLeastOne) {
    EXPECT_EQ(load_config({"--max-run-attempts", "1"}, {}).max_run_attempts, 1);
    EXPECT_THROW(load_config({"--max-run-attempts", "0"}, {}), std::invalid_argument);
}

TEST(Config, FlagsBeatEnvironmentWhichBeatsTheFileWhichBeatsDefaults) {
    const auto file = std::filesystem::temp_directory_path() / ("engined-config-" + random_hex(4) + ".json");
    std::ofstream(file) << R"({"listen": "127.0.0.1:9001", "workers": 3, "http_threads": 5, "sync": "normal"})";
    const Config config = load_config({"--config", file.string(), "--listen=127.0.0.1:9003"},
                                      {{"ENGINED_LISTEN", "127.0.0.1:9002"}, {"ENGINED_WORKERS", "4"}});
    std::filesystem::remove(file);
    EXPECT_EQ(config.port(), 9003);       // flag
    EXPECT_EQ(config.workers, 4);         // environment over file
    EXPECT_EQ(config.http_threads, 5);    // file over default
    EXPECT_FALSE(config.sync_full);       // file
}

TEST(Config, ConfigFileMayComeFromTheEnvironment) {
    const auto file = std::filesystem::temp_directory_path() / ("engined-config-" + random_hex(4) + ".json");
    std::ofstream(file) << R"({"data_dir": "/srv/engined"})";
    const Config config = load_config({}, {{"ENGINED_CONFIG", file.string()}});
    std::filesystem::remove(file);
    EXPECT_EQ(config.data_dir, "/srv/engined");
}

TEST(Config, RejectsMistakesNamingTheSetting) {
    auto message_of = [](const std::vector<std::string>& args, const std::map<std::string, std::string>& env) {
        try {
            load_config(args, env);
        } catch (const std::invalid_argument& error) {
            return std::string(error.what());
        }
        return std::string("accepted");
    };
    EXPECT_NE(message_of({"--workers", "0"}, {}).find("--workers"), std::string::npos);
    EXPECT_NE(message_of({"--listen", "8080"}, {}).find("HOST:PORT"), std::string::npos);
    EXPECT_NE(message_of({"--listen", "127.0.0.1:99999"}, {}).find("port"), std::string::npos);
    EXPECT_NE(message_of({"--bogus", "1"}, {}).find("unknown option '--bogus'"), std::string::npos);
    EXPECT_NE(message_of({"--workers"}, {}).find("needs a value"), std::string::npos);
    EXPECT_NE(message_of({}, {{"ENGINED_SYNC", "sometimes"}}).find("ENGINED_SYNC"), std::string::npos);
    EXPECT_NE(message_of({"--config", "/nonexistent/engined.json"}, {}).find("cannot read"), std::string::npos);
}

}  // namespace
}  // namespace engined::app
