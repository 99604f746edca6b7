// SQLite backend: the versioned schema. Steps are applied in order, each in its own
// transaction, and recorded in schema_migrations; a released step is never edited, a change is
// a new step.
#include "store/sqlite/migrations.hpp"

#include "common/time.hpp"

#include <array>

namespace engined::store::sqlite {

namespace {

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
    // The queue protocol: a processing run is leased to one node until leased_until_ms; a run
    // is claimable while queued or once its lease expired (found through runs_unfinished).
    // Additive: an older node ignores the columns.
    Migration{9, R"sql(
        ALTER TABLE runs ADD COLUMN lease_owner TEXT;
        ALTER TABLE runs ADD COLUMN leased_until_ms INTEGER;
    )sql"},
    Migration{10, R"sql(
        -- The audit log: per organisation, a chain of operator actions, each record sealed with
        -- an HMAC over its content and the previous record's MAC (core/audit). Append-only: the
        -- triggers refuse any change; whoever drops them is caught by the chain's MACs.
        CREATE TABLE audit_log (
            seq          INTEGER PRIMARY KEY AUTOINCREMENT,
            id           TEXT NOT NULL UNIQUE,
            organization TEXT NOT NULL,
            position     INTEGER NOT NULL,
            actor        TEXT NOT NULL,
            action       TEXT NOT NULL,
            target       TEXT NOT NULL,
            before_hash  TEXT NOT NULL,
            after_hash   TEXT NOT NULL,
            at_ms        INTEGER NOT NULL,
            previous_mac TEXT NOT NULL,
            mac          TEXT NOT NULL,
            UNIQUE (organization, position)
        );
        CREATE INDEX audit_log_listing ON audit_log (organization, seq DESC);
        CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
        BEGIN
            SELECT RAISE(ABORT, 'the audit log is append-only');
        END;
        CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
        BEGIN
            SELECT RAISE(ABORT, 'the audit log is append-only');
        END;
    )sql"},
    // Canary rollouts of a release to the runs pinned "<major>.x"; at most one open per major.
    Migration{11, R"sql(
        ALTER TABLE runs ADD COLUMN engine_version_rollout TEXT;  -- new | previous (NULL: none)
        CREATE TABLE engine_rollouts (
            seq           INTEGER PRIMARY KEY AUTOINCREMENT,
            organization  TEXT NOT NULL,
            engine_slug   TEXT NOT NULL,
            major         INTEGER NOT NULL,
            from_minor    INTEGER NOT NULL,
            to_minor      INTEGER NOT NULL,
            percent       INTEGER NOT NULL CHECK (percent BETWEEN 1 AND 99),
            state         TEXT NOT NULL CHECK (state IN ('open', 'promoted', 'aborted')),
            opened_by     TEXT NOT NULL,
            opened_at_ms  BIGINT NOT NULL,
            updated_at_ms BIGINT NOT NULL,
            closed_at_ms  BIGINT
        );
        CREATE INDEX engine_rollouts_by_engine ON engine_rollouts (organization, engine_slug, seq);
        CREATE UNIQUE INDEX engine_rollouts_one_open
            ON engine_rollouts (organization, engine_slug, major) WHERE state = 'open';
    )sql"},
    // PostgreSQL's step 12 adds the rate buckets nodes share; one process owns a SQLite file and
    // keeps its buckets in memory, so the step changes nothing here and keeps the numbers equal.
    Migration{12, "SELECT 1;"},
    // The listing indexes ascend by seq (the listings walk them backward, newest first): a new
    // run's entries go after the newest of their range instead of before it, so a commit fills
    // the page at the range's end instead of splitting the page at its head. A commit of twelve
    // runs wrote 40.5 WAL frames before, 33.3 after (docs/performance.md).
    Migration{13, R"sql(
        DROP INDEX runs_listing;
        DROP INDEX runs_listing_by_status;
        CREATE INDEX runs_listing ON runs (organization, environment_id, engine_slug, seq);
        CREATE INDEX runs_listing_by_status
            ON runs (organization, environment_id, engine_slug, status, seq);
    )sql"},
    // The status columns' CHECKs as comparisons instead of IN lists: SQLite evaluates
    // `x IN (three or more values)` by building a temporary table of the values, at every insert
    // and every status change of a run or a delivery (about 1 % of engined's CPU at full load,
    // docs/performance.md). Same rule, same stored rows, so the stored schema is edited in place
    // (SQLite's procedure for a change that leaves every row valid, lang_altertable.html section
    // 7) instead of rebuilding both tables; RESET reloads the schema of this connection, which
    // every other is opened after. The replaced texts are exactly what steps 1 and 6 stored.
    Migration{14, R"sql(
        PRAGMA writable_schema = ON;
        UPDATE sqlite_schema SET sql = replace(sql, 'CHECK (status IN
                                   (''queued'', ''processing'', ''completed'', ''degraded'', ''failed''))',
            'CHECK (status = ''queued'' OR status = ''processing'' OR status = ''completed''
                                   OR status = ''degraded'' OR status = ''failed'')')
        WHERE type = 'table' AND name = 'runs';
        UPDATE sqlite_schema SET sql = replace(sql,
            'CHECK (status IN (''pending'', ''delivered'', ''failed''))',
            'CHECK (status = ''pending'' OR status = ''delivered'' OR status = ''failed'')')
        WHERE type = 'table' AND name = 'webhook_deliveries';
        PRAGMA writable_schema = RESET;
    )sql"},
};

constexpr bool versions_ascend() {
    for (std::size_t i = 1; i < kMigrations.size(); ++i) {
        if (kMigrations[i].version <= kMigrations[i - 1].version) return false;
    }
    return kMigrations.front().version > 0;
}
static_assert(versions_ascend(), "migration versions must be positive and strictly ascending");

}  // namespace

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
    Query query(connection, kSchemaVersionQuery, "read schema version");
    query.next();
    return static_cast<int>(query.integer(0));
}

}  // namespace engined::store::sqlite
