// SQLite backend: idempotency records, replayed for the window to the same tenant.
#include "store/sqlite/internal.hpp"

namespace engined::store::sqlite {

namespace {

constexpr const char* kFindIdempotency = R"sql(
    SELECT request_hash, status, response_body, location, created_at_ms FROM idempotency_records
     WHERE organization = ?1 AND environment_id = ?2 AND idempotency_key = ?3 AND created_at_ms >= ?4
)sql";

}  // namespace

// A record older than the window may be taken over; a live one may not (no row changes then).
constexpr const char* kRememberIdempotency = R"sql(
    INSERT INTO idempotency_records (organization, environment_id, idempotency_key, request_hash,
                                     status, response_body, location, created_at_ms)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
    ON CONFLICT (organization, environment_id, idempotency_key) DO UPDATE
       SET request_hash = excluded.request_hash, status = excluded.status,
           response_body = excluded.response_body, location = excluded.location,
           created_at_ms = excluded.created_at_ms
     WHERE idempotency_records.created_at_ms < ?9
)sql";

void apply_remember_idempotency(Connection& connection, const IdempotencyRecord& record) {
    const int changed = Query(connection, kRememberIdempotency, "remember_idempotency")
                            .bind(1, record.organization)
                            .bind(2, record.environment_id)
                            .bind(3, record.key)
                            .bind(4, record.request_hash)
                            .bind(5, static_cast<int64_t>(record.status))
                            .bind(6, record.response_body)
                            .bind(7, record.location)
                            .bind(8, record.created_at_ms)
                            .bind(9, record.created_at_ms - kIdempotencyWindowMs)
                            .run();
    if (changed == 0)
        throw IdempotencyKeyTaken("idempotency key '" + record.key + "' is already in use");
}

}  // namespace engined::store::sqlite

namespace engined::store {

// The backend's internals (statements, row mapping) live in engined::store::sqlite.
using namespace sqlite;

std::optional<IdempotencyRecord> SqliteStore::find_idempotency(std::string_view organization,
                                                               std::string_view environment_id,
                                                               std::string_view key,
                                                               int64_t now_ms) const {
    auto lease = impl_->readers.acquire();
    Query query(*lease, kFindIdempotency, "find_idempotency");
    query.bind(1, organization)
        .bind(2, environment_id)
        .bind(3, key)
        .bind(4, now_ms - kIdempotencyWindowMs);
    if (!query.next()) return std::nullopt;
    return IdempotencyRecord{std::string(organization),
                             std::string(environment_id),
                             std::string(key),
                             query.text(0),
                             static_cast<int>(query.integer(1)),
                             query.text(2),
                             query.text(3),
                             query.integer(4)};
}

void SqliteStore::remember_idempotency(IdempotencyRecord record, Completion done) {
    impl_->writer.enqueue(
        {[record = std::move(record)](Connection& c) { apply_remember_idempotency(c, record); },
         std::move(done)});
}

}  // namespace engined::store
