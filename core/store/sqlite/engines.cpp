// SQLite backend: engines, their immutable releases and the content-addressed configurations
// both point at.
#include "store/sqlite/internal.hpp"

namespace engined::store::sqlite {

namespace {

constexpr const char* kConfigJson = "SELECT config_json FROM engine_configs WHERE hash = ?1";

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

constexpr const char* kEngineExists = "SELECT 1 FROM engines WHERE organization = ?1 AND slug = ?2";

constexpr const char* kUpdateEngineConfig = R"sql(
    UPDATE engines
       SET config_hash = ?3, config_updated_by = ?4, config_updated_at_ms = ?5,
           updated_at_ms = ?5
     WHERE organization = ?1 AND slug = ?2
)sql";

constexpr const char* kSetEngineStatus = R"sql(
    UPDATE engines SET status = ?3, updated_at_ms = ?4 WHERE organization = ?1 AND slug = ?2
)sql";

constexpr const char* kGetEngine = ENGINED_SELECT_ENGINE "WHERE organization = ?1 AND slug = ?2";
// '' sorts before any organisation: its own engine comes first, the built-in one otherwise.
constexpr const char* kFindEngine = ENGINED_SELECT_ENGINE R"sql(
     WHERE slug = ?2 AND organization IN (?1, '')
     ORDER BY organization DESC
     LIMIT 1
)sql";
constexpr const char* kListEngines =
    ENGINED_SELECT_ENGINE "WHERE organization IN (?1, '') ORDER BY organization, slug";

constexpr const char* kInsertRelease = R"sql(
    INSERT INTO engine_releases (organization, engine_slug, major, minor, config_hash,
                                 content_hash, bundle_json, changelog, bump,
                                 is_breaking_from_previous_major, reasons_json, published_by,
                                 released_at_ms)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
)sql";

constexpr const char* kListReleases =
    ENGINED_SELECT_RELEASE "WHERE organization = ?1 AND engine_slug = ?2 ORDER BY major, minor";
constexpr const char* kFindRelease = ENGINED_SELECT_RELEASE
    "WHERE organization = ?1 AND engine_slug = ?2 AND major = ?3 AND minor = ?4";

constexpr const char* kInsertRollout = R"sql(
    INSERT INTO engine_rollouts (organization, engine_slug, major, from_minor, to_minor, percent,
                                 state, opened_by, opened_at_ms, updated_at_ms)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'open', ?7, ?8, ?8)
)sql";
constexpr const char* kSetRolloutPercent = R"sql(
    UPDATE engine_rollouts SET percent = ?4, updated_at_ms = ?5
     WHERE organization = ?1 AND engine_slug = ?2 AND major = ?3 AND state = 'open'
)sql";
constexpr const char* kCloseRollout = R"sql(
    UPDATE engine_rollouts SET state = ?4, updated_at_ms = ?5, closed_at_ms = ?5
     WHERE organization = ?1 AND engine_slug = ?2 AND major = ?3 AND state = 'open'
)sql";
constexpr const char* kListRollouts =
    ENGINED_SELECT_ROLLOUT "WHERE organization = ?1 AND engine_slug = ?2 ORDER BY seq";

void insert_release_row(Connection& connection, const ReleaseRecord& release,
                        std::string_view config_json) {
    insert_config(connection, release.config_hash, config_json, "insert_release (config)");
    Query(connection, kInsertRelease, "insert_release")
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
}

void insert_rollout_row(Connection& connection, const RolloutRecord& rollout) {
    Query(connection, kInsertRollout, "open_rollout")
        .bind(1, rollout.organization)
        .bind(2, rollout.engine_slug)
        .bind(3, static_cast<int64_t>(rollout.major))
        .bind(4, static_cast<int64_t>(rollout.from_minor))
        .bind(5, static_cast<int64_t>(rollout.to_minor))
        .bind(6, static_cast<int64_t>(rollout.percent))
        .bind(7, rollout.opened_by)
        .bind(8, rollout.opened_at_ms)
        .run();
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

}  // namespace

constexpr const char* kInsertConfig = R"sql(
    INSERT INTO engine_configs (hash, config_json) VALUES (?1, ?2)
    ON CONFLICT (hash) DO NOTHING
)sql";

// Content-addressed: a hash already stored keeps its first text.
void insert_config(Connection& connection, std::string_view hash, std::string_view config_json,
                   std::string_view operation) {
    Query(connection, kInsertConfig, operation).bind(1, hash).bind(2, config_json).run();
}

}  // namespace engined::store::sqlite

