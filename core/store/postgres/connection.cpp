// PostgreSQL backend: libpq connections, parameters, results and the connection pool.
#include "store/postgres/connection.hpp"

#include <algorithm>
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
    const bool deferred_plain = std::all_of(deferred_.begin(), deferred_.end(),
                                            [](const Deferred& d) { return d.params.empty(); });
    if (params.size() == 0 && deferred_plain) {
        // Without parameters the simple protocol runs the text as it is, several statements
        // included (a migration step, or the deferred bookkeeping ahead of a COMMIT).
        std::string text;
        for (const Deferred& deferred : deferred_) text.append(deferred.sql).append("; ");
        text.append(sql);
        count_round_trip(deferred_.size() + 1);
        deferred_.clear();
        return checked(Result(PQexec(connection_.get(), text.c_str())), operation);
    }
    const std::string* name = prepared_name(sql);
    if (name == nullptr || !deferred_.empty()) {
        deferred_.push_back({sql, params, operation});
        return send_deferred();
    }
    std::vector<const char*> values;
    values.reserve(params.size());
    for (const Param& param : params) values.push_back(param.data());
    count_round_trip(1);
    return checked(
        Result(PQexecPrepared(connection_.get(), name->c_str(), static_cast<int>(values.size()),
                              values.data(), nullptr, nullptr, 0)),
        operation);
}

Result Connection::send_deferred() {
    PGconn* const pg = connection_.get();
    std::vector<Deferred> statements = std::move(deferred_);
    deferred_.clear();
    const std::string_view operation = statements.back().operation;

    // What the server answers, in order: a preparation (to remember once it succeeded) or a
    // statement's result.
    struct Expected {
        std::size_t statement;
        const char* prepares = nullptr;  // the SQL text a successful answer prepared
        std::string name;
    };
    std::vector<Expected> expected;
    bool sent = PQenterPipelineMode(pg) == 1;
    std::vector<const char*> values;
    for (std::size_t i = 0; sent && i < statements.size(); ++i) {
        const Deferred& statement = statements[i];
        values.clear();
        for (const Param& param : statement.params) values.push_back(param.data());
        const int count = static_cast<int>(values.size());
        if (count == 0) {
            sent = PQsendQueryParams(pg, statement.sql, 0, nullptr, nullptr, nullptr, nullptr, 0);
            expected.push_back({i, nullptr, {}});
            continue;
        }
        const std::string* known = prepared_name(statement.sql);
        const std::string name = known ? *known : "s" + std::to_string(++statement_names_);
        if (known == nullptr) {
            sent = PQsendPrepare(pg, name.c_str(), statement.sql, count, nullptr) == 1;
            expected.push_back({i, statement.sql, name});
        }
        sent = sent && PQsendQueryPrepared(pg, name.c_str(), count, values.data(), nullptr, nullptr,
                                           0) == 1;
        expected.push_back({i, nullptr, {}});
    }
    sent = sent && PQpipelineSync(pg) == 1;
    count_round_trip(statements.size());

    // Every answer is read, in order, up to the sync, even after a failure (the server skips
    // what follows a failed statement and says so): the first failure is the answer.
    Result failure(nullptr);
    std::string_view failed_operation = operation;
    Result answer(nullptr);
    for (std::size_t i = 0; sent && i < expected.size(); ++i) {
        Result result(PQgetResult(pg));
        if (result.get() == nullptr) {
            sent = false;  // the connection broke: no more answers will come
            break;
        }
        while (PGresult* end = PQgetResult(pg)) PQclear(end);  // the statement's closing null
        const ExecStatusType status = PQresultStatus(result.get());
        const bool ok = status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK;
        if (!ok) {
            if (failure.get() == nullptr && status != PGRES_PIPELINE_ABORTED) {
                failure = std::move(result);
                failed_operation = statements[expected[i].statement].operation;
            }
        } else if (expected[i].prepares != nullptr) {
            prepared_.emplace(expected[i].prepares, expected[i].name);
        } else if (i + 1 == expected.size()) {
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
        if (failure.get() == nullptr) fail(operation, "the connection to PostgreSQL broke");
    }
    if (failure.get() != nullptr) return checked(std::move(failure), failed_operation);
    return checked(std::move(answer), operation);
}

void Connection::flush() {
    if (!deferred_.empty()) send_deferred();
}

void Connection::notify_once(const char* sql, const std::string& payload,
                             std::string_view operation) {
    if (!notified_.insert({sql, payload}).second) return;
    exec_later(sql, {payload}, operation);
}

void Connection::rollback_to_savepoint() {
    // An undone write's notifications are undone with it: a later write sends its own.
    notified_.clear();
    // A savepoint that was never sent has nothing to undo.
    if (!deferred_.empty() && deferred_.back().sql == kSavepoint) {
        deferred_.pop_back();
        return;
    }
    deferred_.push_back({"ROLLBACK TO SAVEPOINT write", {}, "roll back savepoint"});
    deferred_.push_back({"RELEASE SAVEPOINT write", {}, "roll back savepoint"});
}

void Connection::rollback_if_open() noexcept {
    deferred_.clear();
    notified_.clear();
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
