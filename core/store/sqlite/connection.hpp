// core/store/sqlite/connection — one open SQLite database and its cached prepared statements,
// one execution of a statement (Query), and the pool of read connections. Used only inside the
// SQLite backend: nothing outside core/store/sqlite includes sqlite3.h.
#pragma once

#include "store/sqlite/sqlite_store.hpp"

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace engined::store::sqlite {

struct DatabaseCloser {
    void operator()(sqlite3* db) const noexcept { sqlite3_close_v2(db); }
};
struct StatementFinalizer {
    void operator()(sqlite3_stmt* statement) const noexcept { sqlite3_finalize(statement); }
};
using DatabaseHandle = std::unique_ptr<sqlite3, DatabaseCloser>;
using StatementHandle = std::unique_ptr<sqlite3_stmt, StatementFinalizer>;

[[noreturn]] inline void fail(std::string_view operation, std::string_view message) {
    throw StoreUnavailable(std::string(operation) + ": " + std::string(message));
}

// Sets the process-wide SQLite options engined relies on, before the library's first use.
void configure_library_once();

// An open database and its prepared statements; used by one thread at a time.
class Connection {
public:
    // vfs: the name of a registered VFS, or nullptr for the default one.
    Connection(const std::string& path, int flags, int busy_timeout_ms, const char* vfs = nullptr) {
        configure_library_once();
        sqlite3* raw = nullptr;
        const int rc = sqlite3_open_v2(path.c_str(), &raw, flags | SQLITE_OPEN_NOMUTEX, vfs);
        // Even a failed open allocates a handle (it carries the message): own it first.
        db_.reset(raw);
        if (rc != SQLITE_OK) {
            fail("open " + path, db_ ? sqlite3_errmsg(db_.get()) : sqlite3_errstr(rc));
        }
        sqlite3_busy_timeout(db_.get(), busy_timeout_ms);
    }

    sqlite3* get() const { return db_.get(); }

    sqlite3_stmt* prepared(const char* sql, std::string_view operation) {
        auto found = statements_.find(sql);
        if (found != statements_.end()) return found->second.get();
        sqlite3_stmt* raw = nullptr;
        if (sqlite3_prepare_v3(db_.get(), sql, -1, SQLITE_PREPARE_PERSISTENT, &raw, nullptr) !=
            SQLITE_OK) {
            fail(operation, sqlite3_errmsg(db_.get()));
        }
        return statements_.emplace(sql, StatementHandle(raw)).first->second.get();
    }

    // For statements run once per connection (pragmas, migrations): not worth caching.
    void exec(const char* sql, std::string_view operation) {
        if (sqlite3_exec(db_.get(), sql, nullptr, nullptr, nullptr) != SQLITE_OK) {
            fail(operation, sqlite3_errmsg(db_.get()));
        }
    }

    // A one-row, one-column pragma answer, e.g. the journal mode actually in force.
    std::string pragma(const char* sql, std::string_view operation) {
        sqlite3_stmt* raw = nullptr;
        if (sqlite3_prepare_v2(db_.get(), sql, -1, &raw, nullptr) != SQLITE_OK) {
            fail(operation, sqlite3_errmsg(db_.get()));
        }
        StatementHandle statement(raw);
        const int rc = sqlite3_step(statement.get());
        if (rc != SQLITE_ROW) fail(operation, sqlite3_errmsg(db_.get()));
        const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(statement.get(), 0));
        return text ? text : "";
    }

    // The group writer's verbs (store/group_writer.hpp; defined in writer.cpp): BEGIN IMMEDIATE,
    // a savepoint per write, COMMIT.
    // Savepoints cost SQLite no round trip: every group is written a savepoint per write.
    static constexpr bool kWholeGroupFirst = false;
    void begin_group();
    // Every statement runs as it is issued: nothing is held back.
    void flush() {}
    void savepoint();
    void release_savepoint();
    void rollback_to_savepoint();
    void commit_group();

    // After a failed batch. SQLite may already have rolled back by itself (I/O errors, disk
    // full), so "no transaction open" is fine and any error here adds nothing to the first one.
    void rollback_if_open() noexcept {
        if (!sqlite3_get_autocommit(db_.get())) {
            sqlite3_exec(db_.get(), "ROLLBACK", nullptr, nullptr, nullptr);
        }
    }

private:
    // Declared before the statements so that they are finalized before the database closes.
    DatabaseHandle db_;
    std::unordered_map<const char*, StatementHandle> statements_;
};

// One execution of a cached statement. Resetting on scope exit matters beyond reuse: a SELECT
// left un-reset keeps its read transaction open and stops WAL checkpoints from advancing.
class Query {
public:
    Query(Connection& connection, const char* sql, std::string_view operation)
        : db_(connection.get()),
          statement_(connection.prepared(sql, operation)),
          operation_(operation) {}
    ~Query() {
        sqlite3_reset(statement_);
        sqlite3_clear_bindings(statement_);
    }
    Query(const Query&) = delete;
    Query& operator=(const Query&) = delete;

    Query& bind(int index, std::string_view text) {
        // A null pointer would bind SQL NULL; an empty view must stay an empty string.
        const char* data = text.data() != nullptr ? text.data() : "";
        return check_bind(sqlite3_bind_text64(statement_, index, data, text.size(),
                                              SQLITE_TRANSIENT, SQLITE_UTF8));
    }
    Query& bind(int index, int64_t value) {
        return check_bind(sqlite3_bind_int64(statement_, index, value));
    }
    Query& bind_optional(int index, const std::optional<std::string>& text) {
        return text ? bind(index, *text) : check_bind(sqlite3_bind_null(statement_, index));
    }
    Query& bind_optional(int index, const std::optional<double>& number) {
        return number ? check_bind(sqlite3_bind_double(statement_, index, *number))
                      : check_bind(sqlite3_bind_null(statement_, index));
    }
    Query& bind_optional(int index, const std::optional<int64_t>& number) {
        return number ? bind(index, *number) : check_bind(sqlite3_bind_null(statement_, index));
    }

