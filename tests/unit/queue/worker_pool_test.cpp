// The worker pool against a real store file: handed-over runs held from their insert, the
// poison-run cap, the heartbeat, the drain and outcomes that outlive a store outage; and the
// queue's depth read from that store.
#include "queue/queue_depth.hpp"
#include "queue/worker_pool.hpp"

#include "common/crypto.hpp"
#include "common/time.hpp"
#include "store/sqlite/sqlite_store.hpp"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <future>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

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

store::NewRun new_run(const std::string& id) {
    store::NewRun run;
    run.id = id;
    run.organization = "acme";
    run.environment = "test";
    run.engine_slug = "default";
    run.engine_type = "placement";
    run.request_json = R"({"input":{}})";
    run.config_json = "{}";
    run.config_hash = sha256_hex(*run.config_json);
    run.api_key_id = "key_0123456789abcdef";
    run.created_at_ms = 1'700'000'000'000;
    return run;
}

// A queued run, then `claims` claims that never finished (as after that many crashes): each by a
// node that died, its lease long expired.
void insert_run_claimed(store::Store& store, const std::string& id, int claims) {
    const store::NewRun run = new_run(id);
    wait_for([&](store::Completion done) { store.insert_run(run, std::move(done)); });
    for (int i = 0; i < claims; ++i) {
        const int64_t at = 1'700'000'000'000 + 2 * i;
        ASSERT_TRUE(store.claim_run({"node_dead_" + std::to_string(i), id, at, at + 1, claims}));
    }
}

// A run held by another node that is alive: its lease ends a minute from now.
void insert_run_held_elsewhere(store::Store& store, const std::string& id) {
    insert_run_claimed(store, id, 0);
    const int64_t now = now_unix_ms();
    ASSERT_TRUE(store.claim_run({"node_alive", id, now, now + 60'000, 3}));
}

QueueOptions options(int workers, int max_attempts,
                     std::chrono::milliseconds lease = std::chrono::seconds(30)) {
    return QueueOptions{workers, max_attempts, lease, "node_here"};
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
        options(2, 3));
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
        options(1, 3));
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
        options(1, 1));
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
        options(1, 3));
    pool.start();
    // The claim is durable before the run executes: the disk fills up after it.
    while (store->get_run("run_outage")->status != store::RunStatus::processing) {
        std::this_thread::sleep_for(1ms);
    }
    rlimit limited = original;
    limited.rlim_cur = 0;
    ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &limited), 0);
    disk_full.set_value();
    while (!executed) std::this_thread::sleep_for(1ms);
    // Well inside the retry delay: the outcome was refused and nothing was stored.
    std::this_thread::sleep_for(WorkerPool::kStoreRetryDelay / 2);
    const auto during = store->get_run("run_outage");
    setrlimit(RLIMIT_FSIZE, &original);
    std::signal(SIGXFSZ, previous_handler);

    ASSERT_TRUE(during.has_value());
    EXPECT_FALSE(store::is_terminal(during->status));
    const store::Run run = wait_until_terminal(*store, "run_outage");
    pool.stop();
    EXPECT_EQ(run.status, store::RunStatus::completed);
}

TEST(WorkerPool, ARunLeasedToALiveNodeIsNeverClaimedWhileLaterRunsAre) {
    StoreInTempDir store;
    insert_run_held_elsewhere(*store, "run_held");  // the oldest: a claim would take it first
    insert_run_claimed(*store, "run_free", 0);
    std::vector<std::string> executed;
    std::mutex executed_mutex;
    WorkerPool pool(
        *store,
        [&](const store::Run& run) {
            std::lock_guard lock(executed_mutex);
            executed.push_back(run.id);
            return completed();
        },
        options(2, 3));
    pool.start();
    const store::Run free_run = wait_until_terminal(*store, "run_free");
    pool.stop();

    EXPECT_EQ(free_run.lease_owner, "node_here");
    EXPECT_EQ(executed, std::vector<std::string>{"run_free"});
    const auto held = store->get_run("run_held");
    EXPECT_EQ(held->status, store::RunStatus::processing);
    EXPECT_EQ(held->lease_owner, "node_alive");
    EXPECT_EQ(held->attempts, 1);
}

// A run as this node's submit stores and hands it over: held by the pool from its insert on.
store::Run insert_run_held(store::Store& store, const WorkerPool& pool, const std::string& id) {
    store::NewRun run = new_run(id);
    run.held_by = pool.hold_new_run();
    wait_for([&](store::Completion done) { store.insert_run(run, std::move(done)); });
    return store::queued_run(run);
}

