// core/store — the durable state of engined, as an interface: API keys, environments, runs and
// the engine configurations they executed with, engines and releases, carrier pools, idempotency
// records, webhook endpoints and their delivery outbox. Backend-neutral record types; the
// backends live in core/store/<backend>/ (sqlite/: the embedded default). Knows nothing of HTTP
// or of engines' semantics: JSON is opaque text here.
//
// Durability and completion contract, for every backend:
// - A write is durable once it is committed to the database so that a crash of the process (and,
//   with the default settings, of the machine) keeps it; only then does its Completion run, or a
//   synchronous write return. A caller answers 202 only after that.
// - A Completion runs exactly once, on a thread of the store (never the caller's, never under a
//   caller's lock): keep it short and never call back into a blocking Store write from it.
// - A write either happens whole or not at all; a failed write leaves nothing behind.
// - An operator action's write carries its audit records (AuditAppend) and appends them in its
//   own transaction: the change never commits without its records, nor the records without it.
// - Reads are safe from any thread, concurrently with writes, and see every write whose
//   completion has run.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace engined::store {

// The store cannot be opened, read or written (disk full, read-only file, locked too long).
class StoreUnavailable : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct ApiKey {
    std::string id;  // "key_<16 hex>"
    std::string organization;
    std::string environment;     // the environment's slug ("test", "live", "dev", …)
    std::string environment_id;  // what the key is scoped to; the slug only names it
    std::vector<std::string> scopes;
    std::string display_prefix;  // the first characters of the key, for listings
    int64_t created_at_ms = 0;
    std::optional<int64_t> revoked_at_ms;
    std::optional<double> rate_per_second;  // none: the server's default rate limit
    std::optional<int64_t> rate_burst;
    // The environment's default pins as of the read (see Environment); never written with the key.
    std::optional<std::string> pinned_engine_version;
    std::string engine_pins_json = "{}";
};

enum class RunStatus { queued, processing, completed, degraded, failed };
std::string_view to_string(RunStatus status);
std::optional<RunStatus> parse_run_status(std::string_view text);
bool is_terminal(RunStatus status);

// The answer given to a POST that carried an Idempotency-Key, replayed for 24 hours to the same
// organisation and environment when the same key comes again.
struct IdempotencyRecord {
    std::string organization;
    std::string environment_id;
    std::string key;
    std::string request_hash;  // SHA-256 over method, path and the canonical body
    int status = 0;
    std::string response_body;
    std::string location;  // the Location header, or empty
    int64_t created_at_ms = 0;
};

inline constexpr int64_t kIdempotencyWindowMs = 24LL * 60 * 60 * 1000;

// A write carrying an IdempotencyRecord found the key taken by a live record: nothing of the
// write was stored. The caller answers with the stored record instead.
class IdempotencyKeyTaken : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// A lease on a run: who holds it, and until when unless renewed.
struct RunHold {
    std::string owner;
    int64_t leased_until_ms = 0;
};

struct NewRun {
    std::string id;
    std::string organization;
    std::string environment;     // slug, for display
    std::string environment_id;  // what isolates the run
    std::string engine_slug;
    std::string engine_type;
    std::optional<std::string> engine_version;      // resolved release, or none (current config)
    std::optional<std::string> engine_version_pin;  // as the client sent it, or the environment's
    std::optional<std::string> engine_version_pin_source;  // request | engine_pin | environment
    // new | previous: the share of an open rollout a "<major>.x" pin gave the run; none otherwise.
    std::optional<std::string> engine_version_rollout;
    std::string request_json;  // {"input":..., "offerings":...}
    std::string config_hash;   // SHA-256 of config_json
    // Stored once per distinct hash; none when the configuration was read from this store (a
    // submit resolves it there), so the run's write does not carry it again.
    std::optional<std::string> config_json;
    std::optional<std::string> webhook_url;
    std::string api_key_id;
    int64_t created_at_ms = 0;
    // Stored in the same transaction as the run: two submissions with one key make one run.
    std::optional<IdempotencyRecord> idempotency;
    // Set when the accepting node's own workers will execute the run: it is stored leased to
    // that node (attempts 1) by the insert itself, still `queued`, so no claim on any node takes
    // it while the lease lasts (see the queue protocol below).
    std::optional<RunHold> held_by;
};

