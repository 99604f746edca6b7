#include "runs/run_waits.hpp"

#include "common/api_error.hpp"
#include "common/thread_name.hpp"

#include <charconv>
#include <utility>

namespace engined::runs {

RunWaits::RunWaits(RunWaitLimits limits, metrics::Registry& metrics)
    : limits_(limits),
      held_gauge_(
          metrics.gauge("engined_run_waits",
                        "Long-poll waits on runs (a GET or a submit with ?wait=) held open")) {
    thread_ = named_thread("engined-waits", [this] { serve(); });
}

RunWaits::~RunWaits() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    changed_.notify_all();
    thread_.join();
    held_gauge_.add(-static_cast<double>(held_.size()));
}

std::chrono::seconds RunWaits::parse_wait(const std::optional<std::string>& text) const {
    if (!text) return std::chrono::seconds(0);
    int seconds = -1;
    const auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), seconds);
    if (ec != std::errc() || end != text->data() + text->size() || seconds < 0 ||
        seconds > limits_.max_wait_seconds) {
        throw ApiError::invalid_request("wait must be a whole number of seconds from 0 to " +
                                            std::to_string(limits_.max_wait_seconds),
                                        {{"wait", "got '" + *text + "'"}});
    }
    return std::chrono::seconds(seconds);
}

uint64_t RunWaits::finishes() const {
    return finishes_.load();
}

bool RunWaits::wait(std::string run_id, std::chrono::seconds wait, Check check,
                    uint64_t finishes_before_read, WhenDraining when_draining) {
    std::unique_lock lock(mutex_);
    if (draining_ || stopping_) {
        lock.unlock();
        if (when_draining == WhenDraining::decline) return false;
        check(true);
        return true;
    }
    if (held_.size() >= limits_.max_waits) {
        throw ApiError::unavailable("this server holds its limit of " +
                                    std::to_string(limits_.max_waits) +
                                    " waits on runs; retry shortly or ask without wait")
            .with_header("Retry-After", "1");
    }
    const uint64_t id = next_id_++;
    by_run_.emplace(run_id, id);
    const auto deadline = by_deadline_.emplace(Clock::now() + wait, id);
    held_.emplace(id, Held{std::move(run_id), deadline, std::move(check), false});
    count_.store(held_.size());
    held_gauge_.add(1);
    // After the count is stored: a finish counted later than this load sees the wait held.
    if (finishes_.load() != finishes_before_read) {
        held_.at(id).woken = true;
        woken_.push_back(id);
    }
    lock.unlock();
    changed_.notify_one();  // the new deadline may be the nearest
    return true;
}

void RunWaits::finished(std::string_view run_id) {
    finishes_.fetch_add(1);
    if (count_.load() == 0) return;
    bool woke = false;
    {
        std::lock_guard lock(mutex_);
        // Heterogeneous lookup needs C++20 transparent hashing; a run id is short.
        const auto [first, last] = by_run_.equal_range(std::string(run_id));
        for (auto it = first; it != last; ++it) {
            Held& held = held_.at(it->second);
            if (held.woken) continue;
            held.woken = true;
            woken_.push_back(it->second);
            woke = true;
        }
    }
    if (woke) changed_.notify_one();
}

void RunWaits::drain() {
    std::unique_lock lock(mutex_);
    draining_ = true;
    changed_.notify_one();
    drained_.wait(lock, [this] { return held_.empty() || stopping_; });
}

std::size_t RunWaits::held() const {
    return count_.load(std::memory_order_acquire);
}

void RunWaits::forget(uint64_t id) {
    const auto it = held_.find(id);
    const auto [first, last] = by_run_.equal_range(it->second.run_id);
    for (auto entry = first; entry != last; ++entry) {
        if (entry->second == id) {
            by_run_.erase(entry);
            break;
        }
    }
    by_deadline_.erase(it->second.deadline);
    held_.erase(it);
    count_.store(held_.size(), std::memory_order_release);
    held_gauge_.add(-1);
}

void RunWaits::answer_now(std::unique_lock<std::mutex>& lock, uint64_t id) {
    Check check = std::move(held_.at(id).check);
    forget(id);
    lock.unlock();
    check(true);
    lock.lock();
}

void RunWaits::serve() {
    std::unique_lock lock(mutex_);
    while (!stopping_) {
        if (draining_ && !held_.empty()) {
            answer_now(lock, held_.begin()->first);
            if (held_.empty()) drained_.notify_all();
            continue;
        }
        if (!woken_.empty()) {
            const std::vector<uint64_t> woken = std::exchange(woken_, {});
            for (const uint64_t id : woken) {
                const auto it = held_.find(id);
                if (it == held_.end()) continue;
                it->second.woken = false;
                // The entry stays indexed while checked, so a finish meanwhile wakes it again;
                // only this thread removes entries, so the reference outlives the unlock.
                Held& held = it->second;
                lock.unlock();
                const bool answered = held.check(false);
                lock.lock();
                if (answered) forget(id);
                // A drain that began while this wait was being answered waits for the last one.
                if (draining_ && held_.empty()) drained_.notify_all();
                if (stopping_) break;
            }
            continue;
        }
        if (!by_deadline_.empty() && by_deadline_.begin()->first <= Clock::now()) {
            answer_now(lock, by_deadline_.begin()->second);
            continue;
        }
        if (by_deadline_.empty()) {
            changed_.wait(lock);
        } else {
            changed_.wait_until(lock, by_deadline_.begin()->first);
        }
    }
    drained_.notify_all();
}

}  // namespace engined::runs
