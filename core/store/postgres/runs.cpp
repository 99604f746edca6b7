// PostgreSQL backend: runs — submission, the processing and terminal transitions, reads and the
// listing cursor (seq, newest first).
#include "store/postgres/internal.hpp"
#include "store/postgres/submit_listener.hpp"

#include "common/crypto.hpp"

#include <limits>
#include <memory>

namespace engined::store::postgres {

namespace {

constexpr const char* kInsertRun = R"sql(
    INSERT INTO runs (id, organization, environment, engine_slug, engine_type, engine_version,
                      engine_version_pin, status, stage, request_json, config_hash, webhook_url,
                      api_key_id, created_at_ms, environment_id, engine_version_pin_source,
                      engine_version_rollout, lease_owner, leased_until_ms, attempts)
    VALUES ($1, $2, $3, $4, $5, $6, $7, 'queued', 'queued', $8, $9, $10, $11, $12, $13, $14, $15,
            $16, $17, $18)
)sql";

// One statement: the oldest claimable run (all, or run $1 only) is locked (skipping those
// another claimer holds locked), leased and returned. A run never leased has no leased_until_ms;
// a live lease, started or not, keeps the run from every other claimer; `status IN (…)` walks
// the partial index runs_unfinished. A run at the attempts cap keeps its count and comes back
// with `crashed` (the last column) set.
constexpr const char* kClaimRun =
    "UPDATE runs "
    "   SET status = 'processing', stage = 'processing', started_at_ms = $2, "
    "       attempts = CASE WHEN next.prior_attempts < $5 THEN next.prior_attempts + 1 "
    "                       ELSE next.prior_attempts END, "
    "       lease_owner = $3, leased_until_ms = $4 "
    "  FROM (SELECT id AS next_id, attempts AS prior_attempts FROM runs "
    "         WHERE status IN ('queued', 'processing') AND coalesce(leased_until_ms, 0) < $2 "
    "           AND ($1::text IS NULL OR id = $1) "
    "         ORDER BY seq "
    "         LIMIT 1 "
    "           FOR UPDATE SKIP LOCKED) AS next "
    " WHERE id = next.next_id "
    "RETURNING " ENGINED_RUN_COLUMNS ", next.prior_attempts >= $5";

// The statements below that name their runs by id test the status through `coalesce(status,
// '')`, which the planner cannot match with runs_unfinished's predicate: that partial index keeps
// an entry for every version of every run until a vacuum, and a bitmap scan of it (which the
// planner, believing it small, preferred to runs_id_key) read every run finished since — 2,000
// heap tuples for one run's start under load.

// The runs its holder starts, in one statement.
constexpr const char* kStartRun = R"sql(
    UPDATE runs SET status = 'processing', stage = 'processing', started_at_ms = $2
     WHERE id = $1 AND coalesce(status, '') = 'queued' AND lease_owner = $3
)sql";

constexpr const char* kExtendLeases = R"sql(
    UPDATE runs SET leased_until_ms = $3
     WHERE id = ANY($1::text[]) AND coalesce(status, '') IN ('queued', 'processing')
       AND lease_owner = $2
)sql";

constexpr const char* kReleaseUnstarted = R"sql(
    UPDATE runs SET lease_owner = NULL, leased_until_ms = NULL, attempts = attempts - 1
     WHERE status = 'queued' AND lease_owner = $1
)sql";

// A run's outcome, lease-guarded, with what it sets off, in one statement: one delivery of its
// event per active endpoint subscribed to it plus one to the run's own URL (all sharing the event
// id), and the notification other nodes' long-poll waits hear at commit (its payload: this
// node's tag, a space, the run id; the channel is kFinishedChannel). It returns whether it added
// deliveries; a refused outcome returns no row and sets off nothing. $15 event id, $16 event type, $17 this node's tag.
// A delivery id starts with the finish's millisecond, as on SQLite (webhooks.cpp).
constexpr const char* kFinishRun = R"sql(
    WITH finished AS (
        UPDATE runs
           SET status = $2, stage = $3, output_json = $4, results_json = $5, error_code = $6,
               error_message = $7, error_details_json = $8, trace_json = $9, completed_at_ms = $10,
               fingerprint = $11, fingerprint_json = $12, leased_until_ms = NULL,
               started_at_ms = coalesce(started_at_ms, $14)
         WHERE id = $1 AND coalesce(status, '') IN ('queued', 'processing') AND lease_owner = $13
     RETURNING id, organization, environment_id, webhook_url
    ), deliveries AS (
        INSERT INTO webhook_deliveries (id, event_id, event_type, event_created_at_ms, run_id,
                                        organization, environment_id, endpoint_id, url, status,
                                        next_attempt_at_ms, created_at_ms, updated_at_ms)
        SELECT 'dlv_' || lpad(to_hex($10::bigint), 12, '0')
                   || substr(md5(random()::text || clock_timestamp()::text), 1, 12),
               $15::text, $16::text, $10, f.id, f.organization, f.environment_id, e.id, e.url,
               'pending', $10, $10, $10
          FROM finished f
          JOIN webhook_endpoints e
            ON e.organization = f.organization AND e.environment_id = f.environment_id
         WHERE e.active = 1 AND e.events::jsonb ? $16::text
        UNION ALL
        SELECT 'dlv_' || lpad(to_hex($10::bigint), 12, '0')
                   || substr(md5(random()::text || clock_timestamp()::text), 1, 12),
               $15::text, $16::text, $10, f.id, f.organization, f.environment_id, NULL,
               f.webhook_url, 'pending', $10, $10, $10
          FROM finished f WHERE f.webhook_url IS NOT NULL
        RETURNING id
    )
    SELECT pg_notify('engined_runs_finished', $17::text || ' ' || id),
           EXISTS (SELECT 1 FROM deliveries)
      FROM finished
)sql";