// Where a run's terminal event goes: its environment's webhook endpoints and its own webhook_url.
struct RunEventTarget {
    std::string organization;
    std::string environment_id;
    std::optional<std::string> webhook_url;
};

struct RunOutcome {
    RunStatus status = RunStatus::completed;  // completed | degraded | failed
    std::string stage;                        // last stage reached
    std::string output_json = "{}";
    std::string results_json = "[]";  // solutions or candidates
    std::optional<std::string> error_code;
    std::optional<std::string> error_message;
    std::string error_details_json = "[]";
    std::string trace_json = "[]";
    int64_t completed_at_ms = 0;
    // When the worker started the run: stored with the outcome only where the run's start write
    // (Store::start_run) did not land before it (it failed, or was never made).
    std::optional<int64_t> started_at_ms;
    // The reproducibility fingerprint (SHA-256 hex) and the JSON object of what it hashes;
    // none when the run failed before its plugin was found.
    std::optional<std::string> fingerprint;
    std::optional<std::string> fingerprint_json;
    // Never stored: the event's target as the caller holding the run knows it, so that a backend
    // need not read the run back to find it (SQLite then skips the outbox statement when nothing
    // is subscribed). Absent: the backend reads it from the run.
    std::optional<RunEventTarget> event_target;
};

// What a run's fingerprint hashes besides the plugin and the platform, as the submit knew it.
// Never stored: it travels with a run a local submit hands to its workers, so that they do not
// derive it again (a run read from the store has none, and the executor derives it).
struct FingerprintInputs {
    std::string input_sha256;          // of the canonical JSON of the request as stored
    std::string version_content_hash;  // the pinned release's content hash, or "config:<hash>"
};

struct Run {
    int64_t seq = 0;  // insertion order; the pagination cursor
    std::string id;
    std::string organization;
    std::string environment;  // slug
    std::string environment_id;
    std::string engine_slug;
    std::string engine_type;
    std::optional<std::string> engine_version;
    std::optional<std::string> engine_version_pin;
    std::optional<std::string> engine_version_pin_source;  // request | engine_pin | environment
    std::optional<std::string> engine_version_rollout;     // new | previous (NewRun)
    RunStatus status = RunStatus::queued;
    std::string stage;
    std::string request_json;
    std::string config_hash;
    std::optional<std::string> webhook_url;
    std::string api_key_id;
    std::string output_json;   // "null" until terminal
    std::string results_json;  // "null" until terminal
    std::optional<std::string> error_code;
    std::optional<std::string> error_message;
    std::string error_details_json;  // "null" unless failed
    std::string trace_json;          // "null" until terminal
    int attempts = 0;                // times a worker claimed it (more than 1 after a crash)
    // The node holding the run while it is processing, and until when (see claim_run).
    std::optional<std::string> lease_owner;
    std::optional<int64_t> leased_until_ms;
    int64_t created_at_ms = 0;
    std::optional<int64_t> started_at_ms;
    std::optional<int64_t> completed_at_ms;
    std::optional<std::string> fingerprint;  // none until terminal (see RunOutcome)
    std::optional<std::string> fingerprint_json;
    std::optional<FingerprintInputs> fingerprint_inputs;  // in memory only (see FingerprintInputs)
};

// The run as insert_run() stores it (queued; leased and its attempt counted when it is held),
// for the submit that hands it to a worker without reading it back; `seq` is the store's and
// stays 0.
Run queued_run(const NewRun& run);

struct RunPageQuery {
    std::string organization;
    std::string environment_id;
    std::string engine_slug;
    std::optional<RunStatus> status;
    std::optional<std::string> engine_version;  // exact, e.g. "1.2"
    std::optional<int64_t> before_seq;          // exclusive; newest first
    int limit = 20;
};

struct RunPage {
    std::vector<Run> runs;
    std::optional<int64_t> next_before_seq;  // set when more runs follow
};

// An engine as the store keeps it. Built-in engines (`default`, `entity-analysis`) belong to the
// operator and are shared by every organisation: their `organization` is empty.
struct EngineRecord {
    std::string id;            // "eng_<hex>"
    std::string organization;  // "" for built-in engines
    std::string slug;
    std::string label;
    std::string description;
    std::string engine_type;        // placement | entity_analysis
    std::string status = "active";  // active | archived
    std::string config_hash;        // the current (unreleased) configuration
    std::string config_updated_by;
    int64_t config_updated_at_ms = 0;
    int64_t created_at_ms = 0;
    int64_t updated_at_ms = 0;
};

