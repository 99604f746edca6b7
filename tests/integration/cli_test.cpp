// enginectl end to end: the built binary, run as a child process with ENGINED_URL and
// ENGINED_KEY pointing at a real server on loopback, through an operator's whole workflow; and
// `lua test` failing on a wrong expectation.
#include "test_server.hpp"

#include "audit/audit_key.hpp"
#include "audit/audit_trail.hpp"
#include "audit/chain.hpp"
#include "common/log.hpp"
#include "postgres_database.hpp"
#include "store/postgres/postgres_store.hpp"
#include "store/sqlite/sqlite_store.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>

#include <sqlite3.h>

#include <boost/asio/ip/tcp.hpp>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <regex>

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
        const bool replaced = variable.rfind("ENGINED_URL=", 0) == 0 ||
                              variable.rfind("ENGINED_KEY=", 0) == 0 ||
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

// Runs build/<program> (enginectl or engined) with `args`; stdout and stderr go to files so that
// neither pipe can fill up while we wait. posix_spawn, not fork: the test process runs server
// threads.
CliResult run_program(const std::string& program, std::vector<std::string> args,
                      const std::vector<std::string>& settings,
                      const std::filesystem::path& work_dir) {
    const std::string binary = std::string(ENGINED_BINARY_DIR) + "/" + program;
    const std::string out_file = (work_dir / "stdout.txt").string();
    const std::string err_file = (work_dir / "stderr.txt").string();
    args.insert(args.begin(), binary);
    std::vector<std::string> environment = child_environment(settings);
    auto argv = c_strings(args);
    auto envp = c_strings(environment);

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    // Never the test's terminal: a command that would ask a question sees no terminal.
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, out_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                     0600);
    posix_spawn_file_actions_addopen(&actions, 2, err_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                     0600);
    pid_t pid = 0;
    const int spawned =
        posix_spawn(&pid, binary.c_str(), &actions, nullptr, argv.data(), envp.data());
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
        return run_program("enginectl", args, {"ENGINED_URL=" + url, "ENGINED_KEY=" + key_},
                           work_dir_);
    }

    // The number of runs the server's store holds: what a refused command must leave unchanged.
    static int stored_runs() {
        sqlite3* raw = nullptr;
        EXPECT_EQ(sqlite3_open((server_->data_dir() / "engined.sqlite3").c_str(), &raw), SQLITE_OK);
        sqlite3_stmt* statement = nullptr;
        sqlite3_prepare_v2(raw, "SELECT COUNT(*) FROM runs", -1, &statement, nullptr);
        const int count =
            sqlite3_step(statement) == SQLITE_ROW ? sqlite3_column_int(statement, 0) : -1;
        sqlite3_finalize(statement);
        sqlite3_close(raw);
        return count;
    }

    static TestServer* server_;
    const std::string key_ =
        server_->create_key("cli-org", "live", {"runs:write", "runs:read", "engines:admin"});
    const std::filesystem::path work_dir_ = fresh_temp_dir("enginectl-it");
};

TestServer* EnginectlTest::server_ = nullptr;

#define EXPECT_SUCCEEDS(result) EXPECT_EQ((result).exit_code, 0) << (result).out << (result).err

TEST_F(EnginectlTest, ABuiltInEngineIsChangedThroughACopy) {
    const CliResult refused = enginectl({"versions", "publish", "default"});
    EXPECT_EQ(refused.exit_code, 1) << refused.out << refused.err;
    EXPECT_NE(refused.err.find("builtin_engine_read_only"), std::string::npos) << refused.err;
    const CliResult copied =
        enginectl({"engines", "copy", "default", "--slug", "cli-default", "--version", "1.0"});
    EXPECT_SUCCEEDS(copied);
    EXPECT_NE(copied.out.find("a copy of default 1.0"), std::string::npos) << copied.out;
    const CliResult published = enginectl({"versions", "publish", "cli-default"});
    EXPECT_SUCCEEDS(published);
    const CliResult listed = enginectl({"engines", "list"});
    EXPECT_NE(listed.out.find("cli-default"), std::string::npos) << listed.out;
}

TEST_F(EnginectlTest, CreateConfigurePublishExportAndRun) {
    const CliResult created = enginectl(
        {"engines", "create", "--slug", "cli-auto", "--label", "CLI auto", "--type", "placement"});
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

    const CliResult published =
        enginectl({"versions", "publish", "cli-auto", "--changelog", "first release"});
    EXPECT_SUCCEEDS(published);
    EXPECT_EQ(published.out, "published cli-auto 1.0 (bump: initial)\n");
    const CliResult versions = enginectl({"versions", "list", "cli-auto"});
    EXPECT_SUCCEEDS(versions);
    EXPECT_NE(versions.out.find("1.0"), std::string::npos) << versions.out;
    EXPECT_NE(versions.out.find("first release"), std::string::npos) << versions.out;

    // The exported file is the bundle byte-for-byte, where the server imports bundles from.
    const auto out_dir = work_dir_ / "versions";
    const CliResult exported =
        enginectl({"versions", "export", "cli-auto", "1.0", "--out", out_dir.string()});
    EXPECT_SUCCEEDS(exported);
    const auto bundle_file = out_dir / "cli-auto" / "1.0.json";
    EXPECT_EQ(exported.out, bundle_file.string() + "\n");
    ASSERT_TRUE(std::filesystem::exists(bundle_file));
    const std::string bundle = read_text(bundle_file);
    EXPECT_EQ(boost::json::parse(bundle).at("version").as_string(), "1.0");
    http::Client client = server_->client();
    EXPECT_EQ(bundle,
              call(client, "GET", "/api/v1/engines/cli-auto/versions/1.0/bundle", key_).raw.body);

    const CliResult guide = enginectl({"contract", "show", "cli-auto", "--md", "--version", "1.x"});
    EXPECT_SUCCEEDS(guide);
    EXPECT_NE(guide.out.find("## Request schema"), std::string::npos) << guide.out;

    const CliResult run = enginectl(
        {"runs", "submit", "--wait", (golden_dir() / "auto_only_ny.input.json").string()});
    EXPECT_SUCCEEDS(run);
    EXPECT_NE(run.out.find("Progressive"), std::string::npos) << run.out;
}

TEST_F(EnginectlTest, VersionsRolloutPromoteAndAbortAMinor) {
    EXPECT_SUCCEEDS(enginectl(
        {"engines", "create", "--slug", "cli-canary", "--label", "Canary", "--type", "placement"}));
    EXPECT_SUCCEEDS(enginectl({"versions", "publish", "cli-canary"}));
    auto config = boost::json::parse(enginectl({"config", "get", "cli-canary"}).out).as_object();
    config["debug"] = true;
    const auto config_file = work_dir_ / "config.json";
    write_text(config_file, boost::json::serialize(config));
    EXPECT_SUCCEEDS(enginectl({"config", "put", "cli-canary", config_file.string()}));
    const CliResult published =
        enginectl({"versions", "publish", "cli-canary", "--rollout-percent", "10"});
    EXPECT_SUCCEEDS(published);
    const CliResult listed = enginectl({"versions", "list", "cli-canary"});
    EXPECT_NE(listed.out.find("open 10% from 1.0"), std::string::npos) << listed.out;

    const CliResult widened =
        enginectl({"versions", "rollout", "cli-canary", "1.1", "--percent", "40"});
    EXPECT_SUCCEEDS(widened);
    EXPECT_EQ(widened.out,
              "cli-canary 1.1: rollout open, 40% of runs pinned 1.x (the others: 1.0)\n");
    const CliResult too_much =
        enginectl({"versions", "rollout", "cli-canary", "1.1", "--percent", "100"});
    EXPECT_EQ(too_much.exit_code, 1);
    EXPECT_NE(too_much.err.find("invalid_rollout_percent"), std::string::npos) << too_much.err;
    const CliResult not_a_number =
        enginectl({"versions", "rollout", "cli-canary", "1.1", "--percent", "ten"});
    EXPECT_NE(not_a_number.exit_code, 0);
    EXPECT_NE(not_a_number.err.find("--percent must be a whole number"), std::string::npos)
        << not_a_number.err;

    const CliResult aborted = enginectl({"versions", "abort", "cli-canary", "1.1", "--json"});
    EXPECT_SUCCEEDS(aborted);
    EXPECT_EQ(boost::json::parse(aborted.out).at("state"), "aborted");
    EXPECT_SUCCEEDS(enginectl({"versions", "rollout", "cli-canary", "1.1", "--percent", "20"}));
    const CliResult promoted = enginectl({"versions", "promote", "cli-canary", "1.1"});
    EXPECT_SUCCEEDS(promoted);
    EXPECT_NE(promoted.out.find("rollout promoted"), std::string::npos) << promoted.out;
    const CliResult shown = enginectl({"versions", "rollout", "cli-canary", "1.1"});
    EXPECT_SUCCEEDS(shown);
    EXPECT_NE(shown.out.find("rollout promoted, 20%"), std::string::npos) << shown.out;
}