// A run stored unheld (this node's backlog was full) is left to the claim: handing it over only
// wakes a worker, which claims it from the store like any node's run.
TEST(WorkerPool, ARunNotHeldByThisNodeIsClaimedNotHandedOver) {
    StoreInTempDir store;
    std::promise<store::Run> executed;
    WorkerPool pool(
        *store,
        [&](const store::Run& run) {
            executed.set_value(run);
            return completed();
        },
        options(1, 3));
    pool.start();
    // The first look finds nothing; the next safety-net look is a third of the lease (10 s) away.
    std::this_thread::sleep_for(100ms);
    insert_run_claimed(*store, "run_unheld", 0);
    pool.enqueue(store::queued_run(new_run("run_unheld")));
    EXPECT_EQ(pool.depth(), 0u);
    std::future<store::Run> claimed = executed.get_future();
    ASSERT_EQ(claimed.wait_for(5s), std::future_status::ready) << "the hand-over woke no worker";
    const store::Run run = claimed.get();
    EXPECT_EQ(run.lease_owner, "node_here");
    EXPECT_EQ(run.attempts, 1);
    EXPECT_EQ(wait_until_terminal(*store, "run_unheld").status, store::RunStatus::completed);
    pool.stop();
}

// A node holds at most max_held_runs accepted runs its workers have not started: at the limit
// it gives no more holds (the run is stored for any node's claim), and gives them again once its
// workers took runs on.
TEST(WorkerPool, ANodeHoldsAtMostItsLimitOfUnstartedRuns) {
    StoreInTempDir store;
    QueueOptions limited = options(1, 3);
    limited.max_held_runs = 3;
    WorkerPool pool(
        *store, [&](const store::Run&) { return completed(); }, limited);
    for (int i = 0; i < 3; ++i) {
        const std::string id = "run_" + std::to_string(i);
        ASSERT_TRUE(pool.hold_new_run()) << "held " << i << " of 3";
        pool.enqueue(insert_run_held(*store, pool, id));
    }
    EXPECT_EQ(pool.depth(), 3u);
    EXPECT_FALSE(pool.hold_new_run()) << "a fourth unstarted run is past the limit";
    pool.start();
    for (int i = 0; i < 3; ++i) wait_until_terminal(*store, "run_" + std::to_string(i));
    EXPECT_TRUE(pool.hold_new_run()) << "the workers took the backlog on";
    pool.stop();
}

// The run a submit hands over is executed as handed over, with nothing read back, so what only
// the submit knew (the fingerprint's inputs) reaches the executor; a long run's start is stored
// while it executes (a GET during a long run says `processing`).
TEST(WorkerPool, AHandedOverRunIsExecutedAsHandedOverAndSeenProcessingMeanwhile) {
    StoreInTempDir store;
    std::promise<store::Run> executed;
    std::promise<void> release;
    std::shared_future<void> released = release.get_future().share();
    WorkerPool pool(
        *store,
        [&](const store::Run& run) {
            executed.set_value(run);
            released.wait();
            return completed();
        },
        options(1, 3));
    store::Run handed = insert_run_held(*store, pool, "run_mine");
    handed.fingerprint_inputs = store::FingerprintInputs{"input-hash", "version-hash"};
    // Handed over before the worker starts, so that its first look at the store cannot claim it.
    pool.enqueue(std::move(handed));
    pool.start();
    const store::Run run = executed.get_future().get();
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (store->get_run("run_mine")->status != store::RunStatus::processing &&
           std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(1ms);
    }
    const store::Run during = *store->get_run("run_mine");
    release.set_value();
    const store::Run stored = wait_until_terminal(*store, "run_mine");
    pool.stop();
    EXPECT_EQ(during.status, store::RunStatus::processing);
    EXPECT_EQ(during.started_at_ms, run.started_at_ms);
    ASSERT_TRUE(run.fingerprint_inputs);
    EXPECT_EQ(run.fingerprint_inputs->input_sha256, "input-hash");
    EXPECT_EQ(run.fingerprint_inputs->version_content_hash, "version-hash");
    EXPECT_EQ(run.status, store::RunStatus::processing);
    EXPECT_EQ(run.attempts, 1);
    EXPECT_EQ(run.lease_owner, "node_here");
    EXPECT_EQ(run.request_json, stored.request_json);
    EXPECT_EQ(stored.status, store::RunStatus::completed);
    EXPECT_EQ(stored.attempts, 1);
    EXPECT_EQ(stored.started_at_ms, run.started_at_ms);
}

