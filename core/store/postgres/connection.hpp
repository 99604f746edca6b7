// core/store/postgres/connection — one libpq connection (reconnecting after the server went
// away), statements with text parameters (each SQL text prepared once per connection, its
// transaction bookkeeping pipelined with the next statement), their results, the count of
// statements and round trips, and the pool of connections the PostgreSQL backend's callers
// borrow. Used only inside core/store/postgres: nothing else includes libpq-fe.h.
#pragma once

#include "store/store.hpp"

#include <libpq-fe.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace engined::store::postgres {

// One statement parameter, sent as text (or SQL NULL); the server infers its type from the
// statement, so a statement casts where that is ambiguous (`$7::text IS NULL`).
class Param {
public:
    Param(std::string_view text) : value_(std::string(text)) {}
    Param(const std::string& text) : value_(text) {}
    Param(const char* text) : value_(std::string(text)) {}
    Param(int64_t number) : value_(std::to_string(number)) {}
    Param(int number) : value_(std::to_string(number)) {}
    Param(bool flag) : value_(flag ? "1" : "0") {}
    Param(const std::optional<std::string>& text) : value_(text) {}
    Param(const std::optional<int64_t>& number)
        : value_(number ? std::optional<std::string>(std::to_string(*number)) : std::nullopt) {}
    Param(const std::optional<double>& number);

    const char* data() const { return value_ ? value_->c_str() : nullptr; }

private:
    std::optional<std::string> value_;
};

// The rows of one statement's answer.
class Result {
public:
    explicit Result(PGresult* result) : result_(result, &PQclear) {}

    // One row, read the way store/rows.hpp maps rows to records.
    class Row {
    public:
        Row(const Result& result, int row) : result_(result), row_(row) {}
        std::string text(int column) const { return result_.text(row_, column); }
        std::optional<std::string> optional_text(int column) const {
            return result_.optional_text(row_, column);
        }
        int64_t integer(int column) const { return result_.integer(row_, column); }
        std::optional<int64_t> optional_integer(int column) const {
            return result_.optional_integer(row_, column);
        }
        std::optional<double> optional_real(int column) const {
            return result_.optional_real(row_, column);
        }

    private:
        const Result& result_;
        int row_;
    };

    Row at(int row) const { return Row(*this, row); }
    PGresult* get() const { return result_.get(); }
    int rows() const { return PQntuples(result_.get()); }
    // Rows an INSERT, UPDATE or DELETE changed.
    int changed() const;
    std::string text(int row, int column) const;
    std::optional<std::string> optional_text(int row, int column) const;
    int64_t integer(int row, int column) const;
    std::optional<int64_t> optional_integer(int row, int column) const;
    std::optional<double> optional_real(int row, int column) const;

private:
    std::unique_ptr<PGresult, decltype(&PQclear)> result_;
};

// Told the number of statements of every round trip a connection makes to the server (more than
// one when statements are pipelined); called on the connection's thread.
using RoundTripObserver = std::function<void(std::size_t statements)>;

class Connection {
public:
    // Throws StoreUnavailable when the server cannot be reached. `observer` (may be null) must
    // outlive the connection.
    explicit Connection(const std::string& url, const RoundTripObserver* observer = nullptr);

    // Runs one statement. Throws std::invalid_argument when it broke a constraint or a trigger
    // refused it (the write's own fault), StoreUnavailable for anything else (the database's).
    // A statement with parameters is prepared the first time its text runs on this connection and
    // executed by name afterwards. Bookkeeping statements deferred by begin() and the savepoint
    // verbs travel in the same round trip (pipelined), and fail it when they fail.
    Result exec(const char* sql, std::initializer_list<Param> params, std::string_view operation);
    Result exec(const char* sql, std::string_view operation) { return exec(sql, {}, operation); }

    // Sends `sql` with the next exec() or flush(), in the same round trip, when its result is not
    // needed: its failure is that exec()'s or flush()'s. A write may end with it: the group
    // writer flushes a write's statements before it tells how the write ended.
    void exec_later(const char* sql, std::initializer_list<Param> params,
                    std::string_view operation) {
        deferred_.push_back({sql, params, operation});
    }

