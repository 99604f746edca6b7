// PostgreSQL backend: webhook endpoints, signing secrets and the delivery outbox. Deliveries are
// leased with FOR UPDATE SKIP LOCKED, so senders on several nodes never take the same one; the
// active-endpoint limit is checked under a per-environment lock held to commit, so it holds
// across nodes.
#include "store/backend_support.hpp"
#include "store/postgres/internal.hpp"

#include <algorithm>
#include <tuple>

namespace engined::store::postgres {

namespace {

constexpr const char* kFindEndpoint =
    ENGINED_SELECT_ENDPOINT "WHERE organization = $1 AND environment_id = $2 AND id = $3";
constexpr const char* kListEndpoints = ENGINED_SELECT_ENDPOINT
    "WHERE organization = $1 AND environment_id = $2 ORDER BY created_at_ms, id";

constexpr const char* kInsertEndpoint = R"sql(
    INSERT INTO webhook_endpoints (id, organization, environment_id, url, description, events, active,
                                   auth_token, secret, previous_secret, previous_secret_expires_at_ms,
                                   consecutive_failures, disabled_reason, created_at_ms, updated_at_ms)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
)sql";

// Binds like kInsertEndpoint; organisation, environment and creation time never change. PostgreSQL
// wants every parameter typed, so the unused $14 (creation time) is named in a no-op condition.
constexpr const char* kUpdateEndpoint = R"sql(
    UPDATE webhook_endpoints
       SET url = $4, description = $5, events = $6, active = $7, auth_token = $8, secret = $9,
           previous_secret = $10, previous_secret_expires_at_ms = $11, consecutive_failures = $12,
           disabled_reason = $13, updated_at_ms = $15
     WHERE id = $1 AND organization = $2 AND environment_id = $3 AND $14::bigint IS NOT NULL
)sql";

// Taken before an endpoint write: writes in one environment, on any node, count one after the other.
constexpr const char* kLockEnvironmentEndpoints =
    "SELECT pg_advisory_xact_lock(hashtext('webhook_endpoints:' || $1 || ':' || $2))";

constexpr const char* kCountActiveEndpoints =
    "SELECT count(*) FROM webhook_endpoints WHERE organization = $1 AND environment_id = $2 AND "
    "active = 1";

constexpr const char* kDeleteEndpoint =
    "DELETE FROM webhook_endpoints WHERE organization = $1 AND environment_id = $2 AND id = $3";

constexpr const char* kFailEndpointDeliveries = R"sql(
    UPDATE webhook_deliveries
       SET status = 'failed', next_attempt_at_ms = NULL, leased_until_ms = NULL, last_error = $2, updated_at_ms = $3
     WHERE endpoint_id = $1 AND status = 'pending'
)sql";

constexpr const char* kPutSigningSecret = R"sql(
    INSERT INTO webhook_signing_secrets (organization, environment_id, secret, previous_secret,
                                         previous_secret_expires_at_ms, rotated_at_ms)
    VALUES ($1, $2, $3, $4, $5, $6)
    ON CONFLICT (organization, environment_id) DO UPDATE
       SET secret = excluded.secret, previous_secret = excluded.previous_secret,
           previous_secret_expires_at_ms = excluded.previous_secret_expires_at_ms,
           rotated_at_ms = excluded.rotated_at_ms
)sql";

// The first secret of an environment; one already there stays (two first needs at once keep one).
constexpr const char* kAddSigningSecret = R"sql(
    INSERT INTO webhook_signing_secrets (organization, environment_id, secret, previous_secret,
                                         previous_secret_expires_at_ms, rotated_at_ms)
    VALUES ($1, $2, $3, NULL, NULL, $4)
    ON CONFLICT (organization, environment_id) DO NOTHING
)sql";

constexpr const char* kFindSigningSecret = R"sql(
    SELECT secret, previous_secret, previous_secret_expires_at_ms, rotated_at_ms
      FROM webhook_signing_secrets WHERE organization = $1 AND environment_id = $2
)sql";

