// The runs use cases behind the API: submit (validate, record durably, queue), get, list and
// replay, always within the caller's organisation and environment.
#pragma once

#include "auth/principal.hpp"
#include "engines/engine_service.hpp"
#include "queue/worker_pool.hpp"
#include "runs/run_executor.hpp"
#include "runs/run_metrics.hpp"
#include "store/store.hpp"

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <atomic>
#include <chrono>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace engined::runs {

struct ListParams {
    std::optional<std::string> status;
    std::optional<std::string> cursor;
    std::optional<std::string> limit;
    std::optional<std::string> engine_version;  // an exact version, "<major>.<minor>"
};

// What one submission may ask of the server.
struct SubmitLimits {
    std::size_t max_offerings = 500;       // per run; beyond: 422 contract_violation at /offerings
    std::size_t max_queue_depth = 10'000;  // runs accepted but not yet claimed; at it: 503
};

class RunService {
public:
    // How the service reaches this node's workers.
    struct Workers {
        // The lease a run accepted here is stored with: this node's workers will execute it.
        // None: the run is stored unheld, for any node's claim (this node's backlog is full).
        std::function<std::optional<store::RunHold>()> hold;
        // Hands a run just committed to the workers, whole (store::queued_run, with the
        // fingerprint's inputs the submit knew): a held one is executed without a store write or
        // read first.
        std::function<void(store::Run run)> enqueue;
        // Executes a run at once if the node is idle (queue::WorkerPool::execute_if_idle); false
        // otherwise. Empty: every run is queued (--execute-when-idle off).
        std::function<bool(queue::WorkerPool::IdleRun run)> execute_if_idle;
        // Runs accepted but not yet claimed by a worker.
        std::function<std::size_t()> queue_depth;
    };
    // Called once the run is durable (error == nullptr) or could not be recorded.
    using Accepted = std::function<void(std::exception_ptr error)>;

    RunService(store::Store& store, const engines::EngineService& engines,
               const RunExecutor& executor, Workers workers, SubmitLimits limits,
               RunMetrics& metrics);

    // Validates `body` ({input, offerings?, engine_version?, webhook_url?}) against the limits and
    // the engine's contract and records the run as `queued`. Throws ApiError for anything the
    // caller must fix, or 503 unavailable (with Retry-After) while the queue is full (nothing is
    // recorded then); otherwise reports through `accepted`, after the commit.
    // `run_id` is minted by the caller (so that it can prepare its answer); `idempotency`, when
    // set, is stored in the run's own transaction (a second submission with the key gets
    // store::IdempotencyKeyTaken through `accepted`). An `input.pool` naming a carrier pool is
    // resolved here, once: the run records the pool's snapshot, so re-importing the pool later
    // never changes it (422 unknown_pool otherwise).
    // `body`'s input and offerings are moved into the stored request: parse it into an arena that
    // outlives the call (nothing of it is kept afterwards).
    // A submit that finds the node idle (no other submit waiting for its commit, every worker
    // free) has a worker execute its run first and stores the run with its outcome in one
    // transaction: the 202 comes once, then, with the run terminal already (its status still
    // "queued" as the API documents), one commit and one hand-over sooner than through the queue.
    // A run still executing after kIdleExecutionDeadline is stored queued and answered then, and
    // its outcome stored when it ends, so a slow engine or input never holds a 202 longer. Under
    // load, runs are stored and queued, and committed in groups.
    void submit(const auth::Principal& caller, const std::string& engine_slug,
                boost::json::value body, const std::string& run_id,
                std::optional<store::IdempotencyRecord> idempotency, Accepted accepted);

    static constexpr std::chrono::milliseconds kIdleExecutionDeadline{2};

    // A fresh run id: `prefix` marks runs submitted through an older API shape (e.g. "eval_").
    static std::string new_run_id(const std::string& prefix = "");

    // The run's defensibility packet (runs/defensibility.hpp); ApiError(404) as for get().
    boost::json::object defensibility_packet(const auth::Principal& caller,
                                             const std::string& run_id) const;

    // Executes the stored run again, synchronously and storing nothing, and compares it with
    // the stored outcome (runs/replay.hpp). ApiError(404) as for get(); ApiError(409,
    // run_not_terminal) while the run is queued or processing.
    boost::json::object replay(const auth::Principal& caller, const std::string& run_id) const;

    // A candidate configuration (body.config; default the engine's current one) previewed on a
    // sample of the engine's terminal runs of the caller's organisation and environment: the
    // newest body.runs (default 200, at most 1,000), optionally of one body.engine_version and
    // within body.since / body.until (RFC 3339). Re-executes each stored request under the
    // candidate, synchronously and storing nothing, and answers {engine, config_hash, sample,
    // summary, data} (runs/config_preview.hpp). ApiError 400 for a bad field, 422 invalid_config
    // for an unusable candidate.
    boost::json::object preview_config(const auth::Principal& caller,
                                       const std::string& engine_slug,
                                       const boost::json::value& body) const;

    // {"data": [{name, carrier_count, snapshot, source, imported_at}]} of the caller's pools.
    boost::json::object list_pools(const auth::Principal& caller) const;

    // The run object; ApiError(404) when it does not exist for this caller (or engine).
    boost::json::object get(const auth::Principal& caller, const std::string& run_id,
                            const std::optional<std::string>& engine_slug) const;

    // {"data": [...], "has_more": bool, "next_cursor": string|null}, newest first.
    boost::json::object list(const auth::Principal& caller, const std::string& engine_slug,
                             const ListParams& params) const;

private:
    struct Submission;
    // Records the run queued (held by this node when it may); then hands it to the workers, or,
    // for an idle run that missed its deadline, tells the pool how the insert ended.
    void store_queued(std::shared_ptr<Submission> submission,
                      std::function<void(bool inserted)> told_pool);
    // Records an idle run with its outcome.
    void store_finished(std::shared_ptr<Submission> submission, store::RunOutcome outcome);
    // One store write of a submission; once it is known: the run counted submitted when stored,
    // then `then(stored)`, then the submit answered.
    void record(const std::shared_ptr<Submission>& submission,
                const std::function<void(store::Completion)>& write,
                std::function<void(bool stored)> then);

    store::Run visible_run(const auth::Principal& caller, const std::string& run_id,
                           const std::optional<std::string>& engine_slug) const;
    std::optional<boost::json::object> resolve_pool(const auth::Principal& caller,
                                                    const boost::json::object& input) const;

    store::Store& store_;
    const engines::EngineService& engines_;
    const RunExecutor& executor_;
    Workers workers_;
    SubmitLimits limits_;
    RunMetrics& metrics_;
    std::atomic<int> unanswered_submits_{0};  // between the store's write and its answer
};

}  // namespace engined::runs
