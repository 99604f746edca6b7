// core/store/sqlite — the SQLite backend of the store, the embedded default: one file, one
// group-committing writer thread, pooled read connections beside it (WAL). The files beside this
// one hold its concerns: connection, migrations, writer, runs, keys, environments, engines, pools,
// idempotency, webhooks and backup.
#pragma once

#include "store/store.hpp"

#include <cstddef>
#include <functional>
#include <memory>
#include <string>

namespace engined::store {

// The WAL is copied back into the database file (checkpointed) once a commit leaves it at this
// many pages. SQLite's default, 1,000, made every run pay again for the same hot pages (the tail
// of each index of `runs`) a checkpoint writes once however often they changed: 5 % of engined's
// CPU under load. At 10,000 pages the WAL file stays near 40 MiB.
inline constexpr int kWalCheckpointPages = 10000;

// Which thread copied the WAL back (SqliteOptions::on_checkpoint): the store's checkpoint thread,
// or the writer, which copies what its commits added while a background checkpoint ran.
enum class CheckpointThread { background, writer };

struct CheckpointDone {
    CheckpointThread thread;
    int wal_pages = 0;  // frames in the WAL
    double seconds = 0;
};

struct SqliteOptions {
    // The SQLite file; its directory must exist. Created 0600 (an existing file loses any group and
    // other access), and so are its -wal and -shm files.
    std::string path;
    int busy_timeout_ms = 5000;
    std::size_t max_batch = kDefaultMaxBatch;  // most writes grouped into one transaction
    bool synchronous_full = true;              // fsync on every commit (durability of a 202)
    // Give the -wal file its full size (wal_checkpoint_pages frames) in zeros when the store opens
    // (about 40 MiB written, once per open): a commit then overwrites blocks the file already has
    // instead of growing it, and an fdatasync that must also record a new file size costs about
    // twice as much. The file reaches that size between checkpoints anyway; this makes it so
    // from the first commit. SQLite still removes the file at the last close.
    bool preallocate_wal = false;
    // Checkpoint past this many WAL pages, on a thread of the store's own
    // (sqlite/checkpointer.hpp), not on the writer's.
    int wal_checkpoint_pages = kWalCheckpointPages;
    // Told every checkpoint, on the thread that ran it (short, non-blocking, must not throw).
    std::function<void(const CheckpointDone&)> on_checkpoint = {};
    // Told the number of writes of every committed transaction, on the writer thread (keep it
    // short and non-blocking; it must not throw). E.g. the batch-size histogram of the metrics.
    std::function<void(std::size_t writes)> on_commit = {};
};

class SqliteStore final : public Store {
public:
    // Opens (creating if needed) and migrates the database. Throws StoreUnavailable.
    explicit SqliteStore(SqliteOptions options);
    // Drains pending writes, then closes.
    ~SqliteStore() override;

    int schema_version() const override;

    // --- Group-committed writes: queued to one writer thread; many callers share one
    // transaction and one fsync. `done` runs after COMMIT (or with the failure).
    void insert_run(NewRun run, Completion done) override;
    void insert_finished_run(NewRun run, RunOutcome outcome, Completion done) override;
    void finish_run(std::string run_id, std::string lease_owner, RunOutcome outcome,
                    Completion done) override;
    // Through the writer, so a claim shares the transaction of the writes queued beside it.
    std::optional<Claim> claim_run(const ClaimRequest& request) override;
    void start_run(std::string owner, std::string run_id, int64_t started_at_ms,
                   Completion done) override;
    void extend_run_leases(std::string owner, std::vector<std::string> run_ids,
                           int64_t lease_until_ms, Completion done) override;
    int64_t release_unstarted_runs(std::string_view owner) override;

    // --- Keys: synchronous (they go through the writer and wait for its commit).
    void insert_api_key(const ApiKey& key, std::string_view key_hash,
                        AuditAppend* audit = nullptr) override;
    std::optional<ApiKey> find_api_key(std::string_view key_hash) const override;
    std::vector<ApiKey> list_api_keys(
        const std::optional<std::string>& organization) const override;
    bool write_key_revocation(std::string_view key_id, int64_t at_ms, AuditAppend* audit) override;

