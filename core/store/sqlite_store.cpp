// The SQLite store. One writer thread owns the only write connection and group-commits: every
// write pending when it wakes shares one transaction and therefore one fsync, which is what
// makes "durable before 202" affordable. Reads run on pooled connections beside it; WAL lets
// them see the last commit without waiting for the writer.
#include "store/store.hpp"

#include "common/crypto.hpp"

#include <boost/json.hpp>
#include <sqlite3.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstring>
#include <deque>
#include <filesystem>
#include <future>
#include <limits>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <utility>

#include "common/time.hpp"

namespace engined::store {

namespace {

constexpr std::array<std::string_view, 5> kStatusNames{
    "queued", "processing", "completed", "degraded", "failed"};

}  // namespace

std::string_view to_string(RunStatus status) {
    return kStatusNames.at(static_cast<std::size_t>(status));
}

std::optional<RunStatus> parse_run_status(std::string_view text) {
    for (std::size_t i = 0; i < kStatusNames.size(); ++i) {
        if (kStatusNames[i] == text) return static_cast<RunStatus>(i);
    }
    return std::nullopt;
}

bool is_terminal(RunStatus status) {
    return status == RunStatus::completed || status == RunStatus::degraded ||
           status == RunStatus::failed;
}

namespace {

// ---------------------------------------------------------------------------------------------
// Schema. Steps are applied in order, each in its own transaction, and recorded in
// schema_migrations; a released step is never edited, a change is a new step.

struct Migration {
    int version;
    const char* sql;
};

constexpr std::array kMigrations{
    Migration{1, R"sql(
        CREATE TABLE api_keys (
            id             TEXT PRIMARY KEY,
            key_hash       TEXT NOT NULL UNIQUE,
            organization   TEXT NOT NULL,
            environment    TEXT NOT NULL CHECK (environment IN ('test', 'live')),
            scopes         TEXT NOT NULL,  -- comma-separated
            display_prefix TEXT NOT NULL,
            created_at_ms  INTEGER NOT NULL,
            revoked_at_ms  INTEGER
        );
        CREATE INDEX api_keys_by_organization ON api_keys (organization, created_at_ms);

        -- Content-addressed: a run points at the exact configuration it executed with.
        CREATE TABLE engine_configs (
            hash        TEXT PRIMARY KEY,
            config_json TEXT NOT NULL
        );

        CREATE TABLE runs (
            seq                INTEGER PRIMARY KEY AUTOINCREMENT,
            id                 TEXT NOT NULL UNIQUE,
            organization       TEXT NOT NULL,
            environment        TEXT NOT NULL CHECK (environment IN ('test', 'live')),
            engine_slug        TEXT NOT NULL,
            engine_type        TEXT NOT NULL,
            engine_version     TEXT,
            engine_version_pin TEXT,
            status             TEXT NOT NULL CHECK (status IN
                                   ('queued', 'processing', 'completed', 'degraded', 'failed')),
            stage              TEXT NOT NULL,
            request_json       TEXT NOT NULL,
            config_hash        TEXT NOT NULL REFERENCES engine_configs (hash),
            webhook_url        TEXT,
            api_key_id         TEXT NOT NULL,
            output_json        TEXT NOT NULL DEFAULT 'null',
            results_json       TEXT NOT NULL DEFAULT 'null',
            error_code         TEXT,
            error_message      TEXT,
            error_details_json TEXT NOT NULL DEFAULT 'null',
            trace_json         TEXT NOT NULL DEFAULT 'null',
            attempts           INTEGER NOT NULL DEFAULT 0,
            created_at_ms      INTEGER NOT NULL,
            started_at_ms      INTEGER,
            completed_at_ms    INTEGER
        );
        CREATE INDEX runs_listing ON runs (organization, environment, engine_slug, seq DESC);
        CREATE INDEX runs_listing_by_status
            ON runs (organization, environment, engine_slug, status, seq DESC);
        -- Partial: terminal runs accumulate forever, the restart scan only wants the few others.
        CREATE INDEX runs_unfinished ON runs (seq)
            WHERE status IN ('queued', 'processing');
    )sql"},
    Migration{2, R"sql(
        -- Built-in engines have an empty organization, so that one UNIQUE covers both kinds;
        -- find_engine prefers an organisation's own row should both ever exist.
        CREATE TABLE engines (
            id                   TEXT PRIMARY KEY,
            organization         TEXT NOT NULL,
            slug                 TEXT NOT NULL,
            label                TEXT NOT NULL,
            description          TEXT NOT NULL,
            engine_type          TEXT NOT NULL,
            status               TEXT NOT NULL CHECK (status IN ('active', 'archived')),
            config_hash          TEXT NOT NULL REFERENCES engine_configs (hash),
            config_updated_by    TEXT NOT NULL,
            config_updated_at_ms INTEGER NOT NULL,
            created_at_ms        INTEGER NOT NULL,
            updated_at_ms        INTEGER NOT NULL,
            UNIQUE (organization, slug)
        );

        CREATE TABLE engine_releases (
            organization                    TEXT NOT NULL,
            engine_slug                     TEXT NOT NULL,
            major                           INTEGER NOT NULL CHECK (major >= 1),
            minor                           INTEGER NOT NULL CHECK (minor >= 0),
            config_hash                     TEXT NOT NULL REFERENCES engine_configs (hash),
            content_hash                    TEXT NOT NULL,
            bundle_json                     TEXT NOT NULL,
            changelog                       TEXT NOT NULL,
            bump                            TEXT NOT NULL
                                                CHECK (bump IN ('initial', 'minor', 'major')),
            is_breaking_from_previous_major INTEGER NOT NULL,
            reasons_json                    TEXT NOT NULL,
            published_by                    TEXT NOT NULL,
            released_at_ms                  INTEGER NOT NULL,
            PRIMARY KEY (organization, engine_slug, major, minor)
        );

        -- Clients pin released versions and runs name the configuration they executed with:
        -- either changing under them would falsify what they were promised or what happened.
        -- The triggers hold that for every writer of the file, not only for this code.
        CREATE TRIGGER engine_releases_no_update BEFORE UPDATE ON engine_releases
        BEGIN
            SELECT RAISE(ABORT, 'released engine versions are immutable');
        END;
        CREATE TRIGGER engine_releases_no_delete BEFORE DELETE ON engine_releases
        BEGIN
            SELECT RAISE(ABORT, 'released engine versions are immutable');
        END;
        CREATE TRIGGER engine_configs_no_update BEFORE UPDATE ON engine_configs
        BEGIN
            SELECT RAISE(ABORT, 'stored engine configurations are immutable');
        END;
        CREATE TRIGGER engine_configs_no_delete BEFORE DELETE ON engine_configs
        BEGIN
            SELECT RAISE(ABORT, 'stored engine configurations are immutable');
        END;
    )sql"},
    Migration{3, R"sql(
        -- A run names the snapshot it ranked, so a re-imported pool never changes a past run.
        CREATE TABLE pool_snapshots (
            hash          TEXT PRIMARY KEY,
            carriers_json TEXT NOT NULL,
            carrier_count INTEGER NOT NULL CHECK (carrier_count > 0)
        );
        CREATE TRIGGER pool_snapshots_no_update BEFORE UPDATE ON pool_snapshots
        BEGIN
            SELECT RAISE(ABORT, 'pool snapshots are immutable');
        END;
        CREATE TRIGGER pool_snapshots_no_delete BEFORE DELETE ON pool_snapshots
        BEGIN
            SELECT RAISE(ABORT, 'pool snapshots are immutable');
        END;

        CREATE TABLE pools (
            organization   TEXT NOT NULL,
            name           TEXT NOT NULL,
            snapshot       TEXT NOT NULL REFERENCES pool_snapshots (hash),
            source         TEXT NOT NULL,
            imported_at_ms INTEGER NOT NULL,
            PRIMARY KEY (organization, name)
        );
    )sql"},
    Migration{4, R"sql(
        -- Per-key rate limits; NULL means the server's defaults apply.
        ALTER TABLE api_keys ADD COLUMN rate_per_second REAL CHECK (rate_per_second > 0);
        ALTER TABLE api_keys ADD COLUMN rate_burst INTEGER CHECK (rate_burst > 0);
    )sql"},
    Migration{5, R"sql(
        CREATE TABLE idempotency_records (
            organization    TEXT NOT NULL,
            environment     TEXT NOT NULL,
            idempotency_key TEXT NOT NULL,
            request_hash    TEXT NOT NULL,
            status          INTEGER NOT NULL,
            response_body   TEXT NOT NULL,
            location        TEXT NOT NULL,
            created_at_ms   INTEGER NOT NULL,
            PRIMARY KEY (organization, environment, idempotency_key)
        );
    )sql"},
    Migration{6, R"sql(
        CREATE TABLE webhook_endpoints (
            id                            TEXT PRIMARY KEY,
            organization                  TEXT NOT NULL,
            environment                   TEXT NOT NULL,
            url                           TEXT NOT NULL,
            description                   TEXT NOT NULL,
            events                        TEXT NOT NULL,  -- JSON array of event types
            active                        INTEGER NOT NULL,
            auth_token                    TEXT,
            secret                        TEXT NOT NULL,
            previous_secret               TEXT,
            previous_secret_expires_at_ms INTEGER,
            consecutive_failures          INTEGER NOT NULL DEFAULT 0,
            disabled_reason               TEXT,
            created_at_ms                 INTEGER NOT NULL,
            updated_at_ms                 INTEGER NOT NULL
        );
        CREATE INDEX webhook_endpoints_by_environment
            ON webhook_endpoints (organization, environment, created_at_ms);

        CREATE TABLE webhook_signing_secrets (
            organization                  TEXT NOT NULL,
            environment                   TEXT NOT NULL,
            secret                        TEXT NOT NULL,
            previous_secret               TEXT,
            previous_secret_expires_at_ms INTEGER,
            rotated_at_ms                 INTEGER NOT NULL,
            PRIMARY KEY (organization, environment)
        );

        CREATE TABLE webhook_deliveries (
            seq                   INTEGER PRIMARY KEY AUTOINCREMENT,
            id                    TEXT NOT NULL UNIQUE,
            event_id              TEXT NOT NULL,
            event_type            TEXT NOT NULL,
            event_created_at_ms   INTEGER NOT NULL,
            run_id                TEXT NOT NULL REFERENCES runs (id),
            organization          TEXT NOT NULL,
            environment           TEXT NOT NULL,
            endpoint_id           TEXT,  -- NULL: the run's own webhook_url
            url                   TEXT NOT NULL,
            status                TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
            attempts              INTEGER NOT NULL DEFAULT 0,
            next_attempt_at_ms    INTEGER,
            leased_until_ms       INTEGER,
            last_status_code      INTEGER,
            last_error            TEXT,
            created_at_ms         INTEGER NOT NULL,
            updated_at_ms         INTEGER NOT NULL
        );
        CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at_ms);
        CREATE INDEX webhook_deliveries_by_endpoint ON webhook_deliveries (endpoint_id, seq);
        CREATE INDEX webhook_deliveries_by_environment ON webhook_deliveries (organization, environment, seq);

        CREATE TABLE webhook_delivery_attempts (
            delivery_id   TEXT NOT NULL REFERENCES webhook_deliveries (id),
            attempt       INTEGER NOT NULL,
            started_at_ms INTEGER NOT NULL,
            duration_ms   INTEGER NOT NULL,
            status_code   INTEGER,
            error         TEXT NOT NULL,
            PRIMARY KEY (delivery_id, attempt)
        );
    )sql"},
    Migration{7, R"sql(
        -- What a run's output depends on, hashed when it ends: replaying a run compares with it.
        ALTER TABLE runs ADD COLUMN fingerprint TEXT;
        ALTER TABLE runs ADD COLUMN fingerprint_json TEXT;
    )sql"},
    Migration{8, R"sql(
        -- Named environments. `test` and `live` are built in to every organisation; every
        -- environment-scoped row names its environment by id, so a deleted and re-created slug
        -- starts empty. A deleted environment keeps its row (its runs still name it).
        CREATE TABLE environments (
            id                    TEXT PRIMARY KEY,
            organization          TEXT NOT NULL,
            slug                  TEXT NOT NULL,
            built_in              INTEGER NOT NULL,
            pinned_engine_version TEXT,
            engine_pins_json      TEXT NOT NULL DEFAULT '{}',
            created_at_ms         INTEGER NOT NULL,
            updated_at_ms         INTEGER NOT NULL,
            deleted_at_ms         INTEGER
        );
        CREATE UNIQUE INDEX environments_current_slug
            ON environments (organization, slug) WHERE deleted_at_ms IS NULL;

        INSERT INTO environments (id, organization, slug, built_in, created_at_ms, updated_at_ms)
        SELECT lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) || '-' || substr('89AB', 1 + abs(random()) % 4, 1) || substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6))), known.organization, built_in.slug, 1,
               CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER),
               CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)
          FROM (SELECT organization FROM api_keys UNION SELECT organization FROM runs
                UNION SELECT organization FROM idempotency_records
                UNION SELECT organization FROM webhook_endpoints
                UNION SELECT organization FROM webhook_signing_secrets
                UNION SELECT organization FROM webhook_deliveries) AS known
         CROSS JOIN (SELECT 'test' AS slug UNION ALL SELECT 'live') AS built_in;

        -- Keys and runs keep their environment's slug (for display) beside its id; the slug
        -- column loses its test/live CHECK by being re-created.
        ALTER TABLE api_keys ADD COLUMN environment_id TEXT NOT NULL DEFAULT '';
        UPDATE api_keys SET environment_id = (SELECT e.id FROM environments e
            WHERE e.organization = api_keys.organization AND e.slug = api_keys.environment);
        ALTER TABLE api_keys ADD COLUMN environment_slug TEXT NOT NULL DEFAULT '';
        UPDATE api_keys SET environment_slug = environment;
        ALTER TABLE api_keys DROP COLUMN environment;
        ALTER TABLE api_keys RENAME COLUMN environment_slug TO environment;
        CREATE INDEX api_keys_by_environment ON api_keys (environment_id) WHERE revoked_at_ms IS NULL;

        DROP INDEX runs_listing;
        DROP INDEX runs_listing_by_status;
        ALTER TABLE runs ADD COLUMN environment_id TEXT NOT NULL DEFAULT '';
        UPDATE runs SET environment_id = (SELECT e.id FROM environments e
            WHERE e.organization = runs.organization AND e.slug = runs.environment);
        ALTER TABLE runs ADD COLUMN environment_slug TEXT NOT NULL DEFAULT '';
        UPDATE runs SET environment_slug = environment;
        ALTER TABLE runs DROP COLUMN environment;
        ALTER TABLE runs RENAME COLUMN environment_slug TO environment;
        -- Where a run's version pin came from: request | engine_pin | environment (NULL: none).
        ALTER TABLE runs ADD COLUMN engine_version_pin_source TEXT;
        UPDATE runs SET engine_version_pin_source = 'request' WHERE engine_version_pin IS NOT NULL;
        CREATE INDEX runs_listing ON runs (organization, environment_id, engine_slug, seq DESC);
        CREATE INDEX runs_listing_by_status
            ON runs (organization, environment_id, engine_slug, status, seq DESC);

        ALTER TABLE idempotency_records RENAME COLUMN environment TO environment_id;
        UPDATE idempotency_records SET environment_id = (SELECT e.id FROM environments e
            WHERE e.organization = idempotency_records.organization AND e.slug = idempotency_records.environment_id);
        ALTER TABLE webhook_endpoints RENAME COLUMN environment TO environment_id;
        UPDATE webhook_endpoints SET environment_id = (SELECT e.id FROM environments e
            WHERE e.organization = webhook_endpoints.organization AND e.slug = webhook_endpoints.environment_id);
        ALTER TABLE webhook_signing_secrets RENAME COLUMN environment TO environment_id;
        UPDATE webhook_signing_secrets SET environment_id = (SELECT e.id FROM environments e
            WHERE e.organization = webhook_signing_secrets.organization
              AND e.slug = webhook_signing_secrets.environment_id);
        ALTER TABLE webhook_deliveries RENAME COLUMN environment TO environment_id;
        UPDATE webhook_deliveries SET environment_id = (SELECT e.id FROM environments e
            WHERE e.organization = webhook_deliveries.organization AND e.slug = webhook_deliveries.environment_id);
    )sql"},
};

