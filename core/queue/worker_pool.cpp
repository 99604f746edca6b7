#include "queue/worker_pool.hpp"

#include "common/log.hpp"
#include "common/time.hpp"

namespace engined::queue {
namespace {

store::Completion log_failure(std::string what, std::string run_id) {
    return [what = std::move(what), run_id = std::move(run_id)](std::exception_ptr error) {
        if (!error) return;
        try {
            std::rethrow_exception(error);
        } catch (const std::exception& e) {
            log::error(what, {{"run_id", run_id}, {"detail", e.what()}});
        }
    };
}

store::RunOutcome crashed(int attempts) {
    store::RunOutcome outcome;
    outcome.status = store::RunStatus::failed;
    outcome.stage = "processing";
    outcome.output_json = "null";
    outcome.results_json = "null";
    outcome.error_code = "run_crashed";
    outcome.error_message = "the run stopped the server " + std::to_string(attempts) +
                            " times; it was not retried again";
    outcome.completed_at_ms = now_unix_ms();
    return outcome;
}

}  // namespace

WorkerPool::WorkerPool(store::Store& store, Execute execute, int workers, int max_attempts,
                       Finished finished)
    : store_(store),
      execute_(std::move(execute)),
      finished_(std::move(finished)),
      worker_count_(std::max(1, workers)),
      max_attempts_(std::max(1, max_attempts)) {}

WorkerPool::~WorkerPool() {
    stop();
}

void WorkerPool::start() {
    const auto unfinished = store_.unfinished_run_ids();
    if (!unfinished.empty()) {
        log::info("resuming unfinished runs", {{"count", unfinished.size()}});
    }
    {
        std::lock_guard lock(mutex_);
        stopping_ = false;
        pending_.insert(pending_.end(), unfinished.begin(), unfinished.end());
    }
    for (int i = 0; i < worker_count_; ++i) workers_.emplace_back([this] { work(); });
}

void WorkerPool::enqueue(std::string run_id) {
    {
        std::lock_guard lock(mutex_);
        pending_.push_back(std::move(run_id));
    }
    ready_.notify_one();
}

void WorkerPool::stop() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    ready_.notify_all();
    for (auto& worker : workers_) {
        if (worker.joinable()) worker.join();
    }
    workers_.clear();
    // The store calls back into this pool once each outcome is committed or refused: the pool
    // must outlive those calls.
    std::unique_lock lock(mutex_);
    settled_.wait(lock, [this] { return storing_ == 0; });
    unsaved_.clear();
}

std::size_t WorkerPool::depth() const {
    std::lock_guard lock(mutex_);
    return pending_.size();
}

void WorkerPool::work() {
    std::unique_lock lock(mutex_);
    for (;;) {
        if (stopping_) return;
        if (!unsaved_.empty() && unsaved_.front().retry_at <= Clock::now()) {
            UnsavedOutcome due = std::move(unsaved_.front());
            unsaved_.pop_front();
            lock.unlock();
            store_outcome(std::move(due.run_id), std::move(due.outcome));
            lock.lock();
        } else if (!pending_.empty()) {
            const std::string run_id = std::move(pending_.front());
            pending_.pop_front();
            lock.unlock();
            run_one(run_id);
            lock.lock();
        } else if (unsaved_.empty()) {
            ready_.wait(lock);
        } else {
            ready_.wait_until(lock, unsaved_.front().retry_at);
        }
    }
}

void WorkerPool::run_one(const std::string& run_id) {
    try {
        auto run = store_.get_run(run_id);
        if (!run || store::is_terminal(run->status)) return;
        if (run->attempts >= max_attempts_) {
            log::error("run stopped the server too often",
                       {{"run_id", run_id}, {"attempts", run->attempts}});
            store_outcome(run_id, crashed(run->attempts));
            return;
        }
        run->started_at_ms = now_unix_ms();
        // The claim and the outcome travel through the same ordered, group-committed writer, so
        // the claim is durable before (or with) the result; a crash in between re-runs the run.
        store_.mark_processing(run_id, *run->started_at_ms,
                               log_failure("claiming a run failed", run_id));
        store_outcome(run_id, execute_(*run));
    } catch (const std::exception& error) {
        log::error("run could not be processed", {{"run_id", run_id}, {"detail", error.what()}});
    }
}

void WorkerPool::store_outcome(std::string run_id, store::RunOutcome outcome) {
    {
        std::lock_guard lock(mutex_);
        ++storing_;
    }
    // Copied, not moved: the store consumes its argument, and a refused outcome must survive.
    try {
        store_.finish_run(run_id, outcome,
                          [this, run_id, outcome](std::exception_ptr error) mutable {
                              settle(std::move(run_id), std::move(outcome), error);
                          });
    } catch (...) {
        settle(std::move(run_id), std::move(outcome), std::current_exception());
    }
}

void WorkerPool::settle(std::string run_id, store::RunOutcome outcome, std::exception_ptr error) {
    bool keep = false;
    if (error) {
        try {
            std::rethrow_exception(error);
        } catch (const store::StoreUnavailable& unavailable) {
            keep = true;
            log::error("storing a run outcome failed",
                       {{"run_id", run_id},
                        {"detail", unavailable.what()},
                        {"retry_in_ms", kOutcomeRetryDelay.count()}});
        } catch (const std::exception& e) {
            log::error("storing a run outcome failed", {{"run_id", run_id}, {"detail", e.what()}});
        }
    }
    {
        std::lock_guard lock(mutex_);
        if (keep && !stopping_) {
            unsaved_.push_back(
                {std::move(run_id), std::move(outcome), Clock::now() + kOutcomeRetryDelay});
        }
        --storing_;
    }
    if (!error && finished_) finished_();
    ready_.notify_one();
    settled_.notify_all();
}

}  // namespace engined::queue
