#include "queue/worker_pool.hpp"

#include "common/crypto.hpp"
#include "common/log.hpp"
#include "common/thread_name.hpp"
#include "common/time.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace engined::queue {
namespace {

// Lowers the calling thread's scheduling priority by `steps` nice values (Linux gives each
// thread its own); lowering needs no privilege, so a refusal is only logged.
void lower_this_threads_priority(int steps) {
    const auto thread = static_cast<id_t>(::gettid());
    errno = 0;
    const int nice = ::getpriority(PRIO_PROCESS, thread);
    if (errno == 0 && ::setpriority(PRIO_PROCESS, thread, std::min(nice + steps, 19)) == 0) return;
    log::warn("could not lower a worker thread's priority", {{"detail", std::strerror(errno)}});
}

// The outcome with its event's target, from the run the worker holds, so that the store need not
// read the run back to find it.
store::RunOutcome addressed(const store::Run& run, store::RunOutcome outcome) {
    outcome.event_target =
        store::RunEventTarget{run.organization, run.environment_id, run.webhook_url};
    return outcome;
}

// What a worker's execution of the run starts with.
void mark_processing(store::Run& run) {
    run.status = store::RunStatus::processing;
    run.stage = "processing";
    run.started_at_ms = now_unix_ms();
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

std::string describe(std::exception_ptr error) {
    try {
        std::rethrow_exception(error);
    } catch (const std::exception& e) {
        return e.what();
    } catch (...) {
        return "unknown error";
    }
}

}  // namespace

WorkerPool::WorkerPool(store::Store& store, Execute execute, QueueOptions options)
    : store_(store),
      execute_(std::move(execute)),
      worker_count_(std::max(1, options.workers)),
      max_attempts_(std::max(1, options.max_attempts)),
      lease_(std::max(options.lease, std::chrono::milliseconds(3))),
      owner_(options.owner.empty() ? "node_" + random_hex(8) : std::move(options.owner)),
      max_held_runs_(std::max<std::size_t>(1, options.max_held_runs)),
      mark_started_after_(options.mark_started_after) {}

WorkerPool::~WorkerPool() {
    stop();
}

void WorkerPool::start() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = false;
        look_for_runs_ = true;
    }
    log::info("run queue started",
              {{"lease_owner", owner_}, {"lease_ms", static_cast<int64_t>(lease_.count())}});
    for (int i = 0; i < worker_count_; ++i) {
        workers_.push_back(named_thread("engined-worker", [this] { work(); }));
    }
    lease_keeper_ = named_thread("engined-leases", [this] { keep_leases(); });
}

std::optional<store::RunHold> WorkerPool::hold_new_run() const {
    {
        std::lock_guard lock(mutex_);
        if (pending_.size() >= max_held_runs_) return std::nullopt;
    }
    return store::RunHold{owner_, now_unix_ms() + lease_.count()};
}

void WorkerPool::enqueue(store::Run run) {
    if (run.lease_owner != owner_) {
        wake();
        return;
    }
    {
        std::lock_guard lock(mutex_);
        pending_.push_back(std::move(run));
    }
    ready_.notify_one();
}

void WorkerPool::wake() {
    {
        std::lock_guard lock(mutex_);
        look_for_runs_ = true;
        ++wake_count_;
    }
    ready_.notify_one();
}

bool WorkerPool::execute_if_idle(IdleRun idle) {
    {
        std::lock_guard lock(mutex_);
        if (stopping_ || idle_run_ || idle_workers_ < worker_count_ || !pending_.empty() ||
            !unsaved_.empty()) {
            return false;
        }
        idle_run_.emplace(std::move(idle));
    }
    ready_.notify_one();
    return true;
}

void WorkerPool::stop() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    ready_.notify_all();
    timer_.notify_all();
    const bool started = !workers_.empty();
    for (auto& worker : workers_) {
        if (worker.joinable()) worker.join();
    }
    workers_.clear();
    if (lease_keeper_.joinable()) lease_keeper_.join();
    {
        // An idle run stored queued settles once its insert committed: released below before
        // that, it would lose its lease and with it its outcome.
        std::unique_lock lock(mutex_);
        settled_.wait(lock, [this] { return !idle_run_; });
    }
    if (started) {
        // The workers are gone: whatever this node still holds unstarted, no one here will run.
        try {
            const int64_t released = store_.release_unstarted_runs(owner_);
            log::info("run queue stopped", {{"lease_owner", owner_}, {"released_runs", released}});
        } catch (const std::exception& error) {
            log::error("releasing unstarted runs failed; they are claimed once their leases expire",
                       {{"lease_owner", owner_}, {"detail", error.what()}});
        }
    }
    // The store calls back into this pool once each outcome is committed or refused: the pool
    // must outlive those calls.
    std::unique_lock lock(mutex_);
    settled_.wait(lock, [this] { return storing_ == 0; });
    unsaved_.clear();
    pending_.clear();
    in_hand_.clear();
}