constexpr bool versions_ascend() {
    for (std::size_t i = 1; i < kMigrations.size(); ++i) {
        if (kMigrations[i].version <= kMigrations[i - 1].version) return false;
    }
    return kMigrations.front().version > 0;
}
static_assert(versions_ascend(), "migration versions must be positive and strictly ascending");

// ---------------------------------------------------------------------------------------------
// Statements. Each is prepared once per connection (keyed by the address of its text).

constexpr const char* kBegin = "BEGIN IMMEDIATE";
constexpr const char* kCommit = "COMMIT";
constexpr const char* kSavepoint = "SAVEPOINT write";
constexpr const char* kRelease = "RELEASE write";
constexpr const char* kRollbackToSavepoint = "ROLLBACK TO write";

constexpr const char* kInsertConfig = R"sql(
    INSERT INTO engine_configs (hash, config_json) VALUES (?1, ?2)
    ON CONFLICT (hash) DO NOTHING
)sql";

constexpr const char* kInsertPoolSnapshot = R"sql(
    INSERT INTO pool_snapshots (hash, carriers_json, carrier_count) VALUES (?1, ?2, ?3)
    ON CONFLICT (hash) DO NOTHING
)sql";

constexpr const char* kReplacePool = R"sql(
    INSERT INTO pools (organization, name, snapshot, source, imported_at_ms)
    VALUES (?1, ?2, ?3, ?4, ?5)
    ON CONFLICT (organization, name) DO UPDATE
       SET snapshot = excluded.snapshot, source = excluded.source,
           imported_at_ms = excluded.imported_at_ms
)sql";

#define ENGINED_SELECT_POOL                                                              \
    "SELECT p.name, s.carrier_count, p.snapshot, p.source, p.imported_at_ms "           \
    "FROM pools p JOIN pool_snapshots s ON s.hash = p.snapshot "

constexpr const char* kListPools = ENGINED_SELECT_POOL "WHERE p.organization = ?1 ORDER BY p.name";
constexpr const char* kFindPool = ENGINED_SELECT_POOL "WHERE p.organization = ?1 AND p.name = ?2";
constexpr const char* kPoolCarriers = "SELECT carriers_json FROM pool_snapshots WHERE hash = ?1";

// A record older than the window may be taken over; a live one may not (no row changes then).
constexpr const char* kRememberIdempotency = R"sql(
    INSERT INTO idempotency_records (organization, environment_id, idempotency_key, request_hash,
                                     status, response_body, location, created_at_ms)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
    ON CONFLICT (organization, environment_id, idempotency_key) DO UPDATE
       SET request_hash = excluded.request_hash, status = excluded.status,
           response_body = excluded.response_body, location = excluded.location,
           created_at_ms = excluded.created_at_ms
     WHERE idempotency_records.created_at_ms < ?9
)sql";

constexpr const char* kFindIdempotency = R"sql(
    SELECT request_hash, status, response_body, location, created_at_ms FROM idempotency_records
     WHERE organization = ?1 AND environment_id = ?2 AND idempotency_key = ?3 AND created_at_ms >= ?4
)sql";

constexpr const char* kInsertRun = R"sql(
    INSERT INTO runs (id, organization, environment, engine_slug, engine_type, engine_version,
                      engine_version_pin, status, stage, request_json, config_hash, webhook_url,
                      api_key_id, created_at_ms, environment_id, engine_version_pin_source)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'queued', 'queued', ?8, ?9, ?10, ?11, ?12, ?13, ?14)
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

// Shared by every query returning whole runs; read_run() maps the columns in this order.
#define ENGINED_SELECT_RUN                                                                     \
    "SELECT seq, id, organization, environment, engine_slug, engine_type, engine_version, "  \
    "       engine_version_pin, status, stage, request_json, config_hash, webhook_url, "     \
    "       api_key_id, output_json, results_json, error_code, error_message, "              \
    "       error_details_json, trace_json, attempts, created_at_ms, started_at_ms, "        \
    "       completed_at_ms, fingerprint, fingerprint_json, environment_id, "               \
    "       engine_version_pin_source "                                                      \
    "  FROM runs "

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

#undef ENGINED_SELECT_RUN

constexpr const char* kUnfinishedRuns = R"sql(
    SELECT id FROM runs WHERE status IN ('queued', 'processing') ORDER BY seq
)sql";

constexpr const char* kConfigJson = "SELECT config_json FROM engine_configs WHERE hash = ?1";

constexpr const char* kPing = "SELECT max(version) FROM schema_migrations";

constexpr const char* kInsertApiKey = R"sql(
    INSERT INTO api_keys (id, key_hash, organization, environment, scopes, display_prefix,
                          created_at_ms, rate_per_second, rate_burst, environment_id)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
)sql";

constexpr const char* kRevokeApiKey = R"sql(
    UPDATE api_keys SET revoked_at_ms = ?2 WHERE id = ?1 AND revoked_at_ms IS NULL
)sql";

// read_api_key() maps the columns in this order. The environment's default pins come in the same
// read, so a submission needs no second one.
#define ENGINED_SELECT_API_KEY                                                                     \
    "SELECT k.id, k.organization, k.environment, k.scopes, k.display_prefix, k.created_at_ms, "  \
    "       k.revoked_at_ms, k.rate_per_second, k.rate_burst, k.environment_id, "               \
    "       e.pinned_engine_version, coalesce(e.engine_pins_json, '{}') "                        \
    "  FROM api_keys k LEFT JOIN environments e ON e.id = k.environment_id "

constexpr const char* kFindApiKey = ENGINED_SELECT_API_KEY "WHERE k.key_hash = ?1";
constexpr const char* kListApiKeys = ENGINED_SELECT_API_KEY "ORDER BY k.created_at_ms, k.id";
constexpr const char* kListApiKeysOfOrganization =
    ENGINED_SELECT_API_KEY "WHERE k.organization = ?1 ORDER BY k.created_at_ms, k.id";

#undef ENGINED_SELECT_API_KEY

constexpr const char* kEnsureBuiltinEnvironment = R"sql(
    INSERT INTO environments (id, organization, slug, built_in, created_at_ms, updated_at_ms)
    VALUES (lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) || '-' || substr('89AB', 1 + abs(random()) % 4, 1) || substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6))), ?1, ?2, 1, ?3, ?3)
    ON CONFLICT DO NOTHING
)sql";

constexpr const char* kInsertEnvironment = R"sql(
    INSERT INTO environments (id, organization, slug, built_in, pinned_engine_version,
                              engine_pins_json, created_at_ms, updated_at_ms)
    VALUES (?1, ?2, ?3, 0, ?4, ?5, ?6, ?6)
)sql";

