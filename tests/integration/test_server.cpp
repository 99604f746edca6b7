#include "test_server.hpp"

#include "postgres_database.hpp"

#include "auth/api_keys.hpp"
#include "common/crypto.hpp"
#include "common/json_text.hpp"
#include "pools/pool_file.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <string_view>
#include <thread>

namespace engined::testing {
namespace {

// A suite registered for PostgreSQL skips as a whole when tools/with-postgres.sh started no server.
class PostgresServerRequired : public ::testing::Environment {
public:
    void SetUp() override {
        const char* server = std::getenv("ENGINED_TEST_POSTGRES_URL");
        if (!testing_on_postgres() || (server != nullptr && *server != '\0')) return;
        // gtest prints no marker for a skip in global set-up; ctest counts a skip by this one.
        std::cout << "[  SKIPPED ] " << kPostgresSkipReason << std::endl;
        GTEST_SKIP() << kPostgresSkipReason;
    }
};

[[maybe_unused]] ::testing::Environment* const postgres_server_required =
    ::testing::AddGlobalTestEnvironment(new PostgresServerRequired);

// An SQLite statement on its own connection, waiting out the server's writes; throws its error.
void sqlite_each_row(const std::filesystem::path& file, const std::string& sql,
                     const std::function<void(sqlite3_stmt*)>& row) {
    sqlite3* db = nullptr;
    sqlite3_stmt* statement = nullptr;
    int status = sqlite3_open(file.c_str(), &db);
    if (status == SQLITE_OK) {
        sqlite3_busy_timeout(db, 5000);
        status = sqlite3_prepare_v2(db, sql.c_str(), -1, &statement, nullptr);
    }
    while (status == SQLITE_OK || status == SQLITE_ROW) {
        status = sqlite3_step(statement);
        if (status == SQLITE_ROW) row(statement);
    }
    const std::string message = sqlite3_errmsg(db);
    sqlite3_finalize(statement);
    sqlite3_close(db);
    if (status != SQLITE_DONE) throw std::runtime_error(message);
}

}  // namespace

bool testing_on_postgres() {
    const char* store = std::getenv("ENGINED_TEST_STORE");
    return store != nullptr && std::string_view(store) == "postgresql";
}

TestStore::TestStore(const std::filesystem::path& data_dir)
    : sqlite_file_(data_dir / "engined.sqlite3") {
    if (!testing_on_postgres()) return;
    database_ = std::make_unique<PostgresTestDatabase>();
    url_ = database_->url();
    if (url_.empty()) throw std::runtime_error(kPostgresSkipReason);
}

TestStore::~TestStore() = default;

void TestStore::execute(const std::string& sql) const {
    try {
        if (database_) {
            postgres_exec(url_, sql);
        } else {
            sqlite_each_row(sqlite_file_, sql, [](sqlite3_stmt*) {});
        }
    } catch (const std::exception& error) {
        ADD_FAILURE() << sql << ": " << error.what();
    }
}

std::vector<std::string> TestStore::select_column(const std::string& sql) const {
    if (database_) return postgres_select_column(url_, sql);
    std::vector<std::string> column;
    sqlite_each_row(sqlite_file_, sql, [&](sqlite3_stmt* statement) {
        const auto* text = sqlite3_column_text(statement, 0);
        column.emplace_back(text == nullptr ? "" : reinterpret_cast<const char*>(text));
    });
    return column;
}

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
    plugin::PluginRegistry registry;
    const std::string refusal =
        registry.load(std::filesystem::path(ENGINED_BINARY_DIR) / "plugins" / "entity_analysis.so");
    if (!refusal.empty()) throw std::runtime_error("the entity_analysis plugin " + refusal);
    const std::string carriers = canonical_json(pools::parse_pool_file(
        read_text(file), pools::PoolFormat::json, *registry.find("entity_analysis")));
    std::filesystem::remove_all(file.parent_path());
    return carriers;
}

TestServer::TestServer(app::Config config)
    : data_dir_(fresh_temp_dir("engined-it")), store_(data_dir_) {
    config.listen = "127.0.0.1:0";
    // Metrics are only served on their own listener; tests read them there.
    if (config.metrics_listen.empty()) config.metrics_listen = "127.0.0.1:0";
    // Tests poll hard; the ones about rate limits give their keys limits of their own.
    config.rate_limit_per_second = 1e9;
    config.rate_limit_burst = 1'000'000'000;
    config.data_dir = data_dir_;
    // 40 MB of zeros per server would cost the suite gigabytes of writes; the store's tests cover
    // the preallocated WAL.
    config.wal_preallocate = false;
    if (config.resources_dir.empty()) config.resources_dir = ENGINED_SOURCE_DIR;
    config.plugins_dir = std::filesystem::path(ENGINED_BINARY_DIR) / "plugins";
    if (config.store.empty()) config.store = store_.url();
    config_ = config;
    app_ = std::make_unique<app::App>(config_);
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
                                         const std::vector<std::string>& extra_args,
                                         const TestStore* store) {
    std::vector<std::string> args{"--workers",    "1",      "--rate-limit", "1000000",
                                  "--rate-burst", "1000000"};
    if (store != nullptr && !store->url().empty()) {
        args.push_back("--store");
        args.push_back(store->url());
    }
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    return {std::filesystem::path(ENGINED_BINARY_DIR) / "engined", data_dir, ENGINED_SOURCE_DIR,
            std::move(args)};
}

ApiResponse run_placement_on_child(const std::filesystem::path& data_dir, uint16_t port) {
    const std::string key = chaos::create_key(data_dir);
    http::Client client("127.0.0.1", port);
    return call(client, "POST", "/api/v1/engines/default/runs?wait=30", key,
                read_text(golden_dir() / "pure_bundle_ca.input.json"));
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

void create_stalling_engine(http::Client& client, const std::string& key, const std::string& slug) {
    const ApiResponse created =
        call(client, "POST", "/api/v1/engines", key,
             boost::json::serialize(boost::json::object{
                 {"slug", slug}, {"label", "Stalling scorecard"}, {"engine_type", "placement"}}));
    if (created.status != 201)
        throw std::runtime_error("creating engine " + slug + ": " + created.raw.body);
    const ApiResponse current = call(client, "GET", "/api/v1/engines/" + slug + "/config", key);
    boost::json::object config = current.body.at("config").as_object();
    config["lua_source"] =
        std::string(config.at("lua_source").as_string()) +
        "\nlocal weights_before_stall = weights\nfunction weights(bucket, input)\n"
        "  if input.address and input.address.stall then while true do end end\n"
        "  return weights_before_stall(bucket, input)\nend\n";
    const ApiResponse put = call(client, "PUT", "/api/v1/engines/" + slug + "/config", key,
                                 boost::json::serialize(boost::json::object{{"config", config}}));
    if (put.status != 200)
        throw std::runtime_error("configuring engine " + slug + ": " + put.raw.body);
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