TEST_F(EnginectlTest, RunsReplayExitsZeroWhenIdenticalAndOneWhenNot) {
    const CliResult submitted =
        enginectl({"runs", "submit", "--engine-version", "1.1",
                   (golden_dir() / "brokerage_tx_multicarrier.input.json").string()});
    EXPECT_SUCCEEDS(submitted);
    const std::string run_id = submitted.out.substr(0, submitted.out.find('\n'));
    EXPECT_SUCCEEDS(enginectl({"runs", "wait", run_id}));

    const CliResult identical = enginectl({"runs", "replay", run_id});
    EXPECT_SUCCEEDS(identical);
    EXPECT_NE(identical.out.find("run " + run_id + ": identical"), std::string::npos)
        << identical.out;
    EXPECT_NE(identical.out.find(" (same)"), std::string::npos) << identical.out;

    // The stored ranking altered behind the server's back no longer reproduces.
    sqlite3* raw = nullptr;
    ASSERT_EQ(sqlite3_open((server_->data_dir() / "engined.sqlite3").c_str(), &raw), SQLITE_OK);
    const std::string sql = "UPDATE runs SET results_json = '[]' WHERE id = '" + run_id + "'";
    EXPECT_EQ(sqlite3_exec(raw, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK)
        << sqlite3_errmsg(raw);
    sqlite3_close(raw);
    const CliResult different = enginectl({"runs", "replay", run_id});
    EXPECT_EQ(different.exit_code, 1) << different.out << different.err;
    EXPECT_NE(different.out.find("DIFFERENT, first difference at '/solutions/0'"),
              std::string::npos)
        << different.out;

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
        std::vector<std::string> args{"environments", action,   "--data-dir", dir,
                                      "--org",        "cli-org"};
        args.insert(args.end(), extra.begin(), extra.end());
        return enginectl(args);
    };
    const CliResult created = environments("create", {"cli_dev"});
    EXPECT_SUCCEEDS(created);
    EXPECT_TRUE(
        std::regex_search(created.out, std::regex("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-")))
        << created.out;
    const CliResult reserved = environments("create", {"internal"});
    EXPECT_EQ(reserved.exit_code, 1);
    EXPECT_NE(reserved.err.find("reserved"), std::string::npos) << reserved.err;

    const CliResult listed = environments("list", {"--json"});
    EXPECT_SUCCEEDS(listed);
    const auto data = boost::json::parse(listed.out).at("data").as_array();
    ASSERT_EQ(data.size(), 3u);
    EXPECT_EQ(data[2].at("slug"), "cli_dev");

    const CliResult minted =
        enginectl({"keys", "create", "--data-dir", dir, "--org", "cli-org", "--env", "cli_dev"});
    EXPECT_SUCCEEDS(minted);
    const std::string key = minted.out.substr(0, minted.out.find('\n'));
    ASSERT_TRUE(key.starts_with("nx_cli_dev_")) << key;
    auto client = server_->client();
    const ApiResponse accepted = call(client, "POST", "/api/v1/engines/default/runs", key,
                                      read_text(golden_dir() / "auto_only_ny.input.json"));
    ASSERT_EQ(accepted.status, 202) << accepted.raw.body;
    const ApiResponse run = call(
        client, "GET", "/api/v1/runs/" + std::string(accepted.body.at("run_id").as_string()), key);
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
               read_text(std::filesystem::path(ENGINED_SOURCE_DIR) / "scripts" / "lua" /
                         "placement" / "scorecard.lua"));
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

// A scorecard written for the authoring tests: it logs, raises a table for one bucket and has
// a branch (line 6) that only the "cautious" bucket reaches.
constexpr const char* kAuthoringScorecard = R"(function weights(bucket)
  log("bucket", bucket)
  if bucket == "bad" then
    error({code = 42})
  elseif bucket == "cautious" then
    return {price = 0.5, cover = 0.5}
  end
  return {price = 1}
end
)";

class LuaTestCommand : public EnginectlTest {
protected:
    std::filesystem::path scripts_ = work_dir_ / "lua";

    void write_scorecard(const std::string& source) {
        write_text(scripts_ / "rules" / "scorecard.lua", source);
    }
    void write_cases(const std::string& file, const std::string& cases) {
        write_text(scripts_ / "rules" / "tests" / file, "{\"cases\": [" + cases + "]}");
    }
    CliResult lua_test(std::vector<std::string> extra = {}) {
        std::vector<std::string> args{"lua", "test", scripts_.string()};
        args.insert(args.end(), extra.begin(), extra.end());
        return enginectl(args);
    }
};

constexpr const char* kLoggingCase =
    R"({"name": "plain bucket", "call": "weights", "args": ["plain"], "expect": {"price": 1}})";
constexpr const char* kRaisingCase =
    R"({"name": "bad bucket raises", "call": "weights", "args": ["bad"], "expect_error": "code=42"})";

TEST_F(LuaTestCommand, ShowsEachCasesLogLinesAndAcceptsAnExpectedError) {
    write_scorecard(kAuthoringScorecard);
    write_cases("cases.json", std::string(kLoggingCase) + "," + kRaisingCase);
    const CliResult passed = lua_test();
    EXPECT_SUCCEEDS(passed);
    EXPECT_NE(passed.out.find("PASS rules/cases.json: plain bucket\n  log: bucket plain\n"),
              std::string::npos)
        << passed.out;
    EXPECT_NE(passed.out.find("PASS rules/cases.json: bad bucket raises"), std::string::npos)
        << passed.out;
    EXPECT_NE(passed.out.find("2 passed, 0 failed"), std::string::npos) << passed.out;

    write_cases(
        "cases.json",
        R"({"name": "expects an error", "call": "weights", "args": ["plain"], "expect_error": ""},
        {"name": "expects another error", "call": "weights", "args": ["bad"], "expect_error": "code=7"})");
    const CliResult failed = lua_test();
    EXPECT_EQ(failed.exit_code, 1) << failed.out << failed.err;
    EXPECT_NE(
        failed.out.find(
            "FAIL rules/cases.json: expects an error: weights() returned {\"price\":1} but was "
            "expected to raise an error"),
        std::string::npos)
        << failed.out;
    EXPECT_NE(
        failed.out.find("weights() raised: {code=42} (expected an error containing \"code=7\")"),
        std::string::npos)
        << failed.out;
}

TEST_F(LuaTestCommand, AnEmptySuiteFails) {
    write_scorecard(kAuthoringScorecard);
    std::filesystem::create_directories(scripts_ / "rules" / "tests");
    const CliResult no_files = lua_test();
    EXPECT_EQ(no_files.exit_code, 1) << no_files.out << no_files.err;
    EXPECT_NE(no_files.out.find("FAIL rules/scorecard.lua: tests/ holds no *.json test file"),
              std::string::npos)
        << no_files.out;

    write_cases("empty.json", "");
    const CliResult no_cases = lua_test();
    EXPECT_EQ(no_cases.exit_code, 1) << no_cases.out << no_cases.err;
    EXPECT_NE(
        no_cases.out.find("FAIL rules/empty.json: not a usable test file: \"cases\" is empty"),
        std::string::npos)
        << no_cases.out;
    EXPECT_NE(no_cases.out.find("0 passed, 1 failed"), std::string::npos) << no_cases.out;
}