// read_delivery() maps the columns in this order.
#define ENGINED_DELIVERY_COLUMNS                                                             \
    "id, event_id, event_type, event_created_at_ms, run_id, organization, environment_id, "  \
    "endpoint_id, url, status, attempts, next_attempt_at_ms, last_status_code, last_error, " \
    "created_at_ms, updated_at_ms, seq "

// SKIP LOCKED: a sender on another node leasing at the same moment takes other rows, never waits.
constexpr const char* kLeaseDueDeliveries = R"sql(
    UPDATE webhook_deliveries SET leased_until_ms = $2
     WHERE id IN (SELECT id FROM webhook_deliveries
                   WHERE status = 'pending' AND next_attempt_at_ms <= $1
                     AND (leased_until_ms IS NULL OR leased_until_ms <= $1)
                     -- a paused endpoint's deliveries wait for it
                     AND (endpoint_id IS NULL
                          OR endpoint_id IN (SELECT id FROM webhook_endpoints WHERE active = 1))
                   ORDER BY next_attempt_at_ms, seq
                   LIMIT $3
                   FOR UPDATE SKIP LOCKED)
    RETURNING )sql" ENGINED_DELIVERY_COLUMNS;

constexpr const char* kFindDelivery =
    "SELECT " ENGINED_DELIVERY_COLUMNS
    "FROM webhook_deliveries WHERE organization = $1 AND environment_id = $2 AND id = $3";
constexpr const char* kListDeliveries =
    "SELECT " ENGINED_DELIVERY_COLUMNS
    "FROM webhook_deliveries WHERE organization = $1 AND environment_id = $2 "
    "AND ($4::text IS NULL OR endpoint_id = $4) ORDER BY seq DESC LIMIT $3";

#undef ENGINED_DELIVERY_COLUMNS

constexpr const char* kInsertDeliveryAttempt = R"sql(
    INSERT INTO webhook_delivery_attempts (delivery_id, attempt, started_at_ms, duration_ms, status_code, error)
    VALUES ($1, $2, $3, $4, $5, $6)
)sql";

constexpr const char* kUpdateDeliveryAfterAttempt = R"sql(
    UPDATE webhook_deliveries
       SET status = $2, attempts = $3, next_attempt_at_ms = $4, leased_until_ms = NULL,
           last_status_code = $5, last_error = $6, updated_at_ms = $7
     WHERE id = $1
    RETURNING endpoint_id
)sql";

constexpr const char* kEndpointSucceeded =
    "UPDATE webhook_endpoints SET consecutive_failures = 0 WHERE id = $1";

// The streak grows by one; whether it is long enough to disable the endpoint is its service's call.
constexpr const char* kEndpointFailed = R"sql(
    UPDATE webhook_endpoints SET consecutive_failures = consecutive_failures + 1, updated_at_ms = $2
     WHERE id = $1
    RETURNING consecutive_failures
)sql";

// Only an active endpoint is disabled: of two senders reaching the threshold at once, one does it.
constexpr const char* kDisableEndpoint = R"sql(
    UPDATE webhook_endpoints SET active = 0, disabled_reason = $2, updated_at_ms = $3 WHERE id = $1 AND active = 1
)sql";

constexpr const char* kListDeliveryAttempts = R"sql(
    SELECT delivery_id, attempt, started_at_ms, duration_ms, status_code, error
      FROM webhook_delivery_attempts WHERE delivery_id = $1 ORDER BY attempt
)sql";

constexpr const char* kRetryDelivery = R"sql(
    UPDATE webhook_deliveries
       SET status = 'pending', next_attempt_at_ms = $4, leased_until_ms = NULL, updated_at_ms = $4
     WHERE organization = $1 AND environment_id = $2 AND id = $3
)sql";

