// BoundedExecutor: a few threads of its own, a bounded queue and a cap per key, for work a
// request asks for that may take long (replays, configuration checks). It keeps that work off
// the threads that serve requests, and bounds how much of it waits, and how much one key holds.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

namespace engined {

class BoundedExecutor {
public:
    struct Limits {
        std::size_t threads = 2;
        std::size_t queue = 32;   // tasks accepted but not yet started
        std::size_t per_key = 2;  // tasks of one key queued or running
    };
    enum class Admission { accepted, queue_full, key_busy };

    // Its threads carry `thread_name` (top -H, ps -L, perf).
    explicit BoundedExecutor(Limits limits, std::string thread_name = "engined-pool");
    ~BoundedExecutor();
    BoundedExecutor(const BoundedExecutor&) = delete;
    BoundedExecutor& operator=(const BoundedExecutor&) = delete;

    // Queues `task` under `key` unless that key already holds `per_key` tasks (key_busy) or
    // `queue` tasks wait (queue_full). `after_release` runs on the same thread once the task's
    // place is given back: a task answers its caller there, so that a caller who has its answer
    // may submit again at once. Neither may throw: what they throw is dropped.
    Admission submit(const std::string& key, std::function<void()> task,
                     std::function<void()> after_release = {});

    // Lets running tasks finish and drops those not started (their answers could no longer be
    // sent: the server stops first), then joins the threads; later submits answer queue_full.
    void stop();

    const Limits& limits() const noexcept { return limits_; }

private:
    struct Task {
        std::string key;
        std::function<void()> run;
        std::function<void()> after_release;
    };
    void serve();

    const Limits limits_;
    std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<Task> queue_;
    std::unordered_map<std::string, std::size_t> held_;  // key → tasks queued or running
    bool stopping_ = false;
    std::vector<std::thread> threads_;
};

}  // namespace engined
