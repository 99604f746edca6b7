// core/store/postgres/connection — one libpq connection (reconnecting after the server went
// away), statements with text parameters, their results, and the pool of connections the
// PostgreSQL backend's callers borrow. Used only inside core/store/postgres: nothing else
// includes libpq-fe.h.
#pragma once

#include "store/store.hpp"

#include <libpq-fe.h>

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
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

class Connection {
public:
    // Throws StoreUnavailable when the server cannot be reached.
    explicit Connection(const std::string& url);

    // Runs one statement. Throws std::invalid_argument when it broke a constraint or a trigger
    // refused it (the write's own fault), StoreUnavailable for anything else (the database's).
    Result exec(const char* sql, std::initializer_list<Param> params, std::string_view operation);
    Result exec(const char* sql, std::string_view operation) { return exec(sql, {}, operation); }

    // The group writer's verbs (store/group_writer.hpp). begin_group() re-establishes a session
    // the server dropped (a restart), so the writer resumes by itself once the database is back.
    void begin_group();
    void savepoint() { exec("SAVEPOINT write", "savepoint"); }
    void release_savepoint() { exec("RELEASE SAVEPOINT write", "release savepoint"); }
    void rollback_to_savepoint() {
        exec("ROLLBACK TO SAVEPOINT write; RELEASE SAVEPOINT write", "roll back savepoint");
    }
    void commit_group() { exec("COMMIT", "commit"); }

    // After a failed transaction; any error here adds nothing to the first one.
    void rollback_if_open() noexcept;
    // True when the session is usable; a broken one is re-established once before giving up.
    bool ensure_open() noexcept;

private:
    std::string url_;
    std::unique_ptr<PGconn, decltype(&PQfinish)> connection_;
};

// Connections borrowed by one call each and given back; broken ones are dropped.
class ConnectionPool {
public:
    explicit ConnectionPool(std::string url) : url_(std::move(url)) {}

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
    std::mutex mutex_;
    std::vector<std::unique_ptr<Connection>> idle_;
};

// Runs `body` inside BEGIN … COMMIT on `connection`, rolling back when it throws.
template <class Body>
void in_transaction(Connection& connection, std::string_view operation, Body&& body) {
    connection.exec("BEGIN", operation);
    try {
        body(connection);
        connection.exec("COMMIT", operation);
    } catch (...) {
        connection.rollback_if_open();
        throw;
    }
}

}  // namespace engined::store::postgres
