// The engines use cases: create, list, archive; read, replace and dry-run a configuration;
// publish immutable versions and resolve pins; describe an engine's contract. Built-in engines
// (`default`, `entity-analysis`) are shared by every organisation, seeded from their presets and
// read-only to API keys (an organisation changes a copy); release bundles in versions/ are
// imported at start-up. Every change an operator makes is recorded on the audit trail. Knows the
// store and the plugins, not HTTP.
#pragma once

#include "audit/audit_trail.hpp"
#include "auth/principal.hpp"
#include "common/shared_lru_cache.hpp"
#include "common/ttl_cache.hpp"
#include "engines/builtin_engines.hpp"
#include "contracts/contract_validator.hpp"
#include "lua/sandbox.hpp"
#include "plugin/plugin_registry.hpp"
#include "versions/pin.hpp"
#include "store/store.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

namespace engined::engines {

// A configuration's entity tag (ETag of GET .../config): its hash, quoted.
std::string config_etag(const std::string& config_hash);
// Whether an If-Match value (one or more entity tags, quoted or not, or "*") names `config_hash`.
bool config_hash_matches(std::string_view expected, const std::string& config_hash);

// What a run executes: an engine at a resolved version (or its current configuration).
struct ResolvedEngine {
    store::EngineRecord engine;
    std::optional<std::string> version;  // "1.1" when a pin resolved to a release
    std::optional<std::string>
        pin;  // the pin it resolved ("1.x"), none for the current configuration
    std::optional<std::string>
        pin_source;  // request | engine_pin | environment (resolve_for_run only)
    // "new" | "previous": the share of an open rollout a "<major>.x" pin gave this run.
    std::optional<std::string> rollout_share;
    // The release's content hash (a run's fingerprint names it); none for the current configuration.
    std::optional<std::string> release_content_hash;
    std::string config_hash;  // the configuration itself stays in the store: runs read it by hash
    std::shared_ptr<const contracts::ContractValidator> request_contract;
};

// How many configurations a node keeps at hand for submissions, each kind in its own
// least-recently-used cache: the configuration's text, its parsed request contract and its
// effective weights. An evicted one is read from the store (and parsed) again on its next use.
inline constexpr std::size_t kDefaultCachedConfigs = 64;

// How a node resolves a submitted run's engine without reading the store each time: the
// engine's record, releases and rollouts, kept per (organisation, slug) for a second. A change
// made through this node (configuration, archive, publish, rollout) applies to its next run; one
// made elsewhere (another node on a shared PostgreSQL store, enginectl) within the second.
struct RunResolutionCache {
    std::chrono::milliseconds ttl{1000};
    std::size_t capacity = 1024;  // engines; when full, the expired go, then all
    CacheClock clock = [] { return std::chrono::steady_clock::now(); };
};

class EngineService {
public:
    // `cached_configs`: see kDefaultCachedConfigs; `resolutions`: see RunResolutionCache.
    EngineService(store::Store& store, const plugin::PluginRegistry& plugins,
                  std::filesystem::path resources_dir, lua::Limits lua_limits,
                  audit::AuditTrail& audit, std::size_t cached_configs = kDefaultCachedConfigs,
                  RunResolutionCache resolutions = {});

    // Seeds the built-in engines shipped in versions/<slug>/engine.json whose plugin is loaded
    // and imports versions/<slug>/<M>.<m>.json. Throws std::runtime_error naming the file when
    // a bundle differs from the stored release or an engine.json is malformed.
    void bootstrap();
    // The built-in engines every organisation shares, as bootstrap() read them.
    const std::vector<BuiltinEngine>& builtin_engines() const { return builtin_engines_; }

    // A new engine of the caller's organisation: its type's preset, or a copy of `copy_from`.
    boost::json::object create(const auth::Principal& caller, const boost::json::value& body);
    boost::json::array list(const auth::Principal& caller) const;
    boost::json::object get(const auth::Principal& caller, const std::string& slug) const;
    // Live keys only. Archiving stops new runs; unarchiving takes them again. Either is a no-op
    // (still recorded) when the engine is in that state already.
    boost::json::object archive(const auth::Principal& caller, const std::string& slug);
    boost::json::object unarchive(const auth::Principal& caller, const std::string& slug);

    boost::json::object get_config(const auth::Principal& caller, const std::string& slug) const;
    // Live keys only. With `if_match` (the If-Match header), ApiError 412 unless it names the
    // current configuration's hash.
    boost::json::object put_config(const auth::Principal& caller, const std::string& slug,
                                   const boost::json::value& body,
                                   const std::optional<std::string>& if_match);
    // Always an answer: {"valid": bool, "errors": [{"path", "message"}], "warnings": [...]}.
    boost::json::object validate_config(const auth::Principal& caller, const std::string& slug,
                                        const boost::json::value& body) const;

