// core/queue — the durable queue's moving part: worker threads that claim committed runs with a
// lease, execute them and store the terminal outcome under that lease. The queue itself is the
// store (a run is `queued` there before anyone hears of it, and every node on the same database
// claims from it); this pool holds only the runs a local submit handed over (whole, so that
// claiming one reads nothing back), and a timer that
// keeps its leases alive and looks for claimable runs now and then (a run submitted elsewhere,
// a lease whose node died). The protocol: docs/architecture.md "The queue protocol".
#pragma once

#include "store/store.hpp"

#include <chrono>
#include <condition_variable>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace engined::queue {

struct QueueOptions {
    int workers = 2;
    // A run already claimed `max_attempts` times never finished: each claim ended with its node
    // (a crash, a kill). It is stored failed (`run_crashed`) instead of run again.
    int max_attempts = 3;
    // How long a claim holds a run without a heartbeat; the heartbeat renews it every third.
    std::chrono::milliseconds lease{std::chrono::seconds(30)};
    // This node's lease owner id; empty: a random one, new at every start.
    std::string owner;
};

class WorkerPool {
public:
    using Execute = std::function<store::RunOutcome(const store::Run&)>;
    // Told once a run's terminal outcome committed; runs on the store's writer thread, so it
    // must only signal (e.g. wake the webhook dispatcher), never block.
    using Finished = std::function<void()>;

    WorkerPool(store::Store& store, Execute execute, QueueOptions options, Finished finished = {});
    ~WorkerPool();
    WorkerPool(const WorkerPool&) = delete;
    WorkerPool& operator=(const WorkerPool&) = delete;

    // Starts the workers, which first claim whatever is claimable, and the lease timer.
    void start();
    // Hands a run this node just committed (as stored: store::queued_run) to the workers, which
    // claim that run and execute it as handed over. Thread-safe.
    void enqueue(store::Run run);
    // Something may have become claimable (a submit on another node): a worker looks. Thread-safe.
    void wake();
    // Lets each worker finish the run in hand; runs not yet claimed stay queued in the store,
    // and outcomes the store could not take yet are dropped (their leases expire and another
    // claim runs them again).
    void stop();

    const std::string& owner() const { return owner_; }
    // Runs this node handed to its workers that no worker has claimed yet.
    std::size_t depth() const;

    // The most handed-over runs one claim leases: its store write (one commit) is paid for once
    // by them all rather than once each.
    static constexpr std::size_t kMaxLeaseBatch = 32;
    // How long a claim or an outcome the store refused (unavailable) waits before it is tried again.
    static constexpr std::chrono::milliseconds kStoreRetryDelay{500};

private:
    using Clock = std::chrono::steady_clock;
    struct UnsavedOutcome {
        std::string run_id;
        store::RunOutcome outcome;
        Clock::time_point retry_at;
    };

    void work();
    // Claims those runs (none: the next claimable one) and executes what it got, in order; false
    // when nothing was claimed.
    bool claim_and_run(std::vector<store::Run> handed_over);
    // The claim itself: handed-over runs are leased in one write (store::Store::lease_runs) and
    // completed from what it wrote; otherwise the store's claim reads the next claimable run.
    std::vector<store::Claim> claim(std::vector<store::Run> handed_over);
    // Executes one claimed run, or stores the failure of a run at the attempts cap.
    void run_claimed(const store::Claim& claim);

    // Renews this node's leases every third of the lease, and looks for claimable runs as often.
    void keep_leases();
    // Stores the outcome under this node's lease; while the store is unavailable it is kept and
    // stored again later, so a run executed during a store outage still ends once it is back.
    void store_outcome(std::string run_id, store::RunOutcome outcome);
    // How a store_outcome() ended: a refusal while the store is unavailable is kept for later.
    void settle(std::string run_id, store::RunOutcome outcome, std::exception_ptr error);

    store::Store& store_;
    Execute execute_;
    Finished finished_;
    const int worker_count_;
    const int max_attempts_;
    const std::chrono::milliseconds lease_;
    const std::string owner_;
    mutable std::mutex mutex_;
    std::condition_variable ready_;
    std::condition_variable settled_;  // storing_ went down
    std::condition_variable timer_;    // wakes keep_leases() to stop
    std::size_t storing_ = 0;          // outcomes handed to the store, not yet called back
    std::deque<store::Run> pending_;
    std::deque<UnsavedOutcome> unsaved_;    // oldest first, so the front is the next due
    bool look_for_runs_ = false;            // a claim of the next claimable run may find one
    uint64_t wake_count_ = 0;               // wake() calls, so a claim that found nothing knows
                                            // whether a wake-up came meanwhile
    Clock::time_point claims_resume_at_{};  // after the store refused a claim
    bool stopping_ = false;
    std::vector<std::thread> workers_;
    std::thread lease_keeper_;
};

}  // namespace engined::queue