std::size_t WorkerPool::depth() const {
    std::lock_guard lock(mutex_);
    return pending_.size();
}

void WorkerPool::work() {
    lower_this_threads_priority(kWorkerNiceSteps);
    std::unique_lock lock(mutex_);
    for (;;) {
        // Before the stop: an idle run is a submit waiting for its answer.
        if (idle_run_ && !idle_run_->taken) {
            run_idle(lock);
            continue;
        }
        if (stopping_) return;
        const Clock::time_point now = Clock::now();
        const bool may_claim = now >= claims_resume_at_;
        if (!unsaved_.empty() && unsaved_.front().retry_at <= now) {
            UnsavedOutcome due = std::move(unsaved_.front());
            unsaved_.pop_front();
            in_hand_.insert(due.run_id);
            lock.unlock();
            store_outcome(std::move(due.run_id), std::move(due.outcome));
            lock.lock();
        } else if (!pending_.empty()) {
            // Under load a worker takes its share of the waiting runs under one lock, leaving
            // the others theirs.
            const std::size_t share = std::clamp<std::size_t>(
                pending_.size() / static_cast<std::size_t>(worker_count_), 1, kMaxHandOverBatch);
            std::vector<store::Run> runs;
            runs.reserve(share);
            for (std::size_t i = 0; i < share; ++i) {
                in_hand_.insert(pending_.front().id);
                runs.push_back(std::move(pending_.front()));
                pending_.pop_front();
            }
            lock.unlock();
            run_handed_over(std::move(runs));
            lock.lock();
        } else if (may_claim && look_for_runs_) {
            const uint64_t wakes_before = wake_count_;
            lock.unlock();
            const bool claimed = claim_and_run();
            lock.lock();
            // Found nothing, and no wake-up came while it looked: rest until the next one.
            if (!claimed && wake_count_ == wakes_before) look_for_runs_ = false;
        } else {
            Clock::time_point until = Clock::time_point::max();
            if (!unsaved_.empty()) until = unsaved_.front().retry_at;
            if (!may_claim && look_for_runs_) {
                until = std::min(until, claims_resume_at_);
            }
            ++idle_workers_;
            ready_.wait_until(lock, until);
            --idle_workers_;
        }
    }
}

void WorkerPool::run_idle(std::unique_lock<std::mutex>& lock) {
    IdleRunUnderWay& taken = *idle_run_;
    taken.taken = true;
    taken.started = Clock::now();
    store::Run run = taken.idle.run;
    mark_processing(run);
    taken.started_at_ms = *run.started_at_ms;
    const bool timer_sleeps_past_deadline = taken.due() < timer_alarm_;
    lock.unlock();
    if (timer_sleeps_past_deadline) timer_.notify_one();
    std::optional<store::RunOutcome> outcome = execute(run);
    if (outcome) outcome = addressed(run, std::move(*outcome));
    lock.lock();
    IdleRunUnderWay& ended = *idle_run_;  // forgotten only once it ended
    ended.ended = true;
    forget_unmarked(run.id);
    if (ended.overdue) {
        ended.outcome = std::move(outcome);
        settle_overdue(lock);
        return;
    }
    IdleRun idle = std::move(ended.idle);
    idle_run_.reset();
    settled_.notify_all();
    lock.unlock();
    if (outcome) {
        idle.executed(std::move(*outcome));
    } else {
        // As a handed-over run whose execution threw: stored queued and handed over again.
        idle.queue_instead(nullptr);
    }
    lock.lock();
}

void WorkerPool::queue_overdue(std::unique_lock<std::mutex>& lock) {
    IdleRunUnderWay& late = *idle_run_;
    late.overdue = true;
    // The pool's from now on: its lease renewed, and `processing` once it has run long enough.
    in_hand_.insert(late.idle.run.id);
    unmarked_.push_back({late.idle.run.id, late.started_at_ms, late.started + mark_started_after_});
    std::function<void(std::function<void(bool)>)> queue_instead =
        std::move(late.idle.queue_instead);
    lock.unlock();
    queue_instead([this](bool inserted) {
        std::unique_lock relock(mutex_);
        idle_run_->inserted = inserted;
        settle_overdue(relock);
    });
    lock.lock();
}