// Nothing is written before a handed-over run executes: with every store write refused, it
// still runs; its start is lost with the refused write, and the outcome, stored once the store
// is back, carries the start time.
TEST(WorkerPool, AHandedOverRunExecutesWithoutWaitingForAnyStoreWrite) {
    StoreInTempDir store;
    std::atomic<bool> executed{false};
    WorkerPool pool(
        *store,
        [&](const store::Run&) {
            executed = true;
            return completed();
        },
        options(1, 3));
    store::Run handed = insert_run_held(*store, pool, "run_outage");
    rlimit original{};
    ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &original), 0);
    const auto previous_handler = std::signal(SIGXFSZ, SIG_IGN);
    rlimit limited = original;
    limited.rlim_cur = 0;
    ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &limited), 0);
    pool.enqueue(std::move(handed));
    pool.start();
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (!executed && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(1ms);
    const auto during = store->get_run("run_outage");
    setrlimit(RLIMIT_FSIZE, &original);
    std::signal(SIGXFSZ, previous_handler);

    EXPECT_TRUE(executed);
    ASSERT_TRUE(during.has_value());
    EXPECT_EQ(during->status, store::RunStatus::queued) << "no write landed meanwhile";
    const store::Run run = wait_until_terminal(*store, "run_outage");
    pool.stop();
    EXPECT_EQ(run.status, store::RunStatus::completed);
    EXPECT_EQ(run.attempts, 1);
    EXPECT_TRUE(run.started_at_ms.has_value());
}

// Executions yield the cores to the HTTP threads and the store's writer: each worker runs
// kWorkerNiceSteps nice values below the thread that started the pool.
TEST(WorkerPool, WorkersRunAtALowerPriorityThanTheThreadThatStartedThem) {
    StoreInTempDir store;
    std::promise<int> worker_nice;
    WorkerPool pool(
        *store,
        [&](const store::Run&) {
            worker_nice.set_value(getpriority(PRIO_PROCESS, static_cast<id_t>(gettid())));
            return completed();
        },
        options(1, 3));
    pool.enqueue(insert_run_held(*store, pool, "run_nice"));
    errno = 0;
    const int starter_nice = getpriority(PRIO_PROCESS, static_cast<id_t>(gettid()));
    ASSERT_EQ(errno, 0);
    ASSERT_LT(starter_nice, 19) << "the test runs at the lowest priority already";
    pool.start();
    const int nice = worker_nice.get_future().get();
    wait_until_terminal(*store, "run_nice");
    pool.stop();
    EXPECT_EQ(nice, std::min(starter_nice + WorkerPool::kWorkerNiceSteps, 19));
}

// Runs handed over while a worker is busy are taken together, at most kMaxHandOverBatch at once,
// and executed one after another: while the first of them executes past the mark delay, it alone
// is processing and the rest of the batch is queued.
TEST(WorkerPool, AWorkerTakesAtMostABatchOfHandedOverRunsAndMarksOnlyTheOneExecuting) {
    for (const std::size_t handed :
         {WorkerPool::kMaxHandOverBatch, WorkerPool::kMaxHandOverBatch + 1}) {
        SCOPED_TRACE(handed);
        StoreInTempDir store;
        std::optional<store::QueueCounts> at_first_run;
        std::size_t left_to_others = 0;
        QueueOptions quick_mark = options(1, 3);
        quick_mark.mark_started_after = 1ms;
        std::unique_ptr<WorkerPool> pool;
        pool = std::make_unique<WorkerPool>(
            *store,
            [&](const store::Run&) {
                if (at_first_run) return completed();
                left_to_others = pool->depth();
                const auto deadline = std::chrono::steady_clock::now() + 10s;
                do {
                    at_first_run = store->queue_counts();
                    std::this_thread::sleep_for(1ms);
                } while (at_first_run->processing == 0 &&
                         std::chrono::steady_clock::now() < deadline);
                return completed();
            },
            quick_mark);
        for (std::size_t i = 0; i < handed; ++i)
            pool->enqueue(insert_run_held(*store, *pool, "run_" + std::to_string(i)));
        pool->start();
        for (std::size_t i = 0; i < handed; ++i)
            wait_until_terminal(*store, "run_" + std::to_string(i));
        pool->stop();
        ASSERT_TRUE(at_first_run);
        EXPECT_EQ(left_to_others, handed - WorkerPool::kMaxHandOverBatch);
        EXPECT_EQ(at_first_run->processing, 1);
        EXPECT_EQ(at_first_run->queued, static_cast<int64_t>(handed - 1));
    }
}

