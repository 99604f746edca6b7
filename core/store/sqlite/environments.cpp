// SQLite backend: environments — the built-in test and live, named ones, their default pins.
#include "store/sqlite/internal.hpp"

namespace engined::store::sqlite {

namespace {

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

constexpr const char* kListEnvironments = ENGINED_SELECT_ENVIRONMENT
    "WHERE organization = ?1 AND deleted_at_ms IS NULL "
    "ORDER BY built_in DESC, slug = 'live', created_at_ms, slug";
constexpr const char* kFindEnvironment =
    ENGINED_SELECT_ENVIRONMENT "WHERE organization = ?1 AND slug = ?2 AND deleted_at_ms IS NULL";

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

}  // namespace

}  // namespace engined::store::sqlite

namespace engined::store {

// The backend's internals (statements, row mapping) live in engined::store::sqlite.
using namespace sqlite;

void SqliteStore::ensure_builtin_environments(std::string_view organization, int64_t at_ms) {
    impl_->writer.write_and_wait([&](Connection& c) {
        for (const char* slug : {"test", "live"}) {
            Query(c, kEnsureBuiltinEnvironment, "ensure_builtin_environments")
                .bind(1, organization)
                .bind(2, slug)
                .bind(3, at_ms)
                .run();
        }
    });
}

void SqliteStore::insert_environment(const Environment& environment, int max_named,
                                     AuditAppend* audit) {
    impl_->writer.write_and_wait([&](Connection& c) {
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
            throw TooManyEnvironments("an organisation may have at most " +
                                      std::to_string(max_named) +
                                      " environments besides test and live");
        }
        append_audit_records(c, audit);
    });
}

std::vector<Environment> SqliteStore::list_environments(std::string_view organization) const {
    auto lease = impl_->readers.acquire();
    Query query(*lease, kListEnvironments, "list_environments");
    query.bind(1, organization);
    std::vector<Environment> environments;
    while (query.next()) environments.push_back(read_environment(query));
    return environments;
}

std::optional<Environment> SqliteStore::find_environment(std::string_view organization,
                                                         std::string_view slug) const {
    auto lease = impl_->readers.acquire();
    Query query(*lease, kFindEnvironment, "find_environment");
    query.bind(1, organization).bind(2, slug);
    if (!query.next()) return std::nullopt;
    return read_environment(query);
}

bool SqliteStore::update_environment_pins(const Environment& environment, AuditAppend* audit) {
    int changed = 0;
    impl_->writer.write_and_wait([&](Connection& c) {
        changed = Query(c, kUpdateEnvironmentPins, "update_environment_pins")
                      .bind(1, environment.organization)
                      .bind(2, environment.slug)
                      .bind_optional(3, environment.pinned_engine_version)
                      .bind(4, environment.engine_pins_json)
                      .bind(5, environment.updated_at_ms)
                      .run();
        if (changed > 0) append_audit_records(c, audit);
    });
    return changed > 0;
}

bool SqliteStore::delete_environment(std::string_view organization, std::string_view slug,
                                     int64_t at_ms, AuditAppend* audit) {
    int changed = 0;
    impl_->writer.write_and_wait([&](Connection& c) {
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
        if (changed > 0) append_audit_records(c, audit);
    });
    return changed > 0;
}

}  // namespace engined::store
