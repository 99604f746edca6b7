// SQLite backend: runs — submission, the processing and terminal transitions, reads and the
// listing cursor (seq, newest first).
#include "store/sqlite/internal.hpp"
#include "store/sqlite/migrations.hpp"

#include <limits>

namespace engined::store::sqlite {

namespace {

constexpr const char* kInsertRun = R"sql(
    INSERT INTO runs (id, organization, environment, engine_slug, engine_type, engine_version,
                      engine_version_pin, status, stage, request_json, config_hash, webhook_url,
                      api_key_id, created_at_ms, environment_id, engine_version_pin_source,
                      engine_version_rollout)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'queued', 'queued', ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)
)sql";

constexpr const char* kMarkProcessing = R"sql(
    UPDATE runs
       SET status = 'processing', stage = 'processing', started_at_ms = ?2,
           attempts = attempts + 1
     WHERE id = ?1 AND status IN ('queued', 'processing')
)sql";

constexpr const char* kFinishRun = R"sql(
    UPDATE runs
       SET status = ?2, stage = ?3, output_json = ?4, results_json = ?5, error_code = ?6,
           error_message = ?7, error_details_json = ?8, trace_json = ?9, completed_at_ms = ?10,
           fingerprint = ?11, fingerprint_json = ?12
     WHERE id = ?1 AND status IN ('queued', 'processing')
)sql";

constexpr const char* kRunStatus = "SELECT status FROM runs WHERE id = ?1";

constexpr const char* kGetRun = ENGINED_SELECT_RUN "WHERE id = ?1";

// A page is read one row longer than asked: the extra row only says whether another page follows.
constexpr const char* kListRuns = ENGINED_SELECT_RUN R"sql(
     WHERE organization = ?1 AND environment_id = ?2 AND engine_slug = ?3 AND seq < ?4
       AND (?7 IS NULL OR engine_version = ?7)
     ORDER BY seq DESC
     LIMIT ?5
)sql";

constexpr const char* kListRunsByStatus = ENGINED_SELECT_RUN R"sql(
     WHERE organization = ?1 AND environment_id = ?2 AND engine_slug = ?3 AND status = ?6
       AND seq < ?4 AND (?7 IS NULL OR engine_version = ?7)
     ORDER BY seq DESC
     LIMIT ?5
)sql";

constexpr const char* kUnfinishedRuns = R"sql(
    SELECT id FROM runs WHERE status IN ('queued', 'processing') ORDER BY seq
)sql";

// Why an UPDATE guarded by the run's status changed nothing: the run is missing or it is past
// the state the write expects.
[[noreturn]] void refuse_transition(Connection& connection, std::string_view operation,
                                    const std::string& run_id) {
    Query query(connection, kRunStatus, operation);
    query.bind(1, run_id);
    if (!query.next()) {
        throw std::out_of_range(std::string(operation) + ": no run '" + run_id + "'");
    }
    throw std::logic_error(std::string(operation) + ": run '" + run_id + "' is already " +
                           query.text(0));
}

void apply_insert_run(Connection& connection, const NewRun& run) {
    if (run.idempotency) apply_remember_idempotency(connection, *run.idempotency);
    insert_config(connection, run.config_hash, run.config_json, "insert_run (config)");
    Query(connection, kInsertRun, "insert_run")
        .bind(1, run.id)
        .bind(2, run.organization)
        .bind(3, run.environment)
        .bind(4, run.engine_slug)
        .bind(5, run.engine_type)
        .bind_optional(6, run.engine_version)
        .bind_optional(7, run.engine_version_pin)
        .bind(8, run.request_json)
        .bind(9, run.config_hash)
        .bind_optional(10, run.webhook_url)
        .bind(11, run.api_key_id)
        .bind(12, run.created_at_ms)
        .bind(13, run.environment_id)
        .bind_optional(14, run.engine_version_pin_source)
        .bind_optional(15, run.engine_version_rollout)
        .run();
}

