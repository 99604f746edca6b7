// PostgreSQL backend: libpq connections, parameters, results and the connection pool.
#include "store/postgres/connection.hpp"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

namespace engined::store::postgres {

namespace {

[[noreturn]] void fail(std::string_view operation, std::string_view message) {
    throw StoreUnavailable(std::string(operation) + ": " + std::string(message));
}

// SQLSTATE class 23 (integrity constraint violation) and P0001 (raised by our triggers) are the
// write's own fault; anything else is the database's.
bool is_refusal(const char* state) {
    return state != nullptr &&
           (std::strncmp(state, "23", 2) == 0 || std::strcmp(state, "P0001") == 0);
}

}  // namespace

Param::Param(const std::optional<double>& number) {
    if (!number) return;
    char text[32];
    std::snprintf(text, sizeof text, "%.17g", *number);
    value_ = text;
}

int Result::changed() const {
    const char* count = PQcmdTuples(result_.get());
    return count && *count ? std::atoi(count) : 0;
}

std::string Result::text(int row, int column) const {
    return {PQgetvalue(result_.get(), row, column),
            static_cast<std::size_t>(PQgetlength(result_.get(), row, column))};
}

std::optional<std::string> Result::optional_text(int row, int column) const {
    if (PQgetisnull(result_.get(), row, column)) return std::nullopt;
    return text(row, column);
}

int64_t Result::integer(int row, int column) const {
    return std::strtoll(PQgetvalue(result_.get(), row, column), nullptr, 10);
}

std::optional<int64_t> Result::optional_integer(int row, int column) const {
    if (PQgetisnull(result_.get(), row, column)) return std::nullopt;
    return integer(row, column);
}

std::optional<double> Result::optional_real(int row, int column) const {
    if (PQgetisnull(result_.get(), row, column)) return std::nullopt;
    return std::strtod(PQgetvalue(result_.get(), row, column), nullptr);
}

Connection::Connection(const std::string& url)
    : url_(url), connection_(PQconnectdb(url.c_str()), &PQfinish) {
    if (!connection_ || PQstatus(connection_.get()) != CONNECTION_OK) {
        fail("connect to PostgreSQL",
             connection_ ? PQerrorMessage(connection_.get()) : "out of memory");
    }
    exec("SET client_min_messages = warning", "configure session");
}

Result Connection::exec(const char* sql, std::initializer_list<Param> params,
                        std::string_view operation) {
    std::vector<const char*> values;
    values.reserve(params.size());
    for (const Param& param : params) values.push_back(param.data());
    // Without parameters the simple protocol runs the text as it is, several statements included
    // (a migration step).
    Result result(values.empty()
                      ? PQexec(connection_.get(), sql)
                      : PQexecParams(connection_.get(), sql, static_cast<int>(values.size()),
                                     nullptr, values.data(), nullptr, nullptr, 0));
    const ExecStatusType status = result.get() ? PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return result;
    const std::string message =
        result.get() ? PQresultErrorMessage(result.get()) : PQerrorMessage(connection_.get());
    if (result.get() && is_refusal(PQresultErrorField(result.get(), PG_DIAG_SQLSTATE))) {
        throw std::invalid_argument(std::string(operation) + ": " + message);
    }
    fail(operation, message);
}

void Connection::rollback_if_open() noexcept {
    if (PQstatus(connection_.get()) != CONNECTION_OK) return;
    if (PQtransactionStatus(connection_.get()) == PQTRANS_IDLE) return;
    PQclear(PQexec(connection_.get(), "ROLLBACK"));
}

bool Connection::ensure_open() noexcept {
    if (PQstatus(connection_.get()) == CONNECTION_OK) return true;
    PQreset(connection_.get());
    return PQstatus(connection_.get()) == CONNECTION_OK;
}

void Connection::begin_group() {
    if (!ensure_open()) fail("begin transaction", PQerrorMessage(connection_.get()));
    exec("BEGIN", "begin transaction");
}

ConnectionPool::Lease ConnectionPool::acquire() {
    {
        std::lock_guard lock(mutex_);
        while (!idle_.empty()) {
            auto connection = std::move(idle_.back());
            idle_.pop_back();
            if (connection->ensure_open()) return Lease(*this, std::move(connection));
        }
    }
    // Opened outside the lock: it is a network round trip.
    return Lease(*this, std::make_unique<Connection>(url_));
}

void ConnectionPool::give_back(std::unique_ptr<Connection> connection) {
    connection->rollback_if_open();
    std::lock_guard lock(mutex_);
    if (idle_.size() < kMaxIdle) idle_.push_back(std::move(connection));
}

}  // namespace engined::store::postgres
