// PostgreSQL backend: the versioned schema. Its steps carry the SQLite backend's version numbers:
// step 8 creates the schema SQLite reaches at version 8, in one go (PostgreSQL support starts
// there); every later change is a new step, with the same number, on both backends. A released
// step is never edited. Releases, configurations and pool snapshots are immutable by trigger, as
// on SQLite.
#include "store/postgres/migrations.hpp"

#include "common/time.hpp"

#include <array>

namespace engined::store::postgres {

namespace {

struct Migration {
    int version;
    const char* sql;
};

constexpr std::array kMigrations{
    Migration{8, R"sql(
        CREATE TABLE api_keys (
            id              TEXT PRIMARY KEY,
            key_hash        TEXT NOT NULL UNIQUE,
            organization    TEXT NOT NULL,
            scopes          TEXT NOT NULL,  -- comma-separated
            display_prefix  TEXT NOT NULL,
            created_at_ms   BIGINT NOT NULL,
            revoked_at_ms   BIGINT,
            rate_per_second DOUBLE PRECISION CHECK (rate_per_second > 0),
            rate_burst      BIGINT CHECK (rate_burst > 0),
            environment_id  TEXT NOT NULL DEFAULT '',
            environment     TEXT NOT NULL DEFAULT ''
        );
        CREATE INDEX api_keys_by_organization ON api_keys (organization, created_at_ms);
        CREATE INDEX api_keys_by_environment ON api_keys (environment_id) WHERE revoked_at_ms IS NULL;

        -- Content-addressed: a run points at the exact configuration it executed with.
        CREATE TABLE engine_configs (
            hash        TEXT PRIMARY KEY,
            config_json TEXT NOT NULL
        );

        CREATE TABLE runs (
            seq                       BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            id                        TEXT NOT NULL UNIQUE,
            organization              TEXT NOT NULL,
            engine_slug               TEXT NOT NULL,
            engine_type               TEXT NOT NULL,
            engine_version            TEXT,
            engine_version_pin        TEXT,
            status                    TEXT NOT NULL CHECK (status IN
                                          ('queued', 'processing', 'completed', 'degraded', 'failed')),
            stage                     TEXT NOT NULL,
            request_json              TEXT NOT NULL,
            config_hash               TEXT NOT NULL REFERENCES engine_configs (hash),
            webhook_url               TEXT,
            api_key_id                TEXT NOT NULL,
            output_json               TEXT NOT NULL DEFAULT 'null',
            results_json              TEXT NOT NULL DEFAULT 'null',
            error_code                TEXT,
            error_message             TEXT,
            error_details_json        TEXT NOT NULL DEFAULT 'null',
            trace_json                TEXT NOT NULL DEFAULT 'null',
            attempts                  INTEGER NOT NULL DEFAULT 0,
            created_at_ms             BIGINT NOT NULL,
            started_at_ms             BIGINT,
            completed_at_ms           BIGINT,
            fingerprint               TEXT,
            fingerprint_json          TEXT,
            environment_id            TEXT NOT NULL DEFAULT '',
            environment               TEXT NOT NULL DEFAULT '',
            engine_version_pin_source TEXT
        );
        CREATE INDEX runs_listing ON runs (organization, environment_id, engine_slug, seq DESC);
        CREATE INDEX runs_listing_by_status ON runs (organization, environment_id, engine_slug, status, seq DESC);
        CREATE INDEX runs_unfinished ON runs (seq) WHERE status IN ('queued', 'processing');

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
            config_updated_at_ms BIGINT NOT NULL,
            created_at_ms        BIGINT NOT NULL,
            updated_at_ms        BIGINT NOT NULL,
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
            bump                            TEXT NOT NULL CHECK (bump IN ('initial', 'minor', 'major')),
            is_breaking_from_previous_major INTEGER NOT NULL,
            reasons_json                    TEXT NOT NULL,
            published_by                    TEXT NOT NULL,
            released_at_ms                  BIGINT NOT NULL,
            PRIMARY KEY (organization, engine_slug, major, minor)
        );

        CREATE TABLE pool_snapshots (
            hash          TEXT PRIMARY KEY,
            carriers_json TEXT NOT NULL,
            carrier_count BIGINT NOT NULL CHECK (carrier_count > 0)
        );
        CREATE TABLE pools (
            organization   TEXT NOT NULL,
            name           TEXT NOT NULL,
            snapshot       TEXT NOT NULL REFERENCES pool_snapshots (hash),
            source         TEXT NOT NULL,
            imported_at_ms BIGINT NOT NULL,
            PRIMARY KEY (organization, name)
        );

        CREATE FUNCTION engined_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION '%', TG_ARGV[0];
        END $$;
        CREATE TRIGGER engine_configs_immutable BEFORE UPDATE OR DELETE ON engine_configs
            FOR EACH ROW EXECUTE FUNCTION engined_refuse_change('stored engine configurations are immutable');
        CREATE TRIGGER engine_releases_immutable BEFORE UPDATE OR DELETE ON engine_releases
            FOR EACH ROW EXECUTE FUNCTION engined_refuse_change('released engine versions are immutable');
        CREATE TRIGGER pool_snapshots_immutable BEFORE UPDATE OR DELETE ON pool_snapshots
            FOR EACH ROW EXECUTE FUNCTION engined_refuse_change('pool snapshots are immutable');

        CREATE TABLE idempotency_records (
            organization    TEXT NOT NULL,
            environment_id  TEXT NOT NULL,
            idempotency_key TEXT NOT NULL,
            request_hash    TEXT NOT NULL,
            status          INTEGER NOT NULL,
            response_body   TEXT NOT NULL,
            location        TEXT NOT NULL,
            created_at_ms   BIGINT NOT NULL,
            PRIMARY KEY (organization, environment_id, idempotency_key)
        );

        CREATE TABLE environments (
            id                    TEXT PRIMARY KEY,
            organization          TEXT NOT NULL,
            slug                  TEXT NOT NULL,
            built_in              INTEGER NOT NULL,
            pinned_engine_version TEXT,
            engine_pins_json      TEXT NOT NULL DEFAULT '{}',
            created_at_ms         BIGINT NOT NULL,
            updated_at_ms         BIGINT NOT NULL,
            deleted_at_ms         BIGINT
        );
        CREATE UNIQUE INDEX environments_current_slug ON environments (organization, slug) WHERE deleted_at_ms IS NULL;

        CREATE TABLE webhook_endpoints (
            id                            TEXT PRIMARY KEY,
            organization                  TEXT NOT NULL,
            environment_id                TEXT NOT NULL,
            url                           TEXT NOT NULL,
            description                   TEXT NOT NULL,
            events                        TEXT NOT NULL,  -- JSON array of event types
            active                        INTEGER NOT NULL,
            auth_token                    TEXT,
            secret                        TEXT NOT NULL,
            previous_secret               TEXT,
            previous_secret_expires_at_ms BIGINT,
            consecutive_failures          INTEGER NOT NULL DEFAULT 0,
            disabled_reason               TEXT,
            created_at_ms                 BIGINT NOT NULL,
            updated_at_ms                 BIGINT NOT NULL
        );
        CREATE INDEX webhook_endpoints_by_environment ON webhook_endpoints (organization, environment_id, created_at_ms);

        CREATE TABLE webhook_signing_secrets (
            organization                  TEXT NOT NULL,
            environment_id                TEXT NOT NULL,
            secret                        TEXT NOT NULL,
            previous_secret               TEXT,
            previous_secret_expires_at_ms BIGINT,
            rotated_at_ms                 BIGINT NOT NULL,
            PRIMARY KEY (organization, environment_id)
        );

        CREATE TABLE webhook_deliveries (
            seq                 BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            id                  TEXT NOT NULL UNIQUE,
            event_id            TEXT NOT NULL,
            event_type          TEXT NOT NULL,
            event_created_at_ms BIGINT NOT NULL,
            run_id              TEXT NOT NULL REFERENCES runs (id),
            organization        TEXT NOT NULL,
            environment_id      TEXT NOT NULL,
            endpoint_id         TEXT,  -- NULL: the run's own webhook_url
            url                 TEXT NOT NULL,
            status              TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
            attempts            INTEGER NOT NULL DEFAULT 0,
            next_attempt_at_ms  BIGINT,
            leased_until_ms     BIGINT,
            last_status_code    INTEGER,
            last_error          TEXT,
            created_at_ms       BIGINT NOT NULL,
            updated_at_ms       BIGINT NOT NULL
        );
        CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at_ms);
        CREATE INDEX webhook_deliveries_by_endpoint ON webhook_deliveries (endpoint_id, seq);
        CREATE INDEX webhook_deliveries_by_environment ON webhook_deliveries (organization, environment_id, seq);