void apply_mark_processing(Connection& connection, const std::string& run_id,
                           int64_t started_at_ms) {
    const int changed = Query(connection, kMarkProcessing, "mark_processing")
                            .bind(1, run_id)
                            .bind(2, started_at_ms)
                            .run();
    if (changed == 0) refuse_transition(connection, "mark_processing", run_id);
}

void apply_finish_run(Connection& connection, const std::string& run_id,
                      const RunOutcome& outcome) {
    if (!is_terminal(outcome.status)) {
        throw std::invalid_argument("finish_run: '" + std::string(to_string(outcome.status)) +
                                    "' is not a terminal status");
    }
    const int changed = Query(connection, kFinishRun, "finish_run")
                            .bind(1, run_id)
                            .bind(2, to_string(outcome.status))
                            .bind(3, outcome.stage)
                            .bind(4, outcome.output_json)
                            .bind(5, outcome.results_json)
                            .bind_optional(6, outcome.error_code)
                            .bind_optional(7, outcome.error_message)
                            .bind(8, outcome.error_details_json)
                            .bind(9, outcome.trace_json)
                            .bind(10, outcome.completed_at_ms)
                            .bind_optional(11, outcome.fingerprint)
                            .bind_optional(12, outcome.fingerprint_json)
                            .run();
    if (changed == 0) refuse_transition(connection, "finish_run", run_id);
    add_run_event_deliveries(connection, run_id, outcome);
}

}  // namespace

}  // namespace engined::store::sqlite

namespace engined::store {

// The backend's internals (statements, row mapping) live in engined::store::sqlite.
using namespace sqlite;

void SqliteStore::insert_run(NewRun run, Completion done) {
    impl_->writer.enqueue(
        {[run = std::move(run)](Connection& c) { apply_insert_run(c, run); }, std::move(done)});
}

void SqliteStore::mark_processing(std::string run_id, int64_t started_at_ms, Completion done) {
    impl_->writer.enqueue({[run_id = std::move(run_id), started_at_ms](Connection& c) {
                               apply_mark_processing(c, run_id, started_at_ms);
                           },
                           std::move(done)});
}

void SqliteStore::finish_run(std::string run_id, RunOutcome outcome, Completion done) {
    impl_->writer.enqueue({[run_id = std::move(run_id), outcome = std::move(outcome)](
                               Connection& c) { apply_finish_run(c, run_id, outcome); },
                           std::move(done)});
}

std::optional<Run> SqliteStore::get_run(std::string_view run_id) const {
    auto lease = impl_->readers.acquire();
    Query query(*lease, kGetRun, "get_run");
    query.bind(1, run_id);
    if (!query.next()) return std::nullopt;
    return read_run(query);
}

RunPage SqliteStore::list_runs(const RunPageQuery& request) const {
    if (request.limit < 1) throw std::invalid_argument("list_runs: limit must be positive");
    auto lease = impl_->readers.acquire();
    Query query(*lease, request.status ? kListRunsByStatus : kListRuns, "list_runs");
    query.bind(1, request.organization)
        .bind(2, request.environment_id)
        .bind(3, request.engine_slug)
        .bind(4, request.before_seq.value_or(std::numeric_limits<int64_t>::max()))
        .bind(5, static_cast<int64_t>(request.limit) + 1);
    if (request.status) query.bind(6, to_string(*request.status));
    query.bind_optional(7, request.engine_version);
    RunPage page;
    while (query.next()) page.runs.push_back(read_run(query));
    if (page.runs.size() > static_cast<std::size_t>(request.limit)) {
        page.runs.pop_back();
        page.next_before_seq = page.runs.back().seq;
    }
    return page;
}

std::vector<std::string> SqliteStore::unfinished_run_ids() const {
    auto lease = impl_->readers.acquire();
    Query query(*lease, kUnfinishedRuns, "unfinished_run_ids");
    std::vector<std::string> ids;
    while (query.next()) ids.push_back(query.text(0));
    return ids;
}

void SqliteStore::ping() const {
    auto lease = impl_->readers.acquire();
    Query query(*lease, kSchemaVersionQuery, "ping");
    query.next();
}

}  // namespace engined::store
