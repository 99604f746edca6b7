// A real engined on loopback for end-to-end tests: the whole App (store in a fresh temp folder,
// or a fresh PostgreSQL database of its own; dlopen'ed plugins from the build tree, real Lua) on
// 127.0.0.1 with a free port, and keys.
#pragma once

#include "app/app.hpp"
#include "chaos/child_engined.hpp"
#include "http/client.hpp"

#include <boost/json.hpp>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace engined::testing {

class PostgresTestDatabase;

using chaos::fresh_temp_dir;
using chaos::read_text;
std::filesystem::path golden_dir();  // tests/golden/placement

// The shipped demo pool (build/engined-demo-pool with its seed and count given explicitly, so the
// bytes never depend on the generator's defaults), parsed the way `enginectl pools import` does:
// the canonical carriers JSON to hand to Store::replace_pool.
std::string demo_pool_json();

// Which backend the HTTP suites run on. Each suite is registered twice with ctest: as is (SQLite)
// and with ENGINED_TEST_STORE=postgresql (the `postgresql.` tests), which puts every TestStore on
// a fresh database of its own on tools/with-postgres.sh's server; without that server the whole
// PostgreSQL registration skips, saying why.
bool testing_on_postgres();

// The store one test's engined uses: the SQLite file in its data directory, or (on PostgreSQL) a
// database created for it and dropped with it. Tests read and change it behind the server's back
// in SQL that both backends understand.
class TestStore {
public:
    explicit TestStore(const std::filesystem::path& data_dir);
    ~TestStore();
    TestStore(const TestStore&) = delete;
    TestStore& operator=(const TestStore&) = delete;

    // For app::Config::store and `--store`; empty on SQLite (the file under the data directory).
    const std::string& url() const { return url_; }
    // Runs one statement; a failure fails the test with the backend's message.
    void execute(const std::string& sql) const;
    // The first column of every row `sql` selects, as text.
    std::vector<std::string> select_column(const std::string& sql) const;

private:
    std::filesystem::path sqlite_file_;
    std::unique_ptr<PostgresTestDatabase> database_;
    std::string url_;
};

class TestServer {
public:
    explicit TestServer(app::Config overrides = {});
    ~TestServer();

    uint16_t port() const { return app_->port(); }
    // Where links in answers to client() point when no public URL is configured.
    std::string origin() const { return "http://127.0.0.1:" + std::to_string(port()); }
    const std::filesystem::path& data_dir() const { return data_dir_; }
    // The configuration it was started with: another App on the same data and store.
    const app::Config& config() const { return config_; }
    const TestStore& store() const { return store_; }
    app::App& app() { return *app_; }

    // A key for `organization` in `environment` with `scopes` (default runs:write + runs:read).
    // `rate_per_second` / `rate_burst`: the key's own rate limit (unset: the server's default).
    std::string create_key(const std::string& organization, const std::string& environment = "test",
                           const std::vector<std::string>& scopes = {},
                           std::optional<double> rate_per_second = std::nullopt,
                           std::optional<int64_t> rate_burst = std::nullopt);

    http::Client client() const { return http::Client("127.0.0.1", port()); }
    // A client of the metrics listener (tests always open one on loopback; see the constructor).
    http::Client metrics_client() const {
        return http::Client("127.0.0.1", app_->metrics_port().value());
    }

private:
    std::filesystem::path data_dir_;
    TestStore store_;
    app::Config config_;
    std::unique_ptr<app::App> app_;
};

// How tests start build/engined as a child process (to kill it, or restart it on the same data):
// one worker, so that a backlog forms, no practical rate limit, `store`, and `extra_args`.
chaos::ChildEngined::Launch child_launch(const std::filesystem::path& data_dir,
                                         const std::vector<std::string>& extra_args = {},
                                         const TestStore* store = nullptr);

// Sends with `key` as a bearer token; parses the JSON body (null when not JSON).
struct ApiResponse {
    int status = 0;
    boost::json::value body;
    http::ClientResponse raw;
};
ApiResponse call(http::Client& client, const std::string& method, const std::string& target,
                 const std::string& key, const std::string& body = {});

// Creates a key in the child's `data_dir` and submits the placement fixture to the child
// engined on `port` with ?wait=30: the run as it is once terminal.
ApiResponse run_placement_on_child(const std::filesystem::path& data_dir, uint16_t port);

// GET /health over a fresh connection answers 200: the server survived what a test just sent.
void expect_health_answers(uint16_t port);

// Creates the placement engine `slug` of the key's organisation (the key needs engines:admin)
// with a scorecard whose weights() spins until the Lua wall clock ends the run, for an input
// whose address has "stall": true; other inputs score as the built-in scorecard does.
void create_stalling_engine(http::Client& client, const std::string& key, const std::string& slug);

// Polls the run until it is terminal (or `timeout_s` passed); returns the last run object.
boost::json::object wait_for_run(http::Client& client, const std::string& key,
                                 const std::string& run_id, double timeout_s = 10);

}  // namespace engined::testing