constexpr const char* kCountNamedEnvironments = R"sql(
    SELECT count(*) FROM environments WHERE organization = ?1 AND built_in = 0 AND deleted_at_ms IS NULL
)sql";

// read_environment() maps the columns in this order.
#define ENGINED_SELECT_ENVIRONMENT                                                              \
    "SELECT id, organization, slug, built_in, pinned_engine_version, engine_pins_json, "       \
    "       created_at_ms, updated_at_ms FROM environments "

constexpr const char* kListEnvironments = ENGINED_SELECT_ENVIRONMENT
    "WHERE organization = ?1 AND deleted_at_ms IS NULL "
    "ORDER BY built_in DESC, slug = 'live', created_at_ms, slug";
constexpr const char* kFindEnvironment = ENGINED_SELECT_ENVIRONMENT
    "WHERE organization = ?1 AND slug = ?2 AND deleted_at_ms IS NULL";

#undef ENGINED_SELECT_ENVIRONMENT

constexpr const char* kUpdateEnvironmentPins = R"sql(
    UPDATE environments SET pinned_engine_version = ?3, engine_pins_json = ?4, updated_at_ms = ?5
     WHERE organization = ?1 AND slug = ?2 AND deleted_at_ms IS NULL
)sql";

constexpr const char* kActiveKeysOfEnvironment = R"sql(
    SELECT count(*) FROM api_keys k JOIN environments e ON e.id = k.environment_id
     WHERE e.organization = ?1 AND e.slug = ?2 AND e.deleted_at_ms IS NULL AND k.revoked_at_ms IS NULL
)sql";

constexpr const char* kDeleteEnvironment = R"sql(
    UPDATE environments SET deleted_at_ms = ?3, updated_at_ms = ?3
     WHERE organization = ?1 AND slug = ?2 AND built_in = 0 AND deleted_at_ms IS NULL
)sql";

constexpr const char* kInsertEngine = R"sql(
    INSERT INTO engines (id, organization, slug, label, description, engine_type, status,
                         config_hash, config_updated_by, config_updated_at_ms, created_at_ms,
                         updated_at_ms)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
)sql";

// Binds like kInsertEngine. Seeds a built-in engine once; afterwards its row is the operator's.
constexpr const char* kEnsureBuiltinEngine = R"sql(
    INSERT INTO engines (id, organization, slug, label, description, engine_type, status,
                         config_hash, config_updated_by, config_updated_at_ms, created_at_ms,
                         updated_at_ms)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
    ON CONFLICT (organization, slug) DO NOTHING
)sql";

constexpr const char* kEngineExists =
    "SELECT 1 FROM engines WHERE organization = ?1 AND slug = ?2";

constexpr const char* kUpdateEngineConfig = R"sql(
    UPDATE engines
       SET config_hash = ?3, config_updated_by = ?4, config_updated_at_ms = ?5,
           updated_at_ms = ?5
     WHERE organization = ?1 AND slug = ?2
)sql";

constexpr const char* kSetEngineStatus = R"sql(
    UPDATE engines SET status = ?3, updated_at_ms = ?4 WHERE organization = ?1 AND slug = ?2
)sql";

// read_engine() maps the columns in this order.
#define ENGINED_SELECT_ENGINE                                                                  \
    "SELECT id, organization, slug, label, description, engine_type, status, config_hash, "  \
    "       config_updated_by, config_updated_at_ms, created_at_ms, updated_at_ms "          \
    "  FROM engines "

constexpr const char* kGetEngine = ENGINED_SELECT_ENGINE "WHERE organization = ?1 AND slug = ?2";
// '' sorts before any organisation: its own engine comes first, the built-in one otherwise.
constexpr const char* kFindEngine = ENGINED_SELECT_ENGINE R"sql(
     WHERE slug = ?2 AND organization IN (?1, '')
     ORDER BY organization DESC
     LIMIT 1
)sql";
constexpr const char* kListEngines =
    ENGINED_SELECT_ENGINE "WHERE organization IN (?1, '') ORDER BY organization, slug";

#undef ENGINED_SELECT_ENGINE

constexpr const char* kInsertRelease = R"sql(
    INSERT INTO engine_releases (organization, engine_slug, major, minor, config_hash,
                                 content_hash, bundle_json, changelog, bump,
                                 is_breaking_from_previous_major, reasons_json, published_by,
                                 released_at_ms)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
)sql";

// read_release() maps the columns in this order.
#define ENGINED_SELECT_RELEASE                                                                 \
    "SELECT organization, engine_slug, major, minor, config_hash, content_hash, "            \
    "       bundle_json, changelog, bump, is_breaking_from_previous_major, reasons_json, "   \
    "       published_by, released_at_ms "                                                   \
    "  FROM engine_releases "

constexpr const char* kListReleases = ENGINED_SELECT_RELEASE
    "WHERE organization = ?1 AND engine_slug = ?2 ORDER BY major, minor";
constexpr const char* kFindRelease = ENGINED_SELECT_RELEASE
    "WHERE organization = ?1 AND engine_slug = ?2 AND major = ?3 AND minor = ?4";

#undef ENGINED_SELECT_RELEASE

// ---------------------------------------------------------------------------------------------
// Connections.

struct DatabaseCloser {
    void operator()(sqlite3* db) const noexcept { sqlite3_close_v2(db); }
};
struct StatementFinalizer {
    void operator()(sqlite3_stmt* statement) const noexcept { sqlite3_finalize(statement); }
};
using DatabaseHandle = std::unique_ptr<sqlite3, DatabaseCloser>;
using StatementHandle = std::unique_ptr<sqlite3_stmt, StatementFinalizer>;

[[noreturn]] void fail(std::string_view operation, std::string_view message) {
    throw StoreUnavailable(std::string(operation) + ": " + std::string(message));
}

// An open database and its prepared statements; used by one thread at a time.
class Connection {
public:
    Connection(const std::string& path, int flags, int busy_timeout_ms) {
        sqlite3* raw = nullptr;
        const int rc = sqlite3_open_v2(path.c_str(), &raw, flags | SQLITE_OPEN_NOMUTEX, nullptr);
        // Even a failed open allocates a handle (it carries the message): own it first.
        db_.reset(raw);
        if (rc != SQLITE_OK) {
            fail("open " + path, db_ ? sqlite3_errmsg(db_.get()) : sqlite3_errstr(rc));
        }
        sqlite3_busy_timeout(db_.get(), busy_timeout_ms);
    }

    sqlite3* get() const { return db_.get(); }

    sqlite3_stmt* prepared(const char* sql, std::string_view operation) {
        auto found = statements_.find(sql);
        if (found != statements_.end()) return found->second.get();
        sqlite3_stmt* raw = nullptr;
        if (sqlite3_prepare_v3(db_.get(), sql, -1, SQLITE_PREPARE_PERSISTENT, &raw, nullptr) !=
            SQLITE_OK) {
            fail(operation, sqlite3_errmsg(db_.get()));
        }
        return statements_.emplace(sql, StatementHandle(raw)).first->second.get();
    }

    // For statements run once per connection (pragmas, migrations): not worth caching.
    void exec(const char* sql, std::string_view operation) {
        if (sqlite3_exec(db_.get(), sql, nullptr, nullptr, nullptr) != SQLITE_OK) {
            fail(operation, sqlite3_errmsg(db_.get()));
        }
    }

    // A one-row, one-column pragma answer, e.g. the journal mode actually in force.
    std::string pragma(const char* sql, std::string_view operation) {
        sqlite3_stmt* raw = nullptr;
        if (sqlite3_prepare_v2(db_.get(), sql, -1, &raw, nullptr) != SQLITE_OK) {
            fail(operation, sqlite3_errmsg(db_.get()));
        }
        StatementHandle statement(raw);
        const int rc = sqlite3_step(statement.get());
        if (rc != SQLITE_ROW) fail(operation, sqlite3_errmsg(db_.get()));
        const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(statement.get(), 0));
        return text ? text : "";
    }

    // After a failed batch. SQLite may already have rolled back by itself (I/O errors, disk
    // full), so "no transaction open" is fine and any error here adds nothing to the first one.
    void rollback_if_open() noexcept {
        if (!sqlite3_get_autocommit(db_.get())) {
            sqlite3_exec(db_.get(), "ROLLBACK", nullptr, nullptr, nullptr);
        }
    }

private:
    // Declared before the statements so that they are finalized before the database closes.
    DatabaseHandle db_;
    std::unordered_map<const char*, StatementHandle> statements_;
};

// One execution of a cached statement. Resetting on scope exit matters beyond reuse: a SELECT
// left un-reset keeps its read transaction open and stops WAL checkpoints from advancing.
class Query {
public:
    Query(Connection& connection, const char* sql, std::string_view operation)
        : db_(connection.get()),
          statement_(connection.prepared(sql, operation)),
          operation_(operation) {}
    ~Query() {
        sqlite3_reset(statement_);
        sqlite3_clear_bindings(statement_);
    }
    Query(const Query&) = delete;
    Query& operator=(const Query&) = delete;

    Query& bind(int index, std::string_view text) {
        // A null pointer would bind SQL NULL; an empty view must stay an empty string.
        const char* data = text.data() != nullptr ? text.data() : "";
        return check_bind(sqlite3_bind_text64(statement_, index, data, text.size(),
                                              SQLITE_TRANSIENT, SQLITE_UTF8));
    }
    Query& bind(int index, int64_t value) {
        return check_bind(sqlite3_bind_int64(statement_, index, value));
    }
    Query& bind_optional(int index, const std::optional<std::string>& text) {
        return text ? bind(index, *text) : check_bind(sqlite3_bind_null(statement_, index));
    }
    Query& bind_optional(int index, const std::optional<double>& number) {
        return number ? check_bind(sqlite3_bind_double(statement_, index, *number))
                      : check_bind(sqlite3_bind_null(statement_, index));
    }
    Query& bind_optional(int index, const std::optional<int64_t>& number) {
        return number ? bind(index, *number) : check_bind(sqlite3_bind_null(statement_, index));
    }

    // Steps once; true while a row is available.
    bool next() {
        const int rc = sqlite3_step(statement_);
        if (rc == SQLITE_ROW) return true;
        if (rc == SQLITE_DONE) return false;
        // A constraint failure belongs to the one write that broke it, not to the store.
        if ((rc & 0xff) == SQLITE_CONSTRAINT) {
            throw std::invalid_argument(std::string(operation_) + ": " + sqlite3_errmsg(db_));
        }
        fail(operation_, sqlite3_errmsg(db_));
    }

    // Runs a statement that returns no rows; how many rows it changed.
    int run() {
        while (next()) {
        }
        return sqlite3_changes(db_);
    }

    std::string text(int column) const {
        const auto* data = sqlite3_column_text(statement_, column);
        if (data == nullptr) return {};
        return {reinterpret_cast<const char*>(data),
                static_cast<std::size_t>(sqlite3_column_bytes(statement_, column))};
    }
    std::optional<std::string> optional_text(int column) const {
        if (sqlite3_column_type(statement_, column) == SQLITE_NULL) return std::nullopt;
        return text(column);
    }
    int64_t integer(int column) const { return sqlite3_column_int64(statement_, column); }
    std::optional<int64_t> optional_integer(int column) const {
        if (sqlite3_column_type(statement_, column) == SQLITE_NULL) return std::nullopt;
        return integer(column);
    }
    std::optional<double> optional_real(int column) const {
        if (sqlite3_column_type(statement_, column) == SQLITE_NULL) return std::nullopt;
        return sqlite3_column_double(statement_, column);
    }

private:
    Query& check_bind(int rc) {
        if (rc != SQLITE_OK) fail(operation_, sqlite3_errmsg(db_));
        return *this;
    }