    // What publishing now would do, minting nothing: {version, bump, reasons, config_hash,
    // base_version, already_released, diff}. Any key with engines:admin may plan.
    boost::json::object plan(const auth::Principal& caller, const std::string& slug) const;
    // {release fields..., already_released}; `created` tells whether a new version was minted.
    // Live keys only; the body's `config_hash` (the configuration reviewed) must be the current one.
    // `gate`, when set, is called once the publish is allowed and before anything is minted; it
    // refuses by throwing ApiError (the preview gate, max_top1_change).
    boost::json::object publish(const auth::Principal& caller, const std::string& slug,
                                const boost::json::value& body, bool& created,
                                const std::function<void()>& gate = {});
    boost::json::array list_versions(const auth::Principal& caller, const std::string& slug) const;
    boost::json::object get_version(const auth::Principal& caller, const std::string& slug,
                                    const std::string& version) const;
    // The canonical bundle of a release, as versions/ holds it.
    boost::json::value export_version(const auth::Principal& caller, const std::string& slug,
                                      const std::string& version) const;

    // Request/response schemas, dimensions, weight profiles and examples of the engine at `pin`.
    boost::json::object contract(const auth::Principal& caller, const std::string& slug,
                                 const std::optional<std::string>& pin) const;

    // The engine at `pin` (none: its current configuration), read from the store now. ApiError
    // 404 for an unknown engine, 400 for a malformed pin, 422 for a pin with no release, 409 when
    // archived. A "<major>.x" pin under an open rollout resolves by `run_id` (rollout_policy.hpp).
    ResolvedEngine resolve(const auth::Principal& caller, const std::string& slug,
                           const std::optional<std::string>& pin,
                           std::optional<std::string_view> run_id = std::nullopt) const;
    // resolve() for a run of the caller's environment: an explicit `pin` wins, else the
    // environment's pin for this engine (engine_pins), else its pinned_engine_version when the
    // engine has a release matching it, else the current configuration. Says which in pin_source.
    // Reads the engine, its releases and rollouts as RunResolutionCache says.
    ResolvedEngine resolve_for_run(const auth::Principal& caller, const std::string& slug,
                                   const std::optional<std::string>& pin,
                                   std::string_view run_id) const;

    // Canary rollouts of a release to the runs pinned "<major>.x" (rollouts.cpp). Opening (or
    // changing the share of) an open rollout, promoting and aborting need a live key.
    // `created` tells whether a rollout was opened (else its percent changed).
    boost::json::object rollout(const auth::Principal& caller, const std::string& slug,
                                const std::string& version, const boost::json::value& body,
                                bool& created);
    boost::json::object promote_rollout(const auth::Principal& caller, const std::string& slug,
                                        const std::string& version);
    boost::json::object abort_rollout(const auth::Principal& caller, const std::string& slug,
                                      const std::string& version);
    // The version's newest rollout; ApiError 404 when it never had one.
    boost::json::object get_rollout(const auth::Principal& caller, const std::string& slug,
                                    const std::string& version) const;

