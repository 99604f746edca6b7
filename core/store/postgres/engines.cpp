// PostgreSQL backend: engines, their immutable releases and the content-addressed configurations
// both point at.
#include "store/postgres/internal.hpp"

namespace engined::store::postgres {

namespace {

constexpr const char* kConfigJson = "SELECT config_json FROM engine_configs WHERE hash = $1";

#define ENGINED_INSERT_ENGINE                                                                    \
    "INSERT INTO engines (id, organization, slug, label, description, engine_type, status, "     \
    "                     config_hash, config_updated_by, config_updated_at_ms, created_at_ms, " \
    "                     updated_at_ms) "                                                       \
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) "

constexpr const char* kInsertEngine = ENGINED_INSERT_ENGINE;
// Seeds a built-in engine once; afterwards its row is the operator's.
constexpr const char* kEnsureBuiltinEngine =
    ENGINED_INSERT_ENGINE "ON CONFLICT (organization, slug) DO NOTHING";

#undef ENGINED_INSERT_ENGINE

constexpr const char* kEngineExists = "SELECT 1 FROM engines WHERE organization = $1 AND slug = $2";

constexpr const char* kUpdateEngineConfig = R"sql(
    UPDATE engines
       SET config_hash = $3, config_updated_by = $4, config_updated_at_ms = $5, updated_at_ms = $5
     WHERE organization = $1 AND slug = $2
)sql";

constexpr const char* kSetEngineStatus =
    "UPDATE engines SET status = $3, updated_at_ms = $4 WHERE organization = $1 AND slug = $2";

constexpr const char* kGetEngine = ENGINED_SELECT_ENGINE "WHERE organization = $1 AND slug = $2";
// '' sorts before any organisation: its own engine comes first, the built-in one otherwise.
constexpr const char* kFindEngine = ENGINED_SELECT_ENGINE
    "WHERE slug = $2 AND organization IN ($1, '') ORDER BY organization DESC LIMIT 1";
constexpr const char* kListEngines =
    ENGINED_SELECT_ENGINE "WHERE organization IN ($1, '') ORDER BY organization, slug";

constexpr const char* kInsertRelease = R"sql(
    INSERT INTO engine_releases (organization, engine_slug, major, minor, config_hash,
                                 content_hash, bundle_json, changelog, bump,
                                 is_breaking_from_previous_major, reasons_json, published_by,
                                 released_at_ms)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
)sql";

constexpr const char* kListReleases =
    ENGINED_SELECT_RELEASE "WHERE organization = $1 AND engine_slug = $2 ORDER BY major, minor";
constexpr const char* kFindRelease = ENGINED_SELECT_RELEASE
    "WHERE organization = $1 AND engine_slug = $2 AND major = $3 AND minor = $4";

constexpr const char* kInsertRollout = R"sql(
    INSERT INTO engine_rollouts (organization, engine_slug, major, from_minor, to_minor, percent,
                                 state, opened_by, opened_at_ms, updated_at_ms)
    VALUES ($1, $2, $3, $4, $5, $6, 'open', $7, $8, $8)
)sql";
constexpr const char* kSetRolloutPercent = R"sql(
    UPDATE engine_rollouts SET percent = $4, updated_at_ms = $5
     WHERE organization = $1 AND engine_slug = $2 AND major = $3 AND state = 'open'
)sql";
constexpr const char* kCloseRollout = R"sql(
    UPDATE engine_rollouts SET state = $4, updated_at_ms = $5, closed_at_ms = $5
     WHERE organization = $1 AND engine_slug = $2 AND major = $3 AND state = 'open'
)sql";
constexpr const char* kListRollouts =
    ENGINED_SELECT_ROLLOUT "WHERE organization = $1 AND engine_slug = $2 ORDER BY seq";

void insert_release_row(Connection& connection, const ReleaseRecord& release,
                        std::string_view config_json) {
    insert_config(connection, release.config_hash, config_json, "insert_release (config)");
    connection.exec(kInsertRelease,
                    {release.organization, release.engine_slug, release.major, release.minor,
                     release.config_hash, release.content_hash, release.bundle_json,
                     release.changelog, release.bump, release.is_breaking_from_previous_major,
                     release.reasons_json, release.published_by, release.released_at_ms},
                    "insert_release");
}