void WorkerPool::settle_overdue(std::unique_lock<std::mutex>& lock) {
    if (!idle_run_->ended || !idle_run_->inserted) return;
    const bool inserted = *idle_run_->inserted;
    std::optional<store::RunOutcome> outcome = std::move(idle_run_->outcome);
    store::Run run = std::move(idle_run_->idle.run);
    // Counted before the idle run is forgotten, so that stop() never sees neither.
    if (inserted && outcome) ++storing_;
    idle_run_.reset();
    settled_.notify_all();
    if (!inserted || !outcome) {
        in_hand_.erase(run.id);
        // Its execution threw: executed again, as a handed-over run would be.
        if (inserted && !stopping_) {
            pending_.push_back(std::move(run));
            ready_.notify_one();
        }
        return;
    }
    lock.unlock();
    send_outcome(run.id, std::move(*outcome));
    lock.lock();
}

void WorkerPool::forget_unmarked(const std::string& run_id) {
    const auto executed = std::find_if(unmarked_.begin(), unmarked_.end(),
                                       [&run_id](const Unmarked& u) { return u.run_id == run_id; });
    if (executed != unmarked_.end()) {
        std::swap(*executed, unmarked_.back());
        unmarked_.pop_back();
    }
}

void WorkerPool::run_handed_over(std::vector<store::Run> runs) {
    for (store::Run& run : runs) {
        mark_processing(run);
        bool timer_sleeps_past_mark = false;
        {
            std::lock_guard lock(mutex_);
            const Clock::time_point mark_at = Clock::now() + mark_started_after_;
            unmarked_.push_back({run.id, *run.started_at_ms, mark_at});
            timer_sleeps_past_mark = mark_at < timer_alarm_;
        }
        // Woken only to set an earlier alarm: under load its alarm is another run's mark, which
        // comes first, and a wake-up per run would cost more than the run's own bookkeeping.
        if (timer_sleeps_past_mark) timer_.notify_one();
        std::optional<store::RunOutcome> outcome = execute(run);
        {
            std::lock_guard lock(mutex_);
            forget_unmarked(run.id);
        }
        if (outcome) {
            store_outcome(run.id, addressed(run, std::move(*outcome)));
        } else {
            let_go(run.id);
        }
    }
}

bool WorkerPool::claim_and_run() {
    store::ClaimRequest terms;
    terms.owner = owner_;
    terms.now_ms = now_unix_ms();
    terms.lease_until_ms = terms.now_ms + lease_.count();
    terms.max_attempts = max_attempts_;
    std::optional<store::Claim> claim;
    try {
        claim = store_.claim_run(terms);
    } catch (const store::StoreUnavailable& unavailable) {
        log::error("claiming a run failed",
                   {{"detail", unavailable.what()}, {"retry_in_ms", kStoreRetryDelay.count()}});
        std::lock_guard lock(mutex_);
        look_for_runs_ = true;
        claims_resume_at_ = Clock::now() + kStoreRetryDelay;
        return false;
    } catch (const std::exception& error) {
        log::error("claiming a run failed", {{"detail", error.what()}});
        return false;
    }
    if (!claim) return false;
    {
        std::lock_guard lock(mutex_);
        in_hand_.insert(claim->run.id);
    }
    run_claimed(*claim);
    return true;
}

void WorkerPool::run_claimed(const store::Claim& claim) {
    const store::Run& run = claim.run;
    if (claim.crashed) {
        log::error("run stopped the server too often",
                   {{"run_id", run.id}, {"attempts", run.attempts}});
        store_outcome(run.id, addressed(run, crashed(run.attempts)));
        return;
    }
    if (run.attempts > 1) {
        log::info("run claimed again after its lease expired",
                  {{"run_id", run.id}, {"attempts", run.attempts}});
    }
    if (std::optional<store::RunOutcome> outcome = execute(run)) {
        store_outcome(run.id, addressed(run, std::move(*outcome)));
    } else {
        let_go(run.id);
    }
}

std::optional<store::RunOutcome> WorkerPool::execute(const store::Run& run) {
    try {
        store::RunOutcome outcome = execute_(run);
        outcome.started_at_ms = run.started_at_ms;
        return outcome;
    } catch (const std::exception& error) {
        log::error("run could not be processed", {{"run_id", run.id}, {"detail", error.what()}});
        return std::nullopt;
    }
}

