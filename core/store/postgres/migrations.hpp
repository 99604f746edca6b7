// core/store/postgres/migrations — the PostgreSQL schema, as versioned steps numbered like the
// SQLite backend's (migrations.cpp).
#pragma once

#include "store/postgres/connection.hpp"

namespace engined::store::postgres {

// Applies every step not yet recorded, under an advisory lock so that several nodes starting at
// once apply each step once; returns the schema version. Throws StoreUnavailable when the
// database carries a newer schema than this engined knows (a newer node migrated it).
int migrate(Connection& connection);

// The schema version recorded in the database, without migrating (0: none yet).
int recorded_schema_version(Connection& connection);

// The newest version this engined knows.
int known_schema_version();

}  // namespace engined::store::postgres
