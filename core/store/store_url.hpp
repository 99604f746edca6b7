// core/store/store_url — which backend a store URL names, and opening it: `sqlite:PATH` (the
// embedded default, one file) or `postgresql://USER@HOST:PORT/DB` (also `postgres://`; any libpq
// connection URI), for several engined nodes on one database.
#pragma once

#include "store/sqlite/sqlite_store.hpp"
#include "store/store.hpp"

#include <cstddef>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace engined::store {

struct StoreUrl {
    enum class Backend { sqlite, postgresql };
    Backend backend = Backend::sqlite;
    std::string location;  // the SQLite file, or the libpq URI as given
};

// Throws std::invalid_argument naming both accepted forms when `url` is neither.
StoreUrl parse_store_url(std::string_view url);

// The store `url` names; empty: the SQLite file engined.sqlite3 under `data_dir`, as before
// stores had URLs. Never prints the URI's password.
StoreUrl resolve_store_url(std::string_view url, const std::filesystem::path& data_dir);

struct OpenOptions {
    bool synchronous_full = true;  // SQLite only: fsync on every commit
    bool preallocate_wal = false;  // SQLite only: SqliteOptions::preallocate_wal
    std::function<void(std::size_t writes)> on_commit = {};
    // SQLite only: SqliteOptions::on_checkpoint.
    std::function<void(const CheckpointDone&)> on_checkpoint = {};
    // PostgreSQL only: told the statements of every round trip to the server.
    std::function<void(std::size_t statements)> on_round_trip = {};
};

// Creates engined's data directory (its SQLite file, audit key and backups) when it is missing,
// readable by its owner only. Throws StoreUnavailable when it cannot.
void create_data_dir(const std::filesystem::path& data_dir);

// Opens (creating if need be) and migrates the store. Throws StoreUnavailable.
std::unique_ptr<Store> open_store(const StoreUrl& url, OpenOptions options = {});

}  // namespace engined::store