    // --- Environments: synchronous writes through the writer. Deleted environments are kept
    // (their runs name them) but are found by none of these.
    // Adds the organisation's built-in `test` and `live` when absent.
    void ensure_builtin_environments(std::string_view organization, int64_t at_ms) override;
    // Throws std::invalid_argument when the slug exists, TooManyEnvironments when the organisation
    // would have more than `max_named` environments besides the built-in ones.
    void insert_environment(const Environment& environment, int max_named,
                            AuditAppend* audit = nullptr) override;
    // test, live, then the named ones by creation.
    std::vector<Environment> list_environments(std::string_view organization) const override;
    std::optional<Environment> find_environment(std::string_view organization,
                                                std::string_view slug) const override;
    // Replaces the default pins; false when absent.
    bool update_environment_pins(const Environment& environment,
                                 AuditAppend* audit = nullptr) override;
    // False when absent; throws EnvironmentHasActiveKeys while unrevoked keys of it exist.
    bool delete_environment(std::string_view organization, std::string_view slug, int64_t at_ms,
                            AuditAppend* audit = nullptr) override;

    // --- Engines and releases: synchronous writes through the writer.
    // Throws std::invalid_argument when (organization, slug) exists.
    void insert_engine(const EngineRecord& engine, std::string_view config_json,
                       AuditAppend* audit = nullptr) override;
    // Inserts the built-in engine if absent and returns the stored record. An existing one is
    // left as it is: its configuration is the operator's once seeded, and a new preset reaches
    // it through the configuration API or a release bundle, never silently at a restart.
    EngineRecord ensure_builtin_engine(const EngineRecord& engine,
                                       std::string_view config_json) override;
    // False when the engine does not exist.
    bool update_engine_config(std::string_view organization, std::string_view slug,
                              std::string_view config_hash, std::string_view config_json,
                              std::string_view updated_by, int64_t at_ms,
                              AuditAppend* audit = nullptr) override;
    bool set_engine_status(std::string_view organization, std::string_view slug,
                           std::string_view status, int64_t at_ms,
                           AuditAppend* audit = nullptr) override;
    // Throws std::invalid_argument when that version exists already.
    void insert_release(const ReleaseRecord& release, std::string_view config_json,
                        AuditAppend* audit = nullptr) override;

    // The organisation's own engine of that slug, else the built-in one.
    std::optional<EngineRecord> find_engine(std::string_view organization,
                                            std::string_view slug) const override;
    // Built-in engines first, then the organisation's, each by slug.
    std::vector<EngineRecord> list_engines(std::string_view organization) const override;
    // Oldest first (by major, then minor).
    std::vector<ReleaseRecord> list_releases(std::string_view organization,
                                             std::string_view slug) const override;
    std::optional<ReleaseRecord> find_release(std::string_view organization, std::string_view slug,
                                              int major, int minor) const override;

    // --- Rollouts: synchronous writes; opening a second open rollout of a major throws
    // std::invalid_argument.
    void open_rollout(const RolloutRecord& rollout, AuditAppend* audit = nullptr) override;
    void insert_release_in_rollout(const ReleaseRecord& release, std::string_view config_json,
                                   const RolloutRecord& rollout,
                                   AuditAppend* audit = nullptr) override;
    bool set_rollout_percent(std::string_view organization, std::string_view slug, int major,
                             int percent, int64_t at_ms, AuditAppend* audit = nullptr) override;
    bool close_rollout(std::string_view organization, std::string_view slug, int major,
                       std::string_view state, int64_t at_ms,
                       AuditAppend* audit = nullptr) override;
    std::vector<RolloutRecord> list_rollouts(std::string_view organization,
                                             std::string_view slug) const override;

    // --- Idempotency. find ignores records older than the window; remember keeps a live record
    // of the same key (the first answer wins) and throws IdempotencyKeyTaken then.
    std::optional<IdempotencyRecord> find_idempotency(std::string_view organization,
                                                      std::string_view environment_id,
                                                      std::string_view key,
                                                      int64_t now_ms) const override;
    // Group-committed like run writes; `done` gets IdempotencyKeyTaken when a live record exists.
    void remember_idempotency(IdempotencyRecord record, Completion done) override;

    // --- Carrier pools. `carriers_json` is the canonical JSON array of carrier objects; the
    // pool then points at its snapshot (content-addressed, immutable) in one write, so a
    // re-import replaces a pool whole or not at all. Returns the new summary.
    PoolSummary replace_pool(std::string_view organization, std::string_view name,
                             std::string_view carriers_json, std::string_view source, int64_t at_ms,
                             AuditAppend* audit = nullptr) override;
    std::vector<PoolSummary> list_pools(std::string_view organization) const override;
    std::optional<PoolSummary> pool_snapshot(std::string_view organization,
                                             std::string_view name) const override;
    std::optional<std::string> pool_carriers(std::string_view snapshot) const override;