    // Every error of a configuration, each with its JSON Pointer; empty when usable. Runs the
    // scorecard's hooks as a run does (scorecard_check.hpp); its warnings go to `warnings`.
    std::vector<ErrorDetail> check_config(const std::string& engine_type,
                                          const boost::json::value& config,
                                          std::vector<ErrorDetail>* warnings = nullptr) const;

private:
    // The request and response schemas' problems (contracts' bounds), each at its pointer.
    static std::vector<ErrorDetail> schema_errors(const boost::json::value& config);
    // ApiError 412 precondition_failed, located at `where`, unless `expected` names the engine's configuration.
    static void require_config_hash(const store::EngineRecord& engine, const std::string& expected,
                                    const std::string& where);
    // What publishing `engine`'s current configuration would mint next to its newest release.
    struct ReleasePlan {
        std::optional<store::ReleaseRecord> newest;
        bool already_released = false;
        store::ReleaseRecord
            release;  // major, minor, bump, reasons_json, is_breaking_from_previous_major
        boost::json::value config;
    };
    ReleasePlan plan_release(const store::EngineRecord& engine) const;
    store::EngineRecord find(const auth::Principal& caller, const std::string& slug) const;
    // What resolving a pin of an engine reads: the engine, its releases and its rollouts.
    struct EngineReleases {
        store::EngineRecord engine;
        std::vector<store::ReleaseRecord> releases;  // oldest first
        std::vector<store::RolloutRecord> rollouts;
    };
    EngineReleases releases_of(store::EngineRecord engine) const;
    // releases_of(find()) for a run, from the resolution cache when it has the engine. An
    // unknown engine is not remembered: one created elsewhere is found on its first run.
    std::shared_ptr<const EngineReleases> releases_for_runs(const auth::Principal& caller,
                                                            const std::string& slug) const;
    // Every change of an engine, its releases or rollouts calls this once the change committed.
    void engines_changed() { engine_changes_.fetch_add(1, std::memory_order_acq_rel); }
    // find() for a change: ApiError(403, builtin_engine_read_only) for a built-in engine.
    store::EngineRecord find_own(const auth::Principal& caller, const std::string& slug) const;
    ResolvedEngine at_version(const EngineReleases& target, const std::optional<std::string>& pin,
                              std::optional<std::string_view> run_id = std::nullopt) const;
    std::string load_config(const std::string& hash) const;
    // The configuration's request contract, read from the store and parsed on first use only.
    std::shared_ptr<const contracts::ContractValidator> request_contract(
        const std::string& config_hash) const;
    // A release a pin matched, and the rollout share that chose it.
    struct ReleaseMatch {
        store::ReleaseRecord release;
        std::optional<std::string> rollout_share;
    };
    ReleaseMatch find_release(const EngineReleases& target, const std::string& pin,
                              std::optional<std::string_view> run_id = std::nullopt) const;
    // Per appetite bucket, the weights runs of this configuration use (ScorecardVerdict::effective_weights).
    boost::json::array effective_weights(const std::string& config_hash,
                                         const boost::json::value& config) const;
    // The release matching `pin`, if any — for "<major>.x" the one rollout_policy chooses for
    // `run_id`; lists every release into `available` when given.
    static std::optional<ReleaseMatch> matching_release(
        const EngineReleases& target, const versions::Pin& pin, std::string* available,
        std::optional<std::string_view> run_id = std::nullopt);
    // The engine's releases and rollouts for a rollout change, checked: live key, own engine, not
    // archived, `version` released. Throws ApiError otherwise.
    struct RolloutTarget {
        store::EngineRecord engine;
        std::vector<store::ReleaseRecord> releases;
        std::vector<store::RolloutRecord> rollouts;
        int major = 0;
        int minor = 0;
    };
    RolloutTarget rollout_target(const auth::Principal& caller, const std::string& slug,
                                 const std::string& version, const char* action) const;
    // How a rollout ends: the state it is stored with, its audit action, and what the caller
    // does (for the live-key refusal).
    struct RolloutEnd {
        const char* state;  // promoted | aborted
        const char* audit_action;
        const char* doing;
    };
    static const RolloutEnd kPromote;
    static const RolloutEnd kAbort;
    // Closes `version`'s open rollout as `end` says.
    boost::json::object close_rollout(const auth::Principal& caller, const std::string& slug,
                                      const std::string& version, const RolloutEnd& end);
    // The audit action of opening a rollout of `slug` at `version` to `percent` % of range pins.
    static audit::Action rollout_opened(const auth::Principal& caller, const std::string& slug,
                                        const std::string& version, int percent);
    // The minor a new rollout of major.minor replaces for range pins; ApiError 409 when none.
    static int rollout_from(const RolloutTarget& target, int major, int minor);
    // `percent` of a rollout body (1..99), located at `where`; ApiError 422 otherwise.
    static int rollout_percent(const boost::json::value& percent, const std::string& where);
    // True when the bundle was imported now, false when its release was already stored.
    bool import_bundle(const std::filesystem::path& file);
    bool import_bundle_file(const std::filesystem::path& file, const std::string& where);
    // A built-in engine of an existing install moves to its newest release once a new bundle of
    // it is shipped, so that unpinned runs follow what the new version ships.
    void adopt_newest_release(const std::string& slug);

    // Archive or unarchive, recorded as `action`.
    boost::json::object set_status(const auth::Principal& caller, const std::string& slug,
                                   const std::string& status, const std::string& action);

    store::Store& store_;
    audit::AuditTrail& audit_;
    const plugin::PluginRegistry& plugins_;
    std::filesystem::path resources_dir_;
    std::vector<BuiltinEngine> builtin_engines_;
    lua::Limits lua_limits_;
    std::mutex config_writes_mutex_;
    // By configuration hash. A configuration is stored once and never changed (its hash is its
    // content), so what is derived from it stays true for as long as it is kept.
    mutable SharedLruCache<std::string> config_texts_;
    mutable SharedLruCache<contracts::ContractValidator> contracts_;
    mutable SharedLruCache<boost::json::array> effective_weights_;
    // By organisation and slug, at the count of engine changes made through this service.
    mutable TtlCache<std::shared_ptr<const EngineReleases>> run_resolutions_;
    std::atomic<uint64_t> engine_changes_{0};
};

}  // namespace engined::engines
