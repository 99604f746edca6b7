// Durability across a crash: engined as a child process is SIGKILLed with accepted runs still
// queued; after a restart on the same data directory every accepted run completes exactly once.
#include "test_server.hpp"

#include "auth/api_keys.hpp"
#include "store/store.hpp"

#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <mutex>
#include <set>
#include <thread>

namespace engined::testing {
namespace {

uint16_t free_loopback_port() {
    boost::asio::io_context ioc;
    boost::asio::ip::tcp::acceptor acceptor(ioc, {boost::asio::ip::make_address("127.0.0.1"), 0});
    return acceptor.local_endpoint().port();
}

class ChildEngined {
public:
    ChildEngined(const std::filesystem::path& data_dir, uint16_t port) {
        const std::string binary = std::string(ENGINED_BINARY_DIR) + "/engined";
        const std::string listen = "127.0.0.1:" + std::to_string(port);
        const std::string data = data_dir.string();
        const std::string log = (data_dir / "engined.log").string();
        pid_ = fork();
        if (pid_ == 0) {
            FILE* out = std::freopen(log.c_str(), "a", stderr);
            (void)out;
            // One worker keeps a backlog of queued runs at the moment of the kill.
            execl(binary.c_str(), binary.c_str(), "--listen", listen.c_str(), "--data-dir", data.c_str(),
                  "--resources-dir", ENGINED_SOURCE_DIR, "--workers", "1", "--rate-limit", "1000000",
                  "--rate-burst", "1000000", static_cast<char*>(nullptr));
            _exit(127);
        }
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
        while (std::chrono::steady_clock::now() < deadline) {
            try {
                http::Client probe("127.0.0.1", port);
                if (probe.request("GET", "/health").status == 200) return;
            } catch (const std::exception&) {
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        throw std::runtime_error("engined did not become healthy; see " + log);
    }

    void kill_hard() {
        ::kill(pid_, SIGKILL);
        waitpid(pid_, nullptr, 0);
        pid_ = -1;
    }

    int terminate_gracefully() {
        ::kill(pid_, SIGTERM);
        int status = 0;
        waitpid(pid_, &status, 0);
        pid_ = -1;
        return status;
    }

    ~ChildEngined() {
        if (pid_ > 0) kill_hard();
    }

private:
    pid_t pid_ = -1;
};

std::string create_key_in(const std::filesystem::path& data_dir) {
    store::Options options;
    options.path = (data_dir / "engined.sqlite3").string();
    store::Store store(options);
    return auth::issue_key(store, "acme", "test", {}).key;
}

TEST(CrashRecovery, AcceptedRunsSurviveKillNineAndCompleteExactlyOnce) {
    const auto data_dir = fresh_temp_dir("engined-crash");
    const std::string body = read_text(golden_dir() / "brokerage_tx_multicarrier.input.json");
    std::set<std::string> accepted;
    std::string key;
    {
        const uint16_t port = free_loopback_port();
        ChildEngined engined(data_dir, port);
        key = create_key_in(data_dir);
        // Four concurrent clients: group commit accepts runs far faster than one worker ends them,
        // so a backlog is certain at the moment of the kill.
        std::mutex mutex;
        std::vector<std::thread> clients;
        int refused = 0;
        for (int c = 0; c < 4; ++c) {
            clients.emplace_back([&] {
                http::Client client("127.0.0.1", port);
                for (int i = 0; i < 50; ++i) {
                    const ApiResponse response = call(client, "POST", "/api/v1/engines/default/runs", key, body);
                    std::lock_guard lock(mutex);
                    if (response.status == 202) {
                        accepted.insert(std::string(response.body.at("run_id").as_string()));
                    } else {
                        ++refused;
                    }
                }
            });
        }
        for (auto& client : clients) client.join();
        engined.kill_hard();
        ASSERT_EQ(refused, 0);
    }
    ASSERT_EQ(accepted.size(), 200u);
    {
        store::Options options;
        options.path = (data_dir / "engined.sqlite3").string();
        store::Store store(options);
        EXPECT_FALSE(store.unfinished_run_ids().empty()) << "the kill came too late to leave runs pending";
    }

    const uint16_t port = free_loopback_port();
    ChildEngined restarted(data_dir, port);
    http::Client client("127.0.0.1", port);
    for (const std::string& run_id : accepted) {
        const auto run = wait_for_run(client, key, run_id, 60);
        EXPECT_EQ(run.at("status").as_string(), "completed") << run_id;
    }
    EXPECT_EQ(restarted.terminate_gracefully(), 0);

    store::Options options;
    options.path = (data_dir / "engined.sqlite3").string();
    store::Store store(options);
    store::RunPageQuery query{"acme", "test", "default", std::nullopt, std::nullopt, 1000};
    const auto page = store.list_runs(query);
    EXPECT_EQ(page.runs.size(), 200u);
    for (const store::Run& run : page.runs) {
        EXPECT_TRUE(accepted.count(run.id)) << "a run nobody submitted: " << run.id;
        EXPECT_EQ(run.status, store::RunStatus::completed);
    }
    EXPECT_TRUE(store.unfinished_run_ids().empty());
    std::filesystem::remove_all(data_dir);
}

}  // namespace
}  // namespace engined::testing
