// core/store: store URLs and the backend each opens (see store_url.hpp).
#include "store/store_url.hpp"

#include "store/postgres/postgres_store.hpp"
#include "store/sqlite/sqlite_store.hpp"

#include <stdexcept>

namespace engined::store {

StoreUrl parse_store_url(std::string_view url) {
    constexpr std::string_view kSqlite = "sqlite:";
    if (url.substr(0, kSqlite.size()) == kSqlite && url.size() > kSqlite.size()) {
        return {StoreUrl::Backend::sqlite, std::string(url.substr(kSqlite.size()))};
    }
    for (std::string_view scheme : {"postgresql://", "postgres://"}) {
        if (url.substr(0, scheme.size()) == scheme)
            return {StoreUrl::Backend::postgresql, std::string(url)};
    }
    // Only the scheme of a URL is echoed: what follows may hold a password.
    const std::size_t scheme_end = url.find("://");
    const std::string shown = scheme_end == std::string_view::npos
                                  ? std::string(url)
                                  : std::string(url.substr(0, scheme_end + 3)) + "…";
    throw std::invalid_argument("a store is sqlite:PATH or postgresql://USER@HOST:PORT/DB, got '" +
                                shown + "'");
}

StoreUrl resolve_store_url(std::string_view url, const std::filesystem::path& data_dir) {
    if (url.empty()) return {StoreUrl::Backend::sqlite, (data_dir / "engined.sqlite3").string()};
    return parse_store_url(url);
}

void create_data_dir(const std::filesystem::path& data_dir) {
    std::error_code ec;
    // Owner only: the folder holds the database, its -wal and -shm files, the audit key and
    // any backups there.
    if (std::filesystem::create_directories(data_dir, ec)) {
        std::filesystem::permissions(data_dir, std::filesystem::perms::owner_all,
                                     std::filesystem::perm_options::replace, ec);
    }
    if (ec) {
        throw StoreUnavailable("cannot create data directory " + data_dir.string() + ": " +
                               ec.message());
    }
}

std::unique_ptr<Store> open_store(const StoreUrl& url, OpenOptions options) {
    if (url.backend == StoreUrl::Backend::postgresql) {
        PostgresOptions postgres;
        postgres.url = url.location;
        postgres.on_commit = std::move(options.on_commit);
        postgres.on_round_trip = std::move(options.on_round_trip);
        return std::make_unique<PostgresStore>(std::move(postgres));
    }
    SqliteOptions sqlite;
    sqlite.path = url.location;
    sqlite.synchronous_full = options.synchronous_full;
    sqlite.preallocate_wal = options.preallocate_wal;
    sqlite.on_commit = std::move(options.on_commit);
    sqlite.on_checkpoint = std::move(options.on_checkpoint);
    return std::make_unique<SqliteStore>(std::move(sqlite));
}

}  // namespace engined::store