// A released, immutable engine version. The store refuses any UPDATE or DELETE of one.
struct ReleaseRecord {
    std::string organization;  // the engine's
    std::string engine_slug;
    int major = 1;
    int minor = 0;
    std::string config_hash;
    std::string content_hash;  // SHA-256 of the canonical bundle
    std::string bundle_json;   // the canonical bundle, as exported to versions/
    std::string changelog;
    std::string bump;  // initial | minor | major
    bool is_breaking_from_previous_major = false;
    std::string reasons_json = "[]";
    std::string published_by;
    int64_t released_at_ms = 0;
};

// A canary rollout of one release of an engine's major: while `state` is "open", runs pinned
// "<major>.x" get `to_minor` for `percent` % of run ids and `from_minor` otherwise. At most one
// rollout per engine and major is open (the store refuses a second). Rows are kept: the newest
// rollout of a release says whether range pins may resolve to it (aborted or open: held back).
struct RolloutRecord {
    std::string organization;  // the engine's
    std::string engine_slug;
    int major = 1;
    int from_minor = 0;
    int to_minor = 0;
    int percent = 0;
    std::string state = "open";  // open | promoted | aborted
    std::string opened_by;
    int64_t opened_at_ms = 0;
    int64_t updated_at_ms = 0;  // last change of percent or state
    std::optional<int64_t> closed_at_ms;
};

// A named carrier pool of an organisation, pointing at an immutable snapshot of its carriers.
struct PoolSummary {
    std::string name;
    int64_t carrier_count = 0;
    std::string snapshot;  // SHA-256 of the canonical carriers array
    std::string source;    // where the operator imported it from (a file name)
    int64_t imported_at_ms = 0;
};

// --- Environments. `test` and `live` are built in to every organisation; others are named by
// the organisation. Each has an id that every environment-scoped row carries.
struct Environment {
    std::string id;  // a UUID v4, never reused
    std::string organization;
    std::string slug;
    bool built_in = false;
    std::optional<std::string> pinned_engine_version;  // the default pin of its runs ("1.x")
    std::string engine_pins_json = "{}";  // {"engine-slug": "2.x"}: per-engine overrides
    int64_t created_at_ms = 0;
    int64_t updated_at_ms = 0;
};

// A write would give an organisation more named environments than allowed: nothing was stored.
class TooManyEnvironments : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// An environment cannot be deleted while keys of it are active: nothing was changed.
class EnvironmentHasActiveKeys : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// --- Webhooks (SPEC §4). Endpoints belong to an organisation and environment; the outbox holds
// one delivery per (event, destination), written in the transaction that ends the run.

// A write would make more endpoints active in one environment than allowed: nothing was stored.
class TooManyActiveEndpoints : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct WebhookEndpoint {
    std::string id;  // "we_<hex>"
    std::string organization;
    std::string environment_id;
    std::string url;
    std::string description;
    std::vector<std::string> events;  // run.completed | run.failed
    bool active = true;
    std::optional<std::string> auth_token;       // sent as a bearer token to the receiver
    std::string secret;                          // whsec_…: signs every delivery
    std::optional<std::string> previous_secret;  // still signs until previous_secret_expires_at_ms
    std::optional<int64_t> previous_secret_expires_at_ms;
    int consecutive_failures = 0;                // failed attempts since the last success
    std::optional<std::string> disabled_reason;  // set when the platform disabled it
    int64_t created_at_ms = 0;
    int64_t updated_at_ms = 0;
};

// The environment's secret signing deliveries to runs' own `webhook_url`s.
struct SigningSecret {
    std::string secret;
    std::optional<std::string> previous_secret;
    std::optional<int64_t> previous_secret_expires_at_ms;
    int64_t rotated_at_ms = 0;
};

enum class DeliveryStatus { pending, delivered, failed };
std::string_view to_string(DeliveryStatus status);

struct WebhookDelivery {
    std::string id;          // "dlv_<hex>": X-Nexio-Delivery, the same on every attempt
    std::string event_id;    // "evt_<hex>": shared by every destination of one event
    std::string event_type;  // run.completed | run.failed
    int64_t event_created_at_ms = 0;
    std::string run_id;
    std::string organization;
    std::string environment_id;
    std::optional<std::string> endpoint_id;  // none: the run's own webhook_url
    std::string url;
    DeliveryStatus status = DeliveryStatus::pending;
    int attempts = 0;
    std::optional<int64_t> next_attempt_at_ms;  // while pending
    std::optional<int> last_status_code;
    std::optional<std::string> last_error;
    int64_t created_at_ms = 0;
    int64_t updated_at_ms = 0;
};

