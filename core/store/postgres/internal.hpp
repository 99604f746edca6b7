// core/store/postgres/internal — what the PostgreSQL backend's files share: the store's state
// (options, the connection pool, the group writer) and the statement bodies one concern's write
// runs inside another's (a run's configuration, idempotency record and webhook deliveries).
#pragma once

#include "store/finished_runs.hpp"
#include "store/rows.hpp"
#include "store/group_writer.hpp"
#include "store/postgres/connection.hpp"
#include "store/postgres/postgres_store.hpp"

#include <string>
#include <string_view>

namespace engined::store::postgres {

using Writer = GroupWriter<Connection>;

}  // namespace engined::store::postgres

namespace engined::store {

struct PostgresStore::Impl {
    explicit Impl(PostgresOptions opts);

    const PostgresOptions options;
    int schema_version = 0;  // set while the writer's connection is migrated, before any write
    postgres::ConnectionPool pool;
    postgres::Writer writer;
    // This node's submits and finishes carry it in their NOTIFY, so its own listeners ignore
    // them (they are handed over or told in-process).
    const std::string submit_tag;
    // This node's own finishes, told at their commit.
    FinishedRunListeners finished_runs;
};

}  // namespace engined::store

namespace engined::store::postgres {

// Content-addressed: a hash already stored keeps its first text. Sent with the statement that
// follows it (Connection::exec_later): a write never ends with it.
void insert_config(Connection& connection, std::string_view hash, std::string_view config_json,
                   std::string_view operation);

// Throws IdempotencyKeyTaken when a live record holds the key.
void apply_remember_idempotency(Connection& connection, const IdempotencyRecord& record);

// Appends an operator action's records to their organisations' chains inside the calling write's
// transaction (under the organisation's transaction advisory lock): every store write
// carrying an AuditAppend ends with it, and append_audit is made of it. No-op for null.
void append_audit_records(Connection& connection, AuditAppend* audit);

}  // namespace engined::store::postgres
