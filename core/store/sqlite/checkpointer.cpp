#include "store/sqlite/checkpointer.hpp"

#include "common/log.hpp"
#include "common/thread_name.hpp"

#include <chrono>

namespace engined::store::sqlite {

Checkpointer::Checkpointer(const SqliteOptions& options)
    : options_(options), thread_(named_thread("engined-wal", [this] { checkpoint_loop(); })) {}

Checkpointer::~Checkpointer() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    asked_.notify_one();
    thread_.join();
}

void Checkpointer::watch(Connection& writer) {
    // A checkpoint syncs the WAL before it and the database file after it as its connection's
    // mode says: the writer's.
    connection_.emplace(open_writing_connection(options_, SQLITE_OPEN_READWRITE));
    // Replaces the hook of PRAGMA wal_autocheckpoint: the writer no longer checkpoints by itself.
    sqlite3_wal_hook(writer.get(), &Checkpointer::on_commit, this);
}

int Checkpointer::on_commit(void* self, sqlite3* writer, const char*, int wal_pages) {
    static_cast<Checkpointer*>(self)->committed(writer, wal_pages);
    return SQLITE_OK;
}

void Checkpointer::committed(sqlite3* writer, int wal_pages) {
    if (wal_pages < options_.wal_checkpoint_pages) return;
    {
        std::lock_guard lock(mutex_);
        if (phase_ == Phase::asked || phase_ == Phase::running) return;
        // What the commits added while the last checkpoint ran. Past an eighth of the interval
        // another background round copies it, so that the writer's own share stays short even
        // when checkpoints are slow.
        const bool remainder_is_small =
            phase_ == Phase::ended &&
            wal_pages - backfilled_pages_ <= options_.wal_checkpoint_pages / 8;
        if (!remainder_is_small) {
            phase_ = Phase::asked;
            asked_.notify_one();
            return;
        }
        phase_ = Phase::idle;
    }
    checkpoint(writer, CheckpointThread::writer);
}

void Checkpointer::checkpoint_loop() {
    std::unique_lock lock(mutex_);
    for (;;) {
        asked_.wait(lock, [this] { return stopping_ || phase_ == Phase::asked; });
        if (stopping_) return;
        phase_ = Phase::running;
        lock.unlock();
        const int backfilled = checkpoint(connection_->get(), CheckpointThread::background);
        lock.lock();
        backfilled_pages_ = backfilled;
        phase_ = Phase::ended;
    }
}

int Checkpointer::checkpoint(sqlite3* db, CheckpointThread thread) const {
    const auto started = std::chrono::steady_clock::now();
    int wal_pages = 0;
    int backfilled = 0;
    const int rc =
        sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_PASSIVE, &wal_pages, &backfilled);
    if (rc == SQLITE_BUSY) return 0;  // another connection is copying it (an enginectl command)
    if (rc != SQLITE_OK) {
        // The WAL keeps its frames and the next commit past the interval asks again; the data is
        // safe in the WAL meanwhile, only the file grows.
        log::warn("copying the WAL into the database file failed; retried after the next commit",
                  {{"detail", sqlite3_errmsg(db)}});
        return 0;
    }
    if (options_.on_checkpoint) {
        options_.on_checkpoint(CheckpointDone{
            .thread = thread,
            .wal_pages = wal_pages,
            .seconds =
                std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count()});
    }
    return backfilled;
}

}  // namespace engined::store::sqlite