struct DeliveryAttempt {
    std::string delivery_id;
    int attempt = 0;  // 1-based
    int64_t started_at_ms = 0;
    int64_t duration_ms = 0;
    std::optional<int> status_code;  // none: no HTTP answer (refused, timeout, TLS…)
    std::string error;               // empty on success
};

// What an attempt decided: delivered, try again at `next_attempt_at_ms`, or give up.
struct AttemptVerdict {
    DeliveryStatus status = DeliveryStatus::pending;
    std::optional<int64_t> next_attempt_at_ms;
    bool success = false;  // resets the endpoint's failure streak
};

// --- The audit log: per organisation, an append-only chain of operator actions. core/audit seals
// each record (its MAC covers its content and the previous record's MAC); the store keeps the
// chain's order, serialises appends on the chain's head and refuses any UPDATE or DELETE.
struct AuditRecord {
    int64_t seq = 0;  // insertion order across organisations; the page cursor
    std::string id;   // "aud_<hex>"
    std::string organization;
    int64_t position = 0;     // 1-based place in the organisation's chain
    std::string actor;        // the API key id, or "cli:<OS user>" for enginectl on the store
    std::string action;       // e.g. engine.create, config.update, key.revoke
    std::string target;       // what the action changed: an engine slug, a key id, …
    std::string before_hash;  // empty where the action has no before (or no after)
    std::string after_hash;
    int64_t at_ms = 0;
    std::string previous_mac;  // the MAC of the record before it; empty for the first
    std::string mac;
};

// Given a record whose position and previous_mac are set, returns its MAC.
using AuditSeal = std::function<std::string(const AuditRecord& record)>;

// The audit records of an operator action, handed to the store write that makes the change: the
// write appends them, in order, inside its own transaction (chain head read under the
// organisation's serialisation, MAC from `seal`, insert), so the change and its records commit
// together or not at all; a seal that throws fails the write whole. The write completes each
// record (seq, position, previous_mac, mac) and sets `appended`; a write that changes nothing
// (returns false, or throws) appends nothing. Writes take it as a nullable pointer: null where a
// caller legitimately records nothing (seeding built-in engines and releases at start-up).
struct AuditAppend {
    std::vector<AuditRecord> records;
    AuditSeal seal;
    bool appended = false;
};

struct AuditPageQuery {
    std::string organization;
    std::optional<int64_t> before_seq;  // exclusive; newest first
    int limit = 50;
};

struct AuditPage {
    std::vector<AuditRecord> records;
    std::optional<int64_t> next_before_seq;  // set when more records follow
};

// Called once the write is durable (nullptr) or failed (the error). Runs on a thread of the store
// (see the contract above): keep it short and never call back into a blocking Store write from it.
// Errors: StoreUnavailable when the database failed (every write sharing its transaction failed with it);
// std::invalid_argument when the write broke a constraint (e.g. a duplicate run id);
// std::out_of_range for an unknown run; std::logic_error when the run is already past the
// state the write needs (e.g. finishing a terminal run). Only StoreUnavailable is transient.
using Completion = std::function<void(std::exception_ptr)>;

// The most asynchronous writes a backend groups into one transaction, unless configured otherwise.
inline constexpr std::size_t kDefaultMaxBatch = 512;

// --- The queue protocol (docs/architecture.md "The queue protocol"). A run is held by one node
// at a time under a lease (`owner`, random per start, until `leased_until_ms`). The node that
// accepts a run holds it from its insert on (NewRun::held_by) and executes it without another
// write first; any other run is taken by a claim, which makes it `processing` under the
// claimer's lease. A run is claimable while `queued` or `processing` and not under a live lease
// (never leased, released, or its holder died or lost the database for longer than the lease).
struct ClaimRequest {
    std::string owner;
    std::optional<std::string>
        run_id;  // that run only (handed over by a local submit), else the next due
    int64_t now_ms = 0;
    int64_t lease_until_ms = 0;
    // A run claimed this many times without finishing is not claimed again for execution: the
    // claim leases it with `crashed` set, its attempts unchanged, for the caller to store its failure.
    int max_attempts = 3;
};