    sqlite3* db_;
    sqlite3_stmt* statement_;
    std::string_view operation_;
};

// The database holds key hashes, webhook secrets and every request: readable by engined's user
// only. Creates a missing file 0600 and takes group and other access away from an existing one
// (owner bits stay, so a read-only file is still refused below). SQLite gives the -wal and -shm
// files it creates the main file's mode; existing ones are tightened the same way.
void restrict_to_owner(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CREAT | O_CLOEXEC, S_IRUSR | S_IWUSR);
    if (fd < 0) fail("open " + path, std::strerror(errno));
    struct stat status {};
    const bool tightened = ::fstat(fd, &status) == 0 && ::fchmod(fd, status.st_mode & S_IRWXU) == 0;
    const int error = errno;
    ::close(fd);
    if (!tightened) fail("restrict access to " + path, std::strerror(error));
    for (const char* companion : {"-wal", "-shm"}) {
        const std::string companion_path = path + companion;
        if (::stat(companion_path.c_str(), &status) == 0) ::chmod(companion_path.c_str(), status.st_mode & S_IRWXU);
    }
}

Connection open_writer(const Options& options) {
    restrict_to_owner(options.path);
    Connection connection(options.path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                          options.busy_timeout_ms);
    // SQLite quietly falls back to read-only when it cannot write the file; every write would
    // then fail later, one by one. Refuse now instead.
    if (sqlite3_db_readonly(connection.get(), "main") == 1) {
        fail("open " + options.path, "the database file is read-only");
    }
    const std::string mode = connection.pragma("PRAGMA journal_mode = WAL", "enable WAL");
    if (mode != "wal") fail("enable WAL", "journal mode stayed '" + mode + "'");
    // Debian builds SQLite with synchronous=FULL even in WAL: state the choice explicitly.
    connection.exec(options.synchronous_full ? "PRAGMA synchronous = FULL"
                                             : "PRAGMA synchronous = NORMAL",
                    "set synchronous");
    connection.exec("PRAGMA foreign_keys = ON", "enable foreign keys");
    return connection;
}

// Applies every step not yet recorded; returns the highest version applied.
int migrate(Connection& connection) {
    connection.exec(R"sql(
        CREATE TABLE IF NOT EXISTS schema_migrations (
            version       INTEGER PRIMARY KEY,
            applied_at_ms INTEGER NOT NULL
        )
    )sql",
                    "create schema_migrations");
    for (const Migration& step : kMigrations) {
        const std::string operation = "migration " + std::to_string(step.version);
        try {
            connection.exec("BEGIN IMMEDIATE", operation);
            // Checked inside the write transaction: another process may have opened the same
            // file a moment earlier and applied the step already.
            bool applied = false;
            {
                Query query(connection, "SELECT 1 FROM schema_migrations WHERE version = ?1",
                            operation);
                query.bind(1, static_cast<int64_t>(step.version));
                applied = query.next();
            }
            if (!applied) {
                connection.exec(step.sql, operation);
                Query record(connection,
                             "INSERT INTO schema_migrations (version, applied_at_ms) "
                             "VALUES (?1, ?2)",
                             operation);
                record.bind(1, static_cast<int64_t>(step.version)).bind(2, now_unix_ms()).run();
            }
            connection.exec("COMMIT", operation);
        } catch (...) {
            connection.rollback_if_open();
            throw;
        }
    }
    Query query(connection, kPing, "read schema version");
    query.next();
    return static_cast<int>(query.integer(0));
}

// Read connections, each taken by one call and given back, so that request threads read in
// parallel with each other and with the writer.
class ReaderPool {
public:
    ReaderPool(std::string path, int busy_timeout_ms)
        : path_(std::move(path)), busy_timeout_ms_(busy_timeout_ms) {}

    class Lease {
    public:
        Lease(ReaderPool& pool, std::unique_ptr<Connection> connection)
            : pool_(pool), connection_(std::move(connection)) {}
        ~Lease() { pool_.give_back(std::move(connection_)); }
        Lease(const Lease&) = delete;
        Lease& operator=(const Lease&) = delete;
        Connection& operator*() const { return *connection_; }

    private:
        ReaderPool& pool_;
        std::unique_ptr<Connection> connection_;
    };

    Lease acquire() {
        {
            std::lock_guard lock(mutex_);
            if (!idle_.empty()) {
                auto connection = std::move(idle_.back());
                idle_.pop_back();
                return Lease(*this, std::move(connection));
            }
        }
        // Opened outside the lock: it touches the file system.
        auto connection = std::make_unique<Connection>(path_, SQLITE_OPEN_READWRITE,
                                                       busy_timeout_ms_);
        // Read-write rather than read-only: a read-only connection cannot always set up the
        // WAL index. query_only keeps it from ever writing.
        connection->exec("PRAGMA query_only = ON", "open read connection");
        return Lease(*this, std::move(connection));
    }

private:
    // A burst of readers opens a connection each; keeping all of them would pin file handles
    // and page caches long after the burst.
    static constexpr std::size_t kMaxIdle = 8;

    void give_back(std::unique_ptr<Connection> connection) {
        std::lock_guard lock(mutex_);
        if (idle_.size() < kMaxIdle) idle_.push_back(std::move(connection));
    }

    std::string path_;
    int busy_timeout_ms_;
    std::mutex mutex_;
    std::vector<std::unique_ptr<Connection>> idle_;
};

// ---------------------------------------------------------------------------------------------
// Row mapping and the writes' bodies.

Run read_run(const Query& row) {
    Run run;
    run.seq = row.integer(0);
    run.id = row.text(1);
    run.organization = row.text(2);
    run.environment = row.text(3);
    run.engine_slug = row.text(4);
    run.engine_type = row.text(5);
    run.engine_version = row.optional_text(6);
    run.engine_version_pin = row.optional_text(7);
    const std::string status = row.text(8);
    const auto parsed = parse_run_status(status);
    if (!parsed) fail("read run " + run.id, "unknown status '" + status + "'");
    run.status = *parsed;
    run.stage = row.text(9);
    run.request_json = row.text(10);
    run.config_hash = row.text(11);
    run.webhook_url = row.optional_text(12);
    run.api_key_id = row.text(13);
    run.output_json = row.text(14);
    run.results_json = row.text(15);
    run.error_code = row.optional_text(16);
    run.error_message = row.optional_text(17);
    run.error_details_json = row.text(18);
    run.trace_json = row.text(19);
    run.attempts = static_cast<int>(row.integer(20));
    run.created_at_ms = row.integer(21);
    run.started_at_ms = row.optional_integer(22);
    run.completed_at_ms = row.optional_integer(23);
    run.fingerprint = row.optional_text(24);
    run.fingerprint_json = row.optional_text(25);
    run.environment_id = row.text(26);
    run.engine_version_pin_source = row.optional_text(27);
    return run;
}

ApiKey read_api_key(const Query& row) {
    ApiKey key;
    key.id = row.text(0);
    key.organization = row.text(1);
    key.environment = row.text(2);
    const std::string scopes = row.text(3);
    for (std::size_t start = 0; start < scopes.size();) {
        const std::size_t comma = std::min(scopes.find(',', start), scopes.size());
        if (comma > start) key.scopes.push_back(scopes.substr(start, comma - start));
        start = comma + 1;
    }
    key.display_prefix = row.text(4);
    key.created_at_ms = row.integer(5);
    key.revoked_at_ms = row.optional_integer(6);
    key.rate_per_second = row.optional_real(7);
    key.rate_burst = row.optional_integer(8);
    key.environment_id = row.text(9);
    key.pinned_engine_version = row.optional_text(10);
    key.engine_pins_json = row.text(11);
    return key;
}

Environment read_environment(const Query& row) {
    Environment environment;
    environment.id = row.text(0);
    environment.organization = row.text(1);
    environment.slug = row.text(2);
    environment.built_in = row.integer(3) != 0;
    environment.pinned_engine_version = row.optional_text(4);
    environment.engine_pins_json = row.text(5);
    environment.created_at_ms = row.integer(6);
    environment.updated_at_ms = row.integer(7);
    return environment;
}

EngineRecord read_engine(const Query& row) {
    EngineRecord engine;
    engine.id = row.text(0);
    engine.organization = row.text(1);
    engine.slug = row.text(2);
    engine.label = row.text(3);
    engine.description = row.text(4);
    engine.engine_type = row.text(5);
    engine.status = row.text(6);
    engine.config_hash = row.text(7);
    engine.config_updated_by = row.text(8);
    engine.config_updated_at_ms = row.integer(9);
    engine.created_at_ms = row.integer(10);
    engine.updated_at_ms = row.integer(11);
    return engine;
}

ReleaseRecord read_release(const Query& row) {
    ReleaseRecord release;
    release.organization = row.text(0);
    release.engine_slug = row.text(1);
    release.major = static_cast<int>(row.integer(2));
    release.minor = static_cast<int>(row.integer(3));
    release.config_hash = row.text(4);
    release.content_hash = row.text(5);
    release.bundle_json = row.text(6);
    release.changelog = row.text(7);
    release.bump = row.text(8);
    release.is_breaking_from_previous_major = row.integer(9) != 0;
    release.reasons_json = row.text(10);
    release.published_by = row.text(11);
    release.released_at_ms = row.integer(12);
    return release;
}

// Content-addressed: a hash already stored keeps its first text.
void insert_config(Connection& connection, std::string_view hash, std::string_view config_json,
                   std::string_view operation) {
    Query(connection, kInsertConfig, operation).bind(1, hash).bind(2, config_json).run();
}

PoolSummary read_pool(const Query& row) {
    return {row.text(0), row.integer(1), row.text(2), row.text(3), row.integer(4)};
}

// The store keeps JSON opaque, but a pool's size is part of its summary: count the array's
// elements without interpreting them.
int64_t count_array_elements(std::string_view json_array) {
    boost::system::error_code ec;
    const boost::json::value parsed = boost::json::parse(json_array, ec);
    if (ec || !parsed.is_array() || parsed.get_array().empty()) {
        throw std::invalid_argument("replace_pool: carriers must be a non-empty JSON array");
    }
    return static_cast<int64_t>(parsed.get_array().size());
}

// For kInsertEngine and kEnsureBuiltinEngine, which take the same parameters.
void bind_engine(Query& query, const EngineRecord& engine) {
    query.bind(1, engine.id)
        .bind(2, engine.organization)
        .bind(3, engine.slug)
        .bind(4, engine.label)
        .bind(5, engine.description)
        .bind(6, engine.engine_type)
        .bind(7, engine.status)
        .bind(8, engine.config_hash)
        .bind(9, engine.config_updated_by)
        .bind(10, engine.config_updated_at_ms)
        .bind(11, engine.created_at_ms)
        .bind(12, engine.updated_at_ms);
}

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

