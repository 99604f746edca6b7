// Replays and configuration checks run on the check pool, not on the HTTP threads: slow ones
// leave GET /health answering; a key past its share gets 429; a full queue answers 503. The slow
// work is real: a scorecard that loops until the run's Lua wall clock stops it.
#include "test_server.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <future>
#include <thread>
#include <vector>

namespace engined::testing {
namespace {

constexpr int kLuaWallClockMs = 2500;

app::Config pool_config() {
    app::Config config;
    config.lua_instruction_budget = 1'000'000'000'000;  // the wall clock is what stops the loops
    config.lua_wall_clock_ms = kLuaWallClockMs;
    config.http_threads = 2;
    config.check_threads = 2;
    config.check_queue = 4;
    config.checks_per_key = 2;
    return config;
}

std::string body_of(const boost::json::value& value) {
    return boost::json::serialize(value);
}

class CheckPoolTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        server_ = new TestServer(pool_config());
        const std::string admin =
            server_->create_key("slowco", "live", {"runs:write", "runs:read", "engines:admin"});
        http::Client client = server_->client();
        ASSERT_EQ(call(client, "POST", "/api/v1/engines", admin,
                       R"({"slug":"slow","copy_from":"default"})")
                      .status,
                  201);
        auto config =
            call(client, "GET", "/api/v1/engines/slow/config", admin).body.at("config").as_object();
        base_config_ = new boost::json::object(config);
        // Every run loops in weights() until the wall clock; the configuration checks (which call
        // weights() with an empty input) still pass.
        config["lua_source"] = std::string(config.at("lua_source").as_string()) +
                               "\nlocal shipped_weights = weights\n"
                               "function weights(bucket, input)\n"
                               "  if next(input) ~= nil then while true do end end\n"
                               "  return shipped_weights(bucket, input)\nend\n"
                               "function self_test() return true end\n";
        const ApiResponse put = call(client, "PUT", "/api/v1/engines/slow/config", admin,
                                     body_of(boost::json::object{{"config", config}}));
        ASSERT_EQ(put.status, 200) << put.raw.body;
        const ApiResponse accepted =
            call(client, "POST", "/api/v1/engines/slow/runs", admin,
                 read_text(golden_dir() / "brokerage_tx_multicarrier.input.json"));
        ASSERT_EQ(accepted.status, 202) << accepted.raw.body;
        const auto run =
            wait_for_run(client, admin, std::string(accepted.body.at("run_id").as_string()), 30);
        ASSERT_EQ(run.at("status"), "failed") << body_of(run);
        slow_run_ = new std::string(run.at("run_id").as_string());
    }
    static void TearDownTestSuite() {
        delete server_;
        delete base_config_;
        delete slow_run_;
        server_ = nullptr;
    }

    static std::string new_key() {
        return server_->create_key("slowco", "live", {"runs:read", "engines:admin"});
    }

    // Each request on its own connection, all at once.
    using Request = std::function<ApiResponse(http::Client&)>;
    static std::vector<std::future<ApiResponse>> start_together(
        const std::vector<Request>& requests) {
        std::vector<std::future<ApiResponse>> answers;
        for (const Request& request : requests) {
            answers.push_back(std::async(std::launch::async, [request] {
                http::Client client = server_->client();
                return request(client);
            }));
        }
        return answers;
    }

    static Request replay(const std::string& key) {
        return [key](http::Client& client) {
            return call(client, "POST", "/api/v1/runs/" + *slow_run_ + "/replay", key);
        };
    }

    // GET /health while slow work is in hand: it answers, and well before that work could end.
    static void expect_health_answers_promptly() {
        std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the slow requests are in
        http::Client client = server_->client();
        const auto started = std::chrono::steady_clock::now();
        const ApiResponse health = call(client, "GET", "/health", "");
        const auto waited = std::chrono::steady_clock::now() - started;
        EXPECT_EQ(health.status, 200) << health.raw.body;
        EXPECT_LT(waited, std::chrono::milliseconds(kLuaWallClockMs * 6 / 10));
    }

    // Waits for every answer: the replays served (200) and the ones refused, each of which must
    // be `status` with `code` and Retry-After: 1.
    struct Tally {
        int served = 0;
        int refused = 0;
    };
    static Tally tally(std::vector<std::future<ApiResponse>>& answers, int status,
                       std::string_view code) {
        Tally counted;
        for (auto& pending : answers) {
            const ApiResponse answer = pending.get();
            if (answer.status == 200) {
                ++counted.served;
                continue;
            }
            ++counted.refused;
            EXPECT_EQ(answer.status, status) << answer.raw.body;
            EXPECT_EQ(answer.body.at("error").at("code").as_string(), code) << answer.raw.body;
            EXPECT_EQ(answer.raw.header("Retry-After"), "1");
        }
        return counted;
    }

    static TestServer* server_;
    static boost::json::object* base_config_;
    static std::string* slow_run_;
};

TestServer* CheckPoolTest::server_ = nullptr;
boost::json::object* CheckPoolTest::base_config_ = nullptr;
std::string* CheckPoolTest::slow_run_ = nullptr;

TEST_F(CheckPoolTest, SlowReplaysAndValidationsLeaveHealthAnswering) {
    const std::string replayer = new_key();
    const std::string validator = new_key();
    boost::json::object looping = *base_config_;
    looping["lua_source"] = std::string(looping.at("lua_source").as_string()) +
                            "\nfunction self_test() while true do end end\n";
    const Request validate = [&validator, looping](http::Client& client) {
        return call(client, "POST", "/api/v1/engines/slow/config/validate", validator,
                    body_of(boost::json::object{{"config", looping}}));
    };
    auto answers = start_together({replay(replayer), replay(replayer), validate, validate});
    expect_health_answers_promptly();

    for (std::size_t i = 0; i < answers.size(); ++i) {
        const ApiResponse answer = answers[i].get();
        ASSERT_EQ(answer.status, 200) << answer.raw.body;
        if (i < 2) {
            EXPECT_EQ(answer.body.at("run_id").as_string(), *slow_run_);
        } else {
            // The same verdict as before: the self_test hit the Lua limits.
            EXPECT_EQ(answer.body.at("valid"), false) << answer.raw.body;
            EXPECT_EQ(answer.body.at("errors").at(0).at("path"), "/lua_source") << answer.raw.body;
        }
    }
    expect_health_answers(server_->port());
}

TEST_F(CheckPoolTest, AKeyPastItsShareIsRefusedWith429) {
    const std::string greedy = new_key();
    auto answers = start_together({replay(greedy), replay(greedy), replay(greedy)});
    expect_health_answers_promptly();
    const Tally counted = tally(answers, 429, "too_many_concurrent_requests");
    EXPECT_EQ(counted.served, 2);   // at the limit
    EXPECT_EQ(counted.refused, 1);  // past it
    expect_health_answers(server_->port());
}

TEST_F(CheckPoolTest, AFullQueueIsRefusedWith503) {
    // 2 threads and 4 queue places hold at most 6 slow replays: of 8, at least 2 are refused.
    std::vector<Request> requests;
    for (int callers = 0; callers < 4; ++callers) {
        const std::string caller = new_key();
        requests.push_back(replay(caller));
        requests.push_back(replay(caller));
    }
    auto answers = start_together(requests);
    expect_health_answers_promptly();
    const Tally counted = tally(answers, 503, "unavailable");
    EXPECT_GE(counted.refused, 2);
    EXPECT_GE(counted.served, 2);
    EXPECT_LE(counted.served, 6);
    expect_health_answers(server_->port());
}

}  // namespace
}  // namespace engined::testing
