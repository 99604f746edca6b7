// PostgreSQL backend: carrier pools and their content-addressed, immutable snapshots.
#include "store/backend_support.hpp"
#include "store/postgres/internal.hpp"

#include "common/crypto.hpp"

namespace engined::store::postgres {

namespace {

constexpr const char* kInsertPoolSnapshot = R"sql(
    INSERT INTO pool_snapshots (hash, carriers_json, carrier_count) VALUES ($1, $2, $3)
    ON CONFLICT (hash) DO NOTHING
)sql";

constexpr const char* kReplacePool = R"sql(
    INSERT INTO pools (organization, name, snapshot, source, imported_at_ms)
    VALUES ($1, $2, $3, $4, $5)
    ON CONFLICT (organization, name) DO UPDATE
       SET snapshot = excluded.snapshot, source = excluded.source, imported_at_ms = excluded.imported_at_ms
)sql";

constexpr const char* kListPools = ENGINED_SELECT_POOL "WHERE p.organization = $1 ORDER BY p.name";
constexpr const char* kFindPool = ENGINED_SELECT_POOL "WHERE p.organization = $1 AND p.name = $2";

constexpr const char* kPoolCarriers = "SELECT carriers_json FROM pool_snapshots WHERE hash = $1";

// The store keeps JSON opaque, but a pool's size is part of its summary: count the array's
// elements without interpreting them.

}  // namespace

}  // namespace engined::store::postgres

namespace engined::store {

// The backend's internals (statements, row mapping) live in engined::store::postgres.
using namespace postgres;

PoolSummary PostgresStore::replace_pool(std::string_view organization, std::string_view name,
                                        std::string_view carriers_json, std::string_view source,
                                        int64_t at_ms, AuditAppend* audit) {
    const PoolSummary summary{std::string(name), count_array_elements(carriers_json),
                              sha256_hex(carriers_json), std::string(source), at_ms};
    auto lease = impl_->pool.acquire();
    in_transaction(*lease, "replace_pool", [&](Connection& c) {
        c.exec(kInsertPoolSnapshot, {summary.snapshot, carriers_json, summary.carrier_count},
               "replace_pool (snapshot)");
        c.exec(kReplacePool, {organization, name, summary.snapshot, source, at_ms}, "replace_pool");
        append_audit_records(c, audit);
    });
    return summary;
}

std::vector<PoolSummary> PostgresStore::list_pools(std::string_view organization) const {
    auto lease = impl_->pool.acquire();
    const Result rows = (*lease).exec(kListPools, {organization}, "list_pools");
    std::vector<PoolSummary> pools;
    for (int i = 0; i < rows.rows(); ++i) pools.push_back(read_pool(rows.at(i)));
    return pools;
}

std::optional<PoolSummary> PostgresStore::pool_snapshot(std::string_view organization,
                                                        std::string_view name) const {
    auto lease = impl_->pool.acquire();
    const Result row = (*lease).exec(kFindPool, {organization, name}, "pool_snapshot");
    if (row.rows() == 0) return std::nullopt;
    return read_pool(row.at(0));
}

std::optional<std::string> PostgresStore::pool_carriers(std::string_view snapshot) const {
    auto lease = impl_->pool.acquire();
    const Result row = (*lease).exec(kPoolCarriers, {snapshot}, "pool_carriers");
    if (row.rows() == 0) return std::nullopt;
    return row.text(0, 0);
}

}  // namespace engined::store
