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

Connection::Connection(const std::string& url, const RoundTripObserver* observer)
    : url_(url), observer_(observer), connection_(PQconnectdb(url.c_str()), &PQfinish) {
    if (!connection_ || PQstatus(connection_.get()) != CONNECTION_OK) {
        fail("connect to PostgreSQL",
             connection_ ? PQerrorMessage(connection_.get()) : "out of memory");
    }
    exec("SET client_min_messages = warning", "configure session");
}

const std::string* Connection::prepared_name(const char* sql) const {
    const auto found = prepared_.find(sql);
    return found == prepared_.end() ? nullptr : &found->second;
}

Result Connection::checked(Result result, std::string_view operation) {
    const ExecStatusType status = result.get() ? PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return result;
    const std::string message =
        result.get() ? PQresultErrorMessage(result.get()) : PQerrorMessage(connection_.get());
    if (result.get() && is_refusal(PQresultErrorField(result.get(), PG_DIAG_SQLSTATE))) {
        throw std::invalid_argument(std::string(operation) + ": " + message);
    }
    fail(operation, message);
}

Result Connection::exec(const char* sql, std::initializer_list<Param> params,
                        std::string_view operation) {
    std::vector<const char*> values;
    values.reserve(params.size());
    for (const Param& param : params) values.push_back(param.data());
    if (values.empty()) {
        // Without parameters the simple protocol runs the text as it is, several statements
        // included (a migration step, or the deferred bookkeeping ahead of a COMMIT).
        std::string text;
        for (const char* deferred : deferred_) text.append(deferred).append("; ");
        text.append(sql);
        count_round_trip(deferred_.size() + 1);
        deferred_.clear();
        return checked(Result(PQexec(connection_.get(), text.c_str())), operation);
    }
    const std::string* name = prepared_name(sql);
    if (name == nullptr || !deferred_.empty()) return exec_pipelined(sql, values, operation);
    count_round_trip(1);
    return checked(
        Result(PQexecPrepared(connection_.get(), name->c_str(), static_cast<int>(values.size()),
                              values.data(), nullptr, nullptr, 0)),
        operation);
}

Result Connection::exec_pipelined(const char* sql, const std::vector<const char*>& values,
                                  std::string_view operation) {
    PGconn* const pg = connection_.get();
    const std::vector<const char*> deferred = std::move(deferred_);
    deferred_.clear();
    const std::string* known = prepared_name(sql);
    const std::string name = known ? *known : "s" + std::to_string(prepared_.size() + 1);
    const int count = static_cast<int>(values.size());
    bool sent = PQenterPipelineMode(pg) == 1;
    for (const char* text : deferred) {
        sent = sent && PQsendQueryParams(pg, text, 0, nullptr, nullptr, nullptr, nullptr, 0) == 1;
    }
    if (known == nullptr) sent = sent && PQsendPrepare(pg, name.c_str(), sql, count, nullptr) == 1;
    sent = sent &&
           PQsendQueryPrepared(pg, name.c_str(), count, values.data(), nullptr, nullptr, 0) == 1;
    sent = sent && PQpipelineSync(pg) == 1;
    count_round_trip(deferred.size() + 1);

    // Every result is read, in order, up to the sync, even after a failure (the server skips
    // what follows a failed statement and says so): the first failure is the answer.
    const std::size_t expected = deferred.size() + (known == nullptr ? 2 : 1);
    Result first_failure(nullptr);
    Result answer(nullptr);
    bool prepared = false;
    for (std::size_t i = 0; sent && i < expected; ++i) {
        Result result(PQgetResult(pg));
        if (result.get() == nullptr) {
            sent = false;  // the connection broke: no more results will come
            break;
        }
        while (PGresult* extra = PQgetResult(pg)) PQclear(extra);  // up to the statement's end
        const ExecStatusType status = PQresultStatus(result.get());
        const bool ok = status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK;
        if (!ok && first_failure.get() == nullptr && status != PGRES_PIPELINE_ABORTED) {
            first_failure = std::move(result);
        } else if (ok && known == nullptr && i == deferred.size()) {
            prepared = true;
        } else if (i + 1 == expected) {
            answer = std::move(result);
        }
    }
    if (sent) {
        Result sync(PQgetResult(pg));
        sent = sync.get() != nullptr && PQresultStatus(sync.get()) == PGRES_PIPELINE_SYNC;
    }
    if (!sent || PQexitPipelineMode(pg) != 1) {
        // Nothing more can be trusted on this session: it is replaced before its next use.
        prepared_.clear();
        connection_.reset(PQconnectdb(url_.c_str()));
        if (first_failure.get() == nullptr) fail(operation, "the connection to PostgreSQL broke");
    }
    if (prepared) prepared_.emplace(sql, name);
    if (first_failure.get() != nullptr) return checked(std::move(first_failure), operation);
    return checked(std::move(answer), operation);
}

void Connection::rollback_to_savepoint() {
    // A savepoint that was never sent has nothing to undo.
    if (!deferred_.empty() && deferred_.back() == kSavepoint) {
        deferred_.pop_back();
        return;
    }
    deferred_.push_back("ROLLBACK TO SAVEPOINT write");
    deferred_.push_back("RELEASE SAVEPOINT write");
}

void Connection::rollback_if_open() noexcept {
    deferred_.clear();
    if (PQstatus(connection_.get()) != CONNECTION_OK) return;
    if (PQtransactionStatus(connection_.get()) == PQTRANS_IDLE) return;
    count_round_trip(1);
    PQclear(PQexec(connection_.get(), "ROLLBACK"));
}

bool Connection::ensure_open() noexcept {
    if (PQstatus(connection_.get()) == CONNECTION_OK) return true;
    // A new session knows none of the old one's prepared statements.
    prepared_.clear();
    deferred_.clear();
    PQreset(connection_.get());
    return PQstatus(connection_.get()) == CONNECTION_OK;
}

void Connection::begin_group() {
    if (!ensure_open()) fail("begin transaction", PQerrorMessage(connection_.get()));
    begin();
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
    return Lease(*this, std::make_unique<Connection>(url_, observer_));
}

void ConnectionPool::give_back(std::unique_ptr<Connection> connection) {
    connection->rollback_if_open();
    std::lock_guard lock(mutex_);
    if (idle_.size() < kMaxIdle) idle_.push_back(std::move(connection));
}

}  // namespace engined::store::postgres
