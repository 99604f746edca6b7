// core/queue — the durable queue's moving part: worker threads that claim committed runs, mark
// them processing, execute them and store the terminal outcome. The queue itself is the store
// (a run is `queued` there before anyone hears of it); this pool only holds ids in memory, and
// on start re-reads every run a crash left queued or processing.
#pragma once

#include "store/store.hpp"

#include <chrono>
#include <condition_variable>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace engined::queue {

class WorkerPool {
public:
    using Execute = std::function<store::RunOutcome(const store::Run&)>;
    // Told once a run's terminal outcome committed; runs on the store's writer thread, so it
    // must only signal (e.g. wake the webhook dispatcher), never block.
    using Finished = std::function<void()>;

    // A run already claimed `max_attempts` times never finished: each claim ended with the
    // process (a crash, a kill). It is stored failed (`run_crashed`) instead of run again.
    WorkerPool(store::Store& store, Execute execute, int workers, int max_attempts,
               Finished finished = {});
    ~WorkerPool();
    WorkerPool(const WorkerPool&) = delete;
    WorkerPool& operator=(const WorkerPool&) = delete;

    // Queues every unfinished run found in the store, then starts the workers.
    void start();
    // Hands a newly committed run to the workers. Thread-safe.
    void enqueue(std::string run_id);
    // Lets each worker finish the run in hand; runs not yet started stay queued in the store,
    // and outcomes the store could not take yet are dropped (those runs run again at start).
    void stop();

    std::size_t depth() const;

    // How long an outcome the store refused (unavailable) waits before it is stored again.
    static constexpr std::chrono::milliseconds kOutcomeRetryDelay{500};

private:
    using Clock = std::chrono::steady_clock;
    struct UnsavedOutcome {
        std::string run_id;
        store::RunOutcome outcome;
        Clock::time_point retry_at;
    };

    void work();
    void run_one(const std::string& run_id);
    // Stores the outcome; while the store is unavailable it is kept and stored again later, so
    // a run executed during a store outage still ends once the store is back.
    void store_outcome(std::string run_id, store::RunOutcome outcome);
    // How a store_outcome() ended: a refusal while the store is unavailable is kept for later.
    void settle(std::string run_id, store::RunOutcome outcome, std::exception_ptr error);

    store::Store& store_;
    Execute execute_;
    Finished finished_;
    int worker_count_;
    int max_attempts_;
    mutable std::mutex mutex_;
    std::condition_variable ready_;
    std::condition_variable settled_;  // storing_ went down
    std::size_t storing_ = 0;          // outcomes handed to the store, not yet called back
    std::deque<std::string> pending_;
    std::deque<UnsavedOutcome> unsaved_;  // oldest first, so the front is the next due
    bool stopping_ = false;
    std::vector<std::thread> workers_;
};

}  // namespace engined::queue
