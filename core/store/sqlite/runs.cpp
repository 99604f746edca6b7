// SQLite backend: runs — submission, the processing and terminal transitions, reads and the
// listing cursor (seq, newest first).
#include "store/sqlite/internal.hpp"
#include "store/sqlite/listing_statements.hpp"
#include "store/sqlite/queue_statements.hpp"

#include <limits>
#include <memory>

namespace engined::store::sqlite {

namespace {

constexpr const char* kInsertRun = R"sql(
    INSERT INTO runs (id, organization, environment, engine_slug, engine_type, engine_version,
                      engine_version_pin, status, stage, request_json, config_hash, webhook_url,
                      api_key_id, created_at_ms, environment_id, engine_version_pin_source,
                      engine_version_rollout, lease_owner, leased_until_ms, attempts)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'queued', 'queued', ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15,
            ?16, ?17, ?18)
)sql";

// A run at the attempts cap keeps its count.
#define ENGINED_LEASE_RUN                                                               \
    "UPDATE runs SET status = 'processing', stage = 'processing', started_at_ms = ?2, " \
    "       attempts = CASE WHEN attempts < ?5 THEN attempts + 1 ELSE attempts END, "   \
    "       lease_owner = ?3, leased_until_ms = ?4 "
constexpr const char* kLeaseRun = ENGINED_LEASE_RUN "WHERE id = ?1 RETURNING " ENGINED_RUN_COLUMNS;

constexpr const char* kStartRun = R"sql(
    UPDATE runs SET status = 'processing', stage = 'processing', started_at_ms = ?2
     WHERE id = ?1 AND status = 'queued' AND lease_owner = ?3
)sql";

constexpr const char* kExtendLease = R"sql(
    UPDATE runs SET leased_until_ms = ?3
     WHERE id = ?1 AND status IN ('queued', 'processing') AND lease_owner = ?2
)sql";

constexpr const char* kFinishRun = R"sql(
    UPDATE runs
       SET status = ?2, stage = ?3, output_json = ?4, results_json = ?5, error_code = ?6,
           error_message = ?7, error_details_json = ?8, trace_json = ?9, completed_at_ms = ?10,
           fingerprint = ?11, fingerprint_json = ?12, leased_until_ms = NULL,
           started_at_ms = coalesce(started_at_ms, ?14)
     WHERE id = ?1 AND status IN ('queued', 'processing') AND lease_owner = ?13
)sql";

constexpr const char* kRunStatus = "SELECT status, lease_owner FROM runs WHERE id = ?1";
constexpr const char* kRunEventTarget =
    "SELECT organization, environment_id, webhook_url FROM runs WHERE id = ?1";

constexpr const char* kGetRun = ENGINED_SELECT_RUN "WHERE id = ?1";

// Why a lease-guarded outcome changed nothing: the run is missing, past processing, or
// leased to another node.
[[noreturn]] void refuse_outcome(Connection& connection, const std::string& run_id) {
    Query query(connection, kRunStatus, "finish_run");
    query.bind(1, run_id);
    if (!query.next()) throw std::out_of_range("finish_run: no run '" + run_id + "'");
    throw_outcome_refusal(run_id, query.text(0), query.optional_text(1));
}

void apply_insert_run(Connection& connection, const NewRun& run) {
    if (run.idempotency) apply_remember_idempotency(connection, *run.idempotency);
    if (run.config_json) {
        insert_config(connection, run.config_hash, *run.config_json, "insert_run (config)");
    }
    Query insert(connection, kInsertRun, "insert_run");
    insert.bind(1, run.id)
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
        .bind_optional(15, run.engine_version_rollout);
    if (run.held_by) {
        insert.bind(16, run.held_by->owner)
            .bind(17, run.held_by->leased_until_ms)
            .bind(18, int64_t{1});
    } else {
        insert.bind(18, int64_t{0});
    }
    insert.run();
}

void bind_lease(Query& lease, const std::string& run_id, const ClaimRequest& request) {
    lease.bind(1, run_id)
        .bind(2, request.now_ms)
        .bind(3, request.owner)
        .bind(4, request.lease_until_ms)
        .bind(5, static_cast<int64_t>(request.max_attempts));
}

