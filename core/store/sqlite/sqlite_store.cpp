// SQLite backend: opening, migrating and closing the store. The concerns' reads and writes live
// beside this file (runs, keys, environments, engines, pools, idempotency, webhooks, backup).
#include "store/sqlite/internal.hpp"
#include "store/sqlite/migrations.hpp"

namespace engined::store {

namespace {

sqlite::Connection open_migrated(const SqliteOptions& options, int& schema_version,
                                 sqlite::Checkpointer& checkpointer) {
    sqlite::Connection connection = sqlite::open_writer(options);
    schema_version = sqlite::migrate(connection);
    if (options.preallocate_wal) {
        sqlite::preallocate_wal(connection, options.wal_checkpoint_pages);
    }
    checkpointer.watch(connection);
    return connection;
}

}  // namespace

SqliteStore::Impl::Impl(SqliteOptions opts)
    : options(std::move(opts)),
      readers(options.path, options.busy_timeout_ms),
      checkpointer(options),
      writer(open_migrated(options, schema_version, checkpointer), options.max_batch,
             options.on_commit) {}

SqliteStore::SqliteStore(SqliteOptions options) {
    if (options.max_batch == 0) throw std::invalid_argument("Store: max_batch must be positive");
    if (options.wal_checkpoint_pages <= 0) {
        throw std::invalid_argument("Store: wal_checkpoint_pages must be positive");
    }
    impl_ = std::make_unique<Impl>(std::move(options));
}

SqliteStore::~SqliteStore() = default;

int SqliteStore::schema_version() const {
    return impl_->schema_version;
}

Store::WriterStats SqliteStore::writer_stats() const {
    return impl_->writer.stats();
}

}  // namespace engined::store