constexpr const char* kRunStatus = "SELECT status, lease_owner FROM runs WHERE id = $1";

constexpr const char* kQueueCounts = R"sql(
    SELECT count(*) FILTER (WHERE status = 'queued'), count(*) FILTER (WHERE status = 'processing')
      FROM runs WHERE status IN ('queued', 'processing')
)sql";

constexpr const char* kGetRun = ENGINED_SELECT_RUN "WHERE id = $1";

// A page is read one row longer than asked: the extra row only says whether another page follows.
constexpr const char* kListRuns = ENGINED_SELECT_RUN R"sql(
     WHERE organization = $1 AND environment_id = $2 AND engine_slug = $3 AND seq < $4
       AND ($6::text IS NULL OR status = $6) AND ($7::text IS NULL OR engine_version = $7)
     ORDER BY seq DESC
     LIMIT $5
)sql";

// Why a lease-guarded outcome changed nothing: the run is missing, past processing, or
// leased to another node.
[[noreturn]] void refuse_outcome(Connection& connection, const std::string& run_id) {
    const Result row = connection.exec(kRunStatus, {run_id}, "finish_run");
    if (row.rows() == 0) throw std::out_of_range("finish_run: no run '" + run_id + "'");
    throw_outcome_refusal(run_id, row.text(0, 0), row.optional_text(0, 1));
}

// A PostgreSQL array literal of `items`, each quoted, for one `= ANY($n::text[])` parameter.
std::string text_array(const std::vector<std::string>& items) {
    std::string literal = "{";
    for (const std::string& item : items) {
        if (literal.size() > 1) literal += ',';
        literal += '"';
        for (const char c : item) {
            if (c == '"' || c == '\\') literal += '\\';
            literal += c;
        }
        literal += '"';
    }
    literal += '}';
    return literal;
}

void apply_insert_run(Connection& connection, const NewRun& run, const std::string& submit_tag) {
    // Delivered to the listeners at commit, once for every run the group submits (its payload is
    // this node's tag), and dropped with the write if it is undone. A run held by this node is no
    // other node's to claim: they are not woken for it.
    if (!run.held_by) connection.notify_once(kNotifySubmit, submit_tag, "insert_run (notify)");
    if (run.idempotency) apply_remember_idempotency(connection, *run.idempotency);
    if (run.config_json) {
        insert_config(connection, run.config_hash, *run.config_json, "insert_run (config)");
    }
    // Nothing of the insert is read back: it travels with the group's next round trip.
    connection.exec_later(
        kInsertRun,
        {run.id, run.organization, run.environment, run.engine_slug, run.engine_type,
         run.engine_version, run.engine_version_pin, run.request_json, run.config_hash,
         run.webhook_url, run.api_key_id, run.created_at_ms, run.environment_id,
         run.engine_version_pin_source, run.engine_version_rollout,
         run.held_by ? std::optional<std::string>(run.held_by->owner) : std::nullopt,
         run.held_by ? std::optional<int64_t>(run.held_by->leased_until_ms) : std::nullopt,
         run.held_by ? 1 : 0},
        "insert_run");
}

std::optional<Claim> apply_claim_run(Connection& connection, const ClaimRequest& request) {
    const Result row = connection.exec(kClaimRun,
                                       {request.run_id, request.now_ms, request.owner,
                                        request.lease_until_ms, request.max_attempts},
                                       "claim_run");
    if (row.rows() == 0) return std::nullopt;
    return Claim{read_run(row.at(0)), row.text(0, kRunColumnCount) == "t"};
}

// True when the finish added webhook deliveries.
bool apply_finish_run(Connection& connection, const std::string& run_id,
                      const std::string& lease_owner, const RunOutcome& outcome,
                      const std::string& node_tag) {
    require_terminal(outcome);
    const Result finished = connection.exec(
        kFinishRun,
        {run_id, to_string(outcome.status), outcome.stage, outcome.output_json,
         outcome.results_json, outcome.error_code, outcome.error_message,
         outcome.error_details_json, outcome.trace_json, outcome.completed_at_ms,
         outcome.fingerprint, outcome.fingerprint_json, lease_owner, outcome.started_at_ms,
         "evt_" + random_hex(12),
         outcome.status == RunStatus::failed ? "run.failed" : "run.completed", node_tag},
        "finish_run");
    if (finished.rows() == 0) refuse_outcome(connection, run_id);
    return finished.text(0, 1) == "t";
}

}  // namespace

}  // namespace engined::store::postgres

