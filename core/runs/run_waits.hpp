// core/runs/run_waits — long-poll waits on runs (`GET /api/v1/runs/{id}?wait=<seconds>`, and a
// submit with `?wait=`): each wait is held here, not on an HTTP thread, until its run finishes
// (the store tells of every finished run, this node's and other nodes') or its time is up, then
// answered. One thread of its own checks the woken waits and answers those due; a graceful drain
// answers them all. Knows neither HTTP nor the store: a wait is a check the caller hands in.
#pragma once

#include "metrics/registry.hpp"

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <atomic>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

namespace engined::runs {

struct RunWaitLimits {
    int max_wait_seconds = 30;     // the longest `wait` a request may ask for
    std::size_t max_waits = 1000;  // held at once on this node; one more is answered 503
};

class RunWaits {
public:
    // Reads the run and answers its request when it is terminal, or whatever it is when `final`
    // (the wait is up, or the server drains); true when it answered. Runs on the waits' thread,
    // except for a wait asked for during a drain (see wait()).
    using Check = std::function<bool(bool final)>;

    RunWaits(RunWaitLimits limits, metrics::Registry& metrics);
    // Drops the waits still held without answering them (drain() answers them).
    ~RunWaits();
    RunWaits(const RunWaits&) = delete;
    RunWaits& operator=(const RunWaits&) = delete;

    // The `wait` query parameter in whole seconds, 0 to the maximum; absent: 0 (no wait).
    // ApiError 400 invalid_request otherwise.
    std::chrono::seconds parse_wait(const std::optional<std::string>& text) const;

    // How many finishes this node was told of so far. Read before reading the run a wait is for,
    // and handed to wait().
    uint64_t finishes() const;

    // What a wait asked for during a drain does: `answer` runs its check at once, on the
    // caller's thread (final); `decline` does nothing and wait() returns false.
    enum class WhenDraining { answer, decline };

    // Holds `check` until `run_id` finishes or `wait` passed. `finishes_before_read` is what
    // finishes() said before the caller read the run: when a finish was told since, the check
    // runs once at once (on the waits' thread), so that a finish between that read and this
    // call is not missed; when none was, that look is spared (a finish after this call wakes the
    // wait as usual). ApiError 503 (Retry-After) while the node holds its limit of waits. During
    // a drain, as `when_draining` says. True unless declined.
    bool wait(std::string run_id, std::chrono::seconds wait, Check check,
              uint64_t finishes_before_read, WhenDraining when_draining = WhenDraining::answer);

    // A run's terminal outcome committed: its waits check it. Never blocks on a check, and costs
    // two atomic operations while no wait is held.
    void finished(std::string_view run_id);

    // Graceful drain: every wait held is answered with its run as it is now, and later waits at
    // once. Returns after the answers went out.
    void drain();

    std::size_t held() const;

private:
    using Clock = std::chrono::steady_clock;
    struct Held {
        std::string run_id;
        std::multimap<Clock::time_point, uint64_t>::iterator deadline;
        Check check;
        bool woken = false;  // on the list to check
    };

    // The waits' thread: checks woken waits, answers those whose time is up and, once draining,
    // all of them. Only it removes waits, so a wait it checks outside the mutex stays put.
    void serve();
    // Answers the wait with its run as it is (under the mutex, released during the check).
    void answer_now(std::unique_lock<std::mutex>& lock, uint64_t id);
    void forget(uint64_t id);

    const RunWaitLimits limits_;
    metrics::Gauge& held_gauge_;
    mutable std::mutex mutex_;
    std::condition_variable changed_;
    std::condition_variable drained_;
    std::unordered_map<uint64_t, Held> held_;
    std::unordered_multimap<std::string, uint64_t> by_run_;
    std::multimap<Clock::time_point, uint64_t> by_deadline_;
    std::vector<uint64_t> woken_;
    // Held, including the one being checked. With finishes_, sequentially consistent: either
    // finished() sees a new wait held, or wait() sees the finish counted.
    std::atomic<std::size_t> count_{0};
    std::atomic<uint64_t> finishes_{0};
    uint64_t next_id_ = 0;
    bool draining_ = false;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace engined::runs