    // A notification statement (`sql` taking the payload as $1) sent once per transaction for
    // each payload, however many writes of the group ask for it: the server delivers one anyway.
    // Deferred like exec_later().
    void notify_once(const char* sql, const std::string& payload, std::string_view operation);

    // BEGIN, sent with the transaction's first statement.
    void begin() {
        notified_.clear();
        deferred_.push_back({"BEGIN", {}, "begin transaction"});
    }

    // The group writer's verbs (store/group_writer.hpp). A group is first written whole, with no
    // savepoints, every statement whose answer no write reads travelling in one round trip with
    // the COMMIT; when one write is refused, the group is written again a savepoint per write.
    // begin_group() re-establishes a session the server dropped (a restart), so the writer
    // resumes by itself once the database is back. The savepoint verbs are sent with the
    // statement that follows them; flush() sends what is held back now, throwing as exec() does.
    static constexpr bool kWholeGroupFirst = true;
    void begin_group();
    void flush();
    void savepoint() { deferred_.push_back({kSavepoint, {}, "savepoint"}); }
    void release_savepoint() {
        deferred_.push_back({"RELEASE SAVEPOINT write", {}, "release savepoint"});
    }
    void rollback_to_savepoint();
    void commit_group() { exec("COMMIT", "commit"); }

    // After a failed transaction; any error here adds nothing to the first one.
    void rollback_if_open() noexcept;
    // True when the session is usable; a broken one is re-established once before giving up.
    bool ensure_open() noexcept;

private:
    static constexpr const char* kSavepoint = "SAVEPOINT write";

    // A statement waiting to travel with the next one.
    struct Deferred {
        const char* sql;
        std::vector<Param> params;
        std::string_view operation;
    };

    // The server-side name of `sql`'s prepared statement; null when it is not prepared yet.
    const std::string* prepared_name(const char* sql) const;
    // The deferred statements, each prepared first when it needs it, in one round trip; the result
    // of the last one, or the first failure.
    Result send_deferred();
    // Throws for a failed result (see exec).
    Result checked(Result result, std::string_view operation);
    void count_round_trip(std::size_t statements) const {
        if (observer_ != nullptr && *observer_) (*observer_)(statements);
    }

    std::string url_;
    const RoundTripObserver* observer_;
    std::unique_ptr<PGconn, decltype(&PQfinish)> connection_;
    std::vector<Deferred> deferred_;
    // Notifications (statement, payload) this transaction already sends.
    std::set<std::pair<const char*, std::string>> notified_;
    std::unordered_map<std::string, std::string> prepared_;  // SQL text → statement name
    std::size_t statement_names_ = 0;  // names issued on this session: each is new
};

// Connections borrowed by one call each and given back; broken ones are dropped.
class ConnectionPool {
public:
    // `observer` (may be null) must outlive the pool and its connections.
    explicit ConnectionPool(std::string url, const RoundTripObserver* observer = nullptr)
        : url_(std::move(url)), observer_(observer) {}

    class Lease {
    public:
        Lease(ConnectionPool& pool, std::unique_ptr<Connection> connection)
            : pool_(pool), connection_(std::move(connection)) {}
        ~Lease() { pool_.give_back(std::move(connection_)); }
        Lease(const Lease&) = delete;
        Lease& operator=(const Lease&) = delete;
        Connection& operator*() const { return *connection_; }

    private:
        ConnectionPool& pool_;
        std::unique_ptr<Connection> connection_;
    };

    Lease acquire();

private:
    // Idle connections kept after a burst; each is a server process on the database's side.
    static constexpr std::size_t kMaxIdle = 8;

    void give_back(std::unique_ptr<Connection> connection);

    std::string url_;
    const RoundTripObserver* observer_;
    std::mutex mutex_;
    std::vector<std::unique_ptr<Connection>> idle_;
};

// Runs `body` inside BEGIN … COMMIT on `connection`, rolling back when it throws.
template <class Body>
void in_transaction(Connection& connection, std::string_view operation, Body&& body) {
    connection.begin();
    try {
        body(connection);
        connection.exec("COMMIT", operation);
    } catch (...) {
        connection.rollback_if_open();
        throw;
    }
}

}  // namespace engined::store::postgres
