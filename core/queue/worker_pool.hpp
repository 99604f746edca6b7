// core/queue — the durable queue's moving part: worker threads that execute runs under this
// node's lease and store the terminal outcome under it. The queue itself is the store (a run is
// `queued` there before anyone hears of it, and every node on the same database claims from
// it). A local submit stores its run already leased to this node (hold_new_run) and hands it
// over whole, so a worker executes it without any store write or read first; on an idle node it
// may have a worker execute the run before storing it at all (execute_if_idle); other runs (a run
// submitted elsewhere, a lease whose node died) are claimed. A timer keeps alive the leases of
// the runs the node has in hand, started or not (not every lease in its name: a run whose submit
// it saw fail may be stored all the same), and looks for claimable runs now and then. The
// protocol: docs/architecture.md "The queue protocol".
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
#include <unordered_set>
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
    // The most accepted runs this node holds for its own workers before starting them. Past it,
    // a submit stores its run unheld, for any node's claim: a node with a backlog does not keep
    // work that other nodes on the same database could do.
    std::size_t max_held_runs = 1024;
    // A run this node holds since its submit stays `queued` in the store while it executes, and
    // is written `processing` only once it has executed this long: most runs end well within it,
    // and their start would be a second write of the whole row for nothing (the outcome stores
    // when the run started). A GET answers `processing` for a longer run from then on.
    std::chrono::milliseconds mark_started_after{50};
};

class WorkerPool {
public:
    using Execute = std::function<store::RunOutcome(const store::Run&)>;

    WorkerPool(store::Store& store, Execute execute, QueueOptions options);
    ~WorkerPool();
    WorkerPool(const WorkerPool&) = delete;
    WorkerPool& operator=(const WorkerPool&) = delete;

    // Starts the workers, which first claim whatever is claimable, and the lease timer.
    void start();
    // The lease a run this node accepts is stored with (NewRun::held_by): this node's workers
    // will execute it, and no other node may claim it meanwhile. None once `max_held_runs` runs
    // wait for a worker here: the run is then stored unheld, claimable by any node. Thread-safe.
    std::optional<store::RunHold> hold_new_run() const;
    // Hands a run this node just committed (as stored: store::queued_run) to the workers: one
    // held as hold_new_run() said is executed as handed over; one this node does not hold is
    // left to the claim, and a worker looks for it. Thread-safe.
    void enqueue(store::Run run);
    // Something may have become claimable (a submit on another node): a worker looks. Thread-safe.
    void wake();
    // A run a submit offers to execute before storing it (execute_if_idle).
    struct IdleRun {
        store::Run run;  // as the submit will store it, held by this node (store::queued_run)
        // The most the submit waits for the execution.
        std::chrono::milliseconds deadline;
        // The run executed within the deadline (on the worker): the submit stores it with its
        // outcome in one write (Store::insert_finished_run) and answers.
        std::function<void(store::RunOutcome outcome)> executed;
        // It did not. Still executing at the deadline (called on the pool's timer thread): the
        // submit stores the run queued as usual, answers, and calls `stored` with whether its
        // insert committed; from then on the run is the pool's as a handed-over one is (its
        // lease renewed, its outcome stored once both the insert committed and the execution
        // ended, executed again if it threw). The executor threw (on the worker; `stored` is
        // empty): the submit stores the run queued and hands it over, as any other.
        std::function<void(std::function<void(bool inserted)> stored)> queue_instead;
    };
    // Executes `idle.run` on a worker at once when the node is idle: every worker waiting, no run
    // handed over or outcome waiting for one, no idle run under way. False otherwise (nothing is
    // done). Exactly one of `executed` and `queue_instead` is called, once. An idle run accepted
    // before stop() runs before the workers end. Thread-safe.
    bool execute_if_idle(IdleRun idle);
    // Lets each worker finish the runs in hand, then gives up the leases of the handed-over runs
    // no worker started (Store::release_unstarted_runs), so that any node claims them at once.
    // Outcomes the store could not take yet are dropped (their leases expire and another claim
    // runs them again).
    void stop();

    const std::string& owner() const { return owner_; }
    // Runs this node handed to its workers that no worker has started yet.
    std::size_t depth() const;

    // The most handed-over runs one worker takes at once.
    static constexpr std::size_t kMaxHandOverBatch = 32;
    // How many nice steps below the process its workers run. A run passes through an HTTP
    // thread and the store's one writer before and after its execution; when the cores are
    // contended, an execution waits for them rather than the only writer for an execution.
    static constexpr int kWorkerNiceSteps = 5;
    // How long a claim or an outcome the store refused (unavailable) waits before it is tried again.
    static constexpr std::chrono::milliseconds kStoreRetryDelay{500};

private:
    using Clock = std::chrono::steady_clock;
    // A handed-over run a worker is executing that the store still has `queued`.
    struct Unmarked {
        std::string run_id;
        int64_t started_at_ms;
        Clock::time_point mark_at;  // started + mark_started_after
    };
    struct UnsavedOutcome {
        std::string run_id;
        store::RunOutcome outcome;
        Clock::time_point retry_at;
    };