void apply_remember_idempotency(Connection& connection, const IdempotencyRecord& record) {
    const int changed = Query(connection, kRememberIdempotency, "remember_idempotency")
                            .bind(1, record.organization)
                            .bind(2, record.environment_id)
                            .bind(3, record.key)
                            .bind(4, record.request_hash)
                            .bind(5, static_cast<int64_t>(record.status))
                            .bind(6, record.response_body)
                            .bind(7, record.location)
                            .bind(8, record.created_at_ms)
                            .bind(9, record.created_at_ms - kIdempotencyWindowMs)
                            .run();
    if (changed == 0) throw IdempotencyKeyTaken("idempotency key '" + record.key + "' is already in use");
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

void add_run_event_deliveries(Connection& connection, const std::string& run_id, const RunOutcome& outcome);

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

// A write waiting for the writer thread: its statements, and whom to tell how they ended.
struct PendingWrite {
    std::function<void(Connection&)> apply;
    Completion done;
};

}  // namespace

// ---------------------------------------------------------------------------------------------

struct Store::Impl {
    explicit Impl(Options opts)
        : options(std::move(opts)),
          writer(open_writer(options)),
          schema_version(migrate(writer)),
          readers(options.path, options.busy_timeout_ms),
          writer_thread([this] { write_loop(); }) {}

    ~Impl() {
        {
            std::lock_guard lock(queue_mutex);
            stopping = true;
        }
        queue_ready.notify_one();
        writer_thread.join();
    }

    void enqueue(PendingWrite write) {
        {
            std::lock_guard lock(queue_mutex);
            if (stopping) throw StoreUnavailable("store is closing");
            queue.push_back(std::move(write));
        }
        queue_ready.notify_one();
    }

    // For the synchronous writes: the caller blocks until the writer's commit (or failure).
    void write_and_wait(std::function<void(Connection&)> apply) {
        auto committed = std::make_shared<std::promise<void>>();
        std::future<void> result = committed->get_future();
        enqueue({std::move(apply), [committed](std::exception_ptr error) {
                     if (error) {
                         committed->set_exception(error);
                     } else {
                         committed->set_value();
                     }
                 }});
        result.get();
    }

    void write_loop() {
        std::vector<PendingWrite> batch;
        for (;;) {
            {
                std::unique_lock lock(queue_mutex);
                queue_ready.wait(lock, [this] { return stopping || !queue.empty(); });
                // Stopping still drains: whatever was accepted gets committed.
                if (queue.empty()) return;
                const std::size_t take = std::min(queue.size(), options.max_batch);
                for (std::size_t i = 0; i < take; ++i) {
                    batch.push_back(std::move(queue.front()));
                    queue.pop_front();
                }
            }
            commit(batch);
            batch.clear();
        }
    }

    // One transaction for the whole batch, one savepoint per write: a write that breaks a
    // constraint or a state rule is undone alone, while a failure of the database itself
    // (BEGIN, COMMIT, I/O) fails every write of the batch and leaves nothing behind.
    void commit(std::vector<PendingWrite>& batch) {
        std::vector<std::exception_ptr> outcomes(batch.size());
        try {
            Query(writer, kBegin, "begin transaction").run();
            for (std::size_t i = 0; i < batch.size(); ++i) {
                Query(writer, kSavepoint, "savepoint").run();
                try {
                    batch[i].apply(writer);
                    Query(writer, kRelease, "release savepoint").run();
                } catch (const StoreUnavailable&) {
                    throw;
                } catch (...) {
                    outcomes[i] = std::current_exception();
                    Query(writer, kRollbackToSavepoint, "roll back savepoint").run();
                    Query(writer, kRelease, "release savepoint").run();
                }
            }
            Query(writer, kCommit, "commit").run();
            transactions.fetch_add(1, std::memory_order_relaxed);
            writes.fetch_add(batch.size(), std::memory_order_relaxed);
            if (batch.size() > largest_batch.load(std::memory_order_relaxed)) {
                largest_batch.store(batch.size(), std::memory_order_relaxed);
            }
            if (options.on_commit) options.on_commit(batch.size());
        } catch (const StoreUnavailable&) {
            writer.rollback_if_open();
            std::fill(outcomes.begin(), outcomes.end(), std::current_exception());
        }
        for (std::size_t i = 0; i < batch.size(); ++i) {
            if (!batch[i].done) continue;
            // A throwing completion is its caller's bug; it must not stop the writer, which
            // every other caller depends on.
            try {
                batch[i].done(std::move(outcomes[i]));
            } catch (...) {
            }
        }
    }

    const Options options;
    Connection writer;  // touched only by the writer thread once it runs
    const int schema_version;
    ReaderPool readers;

    std::mutex queue_mutex;
    std::condition_variable queue_ready;
    std::deque<PendingWrite> queue;
    bool stopping = false;

    std::atomic<uint64_t> transactions{0};
    std::atomic<uint64_t> writes{0};
    std::atomic<uint64_t> largest_batch{0};

    // Last: started once everything it uses exists, joined before any of it goes.
    std::thread writer_thread;
};

Store::Store(Options options) {
    if (options.max_batch == 0) throw std::invalid_argument("Store: max_batch must be positive");
    impl_ = std::make_unique<Impl>(std::move(options));
}

Store::~Store() = default;

int Store::schema_version() const { return impl_->schema_version; }

void Store::insert_run(NewRun run, Completion done) {
    impl_->enqueue({[run = std::move(run)](Connection& c) { apply_insert_run(c, run); },
                    std::move(done)});
}

void Store::mark_processing(std::string run_id, int64_t started_at_ms, Completion done) {
    impl_->enqueue({[run_id = std::move(run_id), started_at_ms](Connection& c) {
                        apply_mark_processing(c, run_id, started_at_ms);
                    },
                    std::move(done)});
}

void Store::finish_run(std::string run_id, RunOutcome outcome, Completion done) {
    impl_->enqueue({[run_id = std::move(run_id), outcome = std::move(outcome)](Connection& c) {
                        apply_finish_run(c, run_id, outcome);
                    },
                    std::move(done)});
}

void Store::insert_api_key(const ApiKey& key, std::string_view key_hash) {
    std::string scopes;
    for (const std::string& scope : key.scopes) {
        if (scope.empty() || scope.find(',') != std::string::npos) {
            throw std::invalid_argument("insert_api_key: invalid scope '" + scope + "'");
        }
        if (!scopes.empty()) scopes += ',';
        scopes += scope;
    }
    // The caller waits for the commit, so the lambda may refer to its arguments.
    impl_->write_and_wait([&](Connection& c) {
        Query(c, kInsertApiKey, "insert_api_key")
            .bind(1, key.id)
            .bind(2, key_hash)
            .bind(3, key.organization)
            .bind(4, key.environment)
            .bind(5, scopes)
            .bind(6, key.display_prefix)
            .bind(7, key.created_at_ms)
            .bind_optional(8, key.rate_per_second)
            .bind_optional(9, key.rate_burst)
            .bind(10, key.environment_id)
            .run();
    });
}

std::optional<ApiKey> Store::find_api_key(std::string_view key_hash) const {
    auto lease = impl_->readers.acquire();
    Query query(*lease, kFindApiKey, "find_api_key");
    query.bind(1, key_hash);
    if (!query.next()) return std::nullopt;
    return read_api_key(query);
}

std::vector<ApiKey> Store::list_api_keys(const std::optional<std::string>& organization) const {
    auto lease = impl_->readers.acquire();
    Query query(*lease, organization ? kListApiKeysOfOrganization : kListApiKeys,
                "list_api_keys");
    if (organization) query.bind(1, *organization);
    std::vector<ApiKey> keys;
    while (query.next()) keys.push_back(read_api_key(query));
    return keys;
}

bool Store::revoke_api_key(std::string_view key_id, int64_t at_ms) {
    bool revoked = false;
    impl_->write_and_wait([&](Connection& c) {
        Query revoke(c, kRevokeApiKey, "revoke_api_key");
        revoked = revoke.bind(1, key_id).bind(2, at_ms).run() > 0;
    });
    return revoked;
}

void Store::ensure_builtin_environments(std::string_view organization, int64_t at_ms) {
    impl_->write_and_wait([&](Connection& c) {
        for (const char* slug : {"test", "live"}) {
            Query(c, kEnsureBuiltinEnvironment, "ensure_builtin_environments")
                .bind(1, organization)
                .bind(2, slug)
                .bind(3, at_ms)
                .run();
        }
    });
}

void Store::insert_environment(const Environment& environment, int max_named) {
    impl_->write_and_wait([&](Connection& c) {
        Query(c, kInsertEnvironment, "insert_environment")
            .bind(1, environment.id)
            .bind(2, environment.organization)
            .bind(3, environment.slug)
            .bind_optional(4, environment.pinned_engine_version)
            .bind(5, environment.engine_pins_json)
            .bind(6, environment.created_at_ms)
            .run();
        Query count(c, kCountNamedEnvironments, "count named environments");
        count.bind(1, environment.organization);
        count.next();
        if (count.integer(0) > max_named) {
            throw TooManyEnvironments("an organisation may have at most " + std::to_string(max_named) +
                                      " environments besides test and live");
        }
    });
}

std::vector<Environment> Store::list_environments(std::string_view organization) const {
    auto lease = impl_->readers.acquire();
    Query query(*lease, kListEnvironments, "list_environments");
    query.bind(1, organization);
    std::vector<Environment> environments;
    while (query.next()) environments.push_back(read_environment(query));
    return environments;
}

std::optional<Environment> Store::find_environment(std::string_view organization, std::string_view slug) const {
    auto lease = impl_->readers.acquire();
    Query query(*lease, kFindEnvironment, "find_environment");
    query.bind(1, organization).bind(2, slug);
    if (!query.next()) return std::nullopt;
    return read_environment(query);
}

bool Store::update_environment_pins(const Environment& environment) {
    int changed = 0;
    impl_->write_and_wait([&](Connection& c) {
        changed = Query(c, kUpdateEnvironmentPins, "update_environment_pins")
                      .bind(1, environment.organization)
                      .bind(2, environment.slug)
                      .bind_optional(3, environment.pinned_engine_version)
                      .bind(4, environment.engine_pins_json)
                      .bind(5, environment.updated_at_ms)
                      .run();
    });
    return changed > 0;
}

bool Store::delete_environment(std::string_view organization, std::string_view slug, int64_t at_ms) {
    int changed = 0;
    impl_->write_and_wait([&](Connection& c) {
        Query active(c, kActiveKeysOfEnvironment, "delete_environment (keys)");
        active.bind(1, organization).bind(2, slug);
        active.next();
        if (const int64_t keys = active.integer(0); keys > 0) {
            throw EnvironmentHasActiveKeys("environment '" + std::string(slug) + "' still has " +
                                           std::to_string(keys) + " active key(s)");
        }
        changed = Query(c, kDeleteEnvironment, "delete_environment")
                      .bind(1, organization)
                      .bind(2, slug)
                      .bind(3, at_ms)
                      .run();
    });
    return changed > 0;
}

void Store::insert_engine(const EngineRecord& engine, std::string_view config_json) {
    impl_->write_and_wait([&](Connection& c) {
        insert_config(c, engine.config_hash, config_json, "insert_engine (config)");
        Query query(c, kInsertEngine, "insert_engine");
        bind_engine(query, engine);
        query.run();
    });
}

EngineRecord Store::ensure_builtin_engine(const EngineRecord& engine,
                                          std::string_view config_json) {
    EngineRecord stored;
    impl_->write_and_wait([&](Connection& c) {
        insert_config(c, engine.config_hash, config_json, "ensure_builtin_engine (config)");
        {
            Query upsert(c, kEnsureBuiltinEngine, "ensure_builtin_engine");
            bind_engine(upsert, engine);
            upsert.run();
        }
        // Read inside the write: the record returned is exactly what this write left.
        Query query(c, kGetEngine, "ensure_builtin_engine (read back)");
        query.bind(1, engine.organization).bind(2, engine.slug);
        // Not StoreUnavailable: that would fail every other write of the batch too.
        if (!query.next()) throw std::logic_error("ensure_builtin_engine: no row after upsert");
        stored = read_engine(query);
    });
    return stored;
}

