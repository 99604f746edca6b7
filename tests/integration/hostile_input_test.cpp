// Hostile input over HTTP, end to end: numbers beyond a double, bytes after the body, versions
// spelled with leading zeros, long labels in characters, scorecards that raise huge or NUL-laden
// errors or overflow the engine's arithmetic; and the files the server leaves on disk. After each
// attack GET /health still answers.
#include "test_server.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <string>

namespace engined::testing {
namespace {

class HostileInputTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        server_ = new TestServer();
        admin_ = server_->create_key("acme", "live", {"runs:write", "runs:read", "engines:admin"});
    }
    static void TearDownTestSuite() {
        delete server_;
        server_ = nullptr;
    }

    ApiResponse api(const std::string& method, const std::string& target,
                    const std::string& body = {}) {
        return call(client_, method, target, admin_, body);
    }

    // A placement engine `slug` of acme whose scorecard is `lua_source`.
    void create_engine_with_scorecard(const std::string& slug, const std::string& lua_source) {
        const ApiResponse created =
            api("POST", "/api/v1/engines",
                R"({"slug":")" + slug + R"(","label":"Hostile","engine_type":"placement"})");
        ASSERT_EQ(created.status, 201) << created.raw.body;
        const ApiResponse current = api("GET", "/api/v1/engines/" + slug + "/config");
        ASSERT_EQ(current.status, 200) << current.raw.body;
        boost::json::object config = current.body.at("config").as_object();
        config["lua_source"] = lua_source;
        const ApiResponse put =
            api("PUT", "/api/v1/engines/" + slug + "/config",
                boost::json::serialize(boost::json::object{{"config", config}}));
        ASSERT_EQ(put.status, 200) << put.raw.body;
    }

    // Submits the New York auto fixture (with `premium` as the first offering's annual premium when
    // given) to `slug` and waits for the run to finish.
    boost::json::object run_fixture(const std::string& slug, const std::string& premium = {}) {
        std::string body = read_text(golden_dir() / "auto_only_ny.input.json");
        if (!premium.empty()) {
            const std::string field = "\"line_premium_annual\": 1445";
            body.replace(body.find(field), field.size(), "\"line_premium_annual\": " + premium);
        }
        const ApiResponse accepted = api("POST", "/api/v1/engines/" + slug + "/runs", body);
        EXPECT_EQ(accepted.status, 202) << accepted.raw.body;
        if (accepted.status != 202) return {};
        return wait_for_run(client_, admin_, std::string(accepted.body.at("run_id").as_string()));
    }

    static TestServer* server_;
    static std::string admin_;
    http::Client client_ = server_->client();
};

TestServer* HostileInputTest::server_ = nullptr;
std::string HostileInputTest::admin_;

TEST_F(HostileInputTest, ANumberBeyondADoubleIsRefusedAtSubmitWithItsPointer) {
    std::string body = read_text(golden_dir() / "auto_only_ny.input.json");
    const std::string field = "\"line_premium_annual\": 1445";
    body.replace(body.find(field), field.size(), "\"line_premium_annual\": 1e309");
    const ApiResponse refused = api("POST", "/api/v1/engines/default/runs", body);
    ASSERT_EQ(refused.status, 400) << refused.raw.body;
    const auto& error = refused.body.at("error");
    EXPECT_EQ(error.at("code"), "invalid_request");
    EXPECT_EQ(error.at("details").at(0).at("pointer"),
              "/offerings/0/attributes/line_premium_annual");
    expect_health_answers(server_->port());
}

TEST_F(HostileInputTest, TheLargestDoubleIsAcceptedAndAnOverflowInTheRunIsANamedRunError) {
    // Accepted at submit; the engine's sums then overflow, which fails the run by name.
    const boost::json::object run = run_fixture("default", "1.7976931348623157e308");
    ASSERT_FALSE(run.empty());
    EXPECT_EQ(run.at("status"), "failed") << boost::json::serialize(run);
    EXPECT_EQ(run.at("error").at("code"), "non_finite_number") << boost::json::serialize(run);
    expect_health_answers(server_->port());
}

