// enginectl end to end: the built binary, run as a child process with ENGINED_URL and
// ENGINED_KEY pointing at a real server on loopback, through an operator's whole workflow; and
// `lua test` failing on a wrong expectation.
#include "test_server.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>

#include <sqlite3.h>

#include <fstream>

extern char** environ;

namespace engined::testing {
namespace {

struct CliResult {
    int exit_code = -1;
    std::string out;
    std::string err;
};

// The child's environment: ours, with the connection settings replaced by `settings`.
std::vector<std::string> child_environment(const std::vector<std::string>& settings) {
    std::vector<std::string> environment;
    for (char** entry = environ; *entry != nullptr; ++entry) {
        const std::string variable(*entry);
        const bool replaced = variable.rfind("ENGINED_URL=", 0) == 0 || variable.rfind("ENGINED_KEY=", 0) == 0 ||
                              variable.rfind("ENGINED_API_KEY=", 0) == 0;
        if (!replaced) environment.push_back(variable);
    }
    environment.insert(environment.end(), settings.begin(), settings.end());
    return environment;
}

std::vector<char*> c_strings(std::vector<std::string>& strings) {
    std::vector<char*> pointers;
    for (auto& text : strings) pointers.push_back(text.data());
    pointers.push_back(nullptr);
    return pointers;
}

// Runs build/enginectl with `args`; stdout and stderr go to files so that neither pipe can fill
// up while we wait. posix_spawn, not fork: the test process runs server threads.
CliResult run_enginectl(std::vector<std::string> args, const std::vector<std::string>& settings,
                        const std::filesystem::path& work_dir) {
    const std::string binary = std::string(ENGINED_BINARY_DIR) + "/enginectl";
    const std::string out_file = (work_dir / "stdout.txt").string();
    const std::string err_file = (work_dir / "stderr.txt").string();
    args.insert(args.begin(), binary);
    std::vector<std::string> environment = child_environment(settings);
    auto argv = c_strings(args);
    auto envp = c_strings(environment);

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, out_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&actions, 2, err_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    pid_t pid = 0;
    const int spawned = posix_spawn(&pid, binary.c_str(), &actions, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    if (spawned != 0) throw std::runtime_error("cannot start " + binary);
    int status = 0;
    waitpid(pid, &status, 0);
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, read_text(out_file), read_text(err_file)};
}

void write_text(const std::filesystem::path& path, const std::string& text) {
    std::filesystem::create_directories(path.parent_path());
    std::ofstream(path) << text;
}

class EnginectlTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() { server_ = new TestServer(); }
    static void TearDownTestSuite() {
        delete server_;
        server_ = nullptr;
    }

    void TearDown() override { std::filesystem::remove_all(work_dir_); }

    CliResult enginectl(const std::vector<std::string>& args) {
        const std::string url = "http://127.0.0.1:" + std::to_string(server_->port());
        return run_enginectl(args, {"ENGINED_URL=" + url, "ENGINED_KEY=" + key_}, work_dir_);
    }