bool Store::update_engine_config(std::string_view organization, std::string_view slug,
                                 std::string_view config_hash, std::string_view config_json,
                                 std::string_view updated_by, int64_t at_ms) {
    bool updated = false;
    impl_->write_and_wait([&](Connection& c) {
        // Checked first so that an unknown engine leaves no configuration behind: stored
        // configurations are never deleted.
        {
            Query exists(c, kEngineExists, "update_engine_config");
            if (!exists.bind(1, organization).bind(2, slug).next()) return;
        }
        insert_config(c, config_hash, config_json, "update_engine_config (config)");
        Query update(c, kUpdateEngineConfig, "update_engine_config");
        update.bind(1, organization)
            .bind(2, slug)
            .bind(3, config_hash)
            .bind(4, updated_by)
            .bind(5, at_ms);
        updated = update.run() > 0;
    });
    return updated;
}

bool Store::set_engine_status(std::string_view organization, std::string_view slug,
                              std::string_view status, int64_t at_ms) {
    bool updated = false;
    impl_->write_and_wait([&](Connection& c) {
        Query update(c, kSetEngineStatus, "set_engine_status");
        update.bind(1, organization).bind(2, slug).bind(3, status).bind(4, at_ms);
        updated = update.run() > 0;
    });
    return updated;
}

void Store::insert_release(const ReleaseRecord& release, std::string_view config_json) {
    impl_->write_and_wait([&](Connection& c) {
        insert_config(c, release.config_hash, config_json, "insert_release (config)");
        Query(c, kInsertRelease, "insert_release")
            .bind(1, release.organization)
            .bind(2, release.engine_slug)
            .bind(3, static_cast<int64_t>(release.major))
            .bind(4, static_cast<int64_t>(release.minor))
            .bind(5, release.config_hash)
            .bind(6, release.content_hash)
            .bind(7, release.bundle_json)
            .bind(8, release.changelog)
            .bind(9, release.bump)
            .bind(10, static_cast<int64_t>(release.is_breaking_from_previous_major))
            .bind(11, release.reasons_json)
            .bind(12, release.published_by)
            .bind(13, release.released_at_ms)
            .run();
    });
}

std::optional<EngineRecord> Store::find_engine(std::string_view organization,
                                               std::string_view slug) const {
    auto lease = impl_->readers.acquire();
    Query query(*lease, kFindEngine, "find_engine");
    query.bind(1, organization).bind(2, slug);
    if (!query.next()) return std::nullopt;
    return read_engine(query);
}

std::optional<IdempotencyRecord> Store::find_idempotency(std::string_view organization, std::string_view environment_id,
                                                         std::string_view key, int64_t now_ms) const {
    auto lease = impl_->readers.acquire();
    Query query(*lease, kFindIdempotency, "find_idempotency");
    query.bind(1, organization).bind(2, environment_id).bind(3, key).bind(4, now_ms - kIdempotencyWindowMs);
    if (!query.next()) return std::nullopt;
    return IdempotencyRecord{std::string(organization), std::string(environment_id), std::string(key),
                             query.text(0), static_cast<int>(query.integer(1)), query.text(2), query.text(3),
                             query.integer(4)};
}

void Store::remember_idempotency(IdempotencyRecord record, Completion done) {
    impl_->enqueue({[record = std::move(record)](Connection& c) { apply_remember_idempotency(c, record); },
                    std::move(done)});
}

PoolSummary Store::replace_pool(std::string_view organization, std::string_view name,
                               std::string_view carriers_json, std::string_view source,
                               int64_t at_ms) {
    const PoolSummary summary{std::string(name), count_array_elements(carriers_json),
                              sha256_hex(carriers_json), std::string(source), at_ms};
    impl_->write_and_wait([&](Connection& c) {
        Query(c, kInsertPoolSnapshot, "replace_pool (snapshot)")
            .bind(1, summary.snapshot)
            .bind(2, carriers_json)
            .bind(3, summary.carrier_count)
            .run();
        Query(c, kReplacePool, "replace_pool")
            .bind(1, organization)
            .bind(2, name)
            .bind(3, summary.snapshot)
            .bind(4, source)
            .bind(5, at_ms)
            .run();
    });
    return summary;
}

std::vector<PoolSummary> Store::list_pools(std::string_view organization) const {
    auto lease = impl_->readers.acquire();
    Query query(*lease, kListPools, "list_pools");
    query.bind(1, organization);
    std::vector<PoolSummary> pools;
    while (query.next()) pools.push_back(read_pool(query));
    return pools;
}

std::optional<PoolSummary> Store::pool_snapshot(std::string_view organization, std::string_view name) const {
    auto lease = impl_->readers.acquire();
    Query query(*lease, kFindPool, "pool_snapshot");
    query.bind(1, organization).bind(2, name);
    if (!query.next()) return std::nullopt;
    return read_pool(query);
}

std::optional<std::string> Store::pool_carriers(std::string_view snapshot) const {
    auto lease = impl_->readers.acquire();
    Query query(*lease, kPoolCarriers, "pool_carriers");
    query.bind(1, snapshot);
    if (!query.next()) return std::nullopt;
    return query.text(0);
}

std::vector<EngineRecord> Store::list_engines(std::string_view organization) const {
    auto lease = impl_->readers.acquire();
    Query query(*lease, kListEngines, "list_engines");
    query.bind(1, organization);
    std::vector<EngineRecord> engines;
    while (query.next()) engines.push_back(read_engine(query));
    return engines;
}

std::vector<ReleaseRecord> Store::list_releases(std::string_view organization,
                                                std::string_view slug) const {
    auto lease = impl_->readers.acquire();
    Query query(*lease, kListReleases, "list_releases");
    query.bind(1, organization).bind(2, slug);
    std::vector<ReleaseRecord> releases;
    while (query.next()) releases.push_back(read_release(query));
    return releases;
}

std::optional<ReleaseRecord> Store::find_release(std::string_view organization,
                                                 std::string_view slug, int major,
                                                 int minor) const {
    auto lease = impl_->readers.acquire();
    Query query(*lease, kFindRelease, "find_release");
    query.bind(1, organization)
        .bind(2, slug)
        .bind(3, static_cast<int64_t>(major))
        .bind(4, static_cast<int64_t>(minor));
    if (!query.next()) return std::nullopt;
    return read_release(query);
}

std::optional<Run> Store::get_run(std::string_view run_id) const {
    auto lease = impl_->readers.acquire();
    Query query(*lease, kGetRun, "get_run");
    query.bind(1, run_id);
    if (!query.next()) return std::nullopt;
    return read_run(query);
}

RunPage Store::list_runs(const RunPageQuery& request) const {
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

std::optional<std::string> Store::config_json(std::string_view config_hash) const {
    auto lease = impl_->readers.acquire();
    Query query(*lease, kConfigJson, "config_json");
    query.bind(1, config_hash);
    if (!query.next()) return std::nullopt;
    return query.text(0);
}

std::vector<std::string> Store::unfinished_run_ids() const {
    auto lease = impl_->readers.acquire();
    Query query(*lease, kUnfinishedRuns, "unfinished_run_ids");
    std::vector<std::string> ids;
    while (query.next()) ids.push_back(query.text(0));
    return ids;
}

void Store::ping() const {
    auto lease = impl_->readers.acquire();
    Query query(*lease, kPing, "ping");
    query.next();
}

namespace {

// Pages copied per backup step: small steps keep each one short; between them nothing is held
// but the read snapshot, which in WAL mode blocks no writer.
constexpr int kBackupPagesPerStep = 256;

void copy_database(Connection& source, Connection& destination, const std::string& operation,
                   int64_t& pages) {
    sqlite3_backup* backup = sqlite3_backup_init(destination.get(), "main", source.get(), "main");
    if (backup == nullptr) fail(operation, sqlite3_errmsg(destination.get()));
    int rc = SQLITE_OK;
    do {
        rc = sqlite3_backup_step(backup, kBackupPagesPerStep);
        if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) {
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
    } while (rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED);
    pages = sqlite3_backup_pagecount(backup);
    sqlite3_backup_finish(backup);
    if (rc != SQLITE_DONE) fail(operation, sqlite3_errstr(rc));
}

}  // namespace

int64_t Store::backup_to(const std::string& path) const {
    const std::string operation = "backup to " + path;
    const std::string partial = path + ".partial-" + random_hex(4);
    auto remove_partial = [&] {
        std::error_code ignored;
        for (const char* suffix : {"", "-journal", "-wal", "-shm"}) {
            std::filesystem::remove(partial + suffix, ignored);
        }
    };
    int64_t pages = 0;
    try {
        {
            // A read transaction held across every step: each step copies from the same
            // snapshot, so commits made meanwhile neither restart the copy nor leak into it.
            Connection source(impl_->options.path, SQLITE_OPEN_READWRITE, impl_->options.busy_timeout_ms);
            source.exec("PRAGMA query_only = ON", operation);
            source.exec("BEGIN", operation);
            source.pragma("SELECT count(*) FROM sqlite_schema", operation);
            restrict_to_owner(partial);
            Connection destination(partial, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                                   impl_->options.busy_timeout_ms);
            copy_database(source, destination, operation, pages);
            source.rollback_if_open();
        }
        {
            Connection copy(partial, SQLITE_OPEN_READWRITE, impl_->options.busy_timeout_ms);
            const std::string verdict = copy.pragma("PRAGMA integrity_check", operation);
            if (verdict != "ok") fail(operation, "the copy failed the integrity check: " + verdict);
        }
        std::error_code ec;
        std::filesystem::rename(partial, path, ec);
        if (ec) fail(operation, "cannot move the copy into place: " + ec.message());
    } catch (...) {
        remove_partial();
        throw;
    }
    remove_partial();
    return pages;
}

Store::WriterStats Store::writer_stats() const {
    return {impl_->transactions.load(std::memory_order_relaxed),
            impl_->writes.load(std::memory_order_relaxed),
            impl_->largest_batch.load(std::memory_order_relaxed)};
}

// ---------------------------------------------------------------------------------------------
// Webhooks: endpoints, signing secrets and the delivery outbox.

namespace {

// read_endpoint() maps the columns in this order.
#define ENGINED_SELECT_ENDPOINT                                                                  \
    "SELECT id, organization, environment_id, url, description, events, active, auth_token, "     \
    "       secret, previous_secret, previous_secret_expires_at_ms, consecutive_failures, "    \
    "       disabled_reason, created_at_ms, updated_at_ms "                                    \
    "  FROM webhook_endpoints "

constexpr const char* kFindEndpoint =
    ENGINED_SELECT_ENDPOINT "WHERE organization = ?1 AND environment_id = ?2 AND id = ?3";
constexpr const char* kListEndpoints =
    ENGINED_SELECT_ENDPOINT "WHERE organization = ?1 AND environment_id = ?2 ORDER BY created_at_ms, id";

#undef ENGINED_SELECT_ENDPOINT

constexpr const char* kInsertEndpoint = R"sql(
    INSERT INTO webhook_endpoints (id, organization, environment_id, url, description, events, active,
                                   auth_token, secret, previous_secret, previous_secret_expires_at_ms,
                                   consecutive_failures, disabled_reason, created_at_ms, updated_at_ms)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)
)sql";

