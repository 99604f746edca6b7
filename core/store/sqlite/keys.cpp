// SQLite backend: API keys (stored by hash) and their revocation.
#include "store/sqlite/internal.hpp"

namespace engined::store::sqlite {

namespace {

constexpr const char* kInsertApiKey = R"sql(
    INSERT INTO api_keys (id, key_hash, organization, environment, scopes, display_prefix,
                          created_at_ms, rate_per_second, rate_burst, environment_id)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
)sql";

constexpr const char* kRevokeApiKey = R"sql(
    UPDATE api_keys SET revoked_at_ms = ?2 WHERE id = ?1 AND revoked_at_ms IS NULL
)sql";

constexpr const char* kFindApiKey = ENGINED_SELECT_API_KEY "WHERE k.key_hash = ?1";
constexpr const char* kListApiKeys = ENGINED_SELECT_API_KEY "ORDER BY k.created_at_ms, k.id";
constexpr const char* kListApiKeysOfOrganization =
    ENGINED_SELECT_API_KEY "WHERE k.organization = ?1 ORDER BY k.created_at_ms, k.id";

}  // namespace

}  // namespace engined::store::sqlite

namespace engined::store {

// The backend's internals (statements, row mapping) live in engined::store::sqlite.
using namespace sqlite;

void SqliteStore::insert_api_key(const ApiKey& key, std::string_view key_hash, AuditAppend* audit) {
    std::string scopes;
    for (const std::string& scope : key.scopes) {
        if (scope.empty() || scope.find(',') != std::string::npos) {
            throw std::invalid_argument("insert_api_key: invalid scope '" + scope + "'");
        }
        if (!scopes.empty()) scopes += ',';
        scopes += scope;
    }
    // The caller waits for the commit, so the lambda may refer to its arguments.
    impl_->writer.write_and_wait([&](Connection& c) {
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
        append_audit_records(c, audit);
    });
}

std::optional<ApiKey> SqliteStore::find_api_key(std::string_view key_hash) const {
    auto lease = impl_->readers.acquire();
    Query query(*lease, kFindApiKey, "find_api_key");
    query.bind(1, key_hash);
    if (!query.next()) return std::nullopt;
    return read_api_key(query);
}

std::vector<ApiKey> SqliteStore::list_api_keys(
    const std::optional<std::string>& organization) const {
    auto lease = impl_->readers.acquire();
    Query query(*lease, organization ? kListApiKeysOfOrganization : kListApiKeys, "list_api_keys");
    if (organization) query.bind(1, *organization);
    std::vector<ApiKey> keys;
    while (query.next()) keys.push_back(read_api_key(query));
    return keys;
}

bool SqliteStore::write_key_revocation(std::string_view key_id, int64_t at_ms, AuditAppend* audit) {
    bool revoked = false;
    impl_->writer.write_and_wait([&](Connection& c) {
        Query revoke(c, kRevokeApiKey, "revoke_api_key");
        revoked = revoke.bind(1, key_id).bind(2, at_ms).run() > 0;
        if (revoked) append_audit_records(c, audit);
    });
    return revoked;
}

}  // namespace engined::store
