// core/store/group_writer — the group-committing writer both backends use for their
// asynchronous writes: one thread owns one write connection; every write pending when it wakes
// shares one transaction (one fsync on SQLite, one commit round trip on PostgreSQL), each in its
// own savepoint. Its callers are told how their writes ended in commit order; while more writes
// wait, a second thread tells them, so that the writer goes on to the next group instead of
// spending its time waking theirs. Included only by the backends.
//
// `Connection` provides begin_group(), savepoint(), release_savepoint(), rollback_to_savepoint(),
// flush() (sends any statement it holds back), commit_group() (each throwing StoreUnavailable when
// the database fails), rollback_if_open() noexcept, and kWholeGroupFirst: true when a group is
// first written whole without savepoints (see commit()).
#pragma once

#include "common/thread_name.hpp"
#include "store/store.hpp"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace engined::store {

template <class Connection>
class GroupWriter {
public:
    // A write waiting for the writer thread: its statements, and whom to tell how they ended.
    struct PendingWrite {
        std::function<void(Connection&)> apply;
        Completion done;
    };

    // Takes the (opened, migrated) write connection and starts the writer thread.
    GroupWriter(Connection connection, std::size_t max_batch,
                std::function<void(std::size_t)> on_commit)
        : connection_(std::move(connection)),
          max_batch_(max_batch),
          on_commit_(std::move(on_commit)),
          teller_(named_thread("engined-teller", [this] { tell_loop(); })),
          thread_(named_thread("engined-writer", [this] { write_loop(); })) {}

    // Drains whatever was accepted and tells its callers, then stops both threads.
    ~GroupWriter() {
        {
            std::lock_guard lock(queue_mutex_);
            stopping_ = true;
        }
        queue_ready_.notify_one();
        thread_.join();
        {
            std::lock_guard lock(told_mutex_);
            writer_stopped_ = true;
        }
        told_ready_.notify_one();
        teller_.join();
    }
    GroupWriter(const GroupWriter&) = delete;
    GroupWriter& operator=(const GroupWriter&) = delete;

    // Throws StoreUnavailable once the writer is stopping.
    void enqueue(PendingWrite write) {
        {
            std::lock_guard lock(queue_mutex_);
            if (stopping_) throw StoreUnavailable("store is closing");
            queue_.push_back(std::move(write));
        }
        queue_ready_.notify_one();
    }

    // For the synchronous writes: the caller blocks until the writer's commit (or failure).
    void write_and_wait(std::function<void(Connection&)> apply) {
        auto committed = std::make_shared<std::promise<void>>();
        std::future<void> result = committed->get_future();
        enqueue({std::move(apply), [committed](std::exception_ptr error) {
                     if (error) {
                         committed->set_exception(error);
                     } else {
                         committed->set_value();
                     }
                 }});
        result.get();
    }

    Store::WriterStats stats() const {
        return {transactions_.load(std::memory_order_relaxed),
                writes_.load(std::memory_order_relaxed),
                largest_batch_.load(std::memory_order_relaxed)};
    }

private:
    // A committed (or failed) group whose callers are still to be told.
    struct Ended {
        std::vector<PendingWrite> batch;
        std::vector<std::exception_ptr> outcomes;
    };

    void write_loop() {
        for (;;) {
            Ended ended;
            {
                std::unique_lock lock(queue_mutex_);
                queue_ready_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
                // Stopping still drains: whatever was accepted gets committed.
                if (queue_.empty()) return;
                const std::size_t take = std::min(queue_.size(), max_batch_);
                for (std::size_t i = 0; i < take; ++i) {
                    ended.batch.push_back(std::move(queue_.front()));
                    queue_.pop_front();
                }
            }
            ended.outcomes = commit(ended.batch);
            bool more_waiting = false;
            {
                std::lock_guard lock(queue_mutex_);
                more_waiting = !queue_.empty();
            }
            hand_over(std::move(ended), more_waiting);
        }
    }

    // Tells the group's callers here when nothing else waits (no thread hop at light load), else
    // has the teller do it; groups handed over earlier and not yet told go first either way.
    void hand_over(Ended ended, bool more_waiting) {
        bool handed = false;
        {
            std::lock_guard lock(told_mutex_);
            handed = more_waiting || !to_tell_.empty() || telling_;
            if (handed) to_tell_.push_back(std::move(ended));
        }
        if (handed) {
            told_ready_.notify_one();
        } else {
            tell(ended);
        }
    }