TEST_F(HostileInputTest, WeightsNearTheLargestDoubleFailTheRunAsNonFiniteNumber) {
    create_engine_with_scorecard("huge-weights", R"(
function weights(bucket, input)
  return {pricing_competitiveness = 1e308, coverage_completeness = 1e308, carrier_quality = 1e308, simplicity = 1e308}
end)");
    const boost::json::object run = run_fixture("huge-weights");
    ASSERT_FALSE(run.empty());
    EXPECT_EQ(run.at("status"), "failed") << boost::json::serialize(run);
    EXPECT_EQ(run.at("error").at("code"), "non_finite_number") << boost::json::serialize(run);
    expect_health_answers(server_->port());
}

TEST_F(HostileInputTest, BytesAfterTheJsonBodyAreRefused) {
    const std::string body = read_text(golden_dir() / "auto_only_ny.input.json");
    for (const std::string& tail :
         {std::string(1, '\0'), std::string("\0{}", 3), std::string("x")}) {
        const ApiResponse refused = api("POST", "/api/v1/engines/default/runs", body + tail);
        EXPECT_EQ(refused.status, 400) << refused.raw.body;
        EXPECT_EQ(refused.body.at("error").at("code"), "invalid_request");
        expect_health_answers(server_->port());
    }
    EXPECT_EQ(api("POST", "/api/v1/engines/default/runs", body + " \n").status, 202);
}

TEST_F(HostileInputTest, VersionsWithLeadingZerosAreRefusedInPinsAndPaths) {
    const std::string body = read_text(golden_dir() / "auto_only_ny.input.json");
    for (const char* pin : {"01.0", "1.00", "0000000001.0", "01.x"}) {
        std::string pinned = body;
        pinned.insert(pinned.find('{') + 1, "\"engine_version\":\"" + std::string(pin) + "\",");
        const ApiResponse refused = api("POST", "/api/v1/engines/default/runs", pinned);
        EXPECT_EQ(refused.status, 400) << pin << ": " << refused.raw.body;
        EXPECT_EQ(refused.body.at("error").at("details").at(0).at("pointer"), "/engine_version")
            << pin;
        for (const char* suffix : {"", "/bundle"}) {
            const ApiResponse path =
                api("GET", "/api/v1/engines/default/versions/" + std::string(pin) + suffix);
            EXPECT_EQ(path.status, 400) << pin << suffix << ": " << path.raw.body;
        }
        expect_health_answers(server_->port());
    }
    std::string exact = body;
    exact.insert(exact.find('{') + 1, R"("engine_version":"1.0",)");
    EXPECT_EQ(api("POST", "/api/v1/engines/default/runs", exact).status, 202);
    EXPECT_EQ(api("GET", "/api/v1/engines/default/versions/1.0").status, 200);
}

TEST_F(HostileInputTest, LabelsCountCharactersNotBytes) {
    std::string at_limit;
    for (int i = 0; i < 100; ++i) at_limit += "\xC3\xA9";  // "é": 100 characters, 200 bytes
    const ApiResponse accepted =
        api("POST", "/api/v1/engines",
            R"({"slug":"label-chars","label":")" + at_limit + R"(","engine_type":"placement"})");
    ASSERT_EQ(accepted.status, 201) << accepted.raw.body;
    EXPECT_EQ(accepted.body.at("label").as_string(), at_limit);
    const ApiResponse refused = api("POST", "/api/v1/engines",
                                    R"({"slug":"label-past","label":")" + at_limit + "\xC3\xA9" +
                                        R"(","engine_type":"placement"})");
    EXPECT_EQ(refused.status, 400) << refused.raw.body;
    EXPECT_EQ(refused.body.at("error").at("details").at(0).at("pointer"), "/label");

    std::string changelog;
    for (int i = 0; i < 2000; ++i) changelog += "\xC3\xA9";  // 2000 characters, 4000 bytes
    const ApiResponse too_long = api("POST", "/api/v1/engines/label-chars/versions",
                                     R"({"changelog":")" + changelog + "\xC3\xA9" + R"("})");
    EXPECT_EQ(too_long.status, 400) << too_long.raw.body;
    EXPECT_EQ(too_long.body.at("error").at("details").at(0).at("pointer"), "/changelog");
    const ApiResponse published = api("POST", "/api/v1/engines/label-chars/versions",
                                      R"({"changelog":")" + changelog + R"("})");
    EXPECT_EQ(published.status, 201) << published.raw.body.substr(0, 500);
    expect_health_answers(server_->port());
}

