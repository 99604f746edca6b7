// core/store/sqlite/migrations — the SQLite schema, as versioned steps (migrations.cpp).
#pragma once

#include "store/sqlite/connection.hpp"

namespace engined::store::sqlite {

// The highest migration recorded: the schema version of an open database.
inline constexpr const char* kSchemaVersionQuery = "SELECT max(version) FROM schema_migrations";

// Applies every step not yet recorded; returns the highest version applied.
int migrate(Connection& connection);

}  // namespace engined::store::sqlite