    void tell_loop() {
        std::deque<Ended> ready;
        for (;;) {
            {
                std::unique_lock lock(told_mutex_);
                telling_ = false;
                told_ready_.wait(lock, [this] { return writer_stopped_ || !to_tell_.empty(); });
                if (to_tell_.empty()) return;
                ready.swap(to_tell_);
                telling_ = true;
            }
            for (Ended& ended : ready) tell(ended);
            ready.clear();
        }
    }

    static void tell(Ended& ended) {
        for (std::size_t i = 0; i < ended.batch.size(); ++i) {
            if (!ended.batch[i].done) continue;
            // A throwing completion is its caller's bug; it must not stop the writer, which
            // every other caller depends on.
            try {
                ended.batch[i].done(std::move(ended.outcomes[i]));
            } catch (...) {}
        }
    }

    // One transaction for the whole batch: a write that breaks a constraint or a state rule is
    // undone alone, while a failure of the database itself (BEGIN, COMMIT, I/O, a lost
    // connection) fails every write of the batch and leaves nothing behind. A backend whose
    // savepoints cost a statement each (kWholeGroupFirst) first writes the batch whole, without
    // them; only when a write is refused is the batch written again, a savepoint per write.
    // Returns how each write ended (null: committed).
    std::vector<std::exception_ptr> commit(std::vector<PendingWrite>& batch) {
        std::vector<std::exception_ptr> outcomes(batch.size());
        try {
            if (!(Connection::kWholeGroupFirst && commit_whole(batch, outcomes))) {
                commit_write_by_write(batch, outcomes);
            }
            transactions_.fetch_add(1, std::memory_order_relaxed);
            writes_.fetch_add(batch.size(), std::memory_order_relaxed);
            if (batch.size() > largest_batch_.load(std::memory_order_relaxed)) {
                largest_batch_.store(batch.size(), std::memory_order_relaxed);
            }
            if (on_commit_) on_commit_(batch.size());
        } catch (const StoreUnavailable&) {
            connection_.rollback_if_open();
            std::fill(outcomes.begin(), outcomes.end(), std::current_exception());
        }
        return outcomes;
    }

    // True when the batch ended: committed whole, or a batch of one write refused (its outcome
    // set). False when a write of several was refused: nothing of them is kept, and which one it
    // was is for commit_write_by_write() to find.
    bool commit_whole(std::vector<PendingWrite>& batch, std::vector<std::exception_ptr>& outcomes) {
        connection_.begin_group();
        try {
            for (PendingWrite& write : batch) write.apply(connection_);
            connection_.commit_group();
            return true;
        } catch (const StoreUnavailable&) {
            throw;
        } catch (...) {
            connection_.rollback_if_open();
            if (batch.size() > 1) return false;
            outcomes.front() = std::current_exception();
            return true;
        }
    }

    void commit_write_by_write(std::vector<PendingWrite>& batch,
                               std::vector<std::exception_ptr>& outcomes) {
        connection_.begin_group();
        for (std::size_t i = 0; i < batch.size(); ++i) {
            connection_.savepoint();
            try {
                batch[i].apply(connection_);
                // Whatever the write holds back fails here, in its own savepoint.
                connection_.flush();
                connection_.release_savepoint();
            } catch (const StoreUnavailable&) {
                throw;
            } catch (...) {
                outcomes[i] = std::current_exception();
                connection_.rollback_to_savepoint();
            }
        }
        connection_.commit_group();
    }

    Connection connection_;  // touched only by the writer thread once it runs
    const std::size_t max_batch_;
    const std::function<void(std::size_t)> on_commit_;

    std::mutex queue_mutex_;
    std::condition_variable queue_ready_;
    std::deque<PendingWrite> queue_;
    bool stopping_ = false;

    std::atomic<uint64_t> transactions_{0};
    std::atomic<uint64_t> writes_{0};
    std::atomic<uint64_t> largest_batch_{0};

    std::mutex told_mutex_;
    std::condition_variable told_ready_;
    std::deque<Ended> to_tell_;
    bool telling_ = false;  // the teller is telling groups it took
    bool writer_stopped_ = false;

    // Last: started once everything they use exists, joined before any of it goes.
    std::thread teller_;
    std::thread thread_;
};

}  // namespace engined::store