struct Claim {
    Run run;  // as claimed: processing, leased to the owner, attempts counted
    bool crashed = false;
};

struct QueueCounts {
    int64_t queued = 0;
    int64_t processing = 0;
};

// finish_run() by a node whose lease was taken over (or never held): nothing was stored.
class LeaseLost : public std::logic_error {
public:
    using std::logic_error::logic_error;
};

// Held while a node hears of submits on other nodes; destroying it stops the wake-ups.
class SubmitWatch {
public:
    virtual ~SubmitWatch() = default;
};

// Held while a node hears of finished runs; destroying it stops the calls.
class FinishedRunsWatch {
public:
    virtual ~FinishedRunsWatch() = default;
};

// A run whose terminal outcome committed, as a watch is told of it.
struct FinishedRun {
    std::string_view run_id;
    // The finish added webhook deliveries of the run's event. Known for this node's finishes; a
    // finish heard from another node says false (that node's senders were woken for them).
    bool added_deliveries = false;
};

// Told of a run once its terminal outcome committed. Runs on a thread of the store and must not
// block.
using RunFinished = std::function<void(const FinishedRun& run)>;

// Tokens taken from a key's rate bucket shared by every node on one database.
struct RateTokenLease {
    int64_t granted = 0;     // whole tokens taken, at most the number asked for
    double tokens_left = 0;  // what the shared bucket holds after the take
};

// A key's token bucket kept in the database, so that nodes sharing it share the key's rate.
// The bucket refills at `per_second` up to `burst` by the database's clock (one clock for all
// nodes); a take is one atomic statement.
class SharedRateBuckets {
public:
    virtual ~SharedRateBuckets() = default;
    // Throws StoreUnavailable.
    virtual RateTokenLease take_rate_tokens(std::string_view key_id, double per_second,
                                            int64_t burst, int64_t wanted) = 0;
};

class Store {
public:
    Store() = default;
    // A backend drains accepted writes before it closes.
    virtual ~Store() = default;
    Store(const Store&) = delete;
    Store& operator=(const Store&) = delete;

    virtual int schema_version() const = 0;

    // --- Asynchronous writes: `done` runs once the write is durable (or with the failure).
    // Backends group concurrent writes into shared transactions.
    virtual void insert_run(NewRun run, Completion done) = 0;
    // Lease-guarded: stored only while `lease_owner` holds the run, started or not (LeaseLost
    // otherwise, or std::logic_error when it is terminal already).
    virtual void finish_run(std::string run_id, std::string lease_owner, RunOutcome outcome,
                            Completion done) = 0;
    // A run this node executed before storing it: inserted and finished with `outcome` in one
    // transaction, as insert_run() then finish_run() under the run's own hold would (`run.held_by`
    // is required), and told to the finished-run watches at its commit as a finish is.
    virtual void insert_finished_run(NewRun run, RunOutcome outcome, Completion done) = 0;

    // --- The queue protocol (see ClaimRequest). Synchronous: returns once the claim is durable;
    // none when nothing (or not that run) is claimable. Concurrent claimers, on any node, never
    // get the same run while its lease lasts.
    virtual std::optional<Claim> claim_run(const ClaimRequest& request) = 0;
    // Makes the run `processing`, started at `started_at_ms`, if `owner` holds it and has not
    // started it. Asynchronous: a worker executes its run without waiting for it; a run finished
    // meanwhile, or no longer held by `owner`, is left as it is.
    virtual void start_run(std::string owner, std::string run_id, int64_t started_at_ms,
                           Completion done) = 0;
    // Moves `owner`'s leases on those of `run_ids` still unfinished, started or not, to
    // `lease_until_ms` (the heartbeat). The node names the runs it has in hand: a run stored
    // leased to it by a submit whose commit it never saw acknowledged (the answer lost with the
    // connection) is not among them, so its lease runs out and a claim takes it.
    virtual void extend_run_leases(std::string owner, std::vector<std::string> run_ids,
                                   int64_t lease_until_ms, Completion done) = 0;
    // Gives up every lease `owner` holds on a run it has not started (a drain): each becomes
    // claimable at once by any node, its attempt not counted. One statement; returns how many.
    virtual int64_t release_unstarted_runs(std::string_view owner) = 0;

    // Operator actions' writes below take `audit`: the action's records, appended in the write's
    // transaction (see AuditAppend). Every operator action passes one; null, the default, appends
    // none: for seeding built-in engines and their shipped releases at start-up, and fixtures.