// For kInsertEndpoint and kUpdateEndpoint, which take the same parameters; the rows changed.
int write_endpoint(Connection& connection, const char* sql, const WebhookEndpoint& endpoint,
                   std::string_view operation) {
    return connection
        .exec(sql,
              {endpoint.id, endpoint.organization, endpoint.environment_id, endpoint.url,
               endpoint.description, events_to_json(endpoint.events), endpoint.active,
               endpoint.auth_token, endpoint.secret, endpoint.previous_secret,
               endpoint.previous_secret_expires_at_ms, endpoint.consecutive_failures,
               endpoint.disabled_reason, endpoint.created_at_ms, endpoint.updated_at_ms},
              operation)
        .changed();
}

// Called inside the endpoint's own write, after it changed and under the environment's lock:
// the limit holds for what is stored.
void check_active_limit(Connection& connection, const WebhookEndpoint& endpoint, int max_active) {
    if (connection
            .exec(kCountActiveEndpoints, {endpoint.organization, endpoint.environment_id},
                  "count active webhook endpoints")
            .integer(0, 0) > max_active) {
        throw TooManyActiveEndpoints("at most " + std::to_string(max_active) +
                                     " webhook endpoints may be active in one environment");
    }
}

std::optional<int64_t> optional_int64(const std::optional<int>& value) {
    return value ? std::optional<int64_t>(*value) : std::nullopt;
}

}  // namespace

}  // namespace engined::store::postgres