// A handed-over run is written `processing` only once it has executed for mark_started_after:
// one that ends sooner costs no start write (the store says `queued` until its outcome), one that
// runs longer is `processing` from about then.
TEST(WorkerPool, AHandedOverRunIsMarkedProcessingOnlyPastTheMarkDelay) {
    for (const auto mark_after : {20ms, 2000ms}) {
        SCOPED_TRACE(mark_after.count());
        StoreInTempDir store;
        QueueOptions marking = options(1, 3);
        marking.mark_started_after = mark_after;
        std::optional<store::Run> seen_at_400ms;
        WorkerPool pool(
            *store,
            [&](const store::Run& run) {
                std::this_thread::sleep_for(400ms);
                seen_at_400ms = store->get_run(run.id);
                return completed();
            },
            marking);
        pool.enqueue(insert_run_held(*store, pool, "run_timed"));
        pool.start();
        const store::Run stored = wait_until_terminal(*store, "run_timed");
        pool.stop();
        ASSERT_TRUE(seen_at_400ms);
        EXPECT_EQ(seen_at_400ms->status,
                  mark_after < 400ms ? store::RunStatus::processing : store::RunStatus::queued);
        EXPECT_EQ(stored.status, store::RunStatus::completed);
        ASSERT_TRUE(stored.started_at_ms);
        if (mark_after < 400ms) {
            EXPECT_EQ(seen_at_400ms->started_at_ms, stored.started_at_ms);
        }
    }
}

// A run that starts while the timer already waits for an earlier run's mark does not wake it: the
// timer, woken by that earlier mark (its run long ended), sets its next alarm for this run's.
TEST(WorkerPool, ARunStartedWhileTheTimerWaitsForAnEarlierMarkIsMarkedPastItsOwnDelay) {
    StoreInTempDir store;
    QueueOptions marking = options(1, 3);
    marking.mark_started_after = 100ms;
    std::optional<store::Run> seen_processing;
    WorkerPool pool(
        *store,
        [&](const store::Run& run) {
            if (run.id == "run_quick") {
                std::this_thread::sleep_for(10ms);
                return completed();
            }
            // Generous: the mark is due 100 ms in, but a loaded machine may be slow to write it;
            // well before the timer's own renewal (a third of the 30 s lease) would wake it.
            const auto deadline = std::chrono::steady_clock::now() + 5s;
            do {
                std::this_thread::sleep_for(5ms);
                seen_processing = store->get_run(run.id);
            } while (seen_processing->status != store::RunStatus::processing &&
                     std::chrono::steady_clock::now() < deadline);
            return completed();
        },
        marking);
    pool.start();
    std::this_thread::sleep_for(50ms);  // the timer asleep until its renewal
    pool.enqueue(insert_run_held(*store, pool, "run_quick"));
    pool.enqueue(insert_run_held(*store, pool, "run_long"));
    wait_until_terminal(*store, "run_long");
    pool.stop();
    EXPECT_EQ(store->get_run("run_quick")->status, store::RunStatus::completed);
    ASSERT_TRUE(seen_processing);
    EXPECT_EQ(seen_processing->status, store::RunStatus::processing)
        << "never marked while it executed";
}

// A backlog longer than the lease: the runs waiting for a worker stay this node's.
TEST(WorkerPool, TheHeartbeatRenewsTheLeasesOfHandedOverRunsNotStartedYet) {
    StoreInTempDir store;
    std::promise<void> busy;
    std::promise<void> release;
    std::shared_future<void> released = release.get_future().share();
    WorkerPool pool(
        *store,
        [&](const store::Run& run) {
            if (run.id == "run_first") {
                busy.set_value();
                released.wait();
            }
            return completed();
        },
        options(1, 3, 300ms));
    pool.enqueue(insert_run_held(*store, pool, "run_first"));
    pool.start();
    busy.get_future().wait();
    pool.enqueue(insert_run_held(*store, pool, "run_waiting"));
    const int64_t first_lease = *store->get_run("run_waiting")->leased_until_ms;
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (store->get_run("run_waiting")->leased_until_ms <= first_lease &&
           std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(5ms);
    }
    const store::Run waiting = *store->get_run("run_waiting");
    release.set_value();
    wait_until_terminal(*store, "run_waiting");
    pool.stop();
    EXPECT_GT(waiting.leased_until_ms, first_lease);
    EXPECT_EQ(waiting.status, store::RunStatus::queued);
    EXPECT_EQ(waiting.lease_owner, "node_here");
}