namespace engined::store {

// The backend's internals (statements, row mapping) live in engined::store::sqlite.
using namespace sqlite;

void SqliteStore::insert_engine(const EngineRecord& engine, std::string_view config_json,
                                AuditAppend* audit) {
    impl_->writer.write_and_wait([&](Connection& c) {
        insert_config(c, engine.config_hash, config_json, "insert_engine (config)");
        Query query(c, kInsertEngine, "insert_engine");
        bind_engine(query, engine);
        query.run();
        append_audit_records(c, audit);
    });
}

EngineRecord SqliteStore::ensure_builtin_engine(const EngineRecord& engine,
                                                std::string_view config_json) {
    EngineRecord stored;
    impl_->writer.write_and_wait([&](Connection& c) {
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

bool SqliteStore::update_engine_config(std::string_view organization, std::string_view slug,
                                       std::string_view config_hash, std::string_view config_json,
                                       std::string_view updated_by, int64_t at_ms,
                                       AuditAppend* audit) {
    bool updated = false;
    impl_->writer.write_and_wait([&](Connection& c) {
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
        if (updated) append_audit_records(c, audit);
    });
    return updated;
}

bool SqliteStore::set_engine_status(std::string_view organization, std::string_view slug,
                                    std::string_view status, int64_t at_ms, AuditAppend* audit) {
    bool updated = false;
    impl_->writer.write_and_wait([&](Connection& c) {
        Query update(c, kSetEngineStatus, "set_engine_status");
        update.bind(1, organization).bind(2, slug).bind(3, status).bind(4, at_ms);
        updated = update.run() > 0;
        if (updated) append_audit_records(c, audit);
    });
    return updated;
}

void SqliteStore::insert_release(const ReleaseRecord& release, std::string_view config_json,
                                 AuditAppend* audit) {
    impl_->writer.write_and_wait([&](Connection& c) {
        insert_release_row(c, release, config_json);
        append_audit_records(c, audit);
    });
}

void SqliteStore::open_rollout(const RolloutRecord& rollout, AuditAppend* audit) {
    impl_->writer.write_and_wait([&](Connection& c) {
        insert_rollout_row(c, rollout);
        append_audit_records(c, audit);
    });
}

void SqliteStore::insert_release_in_rollout(const ReleaseRecord& release,
                                            std::string_view config_json,
                                            const RolloutRecord& rollout, AuditAppend* audit) {
    impl_->writer.write_and_wait([&](Connection& c) {
        insert_rollout_row(c, rollout);
        insert_release_row(c, release, config_json);
        append_audit_records(c, audit);
    });
}

bool SqliteStore::set_rollout_percent(std::string_view organization, std::string_view slug,
                                      int major, int percent, int64_t at_ms, AuditAppend* audit) {
    int changed = 0;
    impl_->writer.write_and_wait([&](Connection& c) {
        changed = Query(c, kSetRolloutPercent, "set_rollout_percent")
                      .bind(1, organization)
                      .bind(2, slug)
                      .bind(3, static_cast<int64_t>(major))
                      .bind(4, static_cast<int64_t>(percent))
                      .bind(5, at_ms)
                      .run();
        if (changed > 0) append_audit_records(c, audit);
    });
    return changed > 0;
}

bool SqliteStore::close_rollout(std::string_view organization, std::string_view slug, int major,
                                std::string_view state, int64_t at_ms, AuditAppend* audit) {
    int changed = 0;
    impl_->writer.write_and_wait([&](Connection& c) {
        changed = Query(c, kCloseRollout, "close_rollout")
                      .bind(1, organization)
                      .bind(2, slug)
                      .bind(3, static_cast<int64_t>(major))
                      .bind(4, state)
                      .bind(5, at_ms)
                      .run();
        if (changed > 0) append_audit_records(c, audit);
    });
    return changed > 0;
}

std::vector<RolloutRecord> SqliteStore::list_rollouts(std::string_view organization,
                                                      std::string_view slug) const {
    auto lease = impl_->readers.acquire();
    Query query(*lease, kListRollouts, "list_rollouts");
    query.bind(1, organization).bind(2, slug);
    std::vector<RolloutRecord> rollouts;
    while (query.next()) rollouts.push_back(read_rollout(query));
    return rollouts;
}

std::optional<EngineRecord> SqliteStore::find_engine(std::string_view organization,
                                                     std::string_view slug) const {
    auto lease = impl_->readers.acquire();
    Query query(*lease, kFindEngine, "find_engine");
    query.bind(1, organization).bind(2, slug);
    if (!query.next()) return std::nullopt;
    return read_engine(query);
}

std::vector<EngineRecord> SqliteStore::list_engines(std::string_view organization) const {
    auto lease = impl_->readers.acquire();
    Query query(*lease, kListEngines, "list_engines");
    query.bind(1, organization);
    std::vector<EngineRecord> engines;
    while (query.next()) engines.push_back(read_engine(query));
    return engines;
}

std::vector<ReleaseRecord> SqliteStore::list_releases(std::string_view organization,
                                                      std::string_view slug) const {
    auto lease = impl_->readers.acquire();
    Query query(*lease, kListReleases, "list_releases");
    query.bind(1, organization).bind(2, slug);
    std::vector<ReleaseRecord> releases;
    while (query.next()) releases.push_back(read_release(query));
    return releases;
}

std::optional<ReleaseRecord> SqliteStore::find_release(std::string_view organization,
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

std::optional<std::string> SqliteStore::config_json(std::string_view config_hash) const {
    auto lease = impl_->readers.acquire();
    Query query(*lease, kConfigJson, "config_json");
    query.bind(1, config_hash);
    if (!query.next()) return std::nullopt;
    return query.text(0);
}

}  // namespace engined::store