void WorkerPool::keep_leases() {
    const auto period = lease_ / 3;
    std::unique_lock lock(mutex_);
    Clock::time_point renew_at = Clock::now() + period;
    while (!stopping_) {
        Clock::time_point alarm = renew_at;
        for (const Unmarked& run : unmarked_) alarm = std::min(alarm, run.mark_at);
        const auto idle_run_executing = [this] {
            return idle_run_ && idle_run_->taken && !idle_run_->ended && !idle_run_->overdue;
        };
        if (idle_run_executing()) alarm = std::min(alarm, idle_run_->due());
        timer_alarm_ = alarm;
        timer_.wait_until(lock, alarm);
        timer_alarm_ = Clock::time_point::min();  // awake: it reads unmarked_ before it sleeps
        if (stopping_) return;
        const Clock::time_point now = Clock::now();
        if (idle_run_executing() && idle_run_->due() <= now) queue_overdue(lock);
        mark_started(lock, now);
        if (now < renew_at) continue;
        renew_at = now + period;
        std::vector<std::string> held(in_hand_.begin(), in_hand_.end());
        for (const store::Run& run : pending_) held.push_back(run.id);
        for (const UnsavedOutcome& unsaved : unsaved_) held.push_back(unsaved.run_id);
        lock.unlock();
        if (!held.empty()) {
            try {
                store_.extend_run_leases(
                    owner_, std::move(held), now_unix_ms() + lease_.count(),
                    [](std::exception_ptr error) {
                        if (!error) return;
                        log::error("renewing run leases failed", {{"detail", describe(error)}});
                    });
            } catch (const std::exception& error) {
                log::error("renewing run leases failed", {{"detail", error.what()}});
            }
        }
        // The safety net beside the wake-ups: runs whose lease expired, wake-ups missed.
        wake();
        lock.lock();
    }
}

void WorkerPool::mark_started(std::unique_lock<std::mutex>& lock, Clock::time_point now) {
    const auto due = std::partition(unmarked_.begin(), unmarked_.end(),
                                    [now](const Unmarked& run) { return run.mark_at > now; });
    std::vector<Unmarked> marking(std::make_move_iterator(due),
                                  std::make_move_iterator(unmarked_.end()));
    unmarked_.erase(due, unmarked_.end());
    if (marking.empty()) return;
    lock.unlock();
    // Not waited for: the run's lease keeps it from every other node meanwhile. An outcome
    // stored first wins: the start changes only a run still queued.
    for (Unmarked& run : marking) {
        try {
            store_.start_run(
                owner_, std::move(run.run_id), run.started_at_ms, [](std::exception_ptr error) {
                    if (error) {
                        log::warn("storing a run's start failed", {{"detail", describe(error)}});
                    }
                });
        } catch (const std::exception& error) {
            log::warn("storing a run's start failed", {{"detail", error.what()}});
        }
    }
    lock.lock();
}

void WorkerPool::let_go(const std::string& run_id) {
    std::lock_guard lock(mutex_);
    in_hand_.erase(run_id);
}

void WorkerPool::store_outcome(std::string run_id, store::RunOutcome outcome) {
    {
        std::lock_guard lock(mutex_);
        ++storing_;
    }
    send_outcome(std::move(run_id), std::move(outcome));
}

void WorkerPool::send_outcome(std::string run_id, store::RunOutcome outcome) {
    // Copied, not moved: the store consumes its argument, and a refused outcome must survive.
    try {
        store_.finish_run(run_id, owner_, outcome,
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
            log::error("storing a run outcome failed", {{"run_id", run_id},
                                                        {"detail", unavailable.what()},
                                                        {"retry_in_ms", kStoreRetryDelay.count()}});
        } catch (const store::LeaseLost& lost) {
            log::warn("run outcome dropped: another node took the run over",
                      {{"run_id", run_id}, {"detail", lost.what()}});
        } catch (const std::exception& e) {
            log::error("storing a run outcome failed", {{"run_id", run_id}, {"detail", e.what()}});
        }
    }
    {
        std::lock_guard lock(mutex_);
        in_hand_.erase(run_id);
        if (keep && !stopping_) {
            unsaved_.push_back(
                {std::move(run_id), std::move(outcome), Clock::now() + kStoreRetryDelay});
        }
        --storing_;
    }
    ready_.notify_one();
    settled_.notify_all();
}

}  // namespace engined::queue