    // --- Keys: synchronous (they return once the write is durable).
    virtual void insert_api_key(const ApiKey& key, std::string_view key_hash,
                                AuditAppend* audit = nullptr) = 0;
    virtual std::optional<ApiKey> find_api_key(std::string_view key_hash) const = 0;
    virtual std::vector<ApiKey> list_api_keys(
        const std::optional<std::string>& organization) const = 0;
    // False when no active key has that id; `audit` as for every operator write above.
    bool revoke_api_key(std::string_view key_id, int64_t at_ms, AuditAppend* audit = nullptr) {
        const bool revoked = write_key_revocation(key_id, at_ms, audit);
        if (revoked) key_revocations_.fetch_add(1, std::memory_order_acq_rel);
        return revoked;
    }
    // How many keys were revoked through this store object: a node that trusts the keys it
    // checked a moment ago forgets them when this changes, so that a key revoked through the
    // node itself is refused on its next request there.
    uint64_t key_revocations() const { return key_revocations_.load(std::memory_order_acquire); }

    // --- Environments: synchronous writes. Deleted environments are kept
    // (their runs name them) but are found by none of these.
    // Adds the organisation's built-in `test` and `live` when absent.
    virtual void ensure_builtin_environments(std::string_view organization, int64_t at_ms) = 0;
    // Throws std::invalid_argument when the slug exists, TooManyEnvironments when the organisation
    // would have more than `max_named` environments besides the built-in ones.
    virtual void insert_environment(const Environment& environment, int max_named,
                                    AuditAppend* audit = nullptr) = 0;
    // test, live, then the named ones by creation.
    virtual std::vector<Environment> list_environments(std::string_view organization) const = 0;
    virtual std::optional<Environment> find_environment(std::string_view organization,
                                                        std::string_view slug) const = 0;
    // Replaces the default pins; false when absent.
    virtual bool update_environment_pins(const Environment& environment,
                                         AuditAppend* audit = nullptr) = 0;
    // False when absent; throws EnvironmentHasActiveKeys while unrevoked keys of it exist.
    virtual bool delete_environment(std::string_view organization, std::string_view slug,
                                    int64_t at_ms, AuditAppend* audit = nullptr) = 0;

    // --- Engines and releases: synchronous writes.
    // Throws std::invalid_argument when (organization, slug) exists.
    virtual void insert_engine(const EngineRecord& engine, std::string_view config_json,
                               AuditAppend* audit = nullptr) = 0;
    // Inserts the built-in engine if absent and returns the stored record. An existing one is
    // left as it is: its configuration is the operator's once seeded, and a new preset reaches
    // it through the configuration API or a release bundle, never silently at a restart.
    virtual EngineRecord ensure_builtin_engine(const EngineRecord& engine,
                                               std::string_view config_json) = 0;
    // False when the engine does not exist.
    virtual bool update_engine_config(std::string_view organization, std::string_view slug,
                                      std::string_view config_hash, std::string_view config_json,
                                      std::string_view updated_by, int64_t at_ms,
                                      AuditAppend* audit = nullptr) = 0;
    virtual bool set_engine_status(std::string_view organization, std::string_view slug,
                                   std::string_view status, int64_t at_ms,
                                   AuditAppend* audit = nullptr) = 0;
    // Throws std::invalid_argument when that version exists already.
    virtual void insert_release(const ReleaseRecord& release, std::string_view config_json,
                                AuditAppend* audit = nullptr) = 0;

    // The organisation's own engine of that slug, else the built-in one.
    virtual std::optional<EngineRecord> find_engine(std::string_view organization,
                                                    std::string_view slug) const = 0;
    // Built-in engines first, then the organisation's, each by slug.
    virtual std::vector<EngineRecord> list_engines(std::string_view organization) const = 0;
    // Oldest first (by major, then minor).
    virtual std::vector<ReleaseRecord> list_releases(std::string_view organization,
                                                     std::string_view slug) const = 0;
    virtual std::optional<ReleaseRecord> find_release(std::string_view organization,
                                                      std::string_view slug, int major,
                                                      int minor) const = 0;

