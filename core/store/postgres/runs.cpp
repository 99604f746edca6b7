// PostgreSQL backend: runs — submission, the processing and terminal transitions, reads and the
// listing cursor (seq, newest first).
#include "store/postgres/internal.hpp"

#include <limits>

namespace engined::store::postgres {

namespace {

constexpr const char* kInsertRun = R"sql(
    INSERT INTO runs (id, organization, environment, engine_slug, engine_type, engine_version,
                      engine_version_pin, status, stage, request_json, config_hash, webhook_url,
                      api_key_id, created_at_ms, environment_id, engine_version_pin_source,
                      engine_version_rollout)
    VALUES ($1, $2, $3, $4, $5, $6, $7, 'queued', 'queued', $8, $9, $10, $11, $12, $13, $14, $15)
)sql";

constexpr const char* kMarkProcessing = R"sql(
    UPDATE runs
       SET status = 'processing', stage = 'processing', started_at_ms = $2, attempts = attempts + 1
     WHERE id = $1 AND status IN ('queued', 'processing')
)sql";

constexpr const char* kFinishRun = R"sql(
    UPDATE runs
       SET status = $2, stage = $3, output_json = $4, results_json = $5, error_code = $6,
           error_message = $7, error_details_json = $8, trace_json = $9, completed_at_ms = $10,
           fingerprint = $11, fingerprint_json = $12
     WHERE id = $1 AND status IN ('queued', 'processing')
)sql";

constexpr const char* kRunStatus = "SELECT status FROM runs WHERE id = $1";

constexpr const char* kGetRun = ENGINED_SELECT_RUN "WHERE id = $1";

// A page is read one row longer than asked: the extra row only says whether another page follows.
constexpr const char* kListRuns = ENGINED_SELECT_RUN R"sql(
     WHERE organization = $1 AND environment_id = $2 AND engine_slug = $3 AND seq < $4
       AND ($6::text IS NULL OR status = $6) AND ($7::text IS NULL OR engine_version = $7)
     ORDER BY seq DESC
     LIMIT $5
)sql";

constexpr const char* kUnfinishedRuns =
    "SELECT id FROM runs WHERE status IN ('queued', 'processing') ORDER BY seq";

// Why an UPDATE guarded by the run's status changed nothing: the run is missing or it is past
// the state the write expects.
[[noreturn]] void refuse_transition(Connection& connection, std::string_view operation,
                                    const std::string& run_id) {
    const Result status = connection.exec(kRunStatus, {run_id}, operation);
    if (status.rows() == 0)
        throw std::out_of_range(std::string(operation) + ": no run '" + run_id + "'");
    throw std::logic_error(std::string(operation) + ": run '" + run_id + "' is already " +
                           status.text(0, 0));
}

void apply_insert_run(Connection& connection, const NewRun& run) {
    if (run.idempotency) apply_remember_idempotency(connection, *run.idempotency);
    insert_config(connection, run.config_hash, run.config_json, "insert_run (config)");
    connection.exec(kInsertRun,
                    {run.id, run.organization, run.environment, run.engine_slug, run.engine_type,
                     run.engine_version, run.engine_version_pin, run.request_json, run.config_hash,
                     run.webhook_url, run.api_key_id, run.created_at_ms, run.environment_id,
                     run.engine_version_pin_source, run.engine_version_rollout},
                    "insert_run");
}

void apply_mark_processing(Connection& connection, const std::string& run_id,
                           int64_t started_at_ms) {
    if (connection.exec(kMarkProcessing, {run_id, started_at_ms}, "mark_processing").changed() ==
        0) {
        refuse_transition(connection, "mark_processing", run_id);
    }
}

void apply_finish_run(Connection& connection, const std::string& run_id,
                      const RunOutcome& outcome) {
    if (!is_terminal(outcome.status)) {
        throw std::invalid_argument("finish_run: '" + std::string(to_string(outcome.status)) +
                                    "' is not a terminal status");
    }
    const Result finished =
        connection.exec(kFinishRun,
                        {run_id, to_string(outcome.status), outcome.stage, outcome.output_json,
                         outcome.results_json, outcome.error_code, outcome.error_message,
                         outcome.error_details_json, outcome.trace_json, outcome.completed_at_ms,
                         outcome.fingerprint, outcome.fingerprint_json},
                        "finish_run");
    if (finished.changed() == 0) refuse_transition(connection, "finish_run", run_id);
    add_run_event_deliveries(connection, run_id, outcome);
}

}  // namespace

}  // namespace engined::store::postgres

namespace engined::store {

// The backend's internals (statements, row mapping) live in engined::store::postgres.
using namespace postgres;

void PostgresStore::insert_run(NewRun run, Completion done) {
    impl_->writer.enqueue(
        {[run = std::move(run)](Connection& c) { apply_insert_run(c, run); }, std::move(done)});
}

void PostgresStore::mark_processing(std::string run_id, int64_t started_at_ms, Completion done) {
    impl_->writer.enqueue({[run_id = std::move(run_id), started_at_ms](Connection& c) {
                               apply_mark_processing(c, run_id, started_at_ms);
                           },
                           std::move(done)});
}

void PostgresStore::finish_run(std::string run_id, RunOutcome outcome, Completion done) {
    impl_->writer.enqueue({[run_id = std::move(run_id), outcome = std::move(outcome)](
                               Connection& c) { apply_finish_run(c, run_id, outcome); },
                           std::move(done)});
}

std::optional<Run> PostgresStore::get_run(std::string_view run_id) const {
    auto lease = impl_->pool.acquire();
    const Result row = (*lease).exec(kGetRun, {run_id}, "get_run");
    if (row.rows() == 0) return std::nullopt;
    return read_run(row.at(0));
}

RunPage PostgresStore::list_runs(const RunPageQuery& request) const {
    if (request.limit < 1) throw std::invalid_argument("list_runs: limit must be positive");
    auto lease = impl_->pool.acquire();
    const std::optional<std::string> status =
        request.status ? std::optional<std::string>(to_string(*request.status)) : std::nullopt;
    const Result rows =
        (*lease).exec(kListRuns,
                      {request.organization, request.environment_id, request.engine_slug,
                       request.before_seq.value_or(std::numeric_limits<int64_t>::max()),
                       static_cast<int64_t>(request.limit) + 1, status, request.engine_version},
                      "list_runs");
    RunPage page;
    for (int i = 0; i < rows.rows(); ++i) page.runs.push_back(read_run(rows.at(i)));
    if (page.runs.size() > static_cast<std::size_t>(request.limit)) {
        page.runs.pop_back();
        page.next_before_seq = page.runs.back().seq;
    }
    return page;
}

std::vector<std::string> PostgresStore::unfinished_run_ids() const {
    auto lease = impl_->pool.acquire();
    const Result rows = (*lease).exec(kUnfinishedRuns, "unfinished_run_ids");
    std::vector<std::string> ids;
    for (int i = 0; i < rows.rows(); ++i) ids.push_back(rows.text(i, 0));
    return ids;
}

void PostgresStore::ping() const {
    auto lease = impl_->pool.acquire();
    (*lease).exec("SELECT 1", "ping");
}

}  // namespace engined::store
