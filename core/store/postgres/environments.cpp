// PostgreSQL backend: environments — the built-in test and live, named ones, their default pins.
#include "store/postgres/internal.hpp"

namespace engined::store::postgres {

namespace {

constexpr const char* kEnsureBuiltinEnvironment = R"sql(
    INSERT INTO environments (id, organization, slug, built_in, created_at_ms, updated_at_ms)
    VALUES (gen_random_uuid()::text, $1, $2, 1, $3, $3)
    ON CONFLICT DO NOTHING
)sql";

constexpr const char* kInsertEnvironment = R"sql(
    INSERT INTO environments (id, organization, slug, built_in, pinned_engine_version,
                              engine_pins_json, created_at_ms, updated_at_ms)
    VALUES ($1, $2, $3, 0, $4, $5, $6, $6)
)sql";

// Taken before counting: two creations in one organisation at once count one after the other.
constexpr const char* kLockOrganization =
    "SELECT pg_advisory_xact_lock(hashtext('environments:' || $1))";

constexpr const char* kCountNamedEnvironments = R"sql(
    SELECT count(*) FROM environments WHERE organization = $1 AND built_in = 0 AND deleted_at_ms IS NULL
)sql";

constexpr const char* kListEnvironments = ENGINED_SELECT_ENVIRONMENT
    "WHERE organization = $1 AND deleted_at_ms IS NULL "
    "ORDER BY built_in DESC, slug = 'live', created_at_ms, slug";
constexpr const char* kFindEnvironment =
    ENGINED_SELECT_ENVIRONMENT "WHERE organization = $1 AND slug = $2 AND deleted_at_ms IS NULL";

constexpr const char* kUpdateEnvironmentPins = R"sql(
    UPDATE environments SET pinned_engine_version = $3, engine_pins_json = $4, updated_at_ms = $5
     WHERE organization = $1 AND slug = $2 AND deleted_at_ms IS NULL
)sql";

// FOR UPDATE on the environment: a key created for it meanwhile waits for the deletion's outcome.
constexpr const char* kLockEnvironment = R"sql(
    SELECT id FROM environments WHERE organization = $1 AND slug = $2 AND deleted_at_ms IS NULL FOR UPDATE
)sql";

constexpr const char* kActiveKeysOfEnvironment = R"sql(
    SELECT count(*) FROM api_keys k JOIN environments e ON e.id = k.environment_id
     WHERE e.organization = $1 AND e.slug = $2 AND e.deleted_at_ms IS NULL AND k.revoked_at_ms IS NULL
)sql";

constexpr const char* kDeleteEnvironment = R"sql(
    UPDATE environments SET deleted_at_ms = $3, updated_at_ms = $3
     WHERE organization = $1 AND slug = $2 AND built_in = 0 AND deleted_at_ms IS NULL
)sql";

}  // namespace

}  // namespace engined::store::postgres

namespace engined::store {

// The backend's internals (statements, row mapping) live in engined::store::postgres.
using namespace postgres;

void PostgresStore::ensure_builtin_environments(std::string_view organization, int64_t at_ms) {
    auto lease = impl_->pool.acquire();
    in_transaction(*lease, "ensure_builtin_environments", [&](Connection& c) {
        for (const char* slug : {"test", "live"}) {
            c.exec(kEnsureBuiltinEnvironment, {organization, slug, at_ms},
                   "ensure_builtin_environments");
        }
    });
}

void PostgresStore::insert_environment(const Environment& environment, int max_named,
                                       AuditAppend* audit) {
    auto lease = impl_->pool.acquire();
    in_transaction(*lease, "insert_environment", [&](Connection& c) {
        c.exec(kLockOrganization, {environment.organization}, "insert_environment");
        c.exec(kInsertEnvironment,
               {environment.id, environment.organization, environment.slug,
                environment.pinned_engine_version, environment.engine_pins_json,
                environment.created_at_ms},
               "insert_environment");
        if (c.exec(kCountNamedEnvironments, {environment.organization}, "count named environments")
                .integer(0, 0) > max_named) {
            throw TooManyEnvironments("an organisation may have at most " +
                                      std::to_string(max_named) +
                                      " environments besides test and live");
        }
        append_audit_records(c, audit);
    });
}

std::vector<Environment> PostgresStore::list_environments(std::string_view organization) const {
    auto lease = impl_->pool.acquire();
    const Result rows = (*lease).exec(kListEnvironments, {organization}, "list_environments");
    std::vector<Environment> environments;
    for (int i = 0; i < rows.rows(); ++i) environments.push_back(read_environment(rows.at(i)));
    return environments;
}

std::optional<Environment> PostgresStore::find_environment(std::string_view organization,
                                                           std::string_view slug) const {
    auto lease = impl_->pool.acquire();
    const Result row = (*lease).exec(kFindEnvironment, {organization, slug}, "find_environment");
    if (row.rows() == 0) return std::nullopt;
    return read_environment(row.at(0));
}

bool PostgresStore::update_environment_pins(const Environment& environment, AuditAppend* audit) {
    bool changed = false;
    auto lease = impl_->pool.acquire();
    in_transaction(*lease, "update_environment_pins", [&](Connection& c) {
        changed =
            c.exec(kUpdateEnvironmentPins,
                   {environment.organization, environment.slug, environment.pinned_engine_version,
                    environment.engine_pins_json, environment.updated_at_ms},
                   "update_environment_pins")
                .changed() > 0;
        if (changed) append_audit_records(c, audit);
    });
    return changed;
}

bool PostgresStore::delete_environment(std::string_view organization, std::string_view slug,
                                       int64_t at_ms, AuditAppend* audit) {
    int changed = 0;
    auto lease = impl_->pool.acquire();
    in_transaction(*lease, "delete_environment", [&](Connection& c) {
        c.exec(kLockEnvironment, {organization, slug}, "delete_environment");
        if (const int64_t keys =
                c.exec(kActiveKeysOfEnvironment, {organization, slug}, "delete_environment (keys)")
                    .integer(0, 0);
            keys > 0) {
            throw EnvironmentHasActiveKeys("environment '" + std::string(slug) + "' still has " +
                                           std::to_string(keys) + " active key(s)");
        }
        changed =
            c.exec(kDeleteEnvironment, {organization, slug, at_ms}, "delete_environment").changed();
        if (changed > 0) append_audit_records(c, audit);
    });
    return changed > 0;
}

}  // namespace engined::store