TEST_F(HostileInputTest, AHugeLuaErrorIsCutInTheRunAndItsPage) {
    create_engine_with_scorecard("huge-error", R"(
function weights(bucket, input)
  -- Validation calls weights() with an empty input: only a run fails.
  if next(input) == nil then return nil end
  error(string.rep("x", 14000000), 0)
end)");
    const boost::json::object run = run_fixture("huge-error");
    ASSERT_FALSE(run.empty());
    EXPECT_EQ(run.at("status"), "failed");
    EXPECT_EQ(run.at("error").at("code"), "lua_error");
    // The host hands the plugin 4096 bytes of the script's message and the marker.
    EXPECT_EQ(run.at("error").at("message").as_string(),
              "scorecard function weights: " + std::string(4096, 'x') +
                  "\xE2\x80\xA6[truncated 13995904 bytes]");
    const ApiResponse page = api("GET", "/api/v1/engines/huge-error/runs?limit=10");
    ASSERT_EQ(page.status, 200);
    EXPECT_LT(page.raw.body.size(), 64u * 1024u);
    expect_health_answers(server_->port());
}

TEST_F(HostileInputTest, AnErrorMessageKeepsTheTextAfterAnEmbeddedNul) {
    create_engine_with_scorecard("nul-error", R"(
function weights(bucket, input)
  -- Validation calls weights() with an empty input: only a run fails.
  if next(input) == nil then return nil end
  error("before\0after", 0)
end)");
    const boost::json::object run = run_fixture("nul-error");
    ASSERT_FALSE(run.empty());
    EXPECT_EQ(run.at("error").at("message").as_string(),
              std::string("scorecard function weights: before\0after", 40));
    expect_health_answers(server_->port());
}

TEST_F(HostileInputTest, ValidateCutsAHugeScorecardErrorAndKeepsTextAfterANul) {
    const ApiResponse current = api("GET", "/api/v1/engines/default/config");
    ASSERT_EQ(current.status, 200) << current.raw.body;
    boost::json::object config = current.body.at("config").as_object();
    auto verdict_for = [&](const std::string& lua_source) {
        config["lua_source"] = lua_source;
        const ApiResponse validated =
            api("POST", "/api/v1/engines/default/config/validate",
                boost::json::serialize(boost::json::object{{"config", config}}));
        EXPECT_EQ(validated.status, 200) << validated.raw.body.substr(0, 500);
        for (const auto& error : validated.body.at("errors").as_array()) {
            if (error.at("path") == "/lua_source")
                return std::string(error.at("message").as_string());
        }
        return std::string("no /lua_source error");
    };
    // At the cap (8192 bytes) the message is whole; past it, cut with the marker.
    EXPECT_EQ(verdict_for("error(string.rep('x', 8192), 0)"), std::string(8192, 'x'));
    EXPECT_EQ(verdict_for("error(string.rep('x', 14000000), 0)"),
              std::string(8192, 'x') + "\xE2\x80\xA6[truncated 13991808 bytes]");
    EXPECT_EQ(verdict_for(R"(error("before\0after", 0))"), std::string("before\0after", 12));
    expect_health_answers(server_->port());
}

mode_t permission_bits(const std::filesystem::path& path) {
    struct stat status {};
    if (::stat(path.c_str(), &status) != 0) throw std::runtime_error("stat " + path.string());
    return status.st_mode & 07777;
}

TEST(FilesAtRest, TheDataDirectoryIsOwnerOnlyAndTheDatabaseFilesToo) {
    const mode_t previous = ::umask(022);
    const std::filesystem::path parent = fresh_temp_dir("engined-modes");
    const std::filesystem::path data_dir = parent / "data";
    {
        app::Config config;
        config.listen = "127.0.0.1:0";
        config.data_dir = data_dir;
        config.resources_dir = ENGINED_SOURCE_DIR;
        config.plugins_dir = std::filesystem::path(ENGINED_BINARY_DIR) / "plugins";
        app::App app(config);
        app.start();
        http::Client client("127.0.0.1", app.port());
        EXPECT_EQ(call(client, "GET", "/health", "").status, 200);
        EXPECT_EQ(permission_bits(data_dir), 0700u);
        for (const char* file : {"engined.sqlite3", "engined.sqlite3-wal", "engined.sqlite3-shm"}) {
            EXPECT_EQ(permission_bits(data_dir / file), 0600u) << file;
        }
    }
    ::umask(previous);
    std::filesystem::remove_all(parent);
}

}  // namespace
}  // namespace engined::testing