    void work();
    // Executes runs this node holds since their submit, in order, each written `processing` by
    // the timer if it executes longer than mark_started_after.
    void run_handed_over(std::vector<store::Run> runs);
    // Claims the next claimable run and executes it; false when nothing was claimed.
    bool claim_and_run();
    // Executes one claimed run, or stores the failure of a run at the attempts cap.
    void run_claimed(const store::Claim& claim);
    // The run's outcome, or none when the executor threw (logged).
    std::optional<store::RunOutcome> execute(const store::Run& run);

    // Renews this node's leases every third of the lease, and looks for claimable runs as often;
    // writes `processing` for the runs executing past mark_started_after.
    void keep_leases();
    // Writes `processing` for the unmarked runs due by `now`, without waiting for the writes.
    // Called with `lock` held; releases it while it hands the writes to the store.
    void mark_started(std::unique_lock<std::mutex>& lock, Clock::time_point now);
    // With the lock held: the run is no longer executing (see mark_started).
    void forget_unmarked(const std::string& run_id);
    // The run left this node's hands: its outcome was stored or dropped, or it was never executed
    // (the executor threw), so its lease is no longer renewed.
    void let_go(const std::string& run_id);
    // store_outcome() of an outcome already counted in storing_.
    void send_outcome(std::string run_id, store::RunOutcome outcome);
    // Stores the outcome under this node's lease; while the store is unavailable it is kept and
    // stored again later, so a run executed during a store outage still ends once it is back.
    void store_outcome(std::string run_id, store::RunOutcome outcome);
    // How a store_outcome() ended: a refusal while the store is unavailable is kept for later.
    void settle(std::string run_id, store::RunOutcome outcome, std::exception_ptr error);

    store::Store& store_;
    Execute execute_;
    const int worker_count_;
    const int max_attempts_;
    const std::chrono::milliseconds lease_;
    const std::string owner_;
    const std::size_t max_held_runs_;
    const std::chrono::milliseconds mark_started_after_;
    mutable std::mutex mutex_;
    std::condition_variable ready_;
    std::condition_variable settled_;  // storing_ went down
    std::condition_variable timer_;    // wakes keep_leases(): to stop, or to set an earlier alarm
    // When keep_leases() wakes by itself; min() while it is awake. Under mutex_.
    Clock::time_point timer_alarm_ = Clock::time_point::max();
    std::size_t storing_ = 0;  // outcomes handed to the store, not yet called back
    std::deque<store::Run> pending_;
    // The idle run (execute_if_idle) from its acceptance until it is the pool's or the submit's.
    struct IdleRunUnderWay {
        explicit IdleRunUnderWay(IdleRun run) : idle(std::move(run)) {}
        IdleRun idle;
        bool taken = false;  // by a worker
        Clock::time_point started{};
        int64_t started_at_ms = 0;
        Clock::time_point due() const { return started + idle.deadline; }
        bool overdue = false;                      // queue_instead() called by the timer
        bool ended = false;                        // the execution
        std::optional<store::RunOutcome> outcome;  // none: the executor threw
        std::optional<bool> inserted;              // how the submit's queued insert ended
    };
    // Executes the idle run on this worker; called and returns with `lock` held.
    void run_idle(std::unique_lock<std::mutex>& lock);
    // With `lock` held: the overdue idle run reached the timer's deadline.
    void queue_overdue(std::unique_lock<std::mutex>& lock);
    // With `lock` held: once the overdue idle run both ended and knows its insert's fate, its
    // outcome goes to the store (or the run to the workers again) and the pool forgets it.
    void settle_overdue(std::unique_lock<std::mutex>& lock);

    std::optional<IdleRunUnderWay> idle_run_;
    int idle_workers_ = 0;                // waiting for something to do
    std::deque<UnsavedOutcome> unsaved_;  // oldest first, so the front is the next due
    std::vector<Unmarked> unmarked_;      // at most one per worker
    // Runs a worker took (handed over or claimed) until their outcome is settled: with pending_
    // and unsaved_, the runs whose leases the heartbeat renews.
    std::unordered_set<std::string> in_hand_;
    bool look_for_runs_ = false;            // a claim of the next claimable run may find one
    uint64_t wake_count_ = 0;               // wake() calls, so a claim that found nothing knows
                                            // whether a wake-up came meanwhile
    Clock::time_point claims_resume_at_{};  // after the store refused a claim
    bool stopping_ = false;
    std::vector<std::thread> workers_;
    std::thread lease_keeper_;
};

}  // namespace engined::queue
