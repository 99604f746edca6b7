// Durability across a crash: engined as a child process is SIGKILLed with accepted runs still
// unfinished; after a restart on the same data directory every accepted run completes exactly once
// (the run the killed node held is taken over once its short lease expired).
#include "test_server.hpp"

#include "store/sqlite/sqlite_store.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <mutex>
#include <set>
#include <thread>

namespace engined::testing {
namespace {

const std::vector<std::string> kShortLease{"--run-lease-seconds", "2"};

TEST(CrashRecovery, AcceptedRunsSurviveKillNineAndCompleteExactlyOnce) {
    const std::string body = read_text(golden_dir() / "brokerage_tx_multicarrier.input.json");
    std::filesystem::path data_dir;
    std::set<std::string> accepted;
    std::string key;
    // A kill that leaves runs unfinished is what this test is about: a machine fast enough to end
    // every run before the kill lands gets another attempt.
    for (int attempt = 1;; ++attempt) {
        data_dir = fresh_temp_dir("engined-crash");
        accepted.clear();
        {
            const uint16_t port = chaos::free_loopback_port();
            chaos::ChildEngined engined(child_launch(data_dir, kShortLease), port);
            key = chaos::create_key(data_dir);
            // Four concurrent clients: group commit accepts runs far faster than one worker ends
            // them, so a backlog normally forms. A machine busy elsewhere can slow the clients more
            // than the worker, so the kill waits for a burst that leaves runs unfinished (at most
            // five bursts).
            std::mutex mutex;
            int refused = 0;
            auto burst = [&] {
                std::vector<std::thread> clients;
                for (int c = 0; c < 4; ++c) {
                    clients.emplace_back([&] {
                        http::Client client("127.0.0.1", port);
                        for (int i = 0; i < 50; ++i) {
                            const ApiResponse response =
                                call(client, "POST", "/api/v1/engines/default/runs", key, body);
                            std::lock_guard lock(mutex);
                            if (response.status == 202) {
                                accepted.insert(
                                    std::string(response.body.at("run_id").as_string()));
                            } else {
                                ++refused;
                            }
                        }
                    });
                }
                for (auto& client : clients) client.join();
            };
            // Unfinished runs: queued ones, and those a worker marked processing with its batch
            // before executing them one by one.
            http::Client probe("127.0.0.1", port);
            auto backlog = [&] {
                for (const char* status : {"queued", "processing"}) {
                    const ApiResponse page = call(
                        probe, "GET",
                        std::string("/api/v1/engines/default/runs?limit=1&status=") + status, key);
                    if (page.status == 200 && !page.body.at("data").as_array().empty()) return true;
                }
                return false;
            };
            int bursts = 0;
            do {
                burst();
                ++bursts;
            } while (!backlog() && bursts < 5);
            engined.kill_hard();
            ASSERT_EQ(refused, 0);
            ASSERT_EQ(accepted.size(), 200u * static_cast<std::size_t>(bursts));
        }
        store::SqliteOptions options;
        options.path = (data_dir / "engined.sqlite3").string();
        const store::QueueCounts pending = store::SqliteStore(options).queue_counts();
        if (pending.queued + pending.processing > 0) break;
        // The workers ended every run between the last look and the kill: again, afresh.
        std::filesystem::remove_all(data_dir);
        ASSERT_LT(attempt, 5) << "the kill came too late to leave runs unfinished, five times";
    }

    const uint16_t port = chaos::free_loopback_port();
    chaos::ChildEngined restarted(child_launch(data_dir, kShortLease), port);
    http::Client client("127.0.0.1", port);
    for (const std::string& run_id : accepted) {
        const auto run = wait_for_run(client, key, run_id, 60);
        EXPECT_EQ(run.at("status").as_string(), "completed") << run_id;
    }
    EXPECT_EQ(restarted.terminate(), 0);

    store::SqliteOptions options;
    options.path = (data_dir / "engined.sqlite3").string();
    store::SqliteStore store(options);
    const std::string test_environment = store.find_environment("chaos", "test").value().id;
    store::RunPageQuery query;
    query.organization = "chaos";
    query.environment_id = test_environment;
    query.engine_slug = "default";
    query.limit = 1000;
    const auto page = store.list_runs(query);
    EXPECT_EQ(page.runs.size(), accepted.size());
    for (const store::Run& run : page.runs) {
        EXPECT_TRUE(accepted.count(run.id)) << "a run nobody submitted: " << run.id;
        EXPECT_EQ(run.status, store::RunStatus::completed);
    }
    EXPECT_EQ(store.queue_counts().queued + store.queue_counts().processing, 0);
    std::filesystem::remove_all(data_dir);
}

}  // namespace
}  // namespace engined::testing
