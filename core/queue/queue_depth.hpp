// core/queue — the queue's depth as every node sees it: runs queued in the store (on any node),
// read at most once per refresh interval so a submit does not cost a count query, and corrected
// between reads by this node's own hand-overs, which it knows without asking the store.
#pragma once

#include "store/store.hpp"

#include <chrono>
#include <cstddef>
#include <functional>
#include <mutex>

namespace engined::queue {

class QueueDepth {
public:
    using Clock = std::chrono::steady_clock;
    // Runs this node handed to its workers that no worker has claimed yet (WorkerPool::depth()).
    using LocalPending = std::function<std::size_t()>;

    static constexpr std::chrono::milliseconds kDefaultRefresh{250};

    QueueDepth(const store::Store& store, LocalPending local_pending,
               std::chrono::milliseconds refresh = kDefaultRefresh,
               std::function<Clock::time_point()> now = Clock::now);

    // Runs waiting for a worker on any node: those other nodes (or nobody) held at the last
    // read of the store, plus this node's unclaimed hand-overs now. Reads the store when the
    // last read is older than the refresh interval; while it cannot be read, the last figure
    // stands. Thread-safe; one caller reads at a time, the others take the last figure.
    std::size_t depth();
    // Queued and processing runs on every node, read now (readiness); refreshes the figure
    // depth() uses. Throws what the store throws.
    store::QueueCounts read();

private:
    // Keeps a fresh count: the queued runs that were not this node's unclaimed hand-overs.
    void remember(const store::QueueCounts& counts, std::size_t local_at_read);

    const store::Store& store_;
    const LocalPending local_pending_;
    const std::chrono::milliseconds refresh_;
    const std::function<Clock::time_point()> now_;
    std::mutex mutex_;
    std::size_t elsewhere_ = 0;  // queued in the store, not handed over here, at the last read
    Clock::time_point read_at_{};
    bool never_read_ = true;
    bool reading_ = false;
};

}  // namespace engined::queue