        CREATE TABLE webhook_delivery_attempts (
            delivery_id   TEXT NOT NULL REFERENCES webhook_deliveries (id),
            attempt       INTEGER NOT NULL,
            started_at_ms BIGINT NOT NULL,
            duration_ms   BIGINT NOT NULL,
            status_code   INTEGER,
            error         TEXT NOT NULL,
            PRIMARY KEY (delivery_id, attempt)
        );
    )sql"},
    // The queue protocol: a processing run is leased to one node until leased_until_ms; a run
    // is claimable while queued or once its lease expired (found through runs_unfinished).
    // Additive: an older node ignores the columns.
    Migration{9, R"sql(
        ALTER TABLE runs ADD COLUMN lease_owner TEXT;
        ALTER TABLE runs ADD COLUMN leased_until_ms BIGINT;
    )sql"},
    Migration{10, R"sql(
        -- The audit log (see SQLite's step 10): append-only by trigger, sealed by the chain.
        CREATE TABLE audit_log (
            seq          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            id           TEXT NOT NULL UNIQUE,
            organization TEXT NOT NULL,
            position     BIGINT NOT NULL,
            actor        TEXT NOT NULL,
            action       TEXT NOT NULL,
            target       TEXT NOT NULL,
            before_hash  TEXT NOT NULL,
            after_hash   TEXT NOT NULL,
            at_ms        BIGINT NOT NULL,
            previous_mac TEXT NOT NULL,
            mac          TEXT NOT NULL,
            UNIQUE (organization, position)
        );
        CREATE INDEX audit_log_listing ON audit_log (organization, seq DESC);
        CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
            FOR EACH ROW EXECUTE FUNCTION engined_refuse_change('the audit log is append-only');
        CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
            FOR EACH STATEMENT EXECUTE FUNCTION engined_refuse_change('the audit log is append-only');
    )sql"},
    // Canary rollouts of a release to the runs pinned "<major>.x"; at most one open per major.
    Migration{11, R"sql(
        ALTER TABLE runs ADD COLUMN engine_version_rollout TEXT;  -- new | previous (NULL: none)
        CREATE TABLE engine_rollouts (
            seq           BIGSERIAL PRIMARY KEY,
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
    // Per-key token buckets shared by every node (see keys.cpp, take_rate_tokens).
    Migration{12, R"sql(
        CREATE TABLE rate_buckets (
            key_id         TEXT PRIMARY KEY,
            tokens         DOUBLE PRECISION NOT NULL,
            refilled_at_ms BIGINT NOT NULL,
            last_granted   BIGINT NOT NULL
        );
    )sql"},
    // SQLite's step 13 makes its listing indexes ascend, for how its b-tree splits pages; the
    // step changes nothing here and keeps the numbers equal.
    Migration{13, "SELECT 1;"},
    // SQLite's step 14 rewrites its status CHECKs for how it evaluates IN lists; PostgreSQL's
    // are cheap as they are, and the step keeps the numbers equal.
    Migration{14, "SELECT 1;"},
};

constexpr bool versions_ascend() {
    for (std::size_t i = 1; i < kMigrations.size(); ++i) {
        if (kMigrations[i].version <= kMigrations[i - 1].version) return false;
    }
    return kMigrations.front().version > 0;
}
static_assert(versions_ascend(), "migration versions must be positive and strictly ascending");

// Any constant: every engined node takes the same lock while it migrates.
constexpr const char* kMigrationLock = "SELECT pg_advisory_xact_lock(7254501)";

}  // namespace

int known_schema_version() {
    return kMigrations.back().version;
}

int recorded_schema_version(Connection& connection) {
    const Result table = connection.exec("SELECT to_regclass('schema_migrations') IS NOT NULL",
                                         "read schema version");
    if (table.text(0, 0) != "t") return 0;
    const Result version = connection.exec(
        "SELECT coalesce(max(version), 0) FROM schema_migrations", "read schema version");
    return static_cast<int>(version.integer(0, 0));
}

int migrate(Connection& connection) {
    in_transaction(connection, "migrate", [](Connection& c) {
        c.exec(kMigrationLock, "migrate");
        c.exec(R"sql(
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version       INTEGER PRIMARY KEY,
                applied_at_ms BIGINT NOT NULL
            )
        )sql",
               "create schema_migrations");
        const int recorded = recorded_schema_version(c);
        if (recorded > known_schema_version()) {
            throw StoreUnavailable("the database's schema is version " + std::to_string(recorded) +
                                   ", newer than this engined knows (" +
                                   std::to_string(known_schema_version()) + "): upgrade engined");
        }
        for (const Migration& step : kMigrations) {
            if (step.version <= recorded) continue;
            const std::string operation = "migration " + std::to_string(step.version);
            c.exec(step.sql, operation);
            c.exec("INSERT INTO schema_migrations (version, applied_at_ms) VALUES ($1, $2)",
                   {step.version, now_unix_ms()}, operation);
        }
    });
    return recorded_schema_version(connection);
}

}  // namespace engined::store::postgres
