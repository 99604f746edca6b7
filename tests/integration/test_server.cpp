#include "test_server.hpp"

#include "auth/api_keys.hpp"
#include "common/crypto.hpp"
#include "common/json_text.hpp"
#include "pools/pool_file.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace engined::testing {

std::filesystem::path golden_dir() {
    return std::filesystem::path(ENGINED_SOURCE_DIR) / "tests" / "golden" / "placement";
}

std::string demo_pool_json() {
    const auto file = fresh_temp_dir("engined-pool") / "demo.json";
    const std::string command = std::string(ENGINED_BINARY_DIR) +
                                "/engined-demo-pool --seed 1873 --count 1873 --out " +
                                file.string();
    if (std::system(command.c_str()) != 0)
        throw std::runtime_error("the demo pool generator failed");
    const std::string carriers =
        canonical_json(pools::parse_pool_file(read_text(file), pools::PoolFormat::json));
    std::filesystem::remove_all(file.parent_path());
    return carriers;
}

TestServer::TestServer(app::Config config) : data_dir_(fresh_temp_dir("engined-it")) {
    config.listen = "127.0.0.1:0";
    // Metrics are only served on their own listener; tests read them there.
    if (config.metrics_listen.empty()) config.metrics_listen = "127.0.0.1:0";
    // Tests poll hard; the ones about rate limits give their keys limits of their own.
    config.rate_limit_per_second = 1e9;
    config.rate_limit_burst = 1'000'000'000;
    config.data_dir = data_dir_;
    if (config.resources_dir.empty()) config.resources_dir = ENGINED_SOURCE_DIR;
    config.plugins_dir = std::filesystem::path(ENGINED_BINARY_DIR) / "plugins";
    app_ = std::make_unique<app::App>(config);
    app_->start();
}

TestServer::~TestServer() {
    app_.reset();
    std::error_code ignored;
    std::filesystem::remove_all(data_dir_, ignored);
}

std::string TestServer::create_key(const std::string& organization, const std::string& environment,
                                   const std::vector<std::string>& scopes,
                                   std::optional<double> rate_per_second,
                                   std::optional<int64_t> rate_burst) {
    return auth::issue_key(app_->store(), organization, environment, scopes, rate_per_second,
                           rate_burst)
        .key;
}

chaos::ChildEngined::Launch child_launch(const std::filesystem::path& data_dir,
                                         const std::vector<std::string>& extra_args) {
    std::vector<std::string> args{"--workers",    "1",      "--rate-limit", "1000000",
                                  "--rate-burst", "1000000"};
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    return {std::filesystem::path(ENGINED_BINARY_DIR) / "engined", data_dir, ENGINED_SOURCE_DIR,
            std::move(args)};
}

ApiResponse call(http::Client& client, const std::string& method, const std::string& target,
                 const std::string& key, const std::string& body) {
    std::vector<std::pair<std::string, std::string>> headers;
    if (!key.empty()) headers.emplace_back("Authorization", "Bearer " + key);
    ApiResponse response;
    response.raw = client.request(method, target, body, headers);
    response.status = response.raw.status;
    boost::system::error_code ec;
    response.body = boost::json::parse(response.raw.body, ec);
    if (ec) response.body = nullptr;
    return response;
}

boost::json::object wait_for_run(http::Client& client, const std::string& key,
                                 const std::string& run_id, double timeout_s) {
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
    for (;;) {
        const ApiResponse response = call(client, "GET", "/api/v1/runs/" + run_id, key);
        if (response.status != 200)
            throw std::runtime_error("GET run answered " + response.raw.body);
        const auto& run = response.body.as_object();
        const auto status = run.at("status").as_string();
        if (status == "completed" || status == "degraded" || status == "failed") return run;
        if (std::chrono::steady_clock::now() > deadline) return run;
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
}

void expect_health_answers(uint16_t port) {
    http::Client client("127.0.0.1", port);
    const http::ClientResponse health = client.request("GET", "/health");
    EXPECT_EQ(health.status, 200) << "the server no longer answers /health: " << health.body;
}

}  // namespace engined::testing
