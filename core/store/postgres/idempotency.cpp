// PostgreSQL backend: idempotency records, replayed for the window to the same tenant. The
// primary key holds across nodes: of two submissions with one key, one insert wins.
#include "store/postgres/internal.hpp"

namespace engined::store::postgres {

namespace {

constexpr const char* kFindIdempotency = R"sql(
    SELECT request_hash, status, response_body, location, created_at_ms FROM idempotency_records
     WHERE organization = $1 AND environment_id = $2 AND idempotency_key = $3 AND created_at_ms >= $4
)sql";

// A record older than the window may be taken over; a live one may not (no row changes then).
constexpr const char* kRememberIdempotency = R"sql(
    INSERT INTO idempotency_records (organization, environment_id, idempotency_key, request_hash,
                                     status, response_body, location, created_at_ms)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
    ON CONFLICT (organization, environment_id, idempotency_key) DO UPDATE
       SET request_hash = excluded.request_hash, status = excluded.status,
           response_body = excluded.response_body, location = excluded.location,
           created_at_ms = excluded.created_at_ms
     WHERE idempotency_records.created_at_ms < $9
)sql";

}  // namespace

void apply_remember_idempotency(Connection& connection, const IdempotencyRecord& record) {
    const int changed =
        connection
            .exec(kRememberIdempotency,
                  {record.organization, record.environment_id, record.key, record.request_hash,
                   record.status, record.response_body, record.location, record.created_at_ms,
                   record.created_at_ms - kIdempotencyWindowMs},
                  "remember_idempotency")
            .changed();
    if (changed == 0)
        throw IdempotencyKeyTaken("idempotency key '" + record.key + "' is already in use");
}

}  // namespace engined::store::postgres

namespace engined::store {

// The backend's internals (statements, row mapping) live in engined::store::postgres.
using namespace postgres;

std::optional<IdempotencyRecord> PostgresStore::find_idempotency(std::string_view organization,
                                                                 std::string_view environment_id,
                                                                 std::string_view key,
                                                                 int64_t now_ms) const {
    auto lease = impl_->pool.acquire();
    const Result row = (*lease).exec(
        kFindIdempotency, {organization, environment_id, key, now_ms - kIdempotencyWindowMs},
        "find_idempotency");
    if (row.rows() == 0) return std::nullopt;
    return IdempotencyRecord{std::string(organization),
                             std::string(environment_id),
                             std::string(key),
                             row.text(0, 0),
                             static_cast<int>(row.integer(0, 1)),
                             row.text(0, 2),
                             row.text(0, 3),
                             row.integer(0, 4)};
}

void PostgresStore::remember_idempotency(IdempotencyRecord record, Completion done) {
    impl_->writer.enqueue(
        {[record = std::move(record)](Connection& c) { apply_remember_idempotency(c, record); },
         std::move(done)});
}

}  // namespace engined::store