TEST_F(LuaTestCommand, ATopLevelErrorIsReportedOnceNotPerCase) {
    write_scorecard(std::string("error('broken at load')\n") + kAuthoringScorecard);
    write_cases("cases.json", std::string(kLoggingCase) + "," + kRaisingCase + "," + kLoggingCase);
    const CliResult result = lua_test();
    EXPECT_EQ(result.exit_code, 1) << result.out << result.err;
    EXPECT_NE(
        result.out.find("FAIL rules/scorecard.lua: the top level raised: rules/scorecard.lua:1: "
                        "broken at load"),
        std::string::npos)
        << result.out;
    std::size_t failures = 0;
    for (auto at = result.out.find("FAIL "); at != std::string::npos;
         at = result.out.find("FAIL ", at + 1))
        ++failures;
    EXPECT_EQ(failures, 1u) << result.out;
    EXPECT_NE(result.out.find("0 passed, 1 failed"), std::string::npos) << result.out;
}

TEST_F(LuaTestCommand, RunSelectsCasesByPatternAndAPatternMatchingNothingFails) {
    write_scorecard(kAuthoringScorecard);
    write_cases("cases.json", std::string(kLoggingCase) + "," + kRaisingCase);
    const CliResult selected = lua_test({"--run", "raises$"});
    EXPECT_SUCCEEDS(selected);
    EXPECT_EQ(selected.out.find("plain bucket"), std::string::npos) << selected.out;
    EXPECT_NE(selected.out.find("1 passed, 0 failed"), std::string::npos) << selected.out;

    const CliResult none = lua_test({"--run", "no such case"});
    EXPECT_EQ(none.exit_code, 1) << none.out << none.err;
    EXPECT_NE(none.out.find("no case matches --run no such case"), std::string::npos) << none.out;

    const CliResult invalid = lua_test({"--run", "("});
    EXPECT_EQ(invalid.exit_code, 2) << invalid.out << invalid.err;
    EXPECT_NE(invalid.err.find("--run is not a valid regular expression"), std::string::npos)
        << invalid.err;
}

TEST_F(LuaTestCommand, WritesJUnitXmlAndJson) {
    write_scorecard(kAuthoringScorecard);
    write_cases(
        "cases.json",
        std::string(kLoggingCase) + "," +
            R"({"name": "wrong <answer>", "call": "weights", "args": ["plain"], "expect": {"price": 2}})");
    const auto junit = work_dir_ / "report.xml";
    const CliResult result = lua_test({"--junit", junit.string()});
    EXPECT_EQ(result.exit_code, 1) << result.out << result.err;
    const std::string xml = read_text(junit);
    EXPECT_EQ(xml.rfind("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"enginectl "
                        "lua test\" tests=\"2\" "
                        "failures=\"1\">",
                        0),
              0u)
        << xml;
    EXPECT_NE(xml.find("<testsuite name=\"rules/cases.json\" tests=\"2\" failures=\"1\">"),
              std::string::npos)
        << xml;
    EXPECT_NE(xml.find("<testcase classname=\"rules/cases.json\" name=\"wrong &lt;answer&gt;\">\n  "
                       "    <failure "
                       "message=\"expected {&quot;price&quot;:2} got {&quot;price&quot;:1}"),
              std::string::npos)
        << xml;
    EXPECT_NE(xml.find("<system-out>bucket plain&#10;</system-out>"), std::string::npos) << xml;

    const CliResult json = lua_test({"--json"});
    EXPECT_EQ(json.exit_code, 1) << json.out << json.err;
    const boost::json::value report = boost::json::parse(json.out);
    EXPECT_EQ(report.at("ok"), false);
    EXPECT_EQ(report.at("passed"), 1);
    EXPECT_EQ(report.at("failed"), 1);
    EXPECT_EQ(report.at("cases").at(0).at("log").at(0), "bucket plain");
    EXPECT_EQ(report.at("cases").at(1).at("status"), "failed");
}

TEST_F(LuaTestCommand, CoverageListsTheLinesNoCaseRanAndEnforcesTheMinimum) {
    write_scorecard(kAuthoringScorecard);
    write_cases("cases.json", std::string(kLoggingCase) + "," + kRaisingCase);
    const CliResult partial = lua_test({"--coverage"});
    EXPECT_SUCCEEDS(partial);
    // weights holds code on lines 2-6 and 8: the "cautious" branch (line 6) never ran.
    EXPECT_NE(partial.out.find("  weights (lines 1-9): 83.3% (5/6), not run: 6\n"),
              std::string::npos)
        << partial.out;

    const CliResult below = lua_test({"--coverage", "--min", "90"});
    EXPECT_EQ(below.exit_code, 1) << below.out << below.err;
    EXPECT_NE(below.out.find("coverage of rules/scorecard.lua is below --min 90.0%"),
              std::string::npos)
        << below.out;

    write_cases(
        "more.json",
        R"({"name": "cautious", "call": "weights", "args": ["cautious"], "expect_sum": 1})");
    const CliResult full = lua_test({"--coverage", "--min", "100"});
    EXPECT_SUCCEEDS(full);
    EXPECT_NE(full.out.find("coverage rules/scorecard.lua: 100.0%"), std::string::npos) << full.out;

    const CliResult bad_minimum = lua_test({"--coverage", "--min", "101"});
    EXPECT_EQ(bad_minimum.exit_code, 2) << bad_minimum.out << bad_minimum.err;
}

TEST_F(LuaTestCommand, TheShippedScorecardsTestsCoverAtLeastNinetyPercent) {
    const CliResult shipped = enginectl(
        {"lua", "test", (std::filesystem::path(ENGINED_SOURCE_DIR) / "scripts" / "lua").string(),
         "--coverage", "--min", "90"});
    EXPECT_SUCCEEDS(shipped);
}

// A release bundle of the shipped default engine, its scorecard changed to log and, for the
// bucket "bad", to raise.
std::string logging_bundle() {
    boost::json::object bundle =
        boost::json::parse(read_text(std::filesystem::path(ENGINED_SOURCE_DIR) / "versions" /
                                     "default" / "1.0.json"))
            .as_object();
    auto& config = bundle.at("config").as_object();
    config["lua_source"] = std::string(config.at("lua_source").as_string()) +
                           "\nlocal shipped_weights = weights\n"
                           "function weights(bucket, input)\n"
                           "  log('eval sees', bucket)\n"
                           "  if bucket == 'bad' then error({code = 42}) end\n"
                           "  return shipped_weights(bucket, input)\n"
                           "end\n";
    return boost::json::serialize(bundle);
}

TEST_F(EnginectlTest, EvalRunsTheEnginePluginOnADraftConfigurationWithoutAServer) {
    write_text(work_dir_ / "bundle.json", logging_bundle());
    const auto input = golden_dir() / "brokerage_tx_multicarrier.input.json";
    // No server: the URL points nowhere.
    const CliResult result = run_program(
        "enginectl", {"eval", "--config", (work_dir_ / "bundle.json").string(), input.string()},
        {"ENGINED_URL=http://127.0.0.1:1"}, work_dir_);
    EXPECT_SUCCEEDS(result);
    const boost::json::value answer = boost::json::parse(result.out);
    EXPECT_EQ(answer.at("status"), "completed") << result.out;
    EXPECT_FALSE(answer.at("solutions").as_array().empty()) << result.out;
    EXPECT_NE(result.err.find("log: eval sees balanced"), std::string::npos) << result.err;

    const CliResult json =
        run_program("enginectl",
                    {"eval", "--json", "--config", (work_dir_ / "bundle.json").string(),
                     "--engine-type", "placement", input.string()},
                    {}, work_dir_);
    EXPECT_SUCCEEDS(json);
    const boost::json::value report = boost::json::parse(json.out);
    EXPECT_EQ(report.at("ok"), true);
    EXPECT_EQ(report.at("result").at("status"), "completed");
    EXPECT_EQ(report.at("log").at(0), "eval sees balanced");
}