namespace engined::store {

// The backend's internals (statements, row mapping) live in engined::store::postgres.
using namespace postgres;

void PostgresStore::insert_run(NewRun run, Completion done) {
    impl_->writer.enqueue({[run = std::move(run), &tag = impl_->submit_tag](Connection& c) {
                               apply_insert_run(c, run, tag);
                           },
                           std::move(done)});
}

void PostgresStore::finish_run(std::string run_id, std::string lease_owner, RunOutcome outcome,
                               Completion done) {
    FinishedRunListeners::Finish finish = impl_->finished_runs.finish(run_id, std::move(done));
    impl_->writer.enqueue({[run_id = std::move(run_id), lease_owner = std::move(lease_owner),
                            outcome = std::move(outcome), &tag = impl_->submit_tag,
                            added_deliveries = finish.added_deliveries](Connection& c) {
                               *added_deliveries =
                                   apply_finish_run(c, run_id, lease_owner, outcome, tag);
                           },
                           std::move(finish.completion)});
}

void PostgresStore::insert_finished_run(NewRun run, RunOutcome outcome, Completion done) {
    if (!run.held_by) throw std::invalid_argument("insert_finished_run: the run must be held");
    FinishedRunListeners::Finish finish = impl_->finished_runs.finish(run.id, std::move(done));
    impl_->writer.enqueue(
        {[run = std::move(run), outcome = std::move(outcome), &tag = impl_->submit_tag,
          added_deliveries = finish.added_deliveries](Connection& c) {
             apply_insert_run(c, run, tag);
             *added_deliveries = apply_finish_run(c, run.id, run.held_by->owner, outcome, tag);
         },
         std::move(finish.completion)});
}

std::optional<Claim> PostgresStore::claim_run(const ClaimRequest& request) {
    std::optional<Claim> claim;
    impl_->writer.write_and_wait(
        [&claim, &request](Connection& c) { claim = apply_claim_run(c, request); });
    return claim;
}

void PostgresStore::start_run(std::string owner, std::string run_id, int64_t started_at_ms,
                              Completion done) {
    impl_->writer.enqueue(
        {[owner = std::move(owner), run_id = std::move(run_id), started_at_ms](Connection& c) {
             c.exec(kStartRun, {run_id, started_at_ms, owner}, "start_run");
         },
         std::move(done)});
}

void PostgresStore::extend_run_leases(std::string owner, std::vector<std::string> run_ids,
                                      int64_t lease_until_ms, Completion done) {
    impl_->writer.enqueue(
        {[owner = std::move(owner), ids = text_array(run_ids), lease_until_ms](Connection& c) {
             c.exec(kExtendLeases, {ids, owner, lease_until_ms}, "extend_run_leases");
         },
         std::move(done)});
}

int64_t PostgresStore::release_unstarted_runs(std::string_view owner) {
    int64_t released = 0;
    impl_->writer.write_and_wait([&released, owner, &tag = impl_->submit_tag](Connection& c) {
        // Other nodes claim the released runs at once rather than at their next look.
        c.exec_later(kNotifySubmit, {tag}, "release_unstarted_runs (notify)");
        released = c.exec(kReleaseUnstarted, {owner}, "release_unstarted_runs").changed();
    });
    return released;
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

std::unique_ptr<SubmitWatch> PostgresStore::watch_submits(std::function<void()> wake) {
    return std::make_unique<postgres::ChannelListener>(
        impl_->options.url, kSubmitChannel, impl_->submit_tag, [wake](std::string_view) { wake(); },
        wake);
}

namespace {

// This node's finishes are told at their commit, other nodes' by the listener.
class FinishedRunsListening final : public FinishedRunsWatch {
public:
    FinishedRunsListening(std::unique_ptr<FinishedRunsWatch> own,
                          std::unique_ptr<postgres::ChannelListener> others)
        : own_(std::move(own)), others_(std::move(others)) {}

private:
    std::unique_ptr<FinishedRunsWatch> own_;
    std::unique_ptr<postgres::ChannelListener> others_;
};

}  // namespace

std::unique_ptr<FinishedRunsWatch> PostgresStore::watch_finished_runs(RunFinished finished) {
    // A finish missed while the session was down leaves its waits to end at their deadline.
    auto others = std::make_unique<postgres::ChannelListener>(
        impl_->options.url, kFinishedChannel, impl_->submit_tag,
        [finished](std::string_view run_id) {
            finished({run_id, false});
        },
        [] {});
    return std::make_unique<FinishedRunsListening>(impl_->finished_runs.add(std::move(finished)),
                                                   std::move(others));
}

QueueCounts PostgresStore::queue_counts() const {
    auto lease = impl_->pool.acquire();
    const Result row = (*lease).exec(kQueueCounts, "queue_counts");
    return {row.integer(0, 0), row.integer(0, 1)};
}

}  // namespace engined::store