    // --- Webhook endpoints and secrets: synchronous writes through the writer.
    // Throws TooManyActiveEndpoints when the write would leave more than `max_active` active
    // endpoints in the endpoint's organisation and environment.
    void insert_webhook_endpoint(const WebhookEndpoint& endpoint, int max_active,
                                 AuditAppend* audit = nullptr) override;
    // Replaces the stored endpoint of that id (same organisation and environment); false when absent.
    bool update_webhook_endpoint(const WebhookEndpoint& endpoint, int max_active,
                                 AuditAppend* audit = nullptr) override;
    // Deletes it; its pending deliveries fail with "endpoint deleted". False when absent.
    bool delete_webhook_endpoint(std::string_view organization, std::string_view environment_id,
                                 std::string_view id, int64_t at_ms,
                                 AuditAppend* audit = nullptr) override;
    std::optional<WebhookEndpoint> find_webhook_endpoint(std::string_view organization,
                                                         std::string_view environment_id,
                                                         std::string_view id) const override;
    std::vector<WebhookEndpoint> list_webhook_endpoints(
        std::string_view organization, std::string_view environment_id) const override;
    void put_signing_secret(std::string_view organization, std::string_view environment_id,
                            const SigningSecret& secret, AuditAppend* audit = nullptr) override;
    std::optional<SigningSecret> find_signing_secret(
        std::string_view organization, std::string_view environment_id) const override;
    // Stores `first` unless the environment has a secret already; returns the one stored.
    SigningSecret add_signing_secret(std::string_view organization, std::string_view environment_id,
                                     const SigningSecret& first) override;

    // --- The webhook outbox. finish_run() adds the deliveries of a run's terminal event.
    // Leases up to `limit` pending deliveries due at `now_ms` until `lease_until_ms` (so no
    // other sender takes them meanwhile) and returns them, oldest due first.
    std::vector<WebhookDelivery> lease_due_deliveries(int64_t now_ms, int64_t lease_until_ms,
                                                      std::size_t limit) override;
    // Records the attempt and applies the verdict (and the endpoint's failure streak) in one write.
    // Returns the endpoint's failure streak after it (0 after a success); none for a run's own URL
    // or an endpoint deleted meanwhile. Whether a streak disables the endpoint is the caller's policy.
    std::optional<int> record_delivery_attempt(const DeliveryAttempt& attempt,
                                               const AttemptVerdict& verdict,
                                               int64_t at_ms) override;
    // Makes an active endpoint inactive with `reason` and fails its pending deliveries, in one write.
    // False when it is absent or inactive already (of two callers at once, one disables it).
    bool disable_webhook_endpoint(std::string_view endpoint_id, std::string_view reason,
                                  int64_t at_ms) override;
    // Newest first; `endpoint_id` empty: every delivery of the environment.
    std::vector<WebhookDelivery> list_deliveries(std::string_view organization,
                                                 std::string_view environment_id,
                                                 std::string_view endpoint_id,
                                                 int limit) const override;
    std::optional<WebhookDelivery> find_delivery(std::string_view organization,
                                                 std::string_view environment_id,
                                                 std::string_view delivery_id) const override;
    std::vector<DeliveryAttempt> list_delivery_attempts(
        std::string_view delivery_id) const override;
    // Makes a delivery pending and due at `now_ms` again (a manual re-send). False when absent.
    bool retry_delivery(std::string_view organization, std::string_view environment_id,
                        std::string_view delivery_id, int64_t now_ms) override;

    // --- The audit log (see Store).
    AuditRecord append_audit(AuditRecord record, const AuditSeal& seal) override;
    AuditPage list_audit(const AuditPageQuery& query) const override;
    std::vector<AuditRecord> audit_chain(std::string_view organization) const override;
    std::vector<std::string> audit_organizations() const override;

    // --- Reads, on a pooled read connection of the calling thread.
    std::optional<Run> get_run(std::string_view run_id) const override;
    std::unique_ptr<FinishedRunsWatch> watch_finished_runs(RunFinished finished) override;
    RunPage list_runs(const RunPageQuery& query) const override;
    std::optional<std::string> config_json(std::string_view config_hash) const override;
    // Runs left queued or processing (e.g. by a crash), oldest first.
    QueueCounts queue_counts() const override;
    // One process owns a SQLite file: its rate buckets stay in memory.
    SharedRateBuckets* shared_rate_buckets() override { return nullptr; }

    // An online copy of the whole database into `path` (replaced if it exists), consistent as
    // of the moment the copy began; writers go on meanwhile (WAL: the copy is a reader). The
    // copy is written beside `path`, checked with PRAGMA integrity_check, then renamed into
    // place, so `path` is never a partial copy; it is readable by its owner only (0600). Returns the pages copied. Throws
    // StoreUnavailable when the database cannot be read or the copy cannot be written or
    // fails the check (nothing is left at `path` then).
    int64_t backup_to(const std::string& path) const;

    WriterStats writer_stats() const override;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace engined::store