TEST_F(EnginectlTest, EvalReportsAFailedRunAndAnInvalidConfiguration) {
    const auto input_path = golden_dir() / "brokerage_tx_multicarrier.input.json";
    boost::json::object body = boost::json::parse(read_text(input_path)).as_object();
    body.at("input").as_object()["appetite_bucket"] = "bad";
    write_text(work_dir_ / "input.json", boost::json::serialize(body));
    write_text(work_dir_ / "bundle.json", logging_bundle());
    const CliResult failed = run_program("enginectl",
                                         {"eval", "--config", (work_dir_ / "bundle.json").string(),
                                          (work_dir_ / "input.json").string()},
                                         {}, work_dir_);
    EXPECT_EQ(failed.exit_code, 1) << failed.out << failed.err;
    EXPECT_NE(failed.err.find("{code=42}"), std::string::npos) << failed.err;

    write_text(work_dir_ / "config.json", R"({"parameters": "not an object"})");
    const CliResult invalid = run_program("enginectl",
                                          {"eval", "--config", (work_dir_ / "config.json").string(),
                                           "--engine-type", "placement", input_path.string()},
                                          {}, work_dir_);
    EXPECT_EQ(invalid.exit_code, 1) << invalid.out << invalid.err;
    EXPECT_NE(invalid.err.find("the configuration is not valid for placement"), std::string::npos)
        << invalid.err;

    const CliResult no_type =
        run_program("enginectl",
                    {"eval", "--config", (work_dir_ / "config.json").string(), input_path.string()},
                    {}, work_dir_);
    EXPECT_EQ(no_type.exit_code, 2) << no_type.out << no_type.err;
    EXPECT_NE(no_type.err.find("--engine-type TYPE"), std::string::npos) << no_type.err;
}

TEST_F(EnginectlTest, EvalHandsAPoolFileToTheEntityAnalysisPlugin) {
    const auto pool = work_dir_ / "pool.json";
    const std::string generate = std::string(ENGINED_BINARY_DIR) + "/engined-demo-pool --out " +
                                 pool.string() + " > /dev/null";
    ASSERT_EQ(std::system(generate.c_str()), 0);
    write_text(work_dir_ / "input.json",
               R"({"input": {"profile": {"entity": "Harbor Design Partners LLP", "state": "CA",
        "line": "professional_liability", "naics": "541310", "revenue": 12000000, "employees": 60,
        "years_in_business": 14}, "pool": "carriers:all"}})");
    const std::string bundle =
        (std::filesystem::path(ENGINED_SOURCE_DIR) / "versions" / "entity-analysis" / "1.0.json")
            .string();
    const CliResult ranked = run_program(
        "enginectl",
        {"eval", "--config", bundle, "--pool", pool.string(), (work_dir_ / "input.json").string()},
        {}, work_dir_);
    EXPECT_SUCCEEDS(ranked);
    const boost::json::value answer = boost::json::parse(ranked.out);
    EXPECT_EQ(answer.at("status"), "completed") << ranked.out;
    EXPECT_EQ(answer.at("output").at("pool"), "carriers:all") << ranked.out;
    EXPECT_FALSE(answer.at("candidates").as_array().empty()) << ranked.out;

    // Without the pool the plugin is told no snapshot exists, as on a server without it.
    const CliResult missing =
        run_program("enginectl", {"eval", "--config", bundle, (work_dir_ / "input.json").string()},
                    {}, work_dir_);
    EXPECT_EQ(missing.exit_code, 1) << missing.out << missing.err;
    EXPECT_NE(missing.err.find("the run failed: dataset_missing"), std::string::npos)
        << missing.err;
}

// --- Strict command lines: a usage mistake exits 2 with the action's short usage on stderr,
// before the command does anything.

