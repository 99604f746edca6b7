// core/store/sqlite/checkpointer — copies the WAL back into the database file on a thread and
// connection of its own, so that the group writer's commits, and the 202s waiting for them, do
// not stop while tens of megabytes are copied and synced. Used only by SqliteStore.
//
// SQLite starts a WAL over from its head only when every frame in it is in the database file
// and a write transaction then begins. A checkpoint copies the frames committed when it began;
// under load the writer commits meanwhile, so the WAL would never be whole in the database file
// and never start over. The writer therefore copies that remainder itself, at the first commit
// after a background checkpoint ended: the frames of a few commits, not of thousands.
#pragma once

#include "store/sqlite/connection.hpp"

#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>

namespace engined::store::sqlite {

class Checkpointer {
public:
    // Starts the thread; it checkpoints nothing until watch() gave it the database.
    explicit Checkpointer(const SqliteOptions& options);
    // Lets a checkpoint under way finish, then stops the thread and closes its connection.
    ~Checkpointer();
    Checkpointer(const Checkpointer&) = delete;
    Checkpointer& operator=(const Checkpointer&) = delete;

    // Opens the checkpointer's own connection to the (created, migrated) database and takes over
    // `writer`'s checkpoints: from now on a commit that leaves the WAL at options.wal_checkpoint_
    // pages or more asks this thread for a checkpoint instead of running one. Call once, before
    // the writer's first group; `writer` must be closed before this object goes.
    void watch(Connection& writer);

private:
    enum class Phase { idle, asked, running, ended };

    // SQLite's WAL hook, on the writer thread after each commit.
    static int on_commit(void* self, sqlite3* writer, const char* schema, int wal_pages);
    void committed(sqlite3* writer, int wal_pages);
    void checkpoint_loop();
    // One PASSIVE checkpoint on `db` (it never waits for readers or the writer), told to the
    // options' on_checkpoint. Returns the WAL's frames now in the database file (0 on failure).
    int checkpoint(sqlite3* db, CheckpointThread thread) const;

    const SqliteOptions options_;
    std::optional<Connection> connection_;  // this thread's; opened by watch()

    std::mutex mutex_;
    std::condition_variable asked_;
    Phase phase_ = Phase::idle;
    int backfilled_pages_ = 0;  // by the last background checkpoint
    bool stopping_ = false;
    std::thread thread_;  // last: started once everything it uses exists
};

}  // namespace engined::store::sqlite