// The submit's commit landed but its answer was lost (the database connection broke): the run
// is stored leased to this node, which never handed it to a worker. The heartbeat renews only
// the runs the node has in hand, so that lease runs out and the run is claimed and executed.
TEST(WorkerPool, ARunStoredInItsNameButNeverHandedOverIsClaimedOnceItsLeaseRunsOut) {
    StoreInTempDir store;
    std::atomic<int> executions{0};
    WorkerPool pool(
        *store,
        [&](const store::Run&) {
            ++executions;
            return completed();
        },
        options(1, 3, 300ms));
    insert_run_held(*store, pool, "run_answer_lost");
    pool.start();
    const store::Run run = wait_until_terminal(*store, "run_answer_lost");
    pool.stop();
    EXPECT_EQ(run.status, store::RunStatus::completed);
    EXPECT_EQ(run.attempts, 2) << "claimed after the submit's own hold";
    EXPECT_EQ(executions.load(), 1);
}

// An execution that threw leaves no outcome: the run is no longer in hand, its lease runs out,
// and a claim executes it again (within the attempts cap) instead of the heartbeat keeping it
// queued for ever.
TEST(WorkerPool, ARunWhoseExecutionThrewIsClaimedAgainOnceItsLeaseRunsOut) {
    StoreInTempDir store;
    std::atomic<int> executions{0};
    WorkerPool pool(
        *store,
        [&](const store::Run&) {
            if (++executions == 1) throw std::runtime_error("the executor failed");
            return completed();
        },
        options(1, 3, 300ms));
    pool.enqueue(insert_run_held(*store, pool, "run_threw_once"));
    pool.start();
    const store::Run run = wait_until_terminal(*store, "run_threw_once");
    pool.stop();
    EXPECT_EQ(run.status, store::RunStatus::completed);
    EXPECT_EQ(run.attempts, 2);
    EXPECT_EQ(executions.load(), 2);
}

// A drain: the run in hand finishes; the runs handed over but not started are given back, so
// any node claims them at once, as their first attempt.
TEST(WorkerPool, StoppingReleasesTheHandedOverRunsNoWorkerStarted) {
    StoreInTempDir store;
    std::promise<void> busy;
    std::promise<void> release;
    std::shared_future<void> released = release.get_future().share();
    std::atomic<int> executions{0};
    WorkerPool pool(
        *store,
        [&](const store::Run&) {
            if (++executions == 1) {
                busy.set_value();
                released.wait();
            }
            return completed();
        },
        options(1, 3));
    pool.enqueue(insert_run_held(*store, pool, "run_in_hand"));
    pool.start();
    busy.get_future().wait();
    for (const char* id : {"run_waiting_1", "run_waiting_2"})
        pool.enqueue(insert_run_held(*store, pool, id));
    std::thread stopper([&] { pool.stop(); });
    // stop() marks the pool stopping first thing; the run in hand then ends the worker's turn.
    std::this_thread::sleep_for(200ms);
    release.set_value();
    stopper.join();

    EXPECT_EQ(executions.load(), 1);
    EXPECT_EQ(store->get_run("run_in_hand")->status, store::RunStatus::completed);
    for (const char* id : {"run_waiting_1", "run_waiting_2"}) {
        const store::Run waiting = *store->get_run(id);
        EXPECT_EQ(waiting.status, store::RunStatus::queued) << id;
        EXPECT_EQ(waiting.attempts, 0) << id;
        EXPECT_EQ(waiting.lease_owner, std::nullopt) << id;
        const int64_t now = now_unix_ms();
        const auto claimed = store->claim_run({"node_next", std::string(id), now, now + 1000, 3});
        ASSERT_TRUE(claimed) << id << " is claimable at once";
        EXPECT_EQ(claimed->run.attempts, 1) << id;
    }
}

TEST(WorkerPool, TheHeartbeatExtendsTheLeaseWhileARunExecutes) {
    StoreInTempDir store;
    insert_run_claimed(*store, "run_long", 0);
    std::promise<void> release;
    std::shared_future<void> released = release.get_future().share();
    WorkerPool pool(
        *store,
        [released](const store::Run&) {
            released.wait();
            return completed();
        },
        options(1, 3, 300ms));
    pool.start();
    std::optional<int64_t> first_lease;
    while (!first_lease) {
        first_lease = store->get_run("run_long")->leased_until_ms;
        std::this_thread::sleep_for(5ms);
    }
    // Renewed every third of the lease, however long the run takes.
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (store->get_run("run_long")->leased_until_ms <= *first_lease &&
           std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(5ms);
    }
    EXPECT_GT(store->get_run("run_long")->leased_until_ms, *first_lease);
    release.set_value();
    const store::Run run = wait_until_terminal(*store, "run_long");
    pool.stop();
    EXPECT_EQ(run.status, store::RunStatus::completed);
    EXPECT_EQ(run.attempts, 1);
}