// Binds like kInsertEndpoint; organisation, environment and creation time never change.
constexpr const char* kUpdateEndpoint = R"sql(
    UPDATE webhook_endpoints
       SET url = ?4, description = ?5, events = ?6, active = ?7, auth_token = ?8, secret = ?9,
           previous_secret = ?10, previous_secret_expires_at_ms = ?11, consecutive_failures = ?12,
           disabled_reason = ?13, updated_at_ms = ?15
     WHERE id = ?1 AND organization = ?2 AND environment_id = ?3
)sql";

constexpr const char* kCountActiveEndpoints = R"sql(
    SELECT count(*) FROM webhook_endpoints WHERE organization = ?1 AND environment_id = ?2 AND active = 1
)sql";

constexpr const char* kDeleteEndpoint = R"sql(
    DELETE FROM webhook_endpoints WHERE organization = ?1 AND environment_id = ?2 AND id = ?3
)sql";

constexpr const char* kFailEndpointDeliveries = R"sql(
    UPDATE webhook_deliveries
       SET status = 'failed', next_attempt_at_ms = NULL, leased_until_ms = NULL, last_error = ?2,
           updated_at_ms = ?3
     WHERE endpoint_id = ?1 AND status = 'pending'
)sql";

constexpr const char* kPutSigningSecret = R"sql(
    INSERT INTO webhook_signing_secrets (organization, environment_id, secret, previous_secret,
                                         previous_secret_expires_at_ms, rotated_at_ms)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6)
    ON CONFLICT (organization, environment_id) DO UPDATE
       SET secret = excluded.secret, previous_secret = excluded.previous_secret,
           previous_secret_expires_at_ms = excluded.previous_secret_expires_at_ms,
           rotated_at_ms = excluded.rotated_at_ms
)sql";

// The first secret of an environment; one already there stays (two first needs at once keep one).
constexpr const char* kAddSigningSecret = R"sql(
    INSERT INTO webhook_signing_secrets (organization, environment_id, secret, previous_secret,
                                         previous_secret_expires_at_ms, rotated_at_ms)
    VALUES (?1, ?2, ?3, NULL, NULL, ?4)
    ON CONFLICT (organization, environment_id) DO NOTHING
)sql";

constexpr const char* kFindSigningSecret = R"sql(
    SELECT secret, previous_secret, previous_secret_expires_at_ms, rotated_at_ms
      FROM webhook_signing_secrets WHERE organization = ?1 AND environment_id = ?2
)sql";

// One delivery per active endpoint subscribed to the event, plus one to the run's own URL; all
// share the event's id. ?1 run, ?2 event id, ?3 event type, ?4 event time.
constexpr const char* kAddEndpointDeliveries = R"sql(
    INSERT INTO webhook_deliveries (id, event_id, event_type, event_created_at_ms, run_id,
                                    organization, environment_id, endpoint_id, url, status,
                                    next_attempt_at_ms, created_at_ms, updated_at_ms)
    SELECT 'dlv_' || lower(hex(randomblob(12))), ?2, ?3, ?4, r.id, r.organization, r.environment_id,
           e.id, e.url, 'pending', ?4, ?4, ?4
      FROM runs r
      JOIN webhook_endpoints e ON e.organization = r.organization AND e.environment_id = r.environment_id
     WHERE r.id = ?1 AND e.active = 1
       AND EXISTS (SELECT 1 FROM json_each(e.events) WHERE json_each.value = ?3)
)sql";

constexpr const char* kAddRunUrlDelivery = R"sql(
    INSERT INTO webhook_deliveries (id, event_id, event_type, event_created_at_ms, run_id,
                                    organization, environment_id, endpoint_id, url, status,
                                    next_attempt_at_ms, created_at_ms, updated_at_ms)
    SELECT 'dlv_' || lower(hex(randomblob(12))), ?2, ?3, ?4, id, organization, environment_id,
           NULL, webhook_url, 'pending', ?4, ?4, ?4
      FROM runs WHERE id = ?1 AND webhook_url IS NOT NULL
)sql";

// read_delivery() maps the columns in this order.
#define ENGINED_SELECT_DELIVERY                                                                  \
    "SELECT id, event_id, event_type, event_created_at_ms, run_id, organization, environment_id, " \
    "       endpoint_id, url, status, attempts, next_attempt_at_ms, last_status_code, "         \
    "       last_error, created_at_ms, updated_at_ms "                                          \
    "  FROM webhook_deliveries "

constexpr const char* kLeaseDueDeliveries = R"sql(
    UPDATE webhook_deliveries SET leased_until_ms = ?2
     WHERE id IN (SELECT id FROM webhook_deliveries
                   WHERE status = 'pending' AND next_attempt_at_ms <= ?1
                     AND (leased_until_ms IS NULL OR leased_until_ms <= ?1)
                     -- a paused endpoint's deliveries wait for it
                     AND (endpoint_id IS NULL
                          OR endpoint_id IN (SELECT id FROM webhook_endpoints WHERE active = 1))
                   ORDER BY next_attempt_at_ms, seq
                   LIMIT ?3)
    RETURNING id
)sql";
constexpr const char* kDeliveryById = ENGINED_SELECT_DELIVERY "WHERE id = ?1";
constexpr const char* kFindDelivery =
    ENGINED_SELECT_DELIVERY "WHERE organization = ?1 AND environment_id = ?2 AND id = ?3";
constexpr const char* kListDeliveries = ENGINED_SELECT_DELIVERY
    "WHERE organization = ?1 AND environment_id = ?2 ORDER BY seq DESC LIMIT ?3";
constexpr const char* kListEndpointDeliveries = ENGINED_SELECT_DELIVERY
    "WHERE organization = ?1 AND environment_id = ?2 AND endpoint_id = ?4 ORDER BY seq DESC LIMIT ?3";

#undef ENGINED_SELECT_DELIVERY

constexpr const char* kReleaseDeliveryLeases =
    "UPDATE webhook_deliveries SET leased_until_ms = NULL WHERE leased_until_ms IS NOT NULL";

constexpr const char* kInsertDeliveryAttempt = R"sql(
    INSERT INTO webhook_delivery_attempts (delivery_id, attempt, started_at_ms, duration_ms,
                                           status_code, error)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6)
)sql";

constexpr const char* kUpdateDeliveryAfterAttempt = R"sql(
    UPDATE webhook_deliveries
       SET status = ?2, attempts = ?3, next_attempt_at_ms = ?4, leased_until_ms = NULL,
           last_status_code = ?5, last_error = ?6, updated_at_ms = ?7
     WHERE id = ?1
    RETURNING endpoint_id
)sql";

constexpr const char* kEndpointSucceeded = R"sql(
    UPDATE webhook_endpoints SET consecutive_failures = 0 WHERE id = ?1
)sql";

// The streak grows by one; reaching the threshold (?2 > 0) disables the endpoint, once.
constexpr const char* kEndpointFailed = R"sql(
    UPDATE webhook_endpoints
       SET consecutive_failures = consecutive_failures + 1,
           active = CASE WHEN ?2 > 0 AND consecutive_failures + 1 >= ?2 THEN 0 ELSE active END,
           disabled_reason = CASE WHEN ?2 > 0 AND consecutive_failures + 1 >= ?2 AND active = 1
                                  THEN ?3 ELSE disabled_reason END,
           updated_at_ms = ?4
     WHERE id = ?1
    RETURNING active, consecutive_failures
)sql";

constexpr const char* kListDeliveryAttempts = R"sql(
    SELECT delivery_id, attempt, started_at_ms, duration_ms, status_code, error
      FROM webhook_delivery_attempts WHERE delivery_id = ?1 ORDER BY attempt
)sql";

constexpr const char* kRetryDelivery = R"sql(
    UPDATE webhook_deliveries
       SET status = 'pending', next_attempt_at_ms = ?4, leased_until_ms = NULL, updated_at_ms = ?4
     WHERE organization = ?1 AND environment_id = ?2 AND id = ?3
)sql";

std::string events_to_json(const std::vector<std::string>& events) {
    boost::json::array array;
    for (const std::string& event : events) array.emplace_back(event);
    return boost::json::serialize(array);
}

std::vector<std::string> events_from_json(const std::string& text) {
    std::vector<std::string> events;
    boost::system::error_code ec;
    const boost::json::value parsed = boost::json::parse(text, ec);
    if (ec || !parsed.is_array()) fail("read webhook endpoint", "events are not a JSON array");
    for (const auto& event : parsed.get_array()) {
        if (event.is_string()) events.emplace_back(event.get_string());
    }
    return events;
}

WebhookEndpoint read_endpoint(const Query& row) {
    WebhookEndpoint endpoint;
    endpoint.id = row.text(0);
    endpoint.organization = row.text(1);
    endpoint.environment_id = row.text(2);
    endpoint.url = row.text(3);
    endpoint.description = row.text(4);
    endpoint.events = events_from_json(row.text(5));
    endpoint.active = row.integer(6) != 0;
    endpoint.auth_token = row.optional_text(7);
    endpoint.secret = row.text(8);
    endpoint.previous_secret = row.optional_text(9);
    endpoint.previous_secret_expires_at_ms = row.optional_integer(10);
    endpoint.consecutive_failures = static_cast<int>(row.integer(11));
    endpoint.disabled_reason = row.optional_text(12);
    endpoint.created_at_ms = row.integer(13);
    endpoint.updated_at_ms = row.integer(14);
    return endpoint;
}

void bind_endpoint(Query& query, const WebhookEndpoint& endpoint) {
    query.bind(1, endpoint.id)
        .bind(2, endpoint.organization)
        .bind(3, endpoint.environment_id)
        .bind(4, endpoint.url)
        .bind(5, endpoint.description)
        .bind(6, events_to_json(endpoint.events))
        .bind(7, static_cast<int64_t>(endpoint.active))
        .bind_optional(8, endpoint.auth_token)
        .bind(9, endpoint.secret)
        .bind_optional(10, endpoint.previous_secret)
        .bind_optional(11, endpoint.previous_secret_expires_at_ms)
        .bind(12, static_cast<int64_t>(endpoint.consecutive_failures))
        .bind_optional(13, endpoint.disabled_reason)
        .bind(14, endpoint.created_at_ms)
        .bind(15, endpoint.updated_at_ms);
}

// Called inside the endpoint's own write, after it changed: the limit holds for what is stored.
void check_active_limit(Connection& connection, const WebhookEndpoint& endpoint, int max_active) {
    Query count(connection, kCountActiveEndpoints, "count active webhook endpoints");
    count.bind(1, endpoint.organization).bind(2, endpoint.environment_id);
    count.next();
    if (count.integer(0) > max_active) {
        throw TooManyActiveEndpoints("at most " + std::to_string(max_active) +
                                     " webhook endpoints may be active in one environment");
    }
}

DeliveryStatus parse_delivery_status(const std::string& text) {
    if (text == "pending") return DeliveryStatus::pending;
    if (text == "delivered") return DeliveryStatus::delivered;
    if (text == "failed") return DeliveryStatus::failed;
    fail("read webhook delivery", "unknown status '" + text + "'");
}

std::optional<int> optional_int(const std::optional<int64_t>& value) {
    return value ? std::optional<int>(static_cast<int>(*value)) : std::nullopt;
}

std::optional<int64_t> optional_int64(const std::optional<int>& value) {
    return value ? std::optional<int64_t>(*value) : std::nullopt;
}

