#include "queue/queue_depth.hpp"

#include "common/log.hpp"

#include <algorithm>
#include <exception>

namespace engined::queue {

QueueDepth::QueueDepth(const store::Store& store, LocalPending local_pending,
                       std::chrono::milliseconds refresh, std::function<Clock::time_point()> now)
    : store_(store),
      local_pending_(std::move(local_pending)),
      refresh_(refresh),
      now_(std::move(now)) {}

std::size_t QueueDepth::depth() {
    bool due = false;
    {
        std::lock_guard lock(mutex_);
        due = !reading_ && (never_read_ || now_() - read_at_ >= refresh_);
        if (due) reading_ = true;
    }
    if (due) {
        const std::size_t local_at_read = local_pending_();
        try {
            remember(store_.queue_counts(), local_at_read);
            std::lock_guard lock(mutex_);
            reading_ = false;
        } catch (const std::exception& error) {
            // A submit finds out about the store on its own write; the last figure stands, and
            // the next read waits a full interval rather than hammering a store that is down.
            log::warn("reading the queue depth failed", {{"detail", error.what()}});
            std::lock_guard lock(mutex_);
            read_at_ = now_();
            reading_ = false;
        }
    }
    const std::size_t local = local_pending_();
    std::lock_guard lock(mutex_);
    return elsewhere_ + local;
}

store::QueueCounts QueueDepth::read() {
    const std::size_t local_at_read = local_pending_();
    const store::QueueCounts counts = store_.queue_counts();
    remember(counts, local_at_read);
    return counts;
}

void QueueDepth::remember(const store::QueueCounts& counts, std::size_t local_at_read) {
    // A hand-over is queued in the store until claimed, so it is counted there too; a claim
    // between the two reads makes this figure one short until the next read.
    const auto queued = static_cast<std::size_t>(std::max<int64_t>(counts.queued, 0));
    std::lock_guard lock(mutex_);
    elsewhere_ = queued > local_at_read ? queued - local_at_read : 0;
    read_at_ = now_();
    never_read_ = false;
}

}  // namespace engined::queue