    // Steps once; true while a row is available.
    bool next() {
        const int rc = sqlite3_step(statement_);
        if (rc == SQLITE_ROW) return true;
        if (rc == SQLITE_DONE) return false;
        // A constraint failure belongs to the one write that broke it, not to the store.
        if ((rc & 0xff) == SQLITE_CONSTRAINT) {
            throw std::invalid_argument(std::string(operation_) + ": " + sqlite3_errmsg(db_));
        }
        fail(operation_, sqlite3_errmsg(db_));
    }

    // Runs a statement that returns no rows; how many rows it changed.
    int run() {
        while (next()) {}
        return sqlite3_changes(db_);
    }

    std::string text(int column) const {
        const auto* data = sqlite3_column_text(statement_, column);
        if (data == nullptr) return {};
        return {reinterpret_cast<const char*>(data),
                static_cast<std::size_t>(sqlite3_column_bytes(statement_, column))};
    }
    std::optional<std::string> optional_text(int column) const {
        if (sqlite3_column_type(statement_, column) == SQLITE_NULL) return std::nullopt;
        return text(column);
    }
    int64_t integer(int column) const { return sqlite3_column_int64(statement_, column); }
    std::optional<int64_t> optional_integer(int column) const {
        if (sqlite3_column_type(statement_, column) == SQLITE_NULL) return std::nullopt;
        return integer(column);
    }
    std::optional<double> optional_real(int column) const {
        if (sqlite3_column_type(statement_, column) == SQLITE_NULL) return std::nullopt;
        return sqlite3_column_double(statement_, column);
    }

private:
    Query& check_bind(int rc) {
        if (rc != SQLITE_OK) fail(operation_, sqlite3_errmsg(db_));
        return *this;
    }

    sqlite3* db_;
    sqlite3_stmt* statement_;
    std::string_view operation_;
};

// Read connections, each taken by one call and given back, so that request threads read in
// parallel with each other and with the writer.
class ReaderPool {
public:
    ReaderPool(std::string path, int busy_timeout_ms)
        : path_(std::move(path)), busy_timeout_ms_(busy_timeout_ms) {}

    class Lease {
    public:
        Lease(ReaderPool& pool, std::unique_ptr<Connection> connection)
            : pool_(pool), connection_(std::move(connection)) {}
        ~Lease() { pool_.give_back(std::move(connection_)); }
        Lease(const Lease&) = delete;
        Lease& operator=(const Lease&) = delete;
        Connection& operator*() const { return *connection_; }

    private:
        ReaderPool& pool_;
        std::unique_ptr<Connection> connection_;
    };

    Lease acquire() {
        {
            std::lock_guard lock(mutex_);
            if (!idle_.empty()) {
                auto connection = std::move(idle_.back());
                idle_.pop_back();
                return Lease(*this, std::move(connection));
            }
        }
        // Opened outside the lock: it touches the file system.
        auto connection =
            std::make_unique<Connection>(path_, SQLITE_OPEN_READWRITE, busy_timeout_ms_);
        // Read-write rather than read-only: a read-only connection cannot always set up the
        // WAL index. query_only keeps it from ever writing.
        connection->exec("PRAGMA query_only = ON", "open read connection");
        return Lease(*this, std::move(connection));
    }

private:
    // A burst of readers opens a connection each; keeping all of them would pin file handles
    // and page caches long after the burst.
    static constexpr std::size_t kMaxIdle = 8;

    void give_back(std::unique_ptr<Connection> connection) {
        std::lock_guard lock(mutex_);
        if (idle_.size() < kMaxIdle) idle_.push_back(std::move(connection));
    }

    std::string path_;
    int busy_timeout_ms_;
    std::mutex mutex_;
    std::vector<std::unique_ptr<Connection>> idle_;
};
// The database holds key hashes, webhook secrets and every request: readable by engined's user
// only (see connection.cpp).
void restrict_to_owner(const std::string& path);

// A connection that writes the database file (the writer, the checkpointer), in
// options.synchronous_full's mode, which is also what its checkpoints sync. At FULL its writes
// are gathered until each sync (gathered_writes.hpp), which that mode makes safe.
Connection open_writing_connection(const SqliteOptions& options, int flags);

// The one write connection: WAL, checkpointed past options.wal_checkpoint_pages (by SQLite on
// this connection until a Checkpointer watches it), the configured synchronous mode, foreign keys
// on; refuses a read-only file.
Connection open_writer(const SqliteOptions& options);

// The size the -wal file reaches between two checkpoints: its header and `checkpoint_pages`
// frames of the database's page size.
int64_t wal_size_between_checkpoints(Connection& connection, int checkpoint_pages);

// Extends the -wal file with zeros to wal_size_between_checkpoints() and syncs it; a file at
// that size or past it is left alone. Done under the database's write lock, so that no other
// connection appends a frame meanwhile; the zeros lie past every frame, where SQLite reads none
// (a frame counts only with the checksum and salt of the WAL's header). Throws StoreUnavailable.
void preallocate_wal(Connection& connection, int checkpoint_pages);

}  // namespace engined::store::sqlite
