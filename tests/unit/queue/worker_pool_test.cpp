// The worker pool against a real store file: the poison-run cap and outcomes that outlive a
// store outage.
#include "queue/worker_pool.hpp"

#include "common/crypto.hpp"
#include "store/sqlite/sqlite_store.hpp"

#include <gtest/gtest.h>
#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <future>
#include <functional>
#include <optional>
#include <thread>

namespace engined::queue {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

class StoreInTempDir {
public:
    StoreInTempDir() : dir_(fs::temp_directory_path() / ("engined-queue-" + random_hex(8))) {
        fs::create_directories(dir_);
        store::SqliteOptions options;
        options.path = (dir_ / "engined.sqlite3").string();
        store_.emplace(options);
    }
    ~StoreInTempDir() {
        store_.reset();
        std::error_code ignored;
        fs::remove_all(dir_, ignored);
    }
    store::Store& operator*() { return *store_; }
    store::Store* operator->() { return &*store_; }

private:
    fs::path dir_;
    std::optional<store::SqliteStore> store_;
};

void wait_for(const std::function<void(store::Completion)>& start) {
    std::promise<std::exception_ptr> done;
    start([&done](std::exception_ptr error) { done.set_value(error); });
    if (auto error = done.get_future().get()) std::rethrow_exception(error);
}

// A queued run, then `claims` claims that never finished (as after that many crashes).
void insert_run_claimed(store::Store& store, const std::string& id, int claims) {
    store::NewRun run;
    run.id = id;
    run.organization = "acme";
    run.environment = "test";
    run.engine_slug = "default";
    run.engine_type = "placement";
    run.request_json = R"({"input":{}})";
    run.config_json = "{}";
    run.config_hash = sha256_hex(run.config_json);
    run.api_key_id = "key_0123456789abcdef";
    run.created_at_ms = 1'700'000'000'000;
    wait_for([&](store::Completion done) { store.insert_run(run, std::move(done)); });
    for (int i = 0; i < claims; ++i) {
        wait_for([&](store::Completion done) {
            store.mark_processing(id, 1'700'000'000'000 + i, std::move(done));
        });
    }
}

store::RunOutcome completed() {
    store::RunOutcome outcome;
    outcome.status = store::RunStatus::completed;
    outcome.stage = "RANK";
    outcome.completed_at_ms = 1'700'000'001'000;
    return outcome;
}

store::Run wait_until_terminal(store::Store& store, const std::string& id) {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    for (;;) {
        auto run = store.get_run(id);
        if (run && store::is_terminal(run->status)) return *run;
        if (std::chrono::steady_clock::now() > deadline) {
            ADD_FAILURE() << "run " << id << " is still not terminal";
            return run.value_or(store::Run{});
        }
        std::this_thread::sleep_for(5ms);
    }
}

TEST(WorkerPool, RunClaimedAsOftenAsTheCapIsFailedAsCrashedWithoutRunningAgain) {
    StoreInTempDir store;
    insert_run_claimed(*store, "run_poison", 3);
    std::atomic<int> executions{0};
    WorkerPool pool(
        *store,
        [&](const store::Run&) {
            ++executions;
            return completed();
        },
        2, 3);
    pool.start();
    const store::Run run = wait_until_terminal(*store, "run_poison");
    pool.stop();

    EXPECT_EQ(executions.load(), 0);
    EXPECT_EQ(run.status, store::RunStatus::failed);
    EXPECT_EQ(run.error_code, "run_crashed");
    EXPECT_EQ(run.error_message, "the run stopped the server 3 times; it was not retried again");
    EXPECT_EQ(run.attempts, 3);
    EXPECT_TRUE(run.completed_at_ms.has_value());
}

TEST(WorkerPool, RunBelowTheCapRunsAgain) {
    StoreInTempDir store;
    insert_run_claimed(*store, "run_twice_crashed", 2);
    std::atomic<int> executions{0};
    WorkerPool pool(
        *store,
        [&](const store::Run&) {
            ++executions;
            return completed();
        },
        1, 3);
    pool.start();
    const store::Run run = wait_until_terminal(*store, "run_twice_crashed");
    pool.stop();

    EXPECT_EQ(executions.load(), 1);
    EXPECT_EQ(run.status, store::RunStatus::completed);
    EXPECT_EQ(run.attempts, 3);
}

TEST(WorkerPool, CapOfOneFailsAnyRunThatWasClaimedBefore) {
    StoreInTempDir store;
    insert_run_claimed(*store, "run_fresh", 0);
    insert_run_claimed(*store, "run_crashed_once", 1);
    std::atomic<int> executions{0};
    WorkerPool pool(
        *store,
        [&](const store::Run&) {
            ++executions;
            return completed();
        },
        1, 1);
    pool.start();
    const store::Run fresh = wait_until_terminal(*store, "run_fresh");
    const store::Run crashed = wait_until_terminal(*store, "run_crashed_once");
    pool.stop();

    EXPECT_EQ(executions.load(), 1);
    EXPECT_EQ(fresh.status, store::RunStatus::completed);
    EXPECT_EQ(crashed.error_code, "run_crashed");
    EXPECT_EQ(crashed.error_message,
              "the run stopped the server 1 times; it was not retried again");
}

// A full disk while a run executes: its outcome cannot be stored then, and must be once the
// disk has room again, without a restart. RLIMIT_FSIZE stands in for the full disk (it binds
// root too); 0 makes every write fail, wherever SQLite's WAL is at.
TEST(WorkerPool, OutcomeRefusedByAnUnavailableStoreIsStoredOnceTheStoreRecovers) {
    StoreInTempDir store;
    insert_run_claimed(*store, "run_outage", 0);
    rlimit original{};
    ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &original), 0);
    const auto previous_handler = std::signal(SIGXFSZ, SIG_IGN);

    std::promise<void> disk_full;
    std::atomic<bool> executed{false};
    WorkerPool pool(
        *store,
        [&](const store::Run&) {
            disk_full.get_future().wait();
            executed = true;
            return completed();
        },
        1, 3);
    pool.start();
    rlimit limited = original;
    limited.rlim_cur = 0;
    ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &limited), 0);
    disk_full.set_value();
    while (!executed) std::this_thread::sleep_for(1ms);
    // Well inside the retry delay: the outcome was refused and nothing was stored.
    std::this_thread::sleep_for(WorkerPool::kOutcomeRetryDelay / 2);
    const auto during = store->get_run("run_outage");
    setrlimit(RLIMIT_FSIZE, &original);
    std::signal(SIGXFSZ, previous_handler);

    ASSERT_TRUE(during.has_value());
    EXPECT_FALSE(store::is_terminal(during->status));
    const store::Run run = wait_until_terminal(*store, "run_outage");
    pool.stop();
    EXPECT_EQ(run.status, store::RunStatus::completed);
}

}  // namespace
}  // namespace engined::queue