    // --- Rollouts: synchronous writes. Opening throws std::invalid_argument while another rollout
    // of that engine and major is open (also when another node opened it meanwhile).
    virtual void open_rollout(const RolloutRecord& rollout, AuditAppend* audit = nullptr) = 0;
    // insert_release and open_rollout in one write: the release is never visible without it.
    virtual void insert_release_in_rollout(const ReleaseRecord& release,
                                           std::string_view config_json,
                                           const RolloutRecord& rollout,
                                           AuditAppend* audit = nullptr) = 0;
    // The open rollout of that major gets `percent`; false when none is open.
    virtual bool set_rollout_percent(std::string_view organization, std::string_view slug,
                                     int major, int percent, int64_t at_ms,
                                     AuditAppend* audit = nullptr) = 0;
    // The open rollout of that major becomes `state` (promoted | aborted); false when none is open.
    virtual bool close_rollout(std::string_view organization, std::string_view slug, int major,
                               std::string_view state, int64_t at_ms,
                               AuditAppend* audit = nullptr) = 0;
    // Every rollout of the engine, oldest first.
    virtual std::vector<RolloutRecord> list_rollouts(std::string_view organization,
                                                     std::string_view slug) const = 0;

    // --- Idempotency. find ignores records older than the window; remember keeps a live record
    // of the same key (the first answer wins) and throws IdempotencyKeyTaken then.
    virtual std::optional<IdempotencyRecord> find_idempotency(std::string_view organization,
                                                              std::string_view environment_id,
                                                              std::string_view key,
                                                              int64_t now_ms) const = 0;
    // Group-committed like run writes; `done` gets IdempotencyKeyTaken when a live record exists.
    virtual void remember_idempotency(IdempotencyRecord record, Completion done) = 0;

    // --- Carrier pools. `carriers_json` is the canonical JSON array of carrier objects; the
    // pool then points at its snapshot (content-addressed, immutable) in one write, so a
    // re-import replaces a pool whole or not at all. Returns the new summary.
    virtual PoolSummary replace_pool(std::string_view organization, std::string_view name,
                                     std::string_view carriers_json, std::string_view source,
                                     int64_t at_ms, AuditAppend* audit = nullptr) = 0;
    virtual std::vector<PoolSummary> list_pools(std::string_view organization) const = 0;
    virtual std::optional<PoolSummary> pool_snapshot(std::string_view organization,
                                                     std::string_view name) const = 0;
    virtual std::optional<std::string> pool_carriers(std::string_view snapshot) const = 0;

    // --- Webhook endpoints and secrets: synchronous writes.
    // Throws TooManyActiveEndpoints when the write would leave more than `max_active` active
    // endpoints in the endpoint's organisation and environment.
    virtual void insert_webhook_endpoint(const WebhookEndpoint& endpoint, int max_active,
                                         AuditAppend* audit = nullptr) = 0;
    // Replaces the stored endpoint of that id (same organisation and environment); false when absent.
    virtual bool update_webhook_endpoint(const WebhookEndpoint& endpoint, int max_active,
                                         AuditAppend* audit = nullptr) = 0;
    // Deletes it; its pending deliveries fail with "endpoint deleted". False when absent.
    virtual bool delete_webhook_endpoint(std::string_view organization,
                                         std::string_view environment_id, std::string_view id,
                                         int64_t at_ms, AuditAppend* audit = nullptr) = 0;
    virtual std::optional<WebhookEndpoint> find_webhook_endpoint(std::string_view organization,
                                                                 std::string_view environment_id,
                                                                 std::string_view id) const = 0;
    virtual std::vector<WebhookEndpoint> list_webhook_endpoints(
        std::string_view organization, std::string_view environment_id) const = 0;
    virtual void put_signing_secret(std::string_view organization, std::string_view environment_id,
                                    const SigningSecret& secret, AuditAppend* audit = nullptr) = 0;
    virtual std::optional<SigningSecret> find_signing_secret(
        std::string_view organization, std::string_view environment_id) const = 0;
    // Stores `first` unless the environment has a secret already; returns the one stored.
    virtual SigningSecret add_signing_secret(std::string_view organization,
                                             std::string_view environment_id,
                                             const SigningSecret& first) = 0;

