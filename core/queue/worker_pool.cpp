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

}  // namespace

WorkerPool::WorkerPool(store::Store& store, Execute execute, int workers, Finished finished)
    : store_(store), execute_(std::move(execute)), finished_(std::move(finished)), worker_count_(std::max(1, workers)) {}

WorkerPool::~WorkerPool() { stop(); }

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
}

std::size_t WorkerPool::depth() const {
    std::lock_guard lock(mutex_);
    return pending_.size();
}

void WorkerPool::work() {
    for (;;) {
        std::string run_id;
        {
            std::unique_lock lock(mutex_);
            ready_.wait(lock, [this] { return stopping_ || !pending_.empty(); });
            if (stopping_) return;
            run_id = std::move(pending_.front());
            pending_.pop_front();
        }
        run_one(run_id);
    }
}

void WorkerPool::run_one(const std::string& run_id) {
    try {
        auto run = store_.get_run(run_id);
        if (!run || store::is_terminal(run->status)) return;
        run->started_at_ms = now_unix_ms();
        // The claim and the outcome travel through the same ordered, group-committed writer, so
        // the claim is durable before (or with) the result; a crash in between re-runs the run.
        store_.mark_processing(run_id, *run->started_at_ms, log_failure("claiming a run failed", run_id));
        store::RunOutcome outcome = execute_(*run);
        store_.finish_run(run_id, std::move(outcome),
                          [report = log_failure("storing a run outcome failed", run_id),
                           finished = finished_](std::exception_ptr error) {
                              report(error);
                              if (!error && finished) finished();
                          });
    } catch (const std::exception& error) {
        log::error("run could not be processed", {{"run_id", run_id}, {"detail", error.what()}});
    }
}

}  // namespace engined::queue
