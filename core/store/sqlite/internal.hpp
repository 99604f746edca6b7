// core/store/sqlite/internal — what the SQLite backend's files share: the store's state (options,
// the writer, its checkpointer, the read connections) and the few statement bodies one concern's write runs inside
// another's (a run's configuration, idempotency record and webhook deliveries).
#pragma once

#include "store/finished_runs.hpp"
#include "store/rows.hpp"
#include "store/sqlite/checkpointer.hpp"
#include "store/sqlite/connection.hpp"
#include "store/sqlite/writer.hpp"

#include <string>
#include <string_view>

namespace engined::store {

struct SqliteStore::Impl {
    explicit Impl(SqliteOptions opts);

    const SqliteOptions options;
    int schema_version = 0;  // set while the writer's connection is migrated, before any write
    sqlite::ReaderPool readers;
    // Before the writer: its connection's WAL hook calls into the checkpointer until it closes.
    sqlite::Checkpointer checkpointer;
    sqlite::Writer writer;
    // Every finish on SQLite is this process's own: told at its commit.
    FinishedRunListeners finished_runs;
};

}  // namespace engined::store

namespace engined::store::sqlite {

// Content-addressed: a hash already stored keeps its first text.
void insert_config(Connection& connection, std::string_view hash, std::string_view config_json,
                   std::string_view operation);

// Throws IdempotencyKeyTaken when a live record holds the key.
void apply_remember_idempotency(Connection& connection, const IdempotencyRecord& record);

// In finish_run's own savepoint: the event's deliveries exist exactly when the terminal status does.
// True when it added any.
bool add_run_event_deliveries(Connection& connection, const std::string& run_id,
                              const RunEventTarget& target, const RunOutcome& outcome);

// Appends an operator action's records to their organisations' chains inside the calling write's
// transaction (the single writer serialises the chain's head): every store write
// carrying an AuditAppend ends with it, and append_audit is made of it. No-op for null.
void append_audit_records(Connection& connection, AuditAppend* audit);

}  // namespace engined::store::sqlite
