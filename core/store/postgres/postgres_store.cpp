// PostgreSQL backend: connecting, migrating and closing the store. The concerns' reads and
// writes live beside this file (runs, keys, environments, engines, pools, idempotency, webhooks).
#include "store/postgres/internal.hpp"

#include "common/crypto.hpp"
#include "store/postgres/migrations.hpp"

#include <stdexcept>

namespace engined::store {

namespace {

postgres::Connection open_migrated(const PostgresOptions& options, int& schema_version) {
    postgres::Connection connection(options.url, &options.on_round_trip);
    schema_version = postgres::migrate(connection);
    return connection;
}

}  // namespace

PostgresStore::Impl::Impl(PostgresOptions opts)
    : options(std::move(opts)),
      pool(options.url, &options.on_round_trip),
      writer(open_migrated(options, schema_version), options.max_batch, options.on_commit),
      submit_tag(random_hex(8)) {}

PostgresStore::PostgresStore(PostgresOptions options) {
    if (options.max_batch == 0) throw std::invalid_argument("Store: max_batch must be positive");
    impl_ = std::make_unique<Impl>(std::move(options));
}

PostgresStore::~PostgresStore() = default;

int PostgresStore::schema_version() const {
    return impl_->schema_version;
}

Store::WriterStats PostgresStore::writer_stats() const {
    return impl_->writer.stats();
}

}  // namespace engined::store
