// SQLite backend: the online, integrity-checked copy of the whole database.
#include "store/sqlite/internal.hpp"

#include "common/crypto.hpp"

#include <chrono>
#include <filesystem>
#include <thread>

namespace engined::store::sqlite {

namespace {

// Pages copied per backup step: small steps keep each one short; between them nothing is held
// but the read snapshot, which in WAL mode blocks no writer.
constexpr int kBackupPagesPerStep = 256;

void copy_database(Connection& source, Connection& destination, const std::string& operation,
                   int64_t& pages) {
    sqlite3_backup* backup = sqlite3_backup_init(destination.get(), "main", source.get(), "main");
    if (backup == nullptr) fail(operation, sqlite3_errmsg(destination.get()));
    int rc = SQLITE_OK;
    do {
        rc = sqlite3_backup_step(backup, kBackupPagesPerStep);
        if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) {
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
    } while (rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED);
    pages = sqlite3_backup_pagecount(backup);
    sqlite3_backup_finish(backup);
    if (rc != SQLITE_DONE) fail(operation, sqlite3_errstr(rc));
}

}  // namespace

}  // namespace engined::store::sqlite

namespace engined::store {

// The backend's internals (statements, row mapping) live in engined::store::sqlite.
using namespace sqlite;

int64_t SqliteStore::backup_to(const std::string& path) const {
    const std::string operation = "backup to " + path;
    const std::string partial = path + ".partial-" + random_hex(4);
    auto remove_partial = [&] {
        std::error_code ignored;
        for (const char* suffix : {"", "-journal", "-wal", "-shm"}) {
            std::filesystem::remove(partial + suffix, ignored);
        }
    };
    int64_t pages = 0;
    try {
        {
            // A read transaction held across every step: each step copies from the same
            // snapshot, so commits made meanwhile neither restart the copy nor leak into it.
            Connection source(impl_->options.path, SQLITE_OPEN_READWRITE,
                              impl_->options.busy_timeout_ms);
            source.exec("PRAGMA query_only = ON", operation);
            source.exec("BEGIN", operation);
            source.pragma("SELECT count(*) FROM sqlite_schema", operation);
            restrict_to_owner(partial);
            Connection destination(partial, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                                   impl_->options.busy_timeout_ms);
            copy_database(source, destination, operation, pages);
            source.rollback_if_open();
        }
        {
            Connection copy(partial, SQLITE_OPEN_READWRITE, impl_->options.busy_timeout_ms);
            const std::string verdict = copy.pragma("PRAGMA integrity_check", operation);
            if (verdict != "ok") fail(operation, "the copy failed the integrity check: " + verdict);
        }
        std::error_code ec;
        std::filesystem::rename(partial, path, ec);
        if (ec) fail(operation, "cannot move the copy into place: " + ec.message());
    } catch (...) {
        remove_partial();
        throw;
    }
    remove_partial();
    return pages;
}

}  // namespace engined::store