    // --- The webhook outbox. finish_run() adds the deliveries of a run's terminal event.
    // Leases up to `limit` pending deliveries due at `now_ms` until `lease_until_ms` (so no
    // other sender, on any node, takes them meanwhile) and returns them, oldest due first. A
    // lease is never voided: one whose sender died is taken over once it expired.
    virtual std::vector<WebhookDelivery> lease_due_deliveries(int64_t now_ms,
                                                              int64_t lease_until_ms,
                                                              std::size_t limit) = 0;
    // Records the attempt and applies the verdict (and the endpoint's failure streak) in one write.
    // Returns the endpoint's failure streak after it (0 after a success); none for a run's own URL
    // or an endpoint deleted meanwhile. Whether a streak disables the endpoint is the caller's policy.
    virtual std::optional<int> record_delivery_attempt(const DeliveryAttempt& attempt,
                                                       const AttemptVerdict& verdict,
                                                       int64_t at_ms) = 0;
    // Makes an active endpoint inactive with `reason` and fails its pending deliveries, in one write.
    // False when it is absent or inactive already (of two callers at once, one disables it).
    virtual bool disable_webhook_endpoint(std::string_view endpoint_id, std::string_view reason,
                                          int64_t at_ms) = 0;
    // Newest first; `endpoint_id` empty: every delivery of the environment.
    virtual std::vector<WebhookDelivery> list_deliveries(std::string_view organization,
                                                         std::string_view environment_id,
                                                         std::string_view endpoint_id,
                                                         int limit) const = 0;
    virtual std::optional<WebhookDelivery> find_delivery(std::string_view organization,
                                                         std::string_view environment_id,
                                                         std::string_view delivery_id) const = 0;
    virtual std::vector<DeliveryAttempt> list_delivery_attempts(
        std::string_view delivery_id) const = 0;
    // Makes a delivery pending and due at `now_ms` again (a manual re-send). False when absent.
    virtual bool retry_delivery(std::string_view organization, std::string_view environment_id,
                                std::string_view delivery_id, int64_t now_ms) = 0;

    // --- The audit log. Appends `record` to its organisation's chain in one transaction holding
    // the chain's head (so concurrent appends, also from other nodes, queue on it): its position
    // and previous_mac come from the newest record, its MAC from `seal`. Returns it as stored.
    // An operator action's records are appended by the write making the change (AuditAppend).
    virtual AuditRecord append_audit(AuditRecord record, const AuditSeal& seal) = 0;
    // The organisation's records, newest first.
    virtual AuditPage list_audit(const AuditPageQuery& query) const = 0;
    // The organisation's whole chain, oldest first (for verification).
    virtual std::vector<AuditRecord> audit_chain(std::string_view organization) const = 0;
    // Every organisation with at least one record.
    virtual std::vector<std::string> audit_organizations() const = 0;

    // --- Reads: on the calling thread; they see every write whose completion has run.
    virtual std::optional<Run> get_run(std::string_view run_id) const = 0;
    virtual RunPage list_runs(const RunPageQuery& query) const = 0;
    virtual std::optional<std::string> config_json(std::string_view config_hash) const = 0;
    // Runs queued and processing, on every node: the queue's depth. Readiness (/ready) reads it:
    // its answer is also the proof that the database answers.
    virtual QueueCounts queue_counts() const = 0;
    // Calls `wake` after another node on this store committed a submit, until the watch is
    // destroyed; `wake` runs on the watch's thread and must not block. Null where no other node
    // can submit (SQLite: every submit is this node's own, handed to its workers in-process).
    virtual std::unique_ptr<SubmitWatch> watch_submits(std::function<void()> /*wake*/) {
        return nullptr;
    }
    // Calls `finished` for every run whose terminal outcome committed on any node of this store
    // (this node's own at their commit, other nodes' as their notification arrives), until the
    // watch is destroyed. Long-poll waits on runs are answered from it.
    virtual std::unique_ptr<FinishedRunsWatch> watch_finished_runs(RunFinished finished) = 0;
    // The rate buckets nodes share through this database; nullptr when one process owns the
    // store (SQLite), whose buckets stay in that process's memory.
    virtual SharedRateBuckets* shared_rate_buckets() = 0;

    // Write figures since open: how many transactions carried how many writes.
    struct WriterStats {
        uint64_t transactions = 0;
        uint64_t writes = 0;
        uint64_t largest_batch = 0;
    };
    virtual WriterStats writer_stats() const = 0;

protected:
    // revoke_api_key's write: true when it revoked an active key.
    virtual bool write_key_revocation(std::string_view key_id, int64_t at_ms,
                                      AuditAppend* audit) = 0;

private:
    std::atomic<uint64_t> key_revocations_{0};
};

}  // namespace engined::store