namespace engined::store {

// The backend's internals (statements, row mapping) live in engined::store::postgres.
using namespace postgres;

void PostgresStore::insert_webhook_endpoint(const WebhookEndpoint& endpoint, int max_active,
                                            AuditAppend* audit) {
    auto lease = impl_->pool.acquire();
    in_transaction(*lease, "insert_webhook_endpoint", [&](Connection& c) {
        c.exec(kLockEnvironmentEndpoints, {endpoint.organization, endpoint.environment_id},
               "insert_webhook_endpoint");
        write_endpoint(c, kInsertEndpoint, endpoint, "insert_webhook_endpoint");
        check_active_limit(c, endpoint, max_active);
        append_audit_records(c, audit);
    });
}

bool PostgresStore::update_webhook_endpoint(const WebhookEndpoint& endpoint, int max_active,
                                            AuditAppend* audit) {
    int changed = 0;
    auto lease = impl_->pool.acquire();
    in_transaction(*lease, "update_webhook_endpoint", [&](Connection& c) {
        c.exec(kLockEnvironmentEndpoints, {endpoint.organization, endpoint.environment_id},
               "update_webhook_endpoint");
        changed = write_endpoint(c, kUpdateEndpoint, endpoint, "update_webhook_endpoint");
        check_active_limit(c, endpoint, max_active);
        if (changed > 0) append_audit_records(c, audit);
    });
    return changed > 0;
}

bool PostgresStore::delete_webhook_endpoint(std::string_view organization,
                                            std::string_view environment_id, std::string_view id,
                                            int64_t at_ms, AuditAppend* audit) {
    int changed = 0;
    auto lease = impl_->pool.acquire();
    in_transaction(*lease, "delete_webhook_endpoint", [&](Connection& c) {
        changed =
            c.exec(kDeleteEndpoint, {organization, environment_id, id}, "delete_webhook_endpoint")
                .changed();
        if (changed > 0) {
            c.exec(kFailEndpointDeliveries, {id, "endpoint deleted", at_ms},
                   "delete_webhook_endpoint (deliveries)");
            append_audit_records(c, audit);
        }
    });
    return changed > 0;
}

std::optional<WebhookEndpoint> PostgresStore::find_webhook_endpoint(std::string_view organization,
                                                                    std::string_view environment_id,
                                                                    std::string_view id) const {
    auto lease = impl_->pool.acquire();
    const Result row =
        (*lease).exec(kFindEndpoint, {organization, environment_id, id}, "find_webhook_endpoint");
    if (row.rows() == 0) return std::nullopt;
    return read_endpoint(row.at(0));
}

std::vector<WebhookEndpoint> PostgresStore::list_webhook_endpoints(
    std::string_view organization, std::string_view environment_id) const {
    auto lease = impl_->pool.acquire();
    const Result rows =
        (*lease).exec(kListEndpoints, {organization, environment_id}, "list_webhook_endpoints");
    std::vector<WebhookEndpoint> endpoints;
    for (int i = 0; i < rows.rows(); ++i) endpoints.push_back(read_endpoint(rows.at(i)));
    return endpoints;
}

void PostgresStore::put_signing_secret(std::string_view organization,
                                       std::string_view environment_id, const SigningSecret& secret,
                                       AuditAppend* audit) {
    auto lease = impl_->pool.acquire();
    in_transaction(*lease, "put_signing_secret", [&](Connection& c) {
        c.exec(kPutSigningSecret,
               {organization, environment_id, secret.secret, secret.previous_secret,
                secret.previous_secret_expires_at_ms, secret.rotated_at_ms},
               "put_signing_secret");
        append_audit_records(c, audit);
    });
}

SigningSecret PostgresStore::add_signing_secret(std::string_view organization,
                                                std::string_view environment_id,
                                                const SigningSecret& first) {
    auto lease = impl_->pool.acquire();
    (*lease).exec(kAddSigningSecret,
                  {organization, environment_id, first.secret, first.rotated_at_ms},
                  "add_signing_secret");
    const Result row =
        (*lease).exec(kFindSigningSecret, {organization, environment_id}, "find_signing_secret");
    if (row.rows() == 0) throw StoreUnavailable("the webhook signing secret was not stored");
    return SigningSecret{row.text(0, 0), row.optional_text(0, 1), row.optional_integer(0, 2),
                         row.integer(0, 3)};
}

std::optional<SigningSecret> PostgresStore::find_signing_secret(
    std::string_view organization, std::string_view environment_id) const {
    auto lease = impl_->pool.acquire();
    const Result row =
        (*lease).exec(kFindSigningSecret, {organization, environment_id}, "find_signing_secret");
    if (row.rows() == 0) return std::nullopt;
    return SigningSecret{row.text(0, 0), row.optional_text(0, 1), row.optional_integer(0, 2),
                         row.integer(0, 3)};
}

std::vector<WebhookDelivery> PostgresStore::lease_due_deliveries(int64_t now_ms,
                                                                 int64_t lease_until_ms,
                                                                 std::size_t limit) {
    auto lease = impl_->pool.acquire();
    const Result rows =
        (*lease).exec(kLeaseDueDeliveries, {now_ms, lease_until_ms, static_cast<int64_t>(limit)},
                      "lease_due_deliveries");
    std::vector<std::tuple<int64_t, int64_t, WebhookDelivery>> due;
    for (int i = 0; i < rows.rows(); ++i) {
        WebhookDelivery delivery = read_delivery(rows.at(i));
        due.emplace_back(delivery.next_attempt_at_ms.value_or(0), rows.integer(i, 16),
                         std::move(delivery));
    }
    // RETURNING keeps no order: oldest due first, as promised.
    std::sort(due.begin(), due.end(), [](const auto& a, const auto& b) {
        return std::tie(std::get<0>(a), std::get<1>(a)) < std::tie(std::get<0>(b), std::get<1>(b));
    });
    std::vector<WebhookDelivery> leased;
    for (auto& entry : due) leased.push_back(std::move(std::get<2>(entry)));
    return leased;
}

std::optional<int> PostgresStore::record_delivery_attempt(const DeliveryAttempt& attempt,
                                                          const AttemptVerdict& verdict,
                                                          int64_t at_ms) {
    std::optional<int> streak;
    auto lease = impl_->pool.acquire();
    in_transaction(*lease, "record_delivery_attempt", [&](Connection& c) {
        c.exec(kInsertDeliveryAttempt,
               {attempt.delivery_id, attempt.attempt, attempt.started_at_ms, attempt.duration_ms,
                optional_int64(attempt.status_code), attempt.error},
               "record_delivery_attempt");
        const Result updated = c.exec(
            kUpdateDeliveryAfterAttempt,
            {attempt.delivery_id, to_string(verdict.status), attempt.attempt,
             verdict.next_attempt_at_ms, optional_int64(attempt.status_code),
             attempt.error.empty() ? std::nullopt : std::optional<std::string>(attempt.error),
             at_ms},
            "record_delivery_attempt (delivery)");
        if (updated.rows() == 0) {
            throw std::out_of_range("record_delivery_attempt: no delivery '" + attempt.delivery_id +
                                    "'");
        }
        const std::optional<std::string> endpoint_id = updated.optional_text(0, 0);
        if (!endpoint_id) return;
        if (verdict.success) {
            c.exec(kEndpointSucceeded, {*endpoint_id}, "record_delivery_attempt (endpoint)");
            streak = 0;
            return;
        }
        const Result failed =
            c.exec(kEndpointFailed, {*endpoint_id, at_ms}, "record_delivery_attempt (endpoint)");
        if (failed.rows() > 0)
            streak = static_cast<int>(failed.integer(0, 0));  // none: deleted meanwhile
    });
    return streak;
}

bool PostgresStore::disable_webhook_endpoint(std::string_view endpoint_id, std::string_view reason,
                                             int64_t at_ms) {
    bool disabled = false;
    auto lease = impl_->pool.acquire();
    in_transaction(*lease, "disable_webhook_endpoint", [&](Connection& c) {
        disabled =
            c.exec(kDisableEndpoint, {endpoint_id, reason, at_ms}, "disable_webhook_endpoint")
                .changed() > 0;
        if (!disabled) return;
        c.exec(kFailEndpointDeliveries,
               {endpoint_id, "endpoint disabled: " + std::string(reason), at_ms},
               "disable_webhook_endpoint (deliveries)");
    });
    return disabled;
}

std::vector<WebhookDelivery> PostgresStore::list_deliveries(std::string_view organization,
                                                            std::string_view environment_id,
                                                            std::string_view endpoint_id,
                                                            int limit) const {
    auto lease = impl_->pool.acquire();
    const std::optional<std::string> endpoint =
        endpoint_id.empty() ? std::nullopt : std::optional<std::string>(endpoint_id);
    const Result rows = (*lease).exec(
        kListDeliveries, {organization, environment_id, limit, endpoint}, "list_deliveries");
    std::vector<WebhookDelivery> deliveries;
    for (int i = 0; i < rows.rows(); ++i) deliveries.push_back(read_delivery(rows.at(i)));
    return deliveries;
}

std::optional<WebhookDelivery> PostgresStore::find_delivery(std::string_view organization,
                                                            std::string_view environment_id,
                                                            std::string_view delivery_id) const {
    auto lease = impl_->pool.acquire();
    const Result row =
        (*lease).exec(kFindDelivery, {organization, environment_id, delivery_id}, "find_delivery");
    if (row.rows() == 0) return std::nullopt;
    return read_delivery(row.at(0));
}

std::vector<DeliveryAttempt> PostgresStore::list_delivery_attempts(
    std::string_view delivery_id) const {
    auto lease = impl_->pool.acquire();
    const Result rows =
        (*lease).exec(kListDeliveryAttempts, {delivery_id}, "list_delivery_attempts");
    std::vector<DeliveryAttempt> attempts;
    for (int i = 0; i < rows.rows(); ++i) {
        attempts.push_back({rows.text(i, 0), static_cast<int>(rows.integer(i, 1)),
                            rows.integer(i, 2), rows.integer(i, 3),
                            optional_int(rows.optional_integer(i, 4)), rows.text(i, 5)});
    }
    return attempts;
}

bool PostgresStore::retry_delivery(std::string_view organization, std::string_view environment_id,
                                   std::string_view delivery_id, int64_t now_ms) {
    auto lease = impl_->pool.acquire();
    return (*lease)
               .exec(kRetryDelivery, {organization, environment_id, delivery_id, now_ms},
                     "retry_delivery")
               .changed() > 0;
}

}  // namespace engined::store
