#include "common/bounded_executor.hpp"

#include "common/thread_name.hpp"

namespace engined {

BoundedExecutor::BoundedExecutor(Limits limits, std::string thread_name) : limits_(limits) {
    threads_.reserve(limits_.threads);
    for (std::size_t i = 0; i < limits_.threads; ++i) {
        threads_.push_back(named_thread(thread_name, [this] { serve(); }));
    }
}

BoundedExecutor::~BoundedExecutor() {
    stop();
}

BoundedExecutor::Admission BoundedExecutor::submit(const std::string& key,
                                                   std::function<void()> task,
                                                   std::function<void()> after_release) {
    {
        std::lock_guard lock(mutex_);
        if (stopping_ || queue_.size() >= limits_.queue) return Admission::queue_full;
        std::size_t& held = held_[key];
        if (held >= limits_.per_key) return Admission::key_busy;
        ++held;
        queue_.push_back({key, std::move(task), std::move(after_release)});
    }
    wake_.notify_one();
    return Admission::accepted;
}

void BoundedExecutor::serve() {
    for (;;) {
        Task task;
        {
            std::unique_lock lock(mutex_);
            wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
            if (stopping_) return;
            task = std::move(queue_.front());
            queue_.pop_front();
        }
        try {
            task.run();
        } catch (...) {
            // Tasks answer their own failures; one that throws anyway must not end the thread.
        }
        {
            std::lock_guard lock(mutex_);
            if (--held_[task.key] == 0) held_.erase(task.key);
        }
        if (!task.after_release) continue;
        try {
            task.after_release();
        } catch (...) {}
    }
}

void BoundedExecutor::stop() {
    std::deque<Task>
        dropped;  // destroyed outside the lock: a task's captures may do work when released
    {
        std::lock_guard lock(mutex_);
        if (stopping_ && threads_.empty()) return;
        stopping_ = true;
        dropped.swap(queue_);
        for (const Task& task : dropped) {
            if (--held_[task.key] == 0) held_.erase(task.key);
        }
    }
    dropped.clear();
    wake_.notify_all();
    for (std::thread& thread : threads_) {
        if (thread.joinable()) thread.join();
    }
    threads_.clear();
}

}  // namespace engined