// The node stalls past its lease (a pause, a lost database); another node takes the run over.
// The stalled node's outcome is dropped: the run's outcome is the new holder's alone.
TEST(WorkerPool, AnOutcomeFromAHolderWhoseLeaseWasTakenOverIsDropped) {
    StoreInTempDir store;
    insert_run_claimed(*store, "run_taken", 0);
    std::atomic<int> finished{0};
    const auto watch = store->watch_finished_runs([&](const store::FinishedRun&) { ++finished; });
    WorkerPool pool(
        *store,
        [&](const store::Run& run) {
            const int64_t after_lease = *run.leased_until_ms + 1;
            EXPECT_TRUE(
                store->claim_run({"node_other", run.id, after_lease, after_lease + 60'000, 3}));
            store::RunOutcome failed = completed();
            failed.status = store::RunStatus::failed;
            return failed;
        },
        options(1, 3));
    pool.start();
    std::optional<store::Run> run;
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while ((!run || run->lease_owner != "node_other") &&
           std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(5ms);
        run = store->get_run("run_taken");
    }
    pool.stop();  // waits for the outcome's verdict
    run = store->get_run("run_taken");
    EXPECT_EQ(run->status, store::RunStatus::processing);
    EXPECT_EQ(run->lease_owner, "node_other");
    EXPECT_EQ(run->attempts, 2);
    EXPECT_EQ(finished.load(), 0) << "no finish is told of a dropped outcome";
}

// --- The queue's depth: the store's count, read once a refresh interval, plus local hand-overs.

class ManualClock {
public:
    QueueDepth::Clock::time_point now() const { return now_; }
    void advance(std::chrono::milliseconds by) { now_ += by; }

private:
    QueueDepth::Clock::time_point now_{std::chrono::hours(1)};
};

// What a test's idle run was told; and the submit's part when it is queued instead: the insert,
// then the pool told of it (overdue), or the run handed over (its execution threw).
struct IdleRunCalls {
    std::promise<store::RunOutcome> executed;
    std::promise<bool> queued;  // whether the pool was told (overdue) rather than handed the run

    WorkerPool::IdleRun offer(store::Store& store, WorkerPool& pool, const std::string& id,
                              std::chrono::milliseconds deadline, bool insert_succeeds = true) {
        store::NewRun stored = new_run(id);
        stored.held_by = pool.hold_new_run();
        return WorkerPool::IdleRun{
            store::queued_run(stored), deadline,
            [this](store::RunOutcome outcome) { executed.set_value(std::move(outcome)); },
            [this, &store, &pool, stored, insert_succeeds](std::function<void(bool)> told_pool) {
                if (insert_succeeds) {
                    wait_for(
                        [&](store::Completion done) { store.insert_run(stored, std::move(done)); });
                }
                queued.set_value(static_cast<bool>(told_pool));
                if (told_pool) {
                    told_pool(insert_succeeds);
                } else if (insert_succeeds) {
                    pool.enqueue(store::queued_run(stored));
                }
            }};
    }
};

// Offers until the pool takes it (its workers' first look at the store may be under way) or
// the bound passes.
bool offer_when_idle(WorkerPool& pool, const std::function<WorkerPool::IdleRun()>& idle) {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (!pool.execute_if_idle(idle())) {
        if (std::chrono::steady_clock::now() > deadline) return false;
        std::this_thread::sleep_for(1ms);
    }
    return true;
}

template <typename T>
bool arrives(std::future<T>& future) {
    return future.wait_for(10s) == std::future_status::ready;
}

// A gate the executor waits at for the runs named, until the test opens it.
class Gate {
public:
    void open() { opened_.set_value(); }
    void wait() const { shut_.wait(); }

private:
    std::promise<void> opened_;
    std::shared_future<void> shut_ = opened_.get_future().share();
};

// An idle node executes the run at once and gives the outcome back to the submit, which stores
// it: the pool writes nothing. Not while a handed-over run keeps a worker busy.
TEST(WorkerPool, AnIdleRunExecutesAtOnceAndItsOutcomeGoesBackToTheSubmit) {
    StoreInTempDir store;
    std::promise<void> run_started;
    Gate gate;
    WorkerPool pool(
        *store,
        [&](const store::Run& run) {
            if (run.id == "run_busy") {
                run_started.set_value();
                gate.wait();
            }
            return completed();
        },
        options(2, 3));
    pool.start();
    IdleRunCalls calls;
    ASSERT_TRUE(offer_when_idle(pool, [&] { return calls.offer(*store, pool, "run_idle", 10s); }));
    auto executed = calls.executed.get_future();
    ASSERT_TRUE(arrives(executed));
    const store::RunOutcome outcome = executed.get();
    EXPECT_EQ(outcome.status, store::RunStatus::completed);
    EXPECT_TRUE(outcome.started_at_ms.has_value());
    ASSERT_TRUE(outcome.event_target.has_value());
    EXPECT_EQ(outcome.event_target->organization, "acme");
    EXPECT_EQ(store->get_run("run_idle"), std::nullopt) << "the submit stores it, not the pool";

    pool.enqueue(insert_run_held(*store, pool, "run_busy"));
    run_started.get_future().get();
    IdleRunCalls refused;
    EXPECT_FALSE(pool.execute_if_idle(refused.offer(*store, pool, "run_refused", 10s)))
        << "a worker executes a handed-over run";
    gate.open();
    wait_until_terminal(*store, "run_busy");
    pool.stop();
    EXPECT_FALSE(pool.execute_if_idle(refused.offer(*store, pool, "run_late", 10s)))
        << "nothing is taken once stopping";
}

// Past its deadline an idle run is the submit's to store queued (from the pool's timer thread,
// while it still executes), then the pool's: its outcome is stored once it ends.
TEST(WorkerPool, AnIdleRunPastItsDeadlineIsQueuedAndItsOutcomeStoredWhenItEnds) {
    StoreInTempDir store;
    Gate gate;
    QueueOptions slow_marks = options(1, 3);
    slow_marks.mark_started_after = std::chrono::seconds(30);  // stays queued while it executes
    WorkerPool pool(
        *store,
        [&](const store::Run&) {
            gate.wait();
            return completed();
        },
        slow_marks);
    pool.start();
    IdleRunCalls calls;
    ASSERT_TRUE(offer_when_idle(pool, [&] { return calls.offer(*store, pool, "run_slow", 20ms); }));
    auto queued = calls.queued.get_future();
    ASSERT_TRUE(arrives(queued));
    EXPECT_TRUE(queued.get()) << "the pool was told of the insert";
    const auto during = store->get_run("run_slow");
    ASSERT_TRUE(during.has_value());
    EXPECT_EQ(during->status, store::RunStatus::queued) << "still executing";
    EXPECT_EQ(during->lease_owner, pool.owner());
    gate.open();
    const store::Run stored = wait_until_terminal(*store, "run_slow");
    pool.stop();
    EXPECT_EQ(stored.status, store::RunStatus::completed);
    EXPECT_EQ(stored.attempts, 1);
    EXPECT_TRUE(stored.started_at_ms.has_value());
    EXPECT_EQ(calls.executed.get_future().wait_for(0s), std::future_status::timeout)
        << "never handed back to the submit";
}

// An overdue idle run whose queued insert failed (the submit answered that error) is dropped:
// the pool writes nothing for it when it ends.
TEST(WorkerPool, AnOverdueIdleRunWhoseInsertFailedIsDropped) {
    StoreInTempDir store;
    Gate gate;
    std::atomic<bool> executed{false};
    WorkerPool pool(
        *store,
        [&](const store::Run&) {
            gate.wait();
            executed = true;
            return completed();
        },
        options(1, 3));
    pool.start();
    IdleRunCalls calls;
    ASSERT_TRUE(offer_when_idle(pool, [&] {
        return calls.offer(*store, pool, "run_lost", 10ms, /*insert_succeeds=*/false);
    }));
    auto queued = calls.queued.get_future();
    ASSERT_TRUE(arrives(queued));
    const uint64_t writes_before = store->writer_stats().writes;
    gate.open();
    pool.stop();  // waits for the run to end and be settled
    EXPECT_TRUE(executed);
    EXPECT_EQ(store->writer_stats().writes, writes_before + 1)
        << "the stop's release of unstarted runs, and no outcome";
    EXPECT_EQ(store->get_run("run_lost"), std::nullopt);
}

// An idle run whose execution threw is stored queued and executed again, as a handed-over run
// would be: whether it threw within its deadline (the submit hands it over) or past it (the pool
// does, once told of the insert).
TEST(WorkerPool, AnIdleRunWhoseExecutionThrewIsQueuedAndExecutedAgain) {
    for (const bool overdue : {false, true}) {
        SCOPED_TRACE(overdue);
        StoreInTempDir store;
        Gate gate;
        std::atomic<int> executions{0};
        WorkerPool pool(
            *store,
            [&](const store::Run&) {
                if (executions++ == 0) {
                    if (overdue) gate.wait();
                    throw std::runtime_error("plugin crashed");
                }
                return completed();
            },
            options(1, 3));
        pool.start();
        IdleRunCalls calls;
        ASSERT_TRUE(offer_when_idle(
            pool, [&] { return calls.offer(*store, pool, "run_again", overdue ? 10ms : 10s); }));
        auto queued = calls.queued.get_future();
        ASSERT_TRUE(arrives(queued));
        EXPECT_EQ(queued.get(), overdue) << "told the pool only when overdue";
        gate.open();
        const store::Run stored = wait_until_terminal(*store, "run_again");
        pool.stop();
        EXPECT_EQ(stored.status, store::RunStatus::completed);
        EXPECT_EQ(executions, 2);
    }
}

// An idle run taken just before the stop is a submit waiting for its answer: it executes before
// the workers end.
TEST(WorkerPool, AnIdleRunTakenBeforeTheStopExecutesBeforeTheWorkersEnd) {
    StoreInTempDir store;
    WorkerPool pool(
        *store,
        [](const store::Run&) {
            std::this_thread::sleep_for(20ms);
            return completed();
        },
        options(1, 3));
    pool.start();
    IdleRunCalls calls;
    ASSERT_TRUE(offer_when_idle(pool, [&] { return calls.offer(*store, pool, "run_last", 10s); }));
    pool.stop();
    EXPECT_EQ(calls.executed.get_future().wait_for(0s), std::future_status::ready);
}

TEST(QueueDepth, ReadsTheStoreOnceARefreshIntervalAndCountsThisNodesHandOversMeanwhile) {
    StoreInTempDir store;
    insert_run_claimed(*store, "run_elsewhere_1", 0);
    insert_run_claimed(*store, "run_elsewhere_2", 0);
    std::atomic<std::size_t> local_pending = 0;
    ManualClock clock;
    QueueDepth depth(
        *store, [&] { return local_pending.load(); }, 250ms, [&] { return clock.now(); });
    EXPECT_EQ(depth.depth(), 2u);

    // Runs queued on other nodes are seen at the next read, not before.
    insert_run_claimed(*store, "run_elsewhere_3", 0);
    insert_run_claimed(*store, "run_elsewhere_4", 0);
    EXPECT_EQ(depth.depth(), 2u);
    // A run this node committed and handed over counts at once, without a read.
    insert_run_claimed(*store, "run_here", 0);
    local_pending = 1;
    EXPECT_EQ(depth.depth(), 3u);
    clock.advance(249ms);
    EXPECT_EQ(depth.depth(), 3u) << "read again before the interval ran out";

    // At the interval: read again; the local hand-over is not counted twice.
    clock.advance(1ms);
    EXPECT_EQ(depth.depth(), 5u);
    // Claimed here: the local figure drops at once.
    ASSERT_TRUE(store->claim_run(
        {"node_here", std::string("run_here"), now_unix_ms(), now_unix_ms() + 60'000, 3}));
    local_pending = 0;
    EXPECT_EQ(depth.depth(), 4u);
    clock.advance(251ms);
    EXPECT_EQ(depth.depth(), 4u);
}

TEST(QueueDepth, AReadForReadinessCountsEveryNodesQueuedAndProcessingRunsAndRefreshesTheDepth) {
    StoreInTempDir store;
    ManualClock clock;
    QueueDepth depth(
        *store, [] { return std::size_t{0}; }, 250ms, [&] { return clock.now(); });
    EXPECT_EQ(depth.depth(), 0u);
    insert_run_claimed(*store, "run_queued", 0);
    insert_run_held_elsewhere(*store, "run_processing");

    const store::QueueCounts counts = depth.read();
    EXPECT_EQ(counts.queued, 1);
    EXPECT_EQ(counts.processing, 1);
    EXPECT_EQ(depth.depth(), 1u) << "the read refreshed the figure before the interval ran out";
}

}  // namespace
}  // namespace engined::queue
