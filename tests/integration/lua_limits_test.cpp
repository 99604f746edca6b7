// Hostile scorecards over HTTP: a configuration whose Lua spends its time inside one C library
// call (a backtracking pattern, string.rep of an empty string, a huge table.move) is stopped by
// the run's Lua budget — in a run and in config/validate — while other runs complete and the
// server keeps answering; a scorecard returning bytes that are not UTF-8 fails as a Lua error.
#include "test_server.hpp"

#include <gtest/gtest.h>

#include <future>
#include <string>
#include <vector>

namespace engined::testing {
namespace {

struct Attack {
    const char* name;
    const char* lua;  // a Lua statement
};

const Attack kAttacks[] = {
    {"backtracking pattern", "local found = ('a'):rep(60000):find(('a*'):rep(20) .. 'b')"},
    {"rep of an empty string", "local empty = string.rep('', 1e9)"},
    {"huge table.move", "local moved = table.move({}, 1, 1e8, 2)"},
};

class LuaLimitsTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        server_ = new TestServer();
        admin_ = server_->create_key("acme", "live", {"runs:write", "runs:read", "engines:admin"});
        http::Client client = server_->client();
        const ApiResponse created =
            call(client, "POST", "/api/v1/engines", admin_,
                 boost::json::serialize(boost::json::object{{"slug", "hostile"},
                                                            {"label", "Hostile scorecard"},
                                                            {"engine_type", "placement"}}));
        ASSERT_EQ(created.status, 201) << created.raw.body;
    }
    static void TearDownTestSuite() {
        delete server_;
        server_ = nullptr;
    }

    ApiResponse api(const std::string& method, const std::string& target,
                    const boost::json::value& body = nullptr) {
        return call(client_, method, target, admin_,
                    body.is_null() ? std::string() : boost::json::serialize(body));
    }

    boost::json::object config_with(const std::string& extra_lua) {
        const ApiResponse response = api("GET", "/api/v1/engines/hostile/config");
        EXPECT_EQ(response.status, 200) << response.raw.body;
        boost::json::object config = response.body.at("config").as_object();
        config["lua_source"] =
            std::string(config.at("lua_source").as_string()) + "\n" + extra_lua + "\n";
        return config;
    }

    // The scorecard's weights() does `statement` first; self_test() is left out, so that the
    // configuration can be stored and the statement meets a run.
    void put_weights_doing(const std::string& statement) {
        const std::string lua =
            "function self_test() return true end\n"
            "local weights_before = weights\n"
            "function weights(bucket, input)\n"
            // Validation calls weights() with an empty input; only a run's input reaches the statement.
            "  if next(input) ~= nil then\n    " +
            statement +
            "\n  end\n"
            "  return weights_before(bucket, input)\nend";
        const ApiResponse response = api("PUT", "/api/v1/engines/hostile/config",
                                         boost::json::object{{"config", config_with(lua)}});
        ASSERT_EQ(response.status, 200) << response.raw.body;
    }

    std::string submit(const std::string& slug) {
        const auto body =
            boost::json::parse(read_text(golden_dir() / "brokerage_tx_multicarrier.input.json"));
        const ApiResponse accepted = api("POST", "/api/v1/engines/" + slug + "/runs", body);
        EXPECT_EQ(accepted.status, 202) << accepted.raw.body;
        return accepted.status == 202 ? std::string(accepted.body.at("run_id").as_string())
                                      : std::string();
    }

    static TestServer* server_;
    static std::string admin_;
    http::Client client_ = server_->client();
};

TestServer* LuaLimitsTest::server_ = nullptr;
std::string LuaLimitsTest::admin_;

TEST_F(LuaLimitsTest,
       AScorecardStuckInACLibraryCallFailsItsRunWithTheBudgetErrorAndOthersComplete) {
    for (const Attack& attack : kAttacks) {
        SCOPED_TRACE(attack.name);
        put_weights_doing(attack.lua);
        const std::string hostile = submit("hostile");
        const std::string ordinary = submit("default");
        ASSERT_FALSE(hostile.empty());
        ASSERT_FALSE(ordinary.empty());

        const boost::json::object failed = wait_for_run(client_, admin_, hostile);
        ASSERT_EQ(failed.at("status").as_string(), "failed") << boost::json::serialize(failed);
        EXPECT_EQ(failed.at("error").at("code").as_string(), "lua_budget_exceeded")
            << boost::json::serialize(failed);
        EXPECT_EQ(failed.at("error_details").at(0).at("function").as_string(), "weights");

        const boost::json::object completed = wait_for_run(client_, admin_, ordinary);
        EXPECT_EQ(completed.at("status").as_string(), "completed")
            << boost::json::serialize(completed);
        expect_health_answers(server_->port());
    }
}

