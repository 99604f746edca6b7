// SQLite backend: carrier pools and their content-addressed, immutable snapshots.
#include "store/backend_support.hpp"
#include "store/sqlite/internal.hpp"

#include "common/crypto.hpp"

namespace engined::store::sqlite {

namespace {

constexpr const char* kInsertPoolSnapshot = R"sql(
    INSERT INTO pool_snapshots (hash, carriers_json, carrier_count) VALUES (?1, ?2, ?3)
    ON CONFLICT (hash) DO NOTHING
)sql";

constexpr const char* kReplacePool = R"sql(
    INSERT INTO pools (organization, name, snapshot, source, imported_at_ms)
    VALUES (?1, ?2, ?3, ?4, ?5)
    ON CONFLICT (organization, name) DO UPDATE
       SET snapshot = excluded.snapshot, source = excluded.source,
           imported_at_ms = excluded.imported_at_ms
)sql";

constexpr const char* kListPools = ENGINED_SELECT_POOL "WHERE p.organization = ?1 ORDER BY p.name";
constexpr const char* kFindPool = ENGINED_SELECT_POOL "WHERE p.organization = ?1 AND p.name = ?2";
constexpr const char* kPoolCarriers = "SELECT carriers_json FROM pool_snapshots WHERE hash = ?1";

// The store keeps JSON opaque, but a pool's size is part of its summary: count the array's
// elements without interpreting them.

}  // namespace

}  // namespace engined::store::sqlite

namespace engined::store {

// The backend's internals (statements, row mapping) live in engined::store::sqlite.
using namespace sqlite;

PoolSummary SqliteStore::replace_pool(std::string_view organization, std::string_view name,
                                      std::string_view carriers_json, std::string_view source,
                                      int64_t at_ms, AuditAppend* audit) {
    const PoolSummary summary{std::string(name), count_array_elements(carriers_json),
                              sha256_hex(carriers_json), std::string(source), at_ms};
    impl_->writer.write_and_wait([&](Connection& c) {
        Query(c, kInsertPoolSnapshot, "replace_pool (snapshot)")
            .bind(1, summary.snapshot)
            .bind(2, carriers_json)
            .bind(3, summary.carrier_count)
            .run();
        Query(c, kReplacePool, "replace_pool")
            .bind(1, organization)
            .bind(2, name)
            .bind(3, summary.snapshot)
            .bind(4, source)
            .bind(5, at_ms)
            .run();
        append_audit_records(c, audit);
    });
    return summary;
}

std::vector<PoolSummary> SqliteStore::list_pools(std::string_view organization) const {
    auto lease = impl_->readers.acquire();
    Query query(*lease, kListPools, "list_pools");
    query.bind(1, organization);
    std::vector<PoolSummary> pools;
    while (query.next()) pools.push_back(read_pool(query));
    return pools;
}

std::optional<PoolSummary> SqliteStore::pool_snapshot(std::string_view organization,
                                                      std::string_view name) const {
    auto lease = impl_->readers.acquire();
    Query query(*lease, kFindPool, "pool_snapshot");
    query.bind(1, organization).bind(2, name);
    if (!query.next()) return std::nullopt;
    return read_pool(query);
}

std::optional<std::string> SqliteStore::pool_carriers(std::string_view snapshot) const {
    auto lease = impl_->readers.acquire();
    Query query(*lease, kPoolCarriers, "pool_carriers");
    query.bind(1, snapshot);
    if (!query.next()) return std::nullopt;
    return query.text(0);
}

}  // namespace engined::store