std::size_t line_count(const std::string& text) {
    return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

boost::json::value parsed_json(const CliResult& result) {
    boost::system::error_code ec;
    boost::json::value value = boost::json::parse(result.out, ec);
    EXPECT_FALSE(ec) << "not JSON: " << result.out << result.err;
    return value;
}

TEST_F(EnginectlTest, AnUnknownFlagIsRefusedBeforeAnythingIsPublished) {
    EXPECT_SUCCEEDS(enginectl({"engines", "copy", "default", "--slug", "cli-strict"}));
    const CliResult typo = enginectl({"versions", "publish", "cli-strict", "--changelg", "typo"});
    EXPECT_EQ(typo.exit_code, 2) << typo.out << typo.err;
    EXPECT_NE(typo.err.find("enginectl: unknown option --changelg\n"), std::string::npos)
        << typo.err;
    // The short usage: this action's line and where the help is, not every command.
    EXPECT_NE(typo.err.find("usage: enginectl versions publish [options] SLUG"), std::string::npos)
        << typo.err;
    EXPECT_LE(line_count(typo.err), 3u) << typo.err;
    EXPECT_EQ(typo.out, "");

    const CliResult dry_run = enginectl({"versions", "publish", "cli-strict", "--dry-run", "yes"});
    EXPECT_EQ(dry_run.exit_code, 2) << dry_run.out << dry_run.err;
    EXPECT_NE(dry_run.err.find("--dry-run is a switch and takes no value (got 'yes')"),
              std::string::npos)
        << dry_run.err;

    const CliResult listed = enginectl({"versions", "list", "cli-strict", "--json"});
    EXPECT_SUCCEEDS(listed);
    EXPECT_TRUE(parsed_json(listed).at("data").as_array().empty()) << listed.out;
}

TEST_F(EnginectlTest, ASwitchGivenAValueIsRefused) {
    EXPECT_SUCCEEDS(enginectl({"engines", "copy", "default", "--slug", "cli-switch"}));
    const CliResult spaced = enginectl({"versions", "publish", "cli-switch", "--json", "yes"});
    EXPECT_EQ(spaced.exit_code, 2) << spaced.out << spaced.err;
    EXPECT_NE(spaced.err.find("--json is a switch and takes no value (got 'yes')"),
              std::string::npos)
        << spaced.err;
    const CliResult joined = enginectl({"versions", "publish", "cli-switch", "--json=no"});
    EXPECT_EQ(joined.exit_code, 2) << joined.out << joined.err;
    EXPECT_NE(joined.err.find("--json is a switch and takes no value"), std::string::npos)
        << joined.err;
    const CliResult listed = enginectl({"versions", "list", "cli-switch", "--json"});
    EXPECT_TRUE(parsed_json(listed).at("data").as_array().empty()) << listed.out;
}

TEST_F(EnginectlTest, HelpGoesToStdoutForEveryFamilyAndAction) {
    const CliResult overview = enginectl({"--help"});
    EXPECT_SUCCEEDS(overview);
    EXPECT_EQ(overview.err, "");
    for (const char* family :
         {"keys", "pools", "engines", "config", "versions", "contract", "runs", "lua"}) {
        EXPECT_NE(overview.out.find(std::string("\n") + family + " — "), std::string::npos)
            << family;
        const CliResult family_help = enginectl({family, "--help"});
        EXPECT_SUCCEEDS(family_help);
        EXPECT_EQ(family_help.out.rfind(std::string("usage: enginectl ") + family + " ACTION", 0),
                  0u)
            << family_help.out;
        EXPECT_EQ(family_help.err, "");
    }
    const CliResult engines = enginectl({"engines", "-h"});
    EXPECT_SUCCEEDS(engines);
    EXPECT_NE(engines.out.find("enginectl engines copy"), std::string::npos) << engines.out;

    // After an action, even after other arguments: that action's help alone.
    const CliResult publish = enginectl({"versions", "publish", "some-engine", "--help"});
    EXPECT_SUCCEEDS(publish);
    // More than eight options: the usage line says [options] and the help lists each.
    EXPECT_EQ(publish.out.rfind("usage: enginectl versions publish [options] SLUG", 0), 0u)
        << publish.out;
    for (const char* option : {"--changelog TEXT", "--dry-run", "--config-hash HASH",
                               "--max-top1-change SHARE", "--force", "--rollout-percent N"}) {
        EXPECT_NE(publish.out.find(option), std::string::npos) << option << "\n" << publish.out;
    }
    EXPECT_NE(publish.out.find("  --changelog TEXT"), std::string::npos) << publish.out;
    EXPECT_EQ(publish.out.find("runs submit"), std::string::npos) << publish.out;
    EXPECT_EQ(publish.err, "");
    const CliResult submit = enginectl({"runs", "submit", "-h"});
    EXPECT_SUCCEEDS(submit);
    EXPECT_NE(submit.out.find("--timeout SECONDS"), std::string::npos) << submit.out;
}

TEST_F(EnginectlTest, UsageMistakesPrintTheShortUsageOnStderr) {
    const CliResult no_action = enginectl({"engines"});
    EXPECT_EQ(no_action.exit_code, 2);
    EXPECT_NE(no_action.err.find("engines needs an action"), std::string::npos) << no_action.err;
    EXPECT_EQ(no_action.err.find("keys create"), std::string::npos) << no_action.err;
    const CliResult unknown_action = enginectl({"engines", "destroy"});
    EXPECT_EQ(unknown_action.exit_code, 2);
    EXPECT_NE(unknown_action.err.find("unknown engines action 'destroy'"), std::string::npos)
        << unknown_action.err;
    const CliResult missing_value = enginectl({"runs", "wait", "run-1", "--timeout"});
    EXPECT_EQ(missing_value.exit_code, 2);
    EXPECT_NE(missing_value.err.find("--timeout needs a value: SECONDS"), std::string::npos)
        << missing_value.err;
    EXPECT_LE(line_count(missing_value.err), 3u) << missing_value.err;
    const CliResult extra = enginectl({"engines", "list", "surplus"});
    EXPECT_EQ(extra.exit_code, 2);
    EXPECT_NE(extra.err.find("takes no positional arguments, got 'surplus'"), std::string::npos)
        << extra.err;
}

TEST_F(EnginectlTest, ATimeoutThatIsNotANumberIsRefusedBeforeSubmitting) {
    const int runs_before = stored_runs();
    const CliResult refused = enginectl({"runs", "submit", "--wait", "--timeout", "abc",
                                         (golden_dir() / "auto_only_ny.input.json").string()});
    EXPECT_EQ(refused.exit_code, 2) << refused.out << refused.err;
    EXPECT_NE(refused.err.find("--timeout takes a positive number, got 'abc'"), std::string::npos)
        << refused.err;
    EXPECT_EQ(refused.err.find("stod"), std::string::npos) << refused.err;
    EXPECT_EQ(refused.err.find("submitted"), std::string::npos) << refused.err;
    const CliResult zero = enginectl({"runs", "wait", "--timeout", "0", "run-1"});
    EXPECT_EQ(zero.exit_code, 2) << zero.err;
    EXPECT_EQ(stored_runs(), runs_before);
}

TEST_F(EnginectlTest, AConnectionErrorIsInPlainWords) {
    // A port that was just free: nothing listens on it.
    boost::asio::io_context io;
    boost::asio::ip::tcp::acceptor probe(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
    const std::string url = "http://127.0.0.1:" + std::to_string(probe.local_endpoint().port());
    probe.close();
    const CliResult refused = run_program("enginectl", {"engines", "list", "--url", url},
                                          {"ENGINED_KEY=" + key_}, work_dir_);
    EXPECT_EQ(refused.exit_code, 1) << refused.err;
    EXPECT_EQ(refused.err, "enginectl: cannot reach engined at " + url + ": Connection refused\n");
    const CliResult bad_port = enginectl({"engines", "list", "--url", "http://127.0.0.1:http"});
    EXPECT_EQ(bad_port.exit_code, 2) << bad_port.err;
    EXPECT_NE(bad_port.err.find("--url must be http://HOST[:PORT]"), std::string::npos)
        << bad_port.err;
}

TEST_F(EnginectlTest, KeysCreateRefusesAFolderWithoutAStore) {
    const auto missing = work_dir_ / "no-such-data";
    const CliResult refused = enginectl(
        {"keys", "create", "--data-dir", missing.string(), "--org", "o", "--env", "test"});
    EXPECT_EQ(refused.exit_code, 1) << refused.out << refused.err;
    EXPECT_NE(refused.err.find("no engined store in " + missing.string()), std::string::npos)
        << refused.err;
    EXPECT_NE(refused.err.find("Start engined with --data-dir"), std::string::npos) << refused.err;
    EXPECT_FALSE(std::filesystem::exists(missing));
    std::filesystem::create_directories(missing);
    const CliResult empty = enginectl({"keys", "list", "--data-dir", missing.string()});
    EXPECT_EQ(empty.exit_code, 1) << empty.out << empty.err;
    EXPECT_FALSE(std::filesystem::exists(missing / "engined.sqlite3"));

    const CliResult created =
        enginectl({"keys", "create", "--data-dir", missing.string(), "--create-store", "--org", "o",
                   "--env", "live", "--json"});
    EXPECT_SUCCEEDS(created);
    const auto issued = parsed_json(created).as_object();
    EXPECT_EQ(issued.at("environment").as_string(), "live");
    EXPECT_TRUE(std::filesystem::is_regular_file(missing / "engined.sqlite3"));
    const CliResult listed = enginectl({"keys", "list", "--data-dir", missing.string(), "--json"});
    EXPECT_SUCCEEDS(listed);
    const auto keys = parsed_json(listed).at("data").as_array();
    ASSERT_EQ(keys.size(), 1u) << listed.out;
    EXPECT_EQ(keys[0].at("id"), issued.at("id"));
    EXPECT_TRUE(keys[0].at("revoked_at").is_null());
    const CliResult revoked = enginectl({"keys", "revoke", "--data-dir", missing.string(), "--json",
                                         std::string(issued.at("id").as_string())});
    EXPECT_SUCCEEDS(revoked);
    EXPECT_EQ(parsed_json(revoked).at("revoked"), issued.at("id"));
}

// With a --store URL the data directory still holds the audit key that seals the key's creation:
// --create-store makes the directory (owner only, as engined does) on every backend.
TEST_F(EnginectlTest, KeysCreateWithAStoreUrlCreatesTheDataDirectoryForTheAuditKey) {
    PostgresTestDatabase postgres;
    std::vector<std::string> store_urls{"sqlite:" + (work_dir_ / "elsewhere.sqlite3").string()};
    if (!postgres.url().empty()) store_urls.push_back(postgres.url());
    for (const std::string& store_url : store_urls) {
        SCOPED_TRACE(store_url);
        const auto data_dir = work_dir_ / ("data-" + std::to_string(&store_url - &store_urls[0]));
        const std::vector<std::string> create{"keys",    "create",  "--data-dir", data_dir.string(),
                                              "--store", store_url, "--org",      "o",
                                              "--env",   "test"};
        const CliResult refused = enginectl(create);
        EXPECT_EQ(refused.exit_code, 1) << refused.out << refused.err;
        EXPECT_NE(refused.err.find("cannot create the audit key file"), std::string::npos)
            << refused.err;
        EXPECT_FALSE(std::filesystem::exists(data_dir)) << "only --create-store makes it";

        std::vector<std::string> with_create = create;
        with_create.push_back("--create-store");
        const CliResult created = enginectl(with_create);
        EXPECT_SUCCEEDS(created);
        const std::string printed_key = created.out.substr(0, created.out.find('\n'));
        EXPECT_EQ(printed_key.rfind("nx_test_", 0), 0u) << created.out;
        EXPECT_EQ(std::filesystem::status(data_dir).permissions(),
                  std::filesystem::perms::owner_all);
        EXPECT_TRUE(std::filesystem::is_regular_file(audit::default_key_file(data_dir)));
        EXPECT_FALSE(std::filesystem::exists(data_dir / "engined.sqlite3"))
            << "the store is the URL's, not one in the data directory";
        const CliResult listed = enginectl({"keys", "list", "--store", store_url, "--json"});
        EXPECT_SUCCEEDS(listed);
        EXPECT_EQ(parsed_json(listed).at("data").as_array().size(), 1u) << listed.out;
    }
}

TEST_F(EnginectlTest, EveryServerCommandThatPrintsDataPrintsJson) {
    const auto object_of = [&](const std::vector<std::string>& args) {
        const CliResult result = enginectl(args);
        EXPECT_SUCCEEDS(result);
        const boost::json::value value = parsed_json(result);
        EXPECT_TRUE(value.is_object()) << result.out;
        return value.is_object() ? value.get_object() : boost::json::object{};
    };
    EXPECT_EQ(object_of({"engines", "create", "--slug", "cli-json", "--label", "JSON", "--type",
                         "placement", "--json"})
                  .at("slug"),
              "cli-json");
    EXPECT_TRUE(object_of({"engines", "list", "--json"}).at("data").is_array());
    EXPECT_EQ(
        object_of({"engines", "copy", "default", "--slug", "cli-json-copy", "--json"}).at("slug"),
        "cli-json-copy");
    const auto config = object_of({"config", "get", "cli-json", "--json"});
    const auto config_file = work_dir_ / "config.json";
    write_text(config_file, boost::json::serialize(config));
    EXPECT_EQ(
        object_of({"config", "validate", "cli-json", config_file.string(), "--json"}).at("valid"),
        true);
    EXPECT_TRUE(object_of({"config", "put", "cli-json", config_file.string(), "--json"})
                    .contains("config_hash"));
    EXPECT_EQ(object_of({"versions", "publish", "cli-json", "--changelog", "first", "--json"})
                  .at("version"),
              "1.0");
    EXPECT_EQ(object_of({"versions", "list", "cli-json", "--json"}).at("data").as_array().size(),
              1u);
    EXPECT_EQ(object_of({"versions", "show", "cli-json", "1.0", "--json"}).at("version"), "1.0");
    const auto exported = object_of({"versions", "export", "cli-json", "1.0", "--out",
                                     (work_dir_ / "versions").string(), "--json"});
    EXPECT_TRUE(std::filesystem::exists(std::string(exported.at("file").as_string())));
    EXPECT_FALSE(object_of({"contract", "show", "cli-json", "--json"}).empty());
    const CliResult both = enginectl({"contract", "show", "cli-json", "--md", "--json"});
    EXPECT_EQ(both.exit_code, 2) << both.err;

    const std::string input = (golden_dir() / "auto_only_ny.input.json").string();
    const auto accepted = object_of({"runs", "submit", "--engine", "cli-json", "--json", input});
    const std::string run_id(accepted.at("run_id").as_string());
    EXPECT_EQ(object_of({"runs", "wait", run_id, "--json"}).at("status"), "completed");
    EXPECT_EQ(object_of({"runs", "show", run_id, "--json"}).at("run_id").as_string(), run_id);
    EXPECT_EQ(object_of({"runs", "submit", "--engine", "cli-json", "--wait", "--json", input})
                  .at("status"),
              "completed");
    EXPECT_EQ(object_of({"runs", "replay", run_id, "--json"}).at("identical"), true);
    EXPECT_EQ(object_of({"engines", "archive", "cli-json-copy", "--yes", "--json"}).at("status"),
              "archived");
}

// --- The audit log: every operator action, over HTTP and through enginectl on the store, is
// read back from GET /api/v1/audit-log, and the chain verifies.

TEST_F(EnginectlTest, EveryOperatorActionIsReadBackFromTheAuditLog) {
    const std::string org = "audit-org";
    const std::string key =
        server_->create_key(org, "live", {"runs:write", "runs:read", "engines:admin"});
    auto client = server_->client();
    const std::string key_id(call(client, "GET", "/api/v1/me", key).body.at("key_id").as_string());
    const auto expect_status = [&](const std::string& method, const std::string& target,
                                   const std::string& body, int status) {
        const ApiResponse answer = call(client, method, target, key, body);
        EXPECT_EQ(answer.status, status) << method << " " << target << ": " << answer.raw.body;
        return answer.body;
    };
    expect_status("POST", "/api/v1/engines",
                  R"({"slug":"audited","label":"Audited","engine_type":"placement"})", 201);
    const auto config = expect_status("GET", "/api/v1/engines/audited/config", "", 200);
    expect_status("PUT", "/api/v1/engines/audited/config",
                  boost::json::serialize(boost::json::object{{"config", config.at("config")}}),
                  200);
    expect_status("POST", "/api/v1/engines/audited/versions", "{}", 201);
    expect_status("POST", "/api/v1/engines/audited/archive", "", 200);
    expect_status("POST", "/api/v1/engines/audited/unarchive", "", 200);
    const auto endpoint = expect_status("POST", "/api/v1/webhooks",
                                        R"({"url":"https://hooks.example.com/audit"})", 201);
    const std::string endpoint_id(endpoint.at("id").as_string());
    expect_status("PATCH", "/api/v1/webhooks/" + endpoint_id, R"({"description":"orders"})", 200);
    expect_status("POST", "/api/v1/webhooks/" + endpoint_id + "/rotate-secret", "", 200);
    expect_status("DELETE", "/api/v1/webhooks/" + endpoint_id, "", 200);
    expect_status("POST", "/api/v1/webhooks/signing-secret/rotate", "", 200);
    expect_status("POST", "/api/v1/environments", R"({"slug":"staging"})", 201);
    expect_status("PATCH", "/api/v1/environments/staging", R"({"pinned_engine_version":"1.x"})",
                  200);
    expect_status("DELETE", "/api/v1/environments/staging", "", 200);
    // Refused changes: each answered with its error, none recorded.
    expect_status("POST", "/api/v1/engines",
                  R"({"slug":"audited","label":"Again","engine_type":"placement"})", 409);
    expect_status("POST", "/api/v1/engines/audited/versions",
                  R"({"config_hash":")" + std::string(64, '0') + R"("})", 412);
    expect_status("PATCH", "/api/v1/webhooks/we_absent", R"({"description":"x"})", 404);
    expect_status("DELETE", "/api/v1/environments/live", "", 409);

    // The same store, written directly by enginectl as the operator.
    const std::string data_dir = server_->data_dir().string();
    const auto store_command = [&](std::vector<std::string> args) {
        args.insert(args.end(), {"--data-dir", data_dir});
        const CliResult result = enginectl(args);
        EXPECT_SUCCEEDS(result);
        return result;
    };
    const CliResult created =
        store_command({"keys", "create", "--org", org, "--env", "test", "--json"});
    const std::string cli_key_id(boost::json::parse(created.out).at("id").as_string());
    store_command({"keys", "revoke", cli_key_id});
    EXPECT_EQ(enginectl({"keys", "revoke", cli_key_id, "--data-dir", data_dir}).exit_code, 1)
        << "revoked already: refused, and not recorded";
    write_text(work_dir_ / "pool.json", demo_pool_json());
    store_command({"pools", "import", "--org", org, "--pool", "carriers:all",
                   (work_dir_ / "pool.json").string()});
    store_command({"environments", "create", "--org", org, "qa"});
    store_command({"environments", "pin", "--org", org, "--version", "1.x", "qa"});
    store_command({"environments", "delete", "--org", org, "qa"});

    // Read back newest first, two pages of the API's cursor.
    std::vector<boost::json::object> records;
    std::string target = "/api/v1/audit-log?limit=12";
    for (int page = 0; page < 5 && !target.empty(); ++page) {
        const auto listed = expect_status("GET", target, "", 200);
        for (const auto& record : listed.at("data").as_array())
            records.push_back(record.as_object());
        target = listed.at("next_cursor").is_string()
                     ? "/api/v1/audit-log?limit=12&cursor=" +
                           std::string(listed.at("next_cursor").as_string())
                     : "";
    }
    std::reverse(records.begin(), records.end());
    const std::vector<std::pair<std::string, std::string>> expected = {
        {"engine.create", "audited"},
        {"config.update", "audited"},
        {"version.publish", "audited@1.0"},
        {"engine.archive", "audited"},
        {"engine.unarchive", "audited"},
        {"webhook_endpoint.create", endpoint_id},
        {"webhook_endpoint.update", endpoint_id},
        {"webhook_endpoint.rotate_secret", endpoint_id},
        {"webhook_endpoint.delete", endpoint_id},
        {"signing_secret.rotate", "environment:live"},
        {"environment.create", "staging"},
        {"environment.update", "staging"},
        {"environment.delete", "staging"},
        {"key.create", cli_key_id},
        {"key.revoke", cli_key_id},
        {"pool.import", "carriers:all"},
        {"environment.create", "qa"},
        {"environment.update", "qa"},
        {"environment.delete", "qa"},
    };
    ASSERT_EQ(records.size(), expected.size());
    for (std::size_t i = 0; i < expected.size(); ++i) {
        const auto& record = records[i];
        EXPECT_EQ(record.at("action").as_string(), expected[i].first) << i;
        EXPECT_EQ(record.at("target").as_string(), expected[i].second) << i;
        EXPECT_EQ(record.at("position").as_int64(), static_cast<int64_t>(i) + 1);
        const std::string actor(record.at("actor").as_string());
        if (i < 13) {
            EXPECT_EQ(actor, key_id) << i;
        } else {
            EXPECT_TRUE(actor.starts_with("cli:")) << actor;
        }
        EXPECT_EQ(record.at("previous_mac"),
                  i == 0 ? boost::json::value(nullptr) : records[i - 1].at("mac"));
    }
    // The configuration PUT back unchanged: before and after are the same hash, the engine's.
    EXPECT_EQ(records[1].at("before_hash"), config.at("config_hash"));
    EXPECT_EQ(records[1].at("after_hash"), config.at("config_hash"));
    EXPECT_TRUE(records[0].at("before_hash").is_null()) << "a creation has no before";

    // Other organisations see none of it; a key without engines:admin may not read it.
    const std::string other =
        server_->create_key("audit-other", "live", {"runs:read", "engines:admin"});
    EXPECT_EQ(call(client, "GET", "/api/v1/audit-log", other).body.at("data").as_array().size(),
              0u);
    const std::string reader = server_->create_key(org, "live", {"runs:read"});
    EXPECT_EQ(call(client, "GET", "/api/v1/audit-log", reader).status, 403);
    EXPECT_EQ(call(client, "GET", "/api/v1/audit-log?cursor=bogus", key).status, 400);
    EXPECT_EQ(call(client, "GET", "/api/v1/audit-log?limit=201", key).status, 400);
    EXPECT_EQ(call(client, "GET", "/api/v1/audit-log?limit=200", key).status, 200);

    const CliResult verified =
        enginectl({"audit", "verify", "--data-dir", data_dir, "--org", org, "--head",
                   std::string(records.back().at("mac").as_string())});
    EXPECT_SUCCEEDS(verified);
    EXPECT_NE(verified.out.find("audit-org: intact, 19 record(s)"), std::string::npos)
        << verified.out;
    const CliResult listed = enginectl({"audit", "list", "--data-dir", data_dir, "--org", org});
    EXPECT_SUCCEEDS(listed);
    EXPECT_NE(listed.out.find("engine.unarchive"), std::string::npos) << listed.out;

    // The key engined generated at its first start is its owner's only.
    const auto key_file = audit::default_key_file(server_->data_dir());
    EXPECT_EQ(std::filesystem::status(key_file).permissions() & std::filesystem::perms::all,
              std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
}

TEST_F(EnginectlTest, ArchivingAsksForConfirmationAndCanBeUndone) {
    ASSERT_EQ(enginectl({"engines", "copy", "default", "--slug", "cli-archived"}).exit_code, 0);
    const CliResult refused = enginectl({"engines", "archive", "cli-archived"});
    EXPECT_NE(refused.exit_code, 0);
    EXPECT_NE(refused.err.find("pass --yes"), std::string::npos) << refused.err;
    auto client = server_->client();
    EXPECT_EQ(call(client, "GET", "/api/v1/engines/cli-archived", key_).body.at("status"), "active")
        << "refused without confirmation: nothing changed";

    const CliResult archived = enginectl({"engines", "archive", "cli-archived", "--yes"});
    EXPECT_SUCCEEDS(archived);
    EXPECT_NE(archived.out.find("enginectl engines unarchive cli-archived"), std::string::npos);
    const std::string body = read_text(golden_dir() / "auto_only_ny.input.json");
    EXPECT_EQ(call(client, "POST", "/api/v1/engines/cli-archived/runs", key_, body).status, 409);

    const CliResult unarchived = enginectl({"engines", "unarchive", "cli-archived"});
    EXPECT_SUCCEEDS(unarchived);
    EXPECT_EQ(call(client, "GET", "/api/v1/engines/cli-archived", key_).body.at("status"),
              "active");
    EXPECT_EQ(call(client, "POST", "/api/v1/engines/cli-archived/runs", key_, body).status, 202);
}

// `enginectl audit verify` against a chain written by the audit trail, then tampered with from
// outside: SQL on the SQLite file, or on PostgreSQL, after dropping the append-only triggers.
class AuditVerifyTest : public ::testing::TestWithParam<std::string> {
protected:
    void SetUp() override {
        std::filesystem::create_directories(work_dir_);
        if (GetParam() == "postgresql") {
            if (postgres_.url().empty()) GTEST_SKIP() << kPostgresSkipReason;
            store_url_ = postgres_.url();
            store_ = std::make_unique<store::PostgresStore>(store::PostgresOptions{store_url_});
        } else {
            store_url_ = "sqlite:" + (work_dir_ / "engined.sqlite3").string();
            store_ = std::make_unique<store::SqliteStore>(
                store::SqliteOptions{(work_dir_ / "engined.sqlite3").string()});
        }
        key_ = audit::read_or_create_key(key_file_);
        audit::AuditTrail trail(*store_, key_);
        // The head each append logs, as an operator would keep it from the server's log.
        log::set_sink([this](std::string_view line) {
            const auto fields = boost::json::parse(line).as_object();
            if (fields.at("msg") == "audit record appended")
                logged_heads_.emplace_back(fields.at("head_mac").as_string());
        });
        for (const char* action : {"engine.create", "config.update", "version.publish",
                                   "engine.archive", "engine.unarchive"}) {
            trail.record({"acme", "key_0123", action, "quotes", "", ""});
        }
        log::set_sink({});
        chain_ = store_->audit_chain("acme");
        ASSERT_EQ(chain_.size(), 5u);
        ASSERT_EQ(logged_heads_.size(), 5u);
        EXPECT_EQ(logged_heads_.back(), chain_.back().mac) << "the log carries the newest MAC";
    }
    void TearDown() override { std::filesystem::remove_all(work_dir_); }

    // SQL from outside engined, past the triggers (as a DBA could).
    void tamper(const std::string& sql) {
        if (GetParam() == "postgresql") {
            postgres_exec(store_url_, "DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log");
            postgres_exec(store_url_, sql);
            return;
        }
        sqlite3* raw = nullptr;
        ASSERT_EQ(sqlite3_open((work_dir_ / "engined.sqlite3").c_str(), &raw), SQLITE_OK);
        char* error = nullptr;
        const std::string all =
            "DROP TRIGGER IF EXISTS audit_log_no_update; "
            "DROP TRIGGER IF EXISTS audit_log_no_delete; " +
            sql;
        EXPECT_EQ(sqlite3_exec(raw, all.c_str(), nullptr, nullptr, &error), SQLITE_OK)
            << (error ? error : "");
        sqlite3_free(error);
        sqlite3_close(raw);
    }

    CliResult verify(std::vector<std::string> extra = {}) {
        std::vector<std::string> args{"audit",    "verify",     "--store",
                                      store_url_, "--key-file", key_file_.string()};
        args.insert(args.end(), extra.begin(), extra.end());
        return run_program("enginectl", args, {}, work_dir_);
    }

    const std::filesystem::path work_dir_ = fresh_temp_dir("audit-verify");
    const std::filesystem::path key_file_ = work_dir_ / "audit.key";
    PostgresTestDatabase postgres_;
    std::string store_url_;
    std::unique_ptr<store::Store> store_;
    std::string key_;
    std::vector<store::AuditRecord> chain_;
    std::vector<std::string> logged_heads_;
};

TEST_P(AuditVerifyTest, AnIntactChainVerifies) {
    const CliResult verified = verify({"--head", logged_heads_.back()});
    EXPECT_EQ(verified.exit_code, 0) << verified.out << verified.err;
    EXPECT_NE(verified.out.find("acme: intact, 5 record(s)"), std::string::npos) << verified.out;
    const CliResult json = verify({"--json"});
    EXPECT_EQ(boost::json::parse(json.out).at("intact"), true) << json.out;
}

TEST_P(AuditVerifyTest, EditingAnyFieldOfARecordIsNamed) {
    tamper("UPDATE audit_log SET target = 'other' WHERE id = '" + chain_[2].id + "'");
    const CliResult verified = verify();
    EXPECT_EQ(verified.exit_code, 1) << verified.out << verified.err;
    EXPECT_NE(
        verified.out.find("record " + chain_[2].id + " (position 3, version.publish) was edited"),
        std::string::npos)
        << verified.out;
}

TEST_P(AuditVerifyTest, ADeletedMiddleRecordIsNamed) {
    tamper("DELETE FROM audit_log WHERE id = '" + chain_[1].id + "'");
    const CliResult verified = verify();
    EXPECT_EQ(verified.exit_code, 1) << verified.out << verified.err;
    EXPECT_NE(
        verified.out.find("record " + chain_[2].id + " is at position 3 where 2 was expected"),
        std::string::npos)
        << verified.out;
}

TEST_P(AuditVerifyTest, AChainRecomputedWithoutTheKeyIsDetected) {
    // The forger edits record 3 and re-seals it and every later record with a key of their own.
    const std::string forged_key(64, 'f');
    std::vector<store::AuditRecord> forged = chain_;
    forged[2].target = "other";
    for (std::size_t i = 2; i < forged.size(); ++i) {
        forged[i].previous_mac = forged[i - 1].mac;
        forged[i].mac = audit::seal(forged_key, forged[i]);
        tamper("UPDATE audit_log SET target = '" + forged[i].target + "', previous_mac = '" +
               forged[i].previous_mac + "', mac = '" + forged[i].mac + "' WHERE id = '" +
               forged[i].id + "'");
    }
    const CliResult verified = verify();
    EXPECT_EQ(verified.exit_code, 1) << verified.out << verified.err;
    EXPECT_NE(verified.out.find("record " + chain_[2].id +
                                " (position 3, version.publish) and "
                                "the 2 after it do not verify with this key"),
              std::string::npos)
        << verified.out;
    // The forger's own key verifies their chain: the MACs are what the key proves.
    write_text(work_dir_ / "forged.key", forged_key);
    const CliResult with_forged_key =
        run_program("enginectl",
                    {"audit", "verify", "--store", store_url_, "--key-file",
                     (work_dir_ / "forged.key").string()},
                    {}, work_dir_);
    EXPECT_EQ(with_forged_key.exit_code, 1) << "records 1 and 2 were sealed with the real key";
}

TEST_P(AuditVerifyTest, DeletingTheNewestRecordsIsDetectedGivenTheLastLoggedHead) {
    tamper("DELETE FROM audit_log WHERE position >= 4");
    const CliResult without_head = verify();
    EXPECT_EQ(without_head.exit_code, 0)
        << "a shorter chain is consistent in itself: only the logged head shows the loss";
    const CliResult with_head = verify({"--org", "acme", "--head", logged_heads_.back()});
    EXPECT_EQ(with_head.exit_code, 1) << with_head.out << with_head.err;
    EXPECT_NE(
        with_head.out.find("the given head MAC is not in the chain, which ends at position 3"),
        std::string::npos)
        << with_head.out;
    // An older logged head is still in the chain: nothing after it is known to be missing.
    EXPECT_EQ(verify({"--org", "acme", "--head", logged_heads_[2]}).exit_code, 0);
}

INSTANTIATE_TEST_SUITE_P(Backends, AuditVerifyTest, ::testing::Values("sqlite", "postgresql"),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                             return info.param;
                         });

// --- engined's own command line.

TEST_F(EnginectlTest, EnginedAnswersVersionAndHelpAndRefusesUnknownFlags) {
    const CliResult version = run_program("engined", {"--version"}, {}, work_dir_);
    EXPECT_EQ(version.exit_code, 0) << version.err;
    EXPECT_EQ(version.out.rfind("engined ", 0), 0u) << version.out;
    EXPECT_EQ(line_count(version.out), 1u) << version.out;
    const CliResult help = run_program("engined", {"--data-dir", "x", "--help"}, {}, work_dir_);
    EXPECT_EQ(help.exit_code, 0) << help.err;
    EXPECT_EQ(help.out.rfind("usage: engined [options]\n", 0), 0u) << help.out;
    EXPECT_NE(help.out.find("  --config FILE "), std::string::npos) << help.out;
    EXPECT_NE(help.out.find("  --metrics-listen VALUE"), std::string::npos) << help.out;
    EXPECT_EQ(help.err, "");
    const CliResult unknown = run_program("engined", {"--listne", "127.0.0.1:0"}, {}, work_dir_);
    EXPECT_EQ(unknown.exit_code, 2);
    EXPECT_EQ(unknown.err.rfind("engined: unknown option --listne\nusage: engined ", 0), 0u)
        << unknown.err;
    EXPECT_LE(line_count(unknown.err), 3u) << unknown.err;
    const CliResult backup_help = run_program("engined", {"backup", "--help"}, {}, work_dir_);
    EXPECT_EQ(backup_help.exit_code, 0) << backup_help.err;
    EXPECT_EQ(backup_help.out.rfind("usage: engined backup --data-dir DIR --to FILE", 0), 0u)
        << backup_help.out;
}

TEST_F(EnginectlTest, PlanDiffPreviewAndAGatedPublishBeforeAChangeReachesAVersion) {
    EXPECT_SUCCEEDS(enginectl(
        {"engines", "create", "--slug", "cli-safe", "--label", "CLI safe", "--type", "placement"}));
    EXPECT_SUCCEEDS(enginectl({"versions", "publish", "cli-safe"}));
    const std::string fixture = (golden_dir() / "brokerage_tx_multicarrier.input.json").string();
    for (int i = 0; i < 3; ++i) {
        EXPECT_SUCCEEDS(enginectl({"runs", "submit", "--engine", "cli-safe", "--wait", fixture}));
    }

    // The change under review: weigh carrier quality alone.
    auto config = boost::json::parse(enginectl({"config", "get", "cli-safe"}).out).as_object();
    config["lua_source"] =
        std::string(config.at("lua_source").as_string()) +
        "\nfunction weights(bucket, input)\n  return {pricing_competitiveness = 0, "
        "coverage_completeness = 0, carrier_quality = 1, simplicity = 0}\nend\n";
    const auto config_file = work_dir_ / "quality.json";
    write_text(config_file, boost::json::serialize(config));

    const CliResult previewed = enginectl(
        {"config", "preview", "cli-safe", "--runs", "3", "--config", config_file.string()});
    EXPECT_SUCCEEDS(previewed);
    EXPECT_NE(previewed.out.find("previewed 3 runs of cli-safe"), std::string::npos)
        << previewed.out;
    EXPECT_NE(previewed.out.find("top-1 changed: 3 (share 1)"), std::string::npos) << previewed.out;
    EXPECT_NE(previewed.out.find("TOP-1 CHANGED"), std::string::npos) << previewed.out;
    const CliResult unchanged = enginectl({"config", "preview", "cli-safe"});
    EXPECT_SUCCEEDS(unchanged);
    EXPECT_NE(unchanged.out.find("no run changed"), std::string::npos) << unchanged.out;

    EXPECT_SUCCEEDS(enginectl({"config", "put", "cli-safe", config_file.string()}));
    const CliResult plan = enginectl({"versions", "publish", "cli-safe", "--dry-run"});
    EXPECT_SUCCEEDS(plan);
    EXPECT_NE(plan.out.find("would publish cli-safe 1.1 (bump: minor)"), std::string::npos)
        << plan.out;
    EXPECT_NE(plan.out.find("[lua] /lua_source changed"), std::string::npos) << plan.out;
    EXPECT_NE(plan.out.find("    + function weights(bucket, input)"), std::string::npos)
        << plan.out;
    const CliResult diff = enginectl({"config", "diff", "cli-safe", "1.0"});
    EXPECT_SUCCEEDS(diff);
    EXPECT_NE(diff.out.find("[lua] /lua_source changed"), std::string::npos) << diff.out;
    // Planning minted nothing.
    const CliResult listed = enginectl({"versions", "list", "cli-safe", "--json"});
    EXPECT_SUCCEEDS(listed);
    const boost::json::value listing = parsed_json(listed);
    const boost::json::array& versions = listing.at("data").as_array();
    ASSERT_EQ(versions.size(), 1u) << listed.out;
    EXPECT_EQ(versions.at(0).at("version"), "1.0") << listed.out;

    const CliResult stale = enginectl({"versions", "publish", "cli-safe", "--config-hash", "0000"});
    EXPECT_EQ(stale.exit_code, 1) << stale.out;
    EXPECT_NE(stale.err.find("precondition_failed"), std::string::npos) << stale.err;
    const CliResult gated =
        enginectl({"versions", "publish", "cli-safe", "--max-top1-change", "0.5"});
    EXPECT_EQ(gated.exit_code, 1) << gated.out;
    EXPECT_NE(gated.err.find("preview_gate_exceeded"), std::string::npos) << gated.err;
    const CliResult forced =
        enginectl({"versions", "publish", "cli-safe", "--max-top1-change", "0.5", "--force"});
    EXPECT_SUCCEEDS(forced);
    EXPECT_EQ(forced.out, "published cli-safe 1.1 (bump: minor)\n");
}

}  // namespace
}  // namespace engined::testing