std::optional<Claim> apply_claim_run(Connection& connection, const ClaimRequest& request) {
    std::string run_id;
    int prior_attempts = 0;
    {
        Query next(connection, request.run_id ? kClaimableById : kNextClaimable, "claim_run");
        if (request.run_id) next.bind(1, *request.run_id);
        next.bind(2, request.now_ms);
        if (!next.next()) return std::nullopt;
        run_id = next.text(0);
        prior_attempts = static_cast<int>(next.integer(1));
    }
    Query lease(connection, kLeaseRun, "claim_run");
    bind_lease(lease, run_id, request);
    if (!lease.next()) throw StoreUnavailable("claim_run: run '" + run_id + "' vanished");
    return Claim{read_run(lease), prior_attempts >= request.max_attempts};
}

// True when the finish added webhook deliveries.
bool apply_finish_run(Connection& connection, const std::string& run_id,
                      const std::string& lease_owner, const RunOutcome& outcome) {
    require_terminal(outcome);
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
                            .bind(13, lease_owner)
                            .bind_optional(14, outcome.started_at_ms)
                            .run();
    if (changed == 0) refuse_outcome(connection, run_id);
    if (outcome.event_target)
        return add_run_event_deliveries(connection, run_id, *outcome.event_target, outcome);
    Query read(connection, kRunEventTarget, "finish_run (event target)");
    read.bind(1, run_id);
    if (!read.next()) throw std::out_of_range("finish_run: no run '" + run_id + "'");
    const RunEventTarget target{read.text(0), read.text(1), read.optional_text(2)};
    return add_run_event_deliveries(connection, run_id, target, outcome);
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

void SqliteStore::finish_run(std::string run_id, std::string lease_owner, RunOutcome outcome,
                             Completion done) {
    FinishedRunListeners::Finish finish = impl_->finished_runs.finish(run_id, std::move(done));
    impl_->writer.enqueue(
        {[run_id = std::move(run_id), lease_owner = std::move(lease_owner),
          outcome = std::move(outcome), added_deliveries = finish.added_deliveries](Connection& c) {
             *added_deliveries = apply_finish_run(c, run_id, lease_owner, outcome);
         },
         std::move(finish.completion)});
}

void SqliteStore::insert_finished_run(NewRun run, RunOutcome outcome, Completion done) {
    if (!run.held_by) throw std::invalid_argument("insert_finished_run: the run must be held");
    FinishedRunListeners::Finish finish = impl_->finished_runs.finish(run.id, std::move(done));
    impl_->writer.enqueue({[run = std::move(run), outcome = std::move(outcome),
                            added_deliveries = finish.added_deliveries](Connection& c) {
                               apply_insert_run(c, run);
                               *added_deliveries =
                                   apply_finish_run(c, run.id, run.held_by->owner, outcome);
                           },
                           std::move(finish.completion)});
}

std::unique_ptr<FinishedRunsWatch> SqliteStore::watch_finished_runs(RunFinished finished) {
    return impl_->finished_runs.add(std::move(finished));
}

std::optional<Claim> SqliteStore::claim_run(const ClaimRequest& request) {
    std::optional<Claim> claim;
    impl_->writer.write_and_wait(
        [&claim, &request](Connection& c) { claim = apply_claim_run(c, request); });
    return claim;
}

void SqliteStore::start_run(std::string owner, std::string run_id, int64_t started_at_ms,
                            Completion done) {
    impl_->writer.enqueue(
        {[owner = std::move(owner), run_id = std::move(run_id), started_at_ms](Connection& c) {
             Query(c, kStartRun, "start_run")
                 .bind(1, run_id)
                 .bind(2, started_at_ms)
                 .bind(3, owner)
                 .run();
         },
         std::move(done)});
}

void SqliteStore::extend_run_leases(std::string owner, std::vector<std::string> run_ids,
                                    int64_t lease_until_ms, Completion done) {
    impl_->writer.enqueue(
        {[owner = std::move(owner), run_ids = std::move(run_ids), lease_until_ms](Connection& c) {
             for (const std::string& run_id : run_ids) {
                 Query(c, kExtendLease, "extend_run_leases")
                     .bind(1, run_id)
                     .bind(2, owner)
                     .bind(3, lease_until_ms)
                     .run();
             }
         },
         std::move(done)});
}

int64_t SqliteStore::release_unstarted_runs(std::string_view owner) {
    int64_t released = 0;
    impl_->writer.write_and_wait([&released, owner](Connection& c) {
        released = Query(c, kReleaseUnstarted, "release_unstarted_runs").bind(1, owner).run();
    });
    return released;
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

QueueCounts SqliteStore::queue_counts() const {
    auto lease = impl_->readers.acquire();
    Query query(*lease, kQueueCounts, "queue_counts");
    query.next();
    return {query.integer(0), query.integer(1)};
}

}  // namespace engined::store