WebhookDelivery read_delivery(const Query& row) {
    WebhookDelivery delivery;
    delivery.id = row.text(0);
    delivery.event_id = row.text(1);
    delivery.event_type = row.text(2);
    delivery.event_created_at_ms = row.integer(3);
    delivery.run_id = row.text(4);
    delivery.organization = row.text(5);
    delivery.environment_id = row.text(6);
    delivery.endpoint_id = row.optional_text(7);
    delivery.url = row.text(8);
    delivery.status = parse_delivery_status(row.text(9));
    delivery.attempts = static_cast<int>(row.integer(10));
    delivery.next_attempt_at_ms = row.optional_integer(11);
    delivery.last_status_code = optional_int(row.optional_integer(12));
    delivery.last_error = row.optional_text(13);
    delivery.created_at_ms = row.integer(14);
    delivery.updated_at_ms = row.integer(15);
    return delivery;
}

// In finish_run's own savepoint: the event's deliveries exist exactly when the terminal status does.
void add_run_event_deliveries(Connection& connection, const std::string& run_id, const RunOutcome& outcome) {
    const char* type = outcome.status == RunStatus::failed ? "run.failed" : "run.completed";
    const std::string event_id = "evt_" + random_hex(12);
    for (const char* sql : {kAddEndpointDeliveries, kAddRunUrlDelivery}) {
        Query(connection, sql, "finish_run (webhook deliveries)")
            .bind(1, run_id)
            .bind(2, event_id)
            .bind(3, type)
            .bind(4, outcome.completed_at_ms)
            .run();
    }
}

}  // namespace

std::string_view to_string(DeliveryStatus status) {
    switch (status) {
        case DeliveryStatus::pending: return "pending";
        case DeliveryStatus::delivered: return "delivered";
        case DeliveryStatus::failed: return "failed";
    }
    return "pending";
}

void Store::insert_webhook_endpoint(const WebhookEndpoint& endpoint, int max_active) {
    impl_->write_and_wait([&](Connection& c) {
        Query insert(c, kInsertEndpoint, "insert_webhook_endpoint");
        bind_endpoint(insert, endpoint);
        insert.run();
        check_active_limit(c, endpoint, max_active);
    });
}

bool Store::update_webhook_endpoint(const WebhookEndpoint& endpoint, int max_active) {
    int changed = 0;
    impl_->write_and_wait([&](Connection& c) {
        Query update(c, kUpdateEndpoint, "update_webhook_endpoint");
        bind_endpoint(update, endpoint);
        changed = update.run();
        check_active_limit(c, endpoint, max_active);
    });
    return changed > 0;
}

bool Store::delete_webhook_endpoint(std::string_view organization, std::string_view environment_id,
                                    std::string_view id, int64_t at_ms) {
    int changed = 0;
    impl_->write_and_wait([&](Connection& c) {
        changed = Query(c, kDeleteEndpoint, "delete_webhook_endpoint")
                      .bind(1, organization)
                      .bind(2, environment_id)
                      .bind(3, id)
                      .run();
        if (changed > 0) {
            Query(c, kFailEndpointDeliveries, "delete_webhook_endpoint (deliveries)")
                .bind(1, id)
                .bind(2, "endpoint deleted")
                .bind(3, at_ms)
                .run();
        }
    });
    return changed > 0;
}

std::optional<WebhookEndpoint> Store::find_webhook_endpoint(std::string_view organization,
                                                            std::string_view environment_id,
                                                            std::string_view id) const {
    auto lease = impl_->readers.acquire();
    Query query(*lease, kFindEndpoint, "find_webhook_endpoint");
    query.bind(1, organization).bind(2, environment_id).bind(3, id);
    if (!query.next()) return std::nullopt;
    return read_endpoint(query);
}

std::vector<WebhookEndpoint> Store::list_webhook_endpoints(std::string_view organization,
                                                           std::string_view environment_id) const {
    auto lease = impl_->readers.acquire();
    Query query(*lease, kListEndpoints, "list_webhook_endpoints");
    query.bind(1, organization).bind(2, environment_id);
    std::vector<WebhookEndpoint> endpoints;
    while (query.next()) endpoints.push_back(read_endpoint(query));
    return endpoints;
}

void Store::put_signing_secret(std::string_view organization, std::string_view environment_id,
                               const SigningSecret& secret) {
    impl_->write_and_wait([&](Connection& c) {
        Query(c, kPutSigningSecret, "put_signing_secret")
            .bind(1, organization)
            .bind(2, environment_id)
            .bind(3, secret.secret)
            .bind_optional(4, secret.previous_secret)
            .bind_optional(5, secret.previous_secret_expires_at_ms)
            .bind(6, secret.rotated_at_ms)
            .run();
    });
}

SigningSecret Store::add_signing_secret(std::string_view organization, std::string_view environment_id,
                                        const SigningSecret& first) {
    std::optional<SigningSecret> stored;
    impl_->write_and_wait([&](Connection& c) {
        Query(c, kAddSigningSecret, "add_signing_secret")
            .bind(1, organization)
            .bind(2, environment_id)
            .bind(3, first.secret)
            .bind(4, first.rotated_at_ms)
            .run();
        Query query(c, kFindSigningSecret, "find_signing_secret");
        query.bind(1, organization).bind(2, environment_id);
        if (query.next()) {
            stored = SigningSecret{query.text(0), query.optional_text(1), query.optional_integer(2), query.integer(3)};
        }
    });
    if (!stored) throw StoreUnavailable("the webhook signing secret was not stored");
    return *stored;
}

std::optional<SigningSecret> Store::find_signing_secret(std::string_view organization,
                                                        std::string_view environment_id) const {
    auto lease = impl_->readers.acquire();
    Query query(*lease, kFindSigningSecret, "find_signing_secret");
    query.bind(1, organization).bind(2, environment_id);
    if (!query.next()) return std::nullopt;
    return SigningSecret{query.text(0), query.optional_text(1), query.optional_integer(2), query.integer(3)};
}

std::vector<WebhookDelivery> Store::lease_due_deliveries(int64_t now_ms, int64_t lease_until_ms, std::size_t limit) {
    std::vector<WebhookDelivery> leased;
    impl_->write_and_wait([&](Connection& c) {
        std::vector<std::string> ids;
        {
            Query lease(c, kLeaseDueDeliveries, "lease_due_deliveries");
            lease.bind(1, now_ms).bind(2, lease_until_ms).bind(3, static_cast<int64_t>(limit));
            while (lease.next()) ids.push_back(lease.text(0));
        }
        for (const std::string& id : ids) {
            Query read(c, kDeliveryById, "lease_due_deliveries (read)");
            read.bind(1, id);
            if (read.next()) leased.push_back(read_delivery(read));
        }
    });
    return leased;
}

void Store::release_delivery_leases() {
    impl_->write_and_wait([](Connection& c) { Query(c, kReleaseDeliveryLeases, "release_delivery_leases").run(); });
}

bool Store::record_delivery_attempt(const DeliveryAttempt& attempt, const AttemptVerdict& verdict, int64_t at_ms) {
    bool disabled = false;
    impl_->write_and_wait([&](Connection& c) {
        Query(c, kInsertDeliveryAttempt, "record_delivery_attempt")
            .bind(1, attempt.delivery_id)
            .bind(2, static_cast<int64_t>(attempt.attempt))
            .bind(3, attempt.started_at_ms)
            .bind(4, attempt.duration_ms)
            .bind_optional(5, optional_int64(attempt.status_code))
            .bind(6, attempt.error)
            .run();
        std::optional<std::string> endpoint_id;
        {
            Query update(c, kUpdateDeliveryAfterAttempt, "record_delivery_attempt (delivery)");
            update.bind(1, attempt.delivery_id)
                .bind(2, to_string(verdict.status))
                .bind(3, static_cast<int64_t>(attempt.attempt))
                .bind_optional(4, verdict.next_attempt_at_ms)
                .bind_optional(5, optional_int64(attempt.status_code))
                .bind_optional(6, attempt.error.empty() ? std::nullopt : std::optional<std::string>(attempt.error))
                .bind(7, at_ms);
            if (!update.next()) throw std::out_of_range("record_delivery_attempt: no delivery '" + attempt.delivery_id + "'");
            endpoint_id = update.optional_text(0);
        }
        if (!endpoint_id) return;
        if (verdict.success) {
            Query(c, kEndpointSucceeded, "record_delivery_attempt (endpoint)").bind(1, *endpoint_id).run();
            return;
        }
        const std::string reason = "disabled after " + std::to_string(verdict.disable_endpoint_after) +
                                   " consecutive failed delivery attempts";
        bool now_inactive = false;
        int streak = 0;
        {
            Query failed(c, kEndpointFailed, "record_delivery_attempt (endpoint)");
            failed.bind(1, *endpoint_id)
                .bind(2, static_cast<int64_t>(verdict.disable_endpoint_after))
                .bind(3, reason)
                .bind(4, at_ms);
            if (!failed.next()) return;  // the endpoint was deleted meanwhile
            now_inactive = failed.integer(0) == 0;
            streak = static_cast<int>(failed.integer(1));
        }
        if (now_inactive && verdict.disable_endpoint_after > 0 && streak == verdict.disable_endpoint_after) {
            disabled = true;
            Query(c, kFailEndpointDeliveries, "record_delivery_attempt (endpoint disabled)")
                .bind(1, *endpoint_id)
                .bind(2, "endpoint disabled: " + reason)
                .bind(3, at_ms)
                .run();
        }
    });
    return disabled;
}

std::vector<WebhookDelivery> Store::list_deliveries(std::string_view organization, std::string_view environment_id,
                                                    std::string_view endpoint_id, int limit) const {
    auto lease = impl_->readers.acquire();
    Query query(*lease, endpoint_id.empty() ? kListDeliveries : kListEndpointDeliveries, "list_deliveries");
    query.bind(1, organization).bind(2, environment_id).bind(3, static_cast<int64_t>(limit));
    if (!endpoint_id.empty()) query.bind(4, endpoint_id);
    std::vector<WebhookDelivery> deliveries;
    while (query.next()) deliveries.push_back(read_delivery(query));
    return deliveries;
}

std::optional<WebhookDelivery> Store::find_delivery(std::string_view organization, std::string_view environment_id,
                                                    std::string_view delivery_id) const {
    auto lease = impl_->readers.acquire();
    Query query(*lease, kFindDelivery, "find_delivery");
    query.bind(1, organization).bind(2, environment_id).bind(3, delivery_id);
    if (!query.next()) return std::nullopt;
    return read_delivery(query);
}

std::vector<DeliveryAttempt> Store::list_delivery_attempts(std::string_view delivery_id) const {
    auto lease = impl_->readers.acquire();
    Query query(*lease, kListDeliveryAttempts, "list_delivery_attempts");
    query.bind(1, delivery_id);
    std::vector<DeliveryAttempt> attempts;
    while (query.next()) {
        attempts.push_back({query.text(0), static_cast<int>(query.integer(1)), query.integer(2), query.integer(3),
                            optional_int(query.optional_integer(4)), query.text(5)});
    }
    return attempts;
}

bool Store::retry_delivery(std::string_view organization, std::string_view environment_id,
                           std::string_view delivery_id, int64_t now_ms) {
    int changed = 0;
    impl_->write_and_wait([&](Connection& c) {
        changed = Query(c, kRetryDelivery, "retry_delivery")
                      .bind(1, organization)
                      .bind(2, environment_id)
                      .bind(3, delivery_id)
                      .bind(4, now_ms)
                      .run();
    });
    return changed > 0;
}

}  // namespace engined::store
