// PostgreSQL backend: API keys (stored by hash) and their revocation.
#include "store/postgres/internal.hpp"

#include <algorithm>

namespace engined::store::postgres {

namespace {

constexpr const char* kInsertApiKey = R"sql(
    INSERT INTO api_keys (id, key_hash, organization, environment, scopes, display_prefix,
                          created_at_ms, rate_per_second, rate_burst, environment_id)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
)sql";

constexpr const char* kRevokeApiKey =
    "UPDATE api_keys SET revoked_at_ms = $2 WHERE id = $1 AND revoked_at_ms IS NULL";

constexpr const char* kFindApiKey = ENGINED_SELECT_API_KEY "WHERE k.key_hash = $1";
constexpr const char* kListApiKeys = ENGINED_SELECT_API_KEY "ORDER BY k.created_at_ms, k.id";
constexpr const char* kListApiKeysOfOrganization =
    ENGINED_SELECT_API_KEY "WHERE k.organization = $1 ORDER BY k.created_at_ms, k.id";

// One atomic statement: the bucket (created full) refills by the database's clock since its last
// take, up to the burst, then gives up to $4 whole tokens. RETURNING sees only the new row, so
// the grant is kept in last_granted.
#define ENGINED_NOW_MS "(extract(epoch FROM clock_timestamp()) * 1000)::bigint"
#define ENGINED_REFILLED                                       \
    "least($3::bigint, b.tokens + greatest(0, " ENGINED_NOW_MS \
    " - b.refilled_at_ms) * "                                  \
    "$2::float8 / 1000.0)"
constexpr const char* kTakeRateTokens =
    "INSERT INTO rate_buckets AS b (key_id, tokens, refilled_at_ms, last_granted) "
    "VALUES ($1, $3::bigint - least($4::bigint, $3::bigint), " ENGINED_NOW_MS
    ", least($4::bigint, $3::bigint)) "
    "ON CONFLICT (key_id) DO UPDATE SET "
    "tokens = " ENGINED_REFILLED " - least($4::bigint, floor(" ENGINED_REFILLED
    ")::bigint), "
    "refilled_at_ms = greatest(b.refilled_at_ms, " ENGINED_NOW_MS
    "), "
    "last_granted = least($4::bigint, floor(" ENGINED_REFILLED
    ")::bigint) "
    "RETURNING b.last_granted, b.tokens";
#undef ENGINED_REFILLED
#undef ENGINED_NOW_MS

}  // namespace

}  // namespace engined::store::postgres

namespace engined::store {

// The backend's internals (statements, row mapping) live in engined::store::postgres.
using namespace postgres;

void PostgresStore::insert_api_key(const ApiKey& key, std::string_view key_hash,
                                   AuditAppend* audit) {
    std::string scopes;
    for (const std::string& scope : key.scopes) {
        if (scope.empty() || scope.find(',') != std::string::npos) {
            throw std::invalid_argument("insert_api_key: invalid scope '" + scope + "'");
        }
        if (!scopes.empty()) scopes += ',';
        scopes += scope;
    }
    auto lease = impl_->pool.acquire();
    in_transaction(*lease, "insert_api_key", [&](Connection& c) {
        c.exec(kInsertApiKey,
               {key.id, key_hash, key.organization, key.environment, scopes, key.display_prefix,
                key.created_at_ms, key.rate_per_second, key.rate_burst, key.environment_id},
               "insert_api_key");
        append_audit_records(c, audit);
    });
}

std::optional<ApiKey> PostgresStore::find_api_key(std::string_view key_hash) const {
    auto lease = impl_->pool.acquire();
    const Result row = (*lease).exec(kFindApiKey, {key_hash}, "find_api_key");
    if (row.rows() == 0) return std::nullopt;
    return read_api_key(row.at(0));
}

std::vector<ApiKey> PostgresStore::list_api_keys(
    const std::optional<std::string>& organization) const {
    auto lease = impl_->pool.acquire();
    const Result rows =
        organization ? (*lease).exec(kListApiKeysOfOrganization, {*organization}, "list_api_keys")
                     : (*lease).exec(kListApiKeys, "list_api_keys");
    std::vector<ApiKey> keys;
    for (int i = 0; i < rows.rows(); ++i) keys.push_back(read_api_key(rows.at(i)));
    return keys;
}

bool PostgresStore::write_key_revocation(std::string_view key_id, int64_t at_ms,
                                         AuditAppend* audit) {
    bool revoked = false;
    auto lease = impl_->pool.acquire();
    in_transaction(*lease, "revoke_api_key", [&](Connection& c) {
        revoked = c.exec(kRevokeApiKey, {key_id, at_ms}, "revoke_api_key").changed() > 0;
        if (revoked) append_audit_records(c, audit);
    });
    return revoked;
}

RateTokenLease PostgresStore::take_rate_tokens(std::string_view key_id, double per_second,
                                               int64_t burst, int64_t wanted) {
    auto lease = impl_->pool.acquire();
    const Result row =
        (*lease).exec(kTakeRateTokens, {key_id, std::optional<double>(per_second), burst, wanted},
                      "take_rate_tokens");
    return {row.integer(0, 0), row.optional_real(0, 1).value_or(0)};
}

}  // namespace engined::store
