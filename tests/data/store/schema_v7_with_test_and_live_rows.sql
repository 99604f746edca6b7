-- A store at schema version 7 (before named environments) holding rows of both built-in
-- environments: the upgrade test opens it with the current code.
CREATE TABLE api_keys (
            id             TEXT PRIMARY KEY,
            key_hash       TEXT NOT NULL UNIQUE,
            organization   TEXT NOT NULL,
            environment    TEXT NOT NULL CHECK (environment IN ('test', 'live')),
            scopes         TEXT NOT NULL,  -- comma-separated
            display_prefix TEXT NOT NULL,
            created_at_ms  INTEGER NOT NULL,
            revoked_at_ms  INTEGER
        , rate_per_second REAL CHECK (rate_per_second > 0), rate_burst INTEGER CHECK (rate_burst > 0));
INSERT INTO "api_keys" VALUES('key_00000000000000t1','hash-test-key','acme','test','runs:write,runs:read','nx_test_ab12',1700000000000,NULL,NULL,NULL);
INSERT INTO "api_keys" VALUES('key_00000000000000l1','hash-live-key','acme','live','runs:write,runs:read','nx_live_cd34',1700000000001,NULL,NULL,NULL);
CREATE TABLE engine_configs (
            hash        TEXT PRIMARY KEY,
            config_json TEXT NOT NULL
        );
INSERT INTO "engine_configs" VALUES('cfg-hash','{}');
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
INSERT INTO "idempotency_records" VALUES('acme','test','idem-1','request-hash',202,'{}','',1700000000004);
CREATE TABLE pool_snapshots (
            hash          TEXT PRIMARY KEY,
            carriers_json TEXT NOT NULL,
            carrier_count INTEGER NOT NULL CHECK (carrier_count > 0)
        );
CREATE TABLE pools (
            organization   TEXT NOT NULL,
            name           TEXT NOT NULL,
            snapshot       TEXT NOT NULL REFERENCES pool_snapshots (hash),
            source         TEXT NOT NULL,
            imported_at_ms INTEGER NOT NULL,
            PRIMARY KEY (organization, name)
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
        , fingerprint TEXT, fingerprint_json TEXT);
INSERT INTO "runs" VALUES(1,'run-test','acme','test','default','placement',NULL,'1.x','queued','queued','{"input":{}}','cfg-hash',NULL,'key_00000000000000t1','null','null',NULL,NULL,'null','null',0,1700000000002,NULL,NULL,NULL,NULL);
INSERT INTO "runs" VALUES(2,'run-live','acme','live','default','placement',NULL,NULL,'queued','queued','{"input":{}}','cfg-hash',NULL,'key_00000000000000l1','null','null',NULL,NULL,'null','null',0,1700000000003,NULL,NULL,NULL,NULL);
CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at_ms INTEGER NOT NULL);
INSERT INTO "schema_migrations" VALUES(1,1700000000000);
INSERT INTO "schema_migrations" VALUES(2,1700000000000);
INSERT INTO "schema_migrations" VALUES(3,1700000000000);
INSERT INTO "schema_migrations" VALUES(4,1700000000000);
INSERT INTO "schema_migrations" VALUES(5,1700000000000);
INSERT INTO "schema_migrations" VALUES(6,1700000000000);
INSERT INTO "schema_migrations" VALUES(7,1700000000000);
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
CREATE TABLE webhook_delivery_attempts (
            delivery_id   TEXT NOT NULL REFERENCES webhook_deliveries (id),
            attempt       INTEGER NOT NULL,
            started_at_ms INTEGER NOT NULL,
            duration_ms   INTEGER NOT NULL,
            status_code   INTEGER,
            error         TEXT NOT NULL,
            PRIMARY KEY (delivery_id, attempt)
        );
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
INSERT INTO "webhook_endpoints" VALUES('we_test','acme','test','https://hooks.example.com/a','','["run.completed"]',1,NULL,'whsec_a',NULL,NULL,0,NULL,1700000000005,1700000000005);
CREATE TABLE webhook_signing_secrets (
            organization                  TEXT NOT NULL,
            environment                   TEXT NOT NULL,
            secret                        TEXT NOT NULL,
            previous_secret               TEXT,
            previous_secret_expires_at_ms INTEGER,
            rotated_at_ms                 INTEGER NOT NULL,
            PRIMARY KEY (organization, environment)
        );
INSERT INTO "webhook_signing_secrets" VALUES('acme','live','whsec_live',NULL,NULL,1700000000006);
CREATE INDEX api_keys_by_organization ON api_keys (organization, created_at_ms);
CREATE INDEX runs_listing ON runs (organization, environment, engine_slug, seq DESC);
CREATE INDEX runs_listing_by_status
            ON runs (organization, environment, engine_slug, status, seq DESC);
CREATE INDEX runs_unfinished ON runs (seq)
            WHERE status IN ('queued', 'processing');
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
CREATE TRIGGER pool_snapshots_no_update BEFORE UPDATE ON pool_snapshots
        BEGIN
            SELECT RAISE(ABORT, 'pool snapshots are immutable');
        END;
CREATE TRIGGER pool_snapshots_no_delete BEFORE DELETE ON pool_snapshots
        BEGIN
            SELECT RAISE(ABORT, 'pool snapshots are immutable');
        END;
CREATE INDEX webhook_endpoints_by_environment
            ON webhook_endpoints (organization, environment, created_at_ms);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at_ms);
CREATE INDEX webhook_deliveries_by_endpoint ON webhook_deliveries (endpoint_id, seq);
CREATE INDEX webhook_deliveries_by_environment ON webhook_deliveries (organization, environment, seq);
DELETE FROM "sqlite_sequence";
INSERT INTO "sqlite_sequence" VALUES('runs',2);
