// core/queue — the durable queue's moving part: worker threads that claim committed runs, mark
// them processing, execute them and store the terminal outcome. The queue itself is the store
// (a run is `queued` there before anyone hears of it); this pool only holds ids in memory, and
// on start re-reads every run a crash left queued or processing.
#pragma once

#include "store/store.hpp"

#include <condition_variable>
#include <deque>
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

    WorkerPool(store::Store& store, Execute execute, int workers, Finished finished = {});
    ~WorkerPool();
    WorkerPool(const WorkerPool&) = delete;
    WorkerPool& operator=(const WorkerPool&) = delete;

    // Queues every unfinished run found in the store, then starts the workers.
    void start();
    // Hands a newly committed run to the workers. Thread-safe.
    void enqueue(std::string run_id);
    // Lets each worker finish the run in hand; runs not yet started stay queued in the store.
    void stop();

    std::size_t depth() const;

private:
    void work();
    void run_one(const std::string& run_id);

    store::Store& store_;
    Execute execute_;
    Finished finished_;
    int worker_count_;
    mutable std::mutex mutex_;
    std::condition_variable ready_;
    std::deque<std::string> pending_;
    bool stopping_ = false;
    std::vector<std::thread> workers_;
};

}  // namespace engined::queue
