// core/store/sqlite/delivery_statements — how the webhook senders lease the deliveries due.
// Each lease is a write of its own, at every delivery at light load, so the statements must build
// no temporary table: SQLite allocates one per `IN (subquery)` and frees it at the statement's
// end, and glibc hands that memory back to the kernel, each time, with a TLB flush of every core.
// Kept apart so that the store's tests can check their bytecode.
#pragma once

namespace engined::store::sqlite {

// The oldest due deliveries, in the order of webhook_deliveries_due (status, next attempt, seq):
// pending, their next attempt due, not leased by a sender, and not held back by a paused endpoint.
inline constexpr const char* kDueDeliveries = R"sql(
    SELECT d.id FROM webhook_deliveries d
     WHERE d.status = 'pending' AND d.next_attempt_at_ms <= ?1
       AND (d.leased_until_ms IS NULL OR d.leased_until_ms <= ?1)
       AND (d.endpoint_id IS NULL
            OR EXISTS (SELECT 1 FROM webhook_endpoints e WHERE e.id = d.endpoint_id AND e.active = 1))
     ORDER BY d.next_attempt_at_ms, d.seq
     LIMIT ?2
)sql";

inline constexpr const char* kLeaseDelivery =
    "UPDATE webhook_deliveries SET leased_until_ms = ?2 WHERE id = ?1";

}  // namespace engined::store::sqlite