    static TestServer* server_;
    const std::string key_ = server_->create_key("cli-org", "test", {"runs:write", "runs:read", "engines:admin"});
    const std::filesystem::path work_dir_ = fresh_temp_dir("enginectl-it");
};

TestServer* EnginectlTest::server_ = nullptr;

#define EXPECT_SUCCEEDS(result) EXPECT_EQ((result).exit_code, 0) << (result).out << (result).err

TEST_F(EnginectlTest, ABuiltInEngineIsChangedThroughACopy) {
    const CliResult refused = enginectl({"versions", "publish", "default"});
    EXPECT_EQ(refused.exit_code, 1) << refused.out << refused.err;
    EXPECT_NE(refused.err.find("builtin_engine_read_only"), std::string::npos) << refused.err;
    const CliResult copied = enginectl({"engines", "copy", "default", "--slug", "cli-default", "--version", "1.0"});
    EXPECT_SUCCEEDS(copied);
    EXPECT_NE(copied.out.find("a copy of default 1.0"), std::string::npos) << copied.out;
    const CliResult published = enginectl({"versions", "publish", "cli-default"});
    EXPECT_SUCCEEDS(published);
    const CliResult listed = enginectl({"engines", "list"});
    EXPECT_NE(listed.out.find("cli-default"), std::string::npos) << listed.out;
}

TEST_F(EnginectlTest, CreateConfigurePublishExportAndRun) {
    const CliResult created =
        enginectl({"engines", "create", "--slug", "cli-auto", "--label", "CLI auto", "--type", "placement"});
    EXPECT_SUCCEEDS(created);
    const CliResult listed = enginectl({"engines", "list"});
    EXPECT_SUCCEEDS(listed);
    EXPECT_NE(listed.out.find("cli-auto"), std::string::npos) << listed.out;

    // config get prints exactly what config validate and config put take.
    const CliResult config = enginectl({"config", "get", "cli-auto"});
    EXPECT_SUCCEEDS(config);
    const auto config_file = work_dir_ / "config.json";
    write_text(config_file, config.out);
    const CliResult verdict = enginectl({"config", "validate", "cli-auto", config_file.string()});
    EXPECT_SUCCEEDS(verdict);
    EXPECT_EQ(verdict.out, "valid\n");

    auto broken = boost::json::parse(config.out).as_object();
    broken["lua_source"] = "function weights(";
    const auto broken_file = work_dir_ / "broken.json";
    write_text(broken_file, boost::json::serialize(broken));
    const CliResult refused = enginectl({"config", "validate", "cli-auto", broken_file.string()});
    EXPECT_EQ(refused.exit_code, 1) << refused.out;
    EXPECT_NE(refused.out.find("/lua_source: "), std::string::npos) << refused.out;

    const CliResult published = enginectl({"versions", "publish", "cli-auto", "--changelog", "first release"});
    EXPECT_SUCCEEDS(published);
    EXPECT_EQ(published.out, "published cli-auto 1.0 (bump: initial)\n");
    const CliResult versions = enginectl({"versions", "list", "cli-auto"});
    EXPECT_SUCCEEDS(versions);
    EXPECT_NE(versions.out.find("1.0"), std::string::npos) << versions.out;
    EXPECT_NE(versions.out.find("first release"), std::string::npos) << versions.out;

    // The exported file is the bundle byte-for-byte, where the server imports bundles from.
    const auto out_dir = work_dir_ / "versions";
    const CliResult exported = enginectl({"versions", "export", "cli-auto", "1.0", "--out", out_dir.string()});
    EXPECT_SUCCEEDS(exported);
    const auto bundle_file = out_dir / "cli-auto" / "1.0.json";
    EXPECT_EQ(exported.out, bundle_file.string() + "\n");
    ASSERT_TRUE(std::filesystem::exists(bundle_file));
    const std::string bundle = read_text(bundle_file);
    EXPECT_EQ(boost::json::parse(bundle).at("version").as_string(), "1.0");
    http::Client client = server_->client();
    EXPECT_EQ(bundle, call(client, "GET", "/api/v1/engines/cli-auto/versions/1.0/bundle", key_).raw.body);

    const CliResult guide = enginectl({"contract", "show", "cli-auto", "--md", "--version", "1.x"});
    EXPECT_SUCCEEDS(guide);
    EXPECT_NE(guide.out.find("## Request schema"), std::string::npos) << guide.out;

    const CliResult run = enginectl({"runs", "submit", "--wait", (golden_dir() / "auto_only_ny.input.json").string()});
    EXPECT_SUCCEEDS(run);
    EXPECT_NE(run.out.find("Progressive"), std::string::npos) << run.out;
}

TEST_F(EnginectlTest, RunsReplayExitsZeroWhenIdenticalAndOneWhenNot) {
    const CliResult submitted = enginectl({"runs", "submit", "--engine-version", "1.1",
                                           (golden_dir() / "brokerage_tx_multicarrier.input.json").string()});
    EXPECT_SUCCEEDS(submitted);
    const std::string run_id = submitted.out.substr(0, submitted.out.find('\n'));
    EXPECT_SUCCEEDS(enginectl({"runs", "wait", run_id}));

    const CliResult identical = enginectl({"runs", "replay", run_id});
    EXPECT_SUCCEEDS(identical);
    EXPECT_NE(identical.out.find("run " + run_id + ": identical"), std::string::npos) << identical.out;
    EXPECT_NE(identical.out.find(" (same)"), std::string::npos) << identical.out;

    // The stored ranking altered behind the server's back no longer reproduces.
    sqlite3* raw = nullptr;
    ASSERT_EQ(sqlite3_open((server_->data_dir() / "engined.sqlite3").c_str(), &raw), SQLITE_OK);
    const std::string sql = "UPDATE runs SET results_json = '[]' WHERE id = '" + run_id + "'";
    EXPECT_EQ(sqlite3_exec(raw, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(raw);
    sqlite3_close(raw);
    const CliResult different = enginectl({"runs", "replay", run_id});
    EXPECT_EQ(different.exit_code, 1) << different.out << different.err;
    EXPECT_NE(different.out.find("DIFFERENT, first difference at '/solutions/0'"), std::string::npos) << different.out;

    const CliResult missing = enginectl({"runs", "replay", "no-such-run"});
    EXPECT_EQ(missing.exit_code, 1);
    EXPECT_NE(missing.err.find("not_found: "), std::string::npos) << missing.err;
}

TEST_F(EnginectlTest, ApiErrorsPrintTheirCodeAndExitOne) {
    const CliResult missing = enginectl({"config", "get", "no-such-engine"});
    EXPECT_EQ(missing.exit_code, 1);
    EXPECT_NE(missing.err.find("not_found: "), std::string::npos) << missing.err;
}

// Environments created in the store of a running server: their keys carry the slug and
// authenticate as the environment; the API's rules hold for the operator too.
TEST_F(EnginectlTest, EnvironmentsAreManagedInTheStoreAndTheirKeysAuthenticateAsThem) {
    const std::string dir = server_->data_dir().string();
    auto environments = [&](const std::string& action, std::vector<std::string> extra) {
        std::vector<std::string> args{"environments", action, "--data-dir", dir, "--org", "cli-org"};
        args.insert(args.end(), extra.begin(), extra.end());
        return enginectl(args);
    };
    const CliResult created = environments("create", {"cli_dev"});
    EXPECT_SUCCEEDS(created);
    EXPECT_TRUE(created.out.starts_with("env_")) << created.out;
    const CliResult reserved = environments("create", {"internal"});
    EXPECT_EQ(reserved.exit_code, 1);
    EXPECT_NE(reserved.err.find("reserved"), std::string::npos) << reserved.err;

    const CliResult listed = environments("list", {"--json"});
    EXPECT_SUCCEEDS(listed);
    const auto data = boost::json::parse(listed.out).at("data").as_array();
    ASSERT_EQ(data.size(), 3u);
    EXPECT_EQ(data[2].at("slug"), "cli_dev");

    const CliResult minted = enginectl({"keys", "create", "--data-dir", dir, "--org", "cli-org", "--env", "cli_dev"});
    EXPECT_SUCCEEDS(minted);
    const std::string key = minted.out.substr(0, minted.out.find('\n'));
    ASSERT_TRUE(key.starts_with("nx_cli_dev_")) << key;
    auto client = server_->client();
    const ApiResponse accepted = call(client, "POST", "/api/v1/engines/default/runs", key,
                                      read_text(golden_dir() / "auto_only_ny.input.json"));
    ASSERT_EQ(accepted.status, 202) << accepted.raw.body;
    const ApiResponse run = call(client, "GET", "/api/v1/runs/" + std::string(accepted.body.at("run_id").as_string()), key);
    EXPECT_EQ(run.body.at("environment"), "cli_dev");
    EXPECT_EQ(run.body.at("environment_id"), data[2].at("id"));

    const CliResult refused = environments("delete", {"cli_dev"});
    EXPECT_EQ(refused.exit_code, 1);
    EXPECT_NE(refused.err.find("active key"), std::string::npos) << refused.err;
    EXPECT_SUCCEEDS(environments("pin", {"cli_dev", "--version", "1.x"}));
    const CliResult shown = environments("show", {"cli_dev", "--json"});
    EXPECT_SUCCEEDS(shown);
    EXPECT_EQ(boost::json::parse(shown.out).at("pinned_engine_version"), "1.x");
}

TEST_F(EnginectlTest, LuaTestFailsOnAWrongExpectation) {
    const auto scripts = work_dir_ / "lua";
    write_text(scripts / "placement" / "scorecard.lua",
               read_text(std::filesystem::path(ENGINED_SOURCE_DIR) / "scripts" / "lua" / "placement" / "scorecard.lua"));
    write_text(scripts / "placement" / "tests" / "wrong.json", R"({"cases": [
        {"name": "right", "call": "weights", "args": ["simplicity", {}], "expect_sum": 1},
        {"name": "wrong", "call": "weights", "args": ["balanced", {}],
         "expect": {"pricing_competitiveness": 0.9, "coverage_completeness": 0.25,
                    "carrier_quality": 0.20, "simplicity": 0.15}}]})");
    const CliResult result = enginectl({"lua", "test", scripts.string()});
    EXPECT_EQ(result.exit_code, 1) << result.out << result.err;
    EXPECT_NE(result.out.find("PASS placement/wrong.json: right"), std::string::npos) << result.out;
    EXPECT_NE(result.out.find("FAIL placement/wrong.json: wrong"), std::string::npos) << result.out;
    EXPECT_NE(result.out.find("/pricing_competitiveness"), std::string::npos) << result.out;
    EXPECT_NE(result.out.find("1 passed, 1 failed"), std::string::npos) << result.out;
}

}  // namespace
}  // namespace engined::testing