void insert_rollout_row(Connection& connection, const RolloutRecord& rollout) {
    connection.exec(kInsertRollout,
                    {rollout.organization, rollout.engine_slug, rollout.major, rollout.from_minor,
                     rollout.to_minor, rollout.percent, rollout.opened_by, rollout.opened_at_ms},
                    "open_rollout");
}

void insert_engine_row(Connection& connection, const char* sql, const EngineRecord& engine,
                       std::string_view operation) {
    connection.exec(
        sql,
        {engine.id, engine.organization, engine.slug, engine.label, engine.description,
         engine.engine_type, engine.status, engine.config_hash, engine.config_updated_by,
         engine.config_updated_at_ms, engine.created_at_ms, engine.updated_at_ms},
        operation);
}

}  // namespace

void insert_config(Connection& connection, std::string_view hash, std::string_view config_json,
                   std::string_view operation) {
    connection.exec_later(
        "INSERT INTO engine_configs (hash, config_json) VALUES ($1, $2) ON CONFLICT (hash) DO "
        "NOTHING",
        {hash, config_json}, operation);
}

}  // namespace engined::store::postgres

namespace engined::store {

// The backend's internals (statements, row mapping) live in engined::store::postgres.
using namespace postgres;

void PostgresStore::insert_engine(const EngineRecord& engine, std::string_view config_json,
                                  AuditAppend* audit) {
    auto lease = impl_->pool.acquire();
    in_transaction(*lease, "insert_engine", [&](Connection& c) {
        insert_config(c, engine.config_hash, config_json, "insert_engine (config)");
        insert_engine_row(c, kInsertEngine, engine, "insert_engine");
        append_audit_records(c, audit);
    });
}

EngineRecord PostgresStore::ensure_builtin_engine(const EngineRecord& engine,
                                                  std::string_view config_json) {
    EngineRecord stored;
    auto lease = impl_->pool.acquire();
    in_transaction(*lease, "ensure_builtin_engine", [&](Connection& c) {
        insert_config(c, engine.config_hash, config_json, "ensure_builtin_engine (config)");
        insert_engine_row(c, kEnsureBuiltinEngine, engine, "ensure_builtin_engine");
        // Read inside the write: the record returned is exactly what this write left.
        const Result row = c.exec(kGetEngine, {engine.organization, engine.slug},
                                  "ensure_builtin_engine (read back)");
        if (row.rows() == 0) throw std::logic_error("ensure_builtin_engine: no row after upsert");
        stored = read_engine(row.at(0));
    });
    return stored;
}

bool PostgresStore::update_engine_config(std::string_view organization, std::string_view slug,
                                         std::string_view config_hash, std::string_view config_json,
                                         std::string_view updated_by, int64_t at_ms,
                                         AuditAppend* audit) {
    bool updated = false;
    auto lease = impl_->pool.acquire();
    in_transaction(*lease, "update_engine_config", [&](Connection& c) {
        // Checked first so that an unknown engine leaves no configuration behind: stored
        // configurations are never deleted.
        if (c.exec(kEngineExists, {organization, slug}, "update_engine_config").rows() == 0) return;
        insert_config(c, config_hash, config_json, "update_engine_config (config)");
        updated = c.exec(kUpdateEngineConfig, {organization, slug, config_hash, updated_by, at_ms},
                         "update_engine_config")
                      .changed() > 0;
        if (updated) append_audit_records(c, audit);
    });
    return updated;
}

bool PostgresStore::set_engine_status(std::string_view organization, std::string_view slug,
                                      std::string_view status, int64_t at_ms, AuditAppend* audit) {
    bool updated = false;
    auto lease = impl_->pool.acquire();
    in_transaction(*lease, "set_engine_status", [&](Connection& c) {
        updated = c.exec(kSetEngineStatus, {organization, slug, status, at_ms}, "set_engine_status")
                      .changed() > 0;
        if (updated) append_audit_records(c, audit);
    });
    return updated;
}

void PostgresStore::insert_release(const ReleaseRecord& release, std::string_view config_json,
                                   AuditAppend* audit) {
    auto lease = impl_->pool.acquire();
    in_transaction(*lease, "insert_release", [&](Connection& c) {
        insert_release_row(c, release, config_json);
        append_audit_records(c, audit);
    });
}

void PostgresStore::open_rollout(const RolloutRecord& rollout, AuditAppend* audit) {
    auto lease = impl_->pool.acquire();
    in_transaction(*lease, "open_rollout", [&](Connection& c) {
        insert_rollout_row(c, rollout);
        append_audit_records(c, audit);
    });
}

void PostgresStore::insert_release_in_rollout(const ReleaseRecord& release,
                                              std::string_view config_json,
                                              const RolloutRecord& rollout, AuditAppend* audit) {
    auto lease = impl_->pool.acquire();
    in_transaction(*lease, "insert_release_in_rollout", [&](Connection& c) {
        insert_rollout_row(c, rollout);
        insert_release_row(c, release, config_json);
        append_audit_records(c, audit);
    });
}

bool PostgresStore::set_rollout_percent(std::string_view organization, std::string_view slug,
                                        int major, int percent, int64_t at_ms, AuditAppend* audit) {
    bool changed = false;
    auto lease = impl_->pool.acquire();
    in_transaction(*lease, "set_rollout_percent", [&](Connection& c) {
        changed = c.exec(kSetRolloutPercent, {organization, slug, major, percent, at_ms},
                         "set_rollout_percent")
                      .changed() > 0;
        if (changed) append_audit_records(c, audit);
    });
    return changed;
}

bool PostgresStore::close_rollout(std::string_view organization, std::string_view slug, int major,
                                  std::string_view state, int64_t at_ms, AuditAppend* audit) {
    bool changed = false;
    auto lease = impl_->pool.acquire();
    in_transaction(*lease, "close_rollout", [&](Connection& c) {
        changed = c.exec(kCloseRollout, {organization, slug, major, state, at_ms}, "close_rollout")
                      .changed() > 0;
        if (changed) append_audit_records(c, audit);
    });
    return changed;
}

std::vector<RolloutRecord> PostgresStore::list_rollouts(std::string_view organization,
                                                        std::string_view slug) const {
    auto lease = impl_->pool.acquire();
    const Result rows = (*lease).exec(kListRollouts, {organization, slug}, "list_rollouts");
    std::vector<RolloutRecord> rollouts;
    for (int i = 0; i < rows.rows(); ++i) rollouts.push_back(read_rollout(rows.at(i)));
    return rollouts;
}

std::optional<EngineRecord> PostgresStore::find_engine(std::string_view organization,
                                                       std::string_view slug) const {
    auto lease = impl_->pool.acquire();
    const Result row = (*lease).exec(kFindEngine, {organization, slug}, "find_engine");
    if (row.rows() == 0) return std::nullopt;
    return read_engine(row.at(0));
}

std::vector<EngineRecord> PostgresStore::list_engines(std::string_view organization) const {
    auto lease = impl_->pool.acquire();
    const Result rows = (*lease).exec(kListEngines, {organization}, "list_engines");
    std::vector<EngineRecord> engines;
    for (int i = 0; i < rows.rows(); ++i) engines.push_back(read_engine(rows.at(i)));
    return engines;
}

std::vector<ReleaseRecord> PostgresStore::list_releases(std::string_view organization,
                                                        std::string_view slug) const {
    auto lease = impl_->pool.acquire();
    const Result rows = (*lease).exec(kListReleases, {organization, slug}, "list_releases");
    std::vector<ReleaseRecord> releases;
    for (int i = 0; i < rows.rows(); ++i) releases.push_back(read_release(rows.at(i)));
    return releases;
}

std::optional<ReleaseRecord> PostgresStore::find_release(std::string_view organization,
                                                         std::string_view slug, int major,
                                                         int minor) const {
    auto lease = impl_->pool.acquire();
    const Result row =
        (*lease).exec(kFindRelease, {organization, slug, major, minor}, "find_release");
    if (row.rows() == 0) return std::nullopt;
    return read_release(row.at(0));
}

std::optional<std::string> PostgresStore::config_json(std::string_view config_hash) const {
    auto lease = impl_->pool.acquire();
    const Result row = (*lease).exec(kConfigJson, {config_hash}, "config_json");
    if (row.rows() == 0) return std::nullopt;
    return row.text(0, 0);
}

}  // namespace engined::store