TEST_F(LuaLimitsTest, ValidatingAScorecardStuckInACLibraryCallAnswersWithTheBudgetError) {
    for (const Attack& attack : kAttacks) {
        SCOPED_TRACE(attack.name);
        const boost::json::object config = config_with(std::string("function self_test()\n  ") +
                                                       attack.lua + "\n  return true\nend");
        // Two at once: each holds an HTTP thread only as long as the Lua budget allows.
        auto validate = [&] {
            http::Client own = server_->client();
            return call(own, "POST", "/api/v1/engines/hostile/config/validate", admin_,
                        boost::json::serialize(boost::json::object{{"config", config}}));
        };
        auto first = std::async(std::launch::async, validate);
        auto second = std::async(std::launch::async, validate);
        for (const ApiResponse& verdict : {first.get(), second.get()}) {
            ASSERT_EQ(verdict.status, 200) << verdict.raw.body;
            EXPECT_FALSE(verdict.body.at("valid").as_bool()) << verdict.raw.body;
            const auto& error = verdict.body.at("errors").at(0);
            EXPECT_EQ(error.at("path").as_string(), "/lua_source");
            EXPECT_NE(std::string(error.at("message").as_string()).find("budget exceeded"),
                      std::string::npos)
                << verdict.raw.body;
        }
        expect_health_answers(server_->port());
        const ApiResponse refused =
            api("PUT", "/api/v1/engines/hostile/config", boost::json::object{{"config", config}});
        EXPECT_EQ(refused.status, 422) << refused.raw.body;
        expect_health_answers(server_->port());
    }
}

TEST_F(LuaLimitsTest, WeightsReturningBytesThatAreNotUtf8FailTheRunAsALuaError) {
    put_weights_doing("if true then return {['caf\\xe9'] = 1} end");
    const boost::json::object failed = wait_for_run(client_, admin_, submit("hostile"));
    ASSERT_EQ(failed.at("status").as_string(), "failed") << boost::json::serialize(failed);
    EXPECT_EQ(failed.at("error").at("code").as_string(), "lua_error")
        << boost::json::serialize(failed);
    EXPECT_NE(std::string(failed.at("error").at("message").as_string()).find("not valid UTF-8"),
              std::string::npos)
        << boost::json::serialize(failed);
    expect_health_answers(server_->port());
}

TEST_F(LuaLimitsTest, ALuaErrorMessageWithBytesThatAreNotUtf8IsKeptReadable) {
    put_weights_doing("error('caf\\xe9 closed', 0)");
    const boost::json::object failed = wait_for_run(client_, admin_, submit("hostile"));
    ASSERT_EQ(failed.at("status").as_string(), "failed") << boost::json::serialize(failed);
    EXPECT_EQ(failed.at("error").at("code").as_string(), "lua_error")
        << boost::json::serialize(failed);
    EXPECT_NE(
        std::string(failed.at("error").at("message").as_string()).find("caf\xEF\xBF\xBD closed"),
        std::string::npos)
        << boost::json::serialize(failed);
    expect_health_answers(server_->port());
}

TEST_F(LuaLimitsTest, TheDebugFlagKeepsTheScorecardsLogLinesInTheRunsAuditRecord) {
    // The shipped scorecard (earlier tests leave theirs wrapped in failing weights), logging.
    const ApiResponse shipped = api("GET", "/api/v1/engines/default/config");
    ASSERT_EQ(shipped.status, 200) << shipped.raw.body;
    boost::json::object config = shipped.body.at("config").as_object();
    config["lua_source"] = std::string(config.at("lua_source").as_string()) +
                           "\nlocal shipped_weights = weights\n"
                           "function weights(bucket, input)\n"
                           "  log('weights for', bucket, {n = 1})\n"
                           "  return shipped_weights(bucket, input)\n"
                           "end\n";
    auto run_with_debug = [&](bool debug) {
        config["debug"] = debug;
        const ApiResponse put =
            api("PUT", "/api/v1/engines/hostile/config", boost::json::object{{"config", config}});
        EXPECT_EQ(put.status, 200) << put.raw.body;
        const std::string run_id = submit("hostile");
        const boost::json::object run = wait_for_run(client_, admin_, run_id);
        EXPECT_EQ(run.at("status").as_string(), "completed") << boost::json::serialize(run);
        const ApiResponse packet = api("GET", "/api/v1/runs/" + run_id + "/defensibility-packet");
        EXPECT_EQ(packet.status, 200) << packet.raw.body;
        return packet.body.at("script_log").as_array();
    };

    const boost::json::array lines = run_with_debug(true);
    ASSERT_FALSE(lines.empty());
    EXPECT_EQ(lines[0].at("event").as_string(), "log");
    EXPECT_EQ(lines[0].at("function").as_string(), "weights");
    EXPECT_EQ(lines[0].at("message").as_string(), "weights for balanced {n=1}")
        << boost::json::serialize(lines);

    // Debug off: log() is still callable and keeps nothing.
    EXPECT_TRUE(run_with_debug(false).empty());
}

TEST_F(LuaLimitsTest, ADebugFlagThatIsNotTrueOrFalseIsRefused) {
    boost::json::object config = config_with("");
    config["debug"] = "yes";
    const ApiResponse refused =
        api("PUT", "/api/v1/engines/hostile/config", boost::json::object{{"config", config}});
    EXPECT_EQ(refused.status, 422) << refused.raw.body;
    EXPECT_NE(refused.raw.body.find("/debug"), std::string::npos) << refused.raw.body;
}

}  // namespace
}  // namespace engined::testing
