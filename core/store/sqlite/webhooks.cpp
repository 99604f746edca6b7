// SQLite backend: webhook endpoints, signing secrets and the delivery outbox.
#include "store/backend_support.hpp"
#include "store/sqlite/delivery_statements.hpp"
#include "store/sqlite/internal.hpp"

#include "common/crypto.hpp"

namespace engined::store::sqlite {

namespace {

constexpr const char* kFindEndpoint =
    ENGINED_SELECT_ENDPOINT "WHERE organization = ?1 AND environment_id = ?2 AND id = ?3";
constexpr const char* kListEndpoints = ENGINED_SELECT_ENDPOINT
    "WHERE organization = ?1 AND environment_id = ?2 ORDER BY created_at_ms, id";

constexpr const char* kInsertEndpoint = R"sql(
    INSERT INTO webhook_endpoints (id, organization, environment_id, url, description, events, active,
                                   auth_token, secret, previous_secret, previous_secret_expires_at_ms,
                                   consecutive_failures, disabled_reason, created_at_ms, updated_at_ms)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)
)sql";

// Binds like kInsertEndpoint; organisation, environment and creation time never change.
constexpr const char* kUpdateEndpoint = R"sql(
    UPDATE webhook_endpoints
       SET url = ?4, description = ?5, events = ?6, active = ?7, auth_token = ?8, secret = ?9,
           previous_secret = ?10, previous_secret_expires_at_ms = ?11, consecutive_failures = ?12,
           disabled_reason = ?13, updated_at_ms = ?15
     WHERE id = ?1 AND organization = ?2 AND environment_id = ?3
)sql";

constexpr const char* kCountActiveEndpoints = R"sql(
    SELECT count(*) FROM webhook_endpoints WHERE organization = ?1 AND environment_id = ?2 AND active = 1
)sql";

constexpr const char* kDeleteEndpoint = R"sql(
    DELETE FROM webhook_endpoints WHERE organization = ?1 AND environment_id = ?2 AND id = ?3
)sql";

constexpr const char* kFailEndpointDeliveries = R"sql(
    UPDATE webhook_deliveries
       SET status = 'failed', next_attempt_at_ms = NULL, leased_until_ms = NULL, last_error = ?2,
           updated_at_ms = ?3
     WHERE endpoint_id = ?1 AND status = 'pending'
)sql";

constexpr const char* kPutSigningSecret = R"sql(
    INSERT INTO webhook_signing_secrets (organization, environment_id, secret, previous_secret,
                                         previous_secret_expires_at_ms, rotated_at_ms)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6)
    ON CONFLICT (organization, environment_id) DO UPDATE
       SET secret = excluded.secret, previous_secret = excluded.previous_secret,
           previous_secret_expires_at_ms = excluded.previous_secret_expires_at_ms,
           rotated_at_ms = excluded.rotated_at_ms
)sql";

// The first secret of an environment; one already there stays (two first needs at once keep one).
constexpr const char* kAddSigningSecret = R"sql(
    INSERT INTO webhook_signing_secrets (organization, environment_id, secret, previous_secret,
                                         previous_secret_expires_at_ms, rotated_at_ms)
    VALUES (?1, ?2, ?3, NULL, NULL, ?4)
    ON CONFLICT (organization, environment_id) DO NOTHING
)sql";

constexpr const char* kFindSigningSecret = R"sql(
    SELECT secret, previous_secret, previous_secret_expires_at_ms, rotated_at_ms
      FROM webhook_signing_secrets WHERE organization = ?1 AND environment_id = ?2
)sql";

// One delivery per active endpoint subscribed to the event, plus one to the run's own URL; all
// share the event's id, in one statement since every finish runs it. ?1 run, ?2 event id,
// ?3 event type, ?4 event time. A delivery id starts with the event's millisecond (12 hex
// digits, then 12 random ones), so that consecutive deliveries go to the last page of the id's
// index instead of a random one each.
constexpr const char* kAddRunEventDeliveries = R"sql(
    INSERT INTO webhook_deliveries (id, event_id, event_type, event_created_at_ms, run_id,
                                    organization, environment_id, endpoint_id, url, status,
                                    next_attempt_at_ms, created_at_ms, updated_at_ms)
    SELECT 'dlv_' || printf('%012x', ?4) || lower(hex(randomblob(6))), ?2, ?3, ?4, ?1, ?5, ?6, e.id, e.url, 'pending',
           ?4, ?4, ?4
      FROM webhook_endpoints e
     WHERE e.organization = ?5 AND e.environment_id = ?6 AND e.active = 1
       AND EXISTS (SELECT 1 FROM json_each(e.events) WHERE json_each.value = ?3)
    UNION ALL
    SELECT 'dlv_' || printf('%012x', ?4) || lower(hex(randomblob(6))), ?2, ?3, ?4, ?1, ?5, ?6, NULL, ?7, 'pending',
           ?4, ?4, ?4
     WHERE ?7 IS NOT NULL
)sql";
// Most environments have no endpoint: this look costs a fraction of the insert above.
constexpr const char* kHasActiveEndpoint = R"sql(
    SELECT 1 FROM webhook_endpoints WHERE organization = ?1 AND environment_id = ?2 AND active = 1
     LIMIT 1
)sql";

// read_delivery() maps the columns in this order.
#define ENGINED_SELECT_DELIVERY                                                                    \
    "SELECT id, event_id, event_type, event_created_at_ms, run_id, organization, environment_id, " \
    "       endpoint_id, url, status, attempts, next_attempt_at_ms, last_status_code, "            \
    "       last_error, created_at_ms, updated_at_ms "                                             \
    "  FROM webhook_deliveries "

constexpr const char* kDeliveryById = ENGINED_SELECT_DELIVERY "WHERE id = ?1";
constexpr const char* kFindDelivery =
    ENGINED_SELECT_DELIVERY "WHERE organization = ?1 AND environment_id = ?2 AND id = ?3";
constexpr const char* kListDeliveries = ENGINED_SELECT_DELIVERY
    "WHERE organization = ?1 AND environment_id = ?2 ORDER BY seq DESC LIMIT ?3";
constexpr const char* kListEndpointDeliveries = ENGINED_SELECT_DELIVERY
    "WHERE organization = ?1 AND environment_id = ?2 AND endpoint_id = ?4 ORDER BY seq DESC LIMIT "
    "?3";

#undef ENGINED_SELECT_DELIVERY

constexpr const char* kInsertDeliveryAttempt = R"sql(
    INSERT INTO webhook_delivery_attempts (delivery_id, attempt, started_at_ms, duration_ms,
                                           status_code, error)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6)
)sql";

constexpr const char* kUpdateDeliveryAfterAttempt = R"sql(
    UPDATE webhook_deliveries
       SET status = ?2, attempts = ?3, next_attempt_at_ms = ?4, leased_until_ms = NULL,
           last_status_code = ?5, last_error = ?6, updated_at_ms = ?7
     WHERE id = ?1
    RETURNING endpoint_id
)sql";

constexpr const char* kEndpointSucceeded = R"sql(
    UPDATE webhook_endpoints SET consecutive_failures = 0 WHERE id = ?1
)sql";

// The streak grows by one; whether it is long enough to disable the endpoint is its service's call.
constexpr const char* kEndpointFailed = R"sql(
    UPDATE webhook_endpoints
       SET consecutive_failures = consecutive_failures + 1, updated_at_ms = ?2
     WHERE id = ?1
    RETURNING consecutive_failures
)sql";

// Only an active endpoint is disabled: of two senders reaching the threshold at once, one does it.
constexpr const char* kDisableEndpoint = R"sql(
    UPDATE webhook_endpoints SET active = 0, disabled_reason = ?2, updated_at_ms = ?3
     WHERE id = ?1 AND active = 1
)sql";

constexpr const char* kListDeliveryAttempts = R"sql(
    SELECT delivery_id, attempt, started_at_ms, duration_ms, status_code, error
      FROM webhook_delivery_attempts WHERE delivery_id = ?1 ORDER BY attempt
)sql";

constexpr const char* kRetryDelivery = R"sql(
    UPDATE webhook_deliveries
       SET status = 'pending', next_attempt_at_ms = ?4, leased_until_ms = NULL, updated_at_ms = ?4
     WHERE organization = ?1 AND environment_id = ?2 AND id = ?3
)sql";

void bind_endpoint(Query& query, const WebhookEndpoint& endpoint) {
    query.bind(1, endpoint.id)
        .bind(2, endpoint.organization)
        .bind(3, endpoint.environment_id)
        .bind(4, endpoint.url)
        .bind(5, endpoint.description)
        .bind(6, events_to_json(endpoint.events))
        .bind(7, static_cast<int64_t>(endpoint.active))
        .bind_optional(8, endpoint.auth_token)
        .bind(9, endpoint.secret)
        .bind_optional(10, endpoint.previous_secret)
        .bind_optional(11, endpoint.previous_secret_expires_at_ms)
        .bind(12, static_cast<int64_t>(endpoint.consecutive_failures))
        .bind_optional(13, endpoint.disabled_reason)
        .bind(14, endpoint.created_at_ms)
        .bind(15, endpoint.updated_at_ms);
}

// Called inside the endpoint's own write, after it changed: the limit holds for what is stored.
void check_active_limit(Connection& connection, const WebhookEndpoint& endpoint, int max_active) {
    Query count(connection, kCountActiveEndpoints, "count active webhook endpoints");
    count.bind(1, endpoint.organization).bind(2, endpoint.environment_id);
    count.next();
    if (count.integer(0) > max_active) {
        throw TooManyActiveEndpoints("at most " + std::to_string(max_active) +
                                     " webhook endpoints may be active in one environment");
    }
}

std::optional<int64_t> optional_int64(const std::optional<int>& value) {
    return value ? std::optional<int64_t>(*value) : std::nullopt;
}

}  // namespace

// In finish_run's own savepoint: the event's deliveries exist exactly when the terminal status does.
bool add_run_event_deliveries(Connection& connection, const std::string& run_id,
                              const RunEventTarget& target, const RunOutcome& outcome) {
    if (!target.webhook_url) {
        Query subscribed(connection, kHasActiveEndpoint, "finish_run (webhook endpoints)");
        subscribed.bind(1, target.organization).bind(2, target.environment_id);
        if (!subscribed.next()) return false;
    }
    const char* type = outcome.status == RunStatus::failed ? "run.failed" : "run.completed";
    const std::string event_id = "evt_" + random_hex(12);
    return Query(connection, kAddRunEventDeliveries, "finish_run (webhook deliveries)")
               .bind(1, run_id)
               .bind(2, event_id)
               .bind(3, type)
               .bind(4, outcome.completed_at_ms)
               .bind(5, target.organization)
               .bind(6, target.environment_id)
               .bind_optional(7, target.webhook_url)
               .run() > 0;
}

}  // namespace engined::store::sqlite

namespace engined::store {

// The backend's internals (statements, row mapping) live in engined::store::sqlite.
using namespace sqlite;

void SqliteStore::insert_webhook_endpoint(const WebhookEndpoint& endpoint, int max_active,
                                          AuditAppend* audit) {
    impl_->writer.write_and_wait([&](Connection& c) {
        Query insert(c, kInsertEndpoint, "insert_webhook_endpoint");
        bind_endpoint(insert, endpoint);
        insert.run();
        check_active_limit(c, endpoint, max_active);
        append_audit_records(c, audit);
    });
}

bool SqliteStore::update_webhook_endpoint(const WebhookEndpoint& endpoint, int max_active,
                                          AuditAppend* audit) {
    int changed = 0;
    impl_->writer.write_and_wait([&](Connection& c) {
        Query update(c, kUpdateEndpoint, "update_webhook_endpoint");
        bind_endpoint(update, endpoint);
        changed = update.run();
        check_active_limit(c, endpoint, max_active);
        if (changed > 0) append_audit_records(c, audit);
    });
    return changed > 0;
}

bool SqliteStore::delete_webhook_endpoint(std::string_view organization,
                                          std::string_view environment_id, std::string_view id,
                                          int64_t at_ms, AuditAppend* audit) {
    int changed = 0;
    impl_->writer.write_and_wait([&](Connection& c) {
        changed = Query(c, kDeleteEndpoint, "delete_webhook_endpoint")
                      .bind(1, organization)
                      .bind(2, environment_id)
                      .bind(3, id)
                      .run();
        if (changed > 0) {
            Query(c, kFailEndpointDeliveries, "delete_webhook_endpoint (deliveries)")
                .bind(1, id)
                .bind(2, "endpoint deleted")
                .bind(3, at_ms)
                .run();
            append_audit_records(c, audit);
        }
    });
    return changed > 0;
}

std::optional<WebhookEndpoint> SqliteStore::find_webhook_endpoint(std::string_view organization,
                                                                  std::string_view environment_id,
                                                                  std::string_view id) const {
    auto lease = impl_->readers.acquire();
    Query query(*lease, kFindEndpoint, "find_webhook_endpoint");
    query.bind(1, organization).bind(2, environment_id).bind(3, id);
    if (!query.next()) return std::nullopt;
    return read_endpoint(query);
}

std::vector<WebhookEndpoint> SqliteStore::list_webhook_endpoints(
    std::string_view organization, std::string_view environment_id) const {
    auto lease = impl_->readers.acquire();
    Query query(*lease, kListEndpoints, "list_webhook_endpoints");
    query.bind(1, organization).bind(2, environment_id);
    std::vector<WebhookEndpoint> endpoints;
    while (query.next()) endpoints.push_back(read_endpoint(query));
    return endpoints;
}

void SqliteStore::put_signing_secret(std::string_view organization, std::string_view environment_id,
                                     const SigningSecret& secret, AuditAppend* audit) {
    impl_->writer.write_and_wait([&](Connection& c) {
        Query(c, kPutSigningSecret, "put_signing_secret")
            .bind(1, organization)
            .bind(2, environment_id)
            .bind(3, secret.secret)
            .bind_optional(4, secret.previous_secret)
            .bind_optional(5, secret.previous_secret_expires_at_ms)
            .bind(6, secret.rotated_at_ms)
            .run();
        append_audit_records(c, audit);
    });
}

SigningSecret SqliteStore::add_signing_secret(std::string_view organization,
                                              std::string_view environment_id,
                                              const SigningSecret& first) {
    std::optional<SigningSecret> stored;
    impl_->writer.write_and_wait([&](Connection& c) {
        Query(c, kAddSigningSecret, "add_signing_secret")
            .bind(1, organization)
            .bind(2, environment_id)
            .bind(3, first.secret)
            .bind(4, first.rotated_at_ms)
            .run();
        Query query(c, kFindSigningSecret, "find_signing_secret");
        query.bind(1, organization).bind(2, environment_id);
        if (query.next()) {
            stored = SigningSecret{query.text(0), query.optional_text(1), query.optional_integer(2),
                                   query.integer(3)};
        }
    });
    if (!stored) throw StoreUnavailable("the webhook signing secret was not stored");
    return *stored;
}

std::optional<SigningSecret> SqliteStore::find_signing_secret(
    std::string_view organization, std::string_view environment_id) const {
    auto lease = impl_->readers.acquire();
    Query query(*lease, kFindSigningSecret, "find_signing_secret");
    query.bind(1, organization).bind(2, environment_id);
    if (!query.next()) return std::nullopt;
    return SigningSecret{query.text(0), query.optional_text(1), query.optional_integer(2),
                         query.integer(3)};
}

std::vector<WebhookDelivery> SqliteStore::lease_due_deliveries(int64_t now_ms,
                                                               int64_t lease_until_ms,
                                                               std::size_t limit) {
    std::vector<WebhookDelivery> leased;
    impl_->writer.write_and_wait([&](Connection& c) {
        std::vector<std::string> ids;
        {
            Query due(c, kDueDeliveries, "lease_due_deliveries");
            due.bind(1, now_ms).bind(2, static_cast<int64_t>(limit));
            while (due.next()) ids.push_back(due.text(0));
        }
        for (const std::string& id : ids) {
            Query(c, kLeaseDelivery, "lease_due_deliveries (lease)")
                .bind(1, id)
                .bind(2, lease_until_ms)
                .run();
            Query read(c, kDeliveryById, "lease_due_deliveries (read)");
            read.bind(1, id);
            if (read.next()) leased.push_back(read_delivery(read));
        }
    });
    return leased;
}

std::optional<int> SqliteStore::record_delivery_attempt(const DeliveryAttempt& attempt,
                                                        const AttemptVerdict& verdict,
                                                        int64_t at_ms) {
    std::optional<int> streak;
    impl_->writer.write_and_wait([&](Connection& c) {
        Query(c, kInsertDeliveryAttempt, "record_delivery_attempt")
            .bind(1, attempt.delivery_id)
            .bind(2, static_cast<int64_t>(attempt.attempt))
            .bind(3, attempt.started_at_ms)
            .bind(4, attempt.duration_ms)
            .bind_optional(5, optional_int64(attempt.status_code))
            .bind(6, attempt.error)
            .run();
        std::optional<std::string> endpoint_id;
        {
            Query update(c, kUpdateDeliveryAfterAttempt, "record_delivery_attempt (delivery)");
            update.bind(1, attempt.delivery_id)
                .bind(2, to_string(verdict.status))
                .bind(3, static_cast<int64_t>(attempt.attempt))
                .bind_optional(4, verdict.next_attempt_at_ms)
                .bind_optional(5, optional_int64(attempt.status_code))
                .bind_optional(6, attempt.error.empty() ? std::nullopt
                                                        : std::optional<std::string>(attempt.error))
                .bind(7, at_ms);
            if (!update.next())
                throw std::out_of_range("record_delivery_attempt: no delivery '" +
                                        attempt.delivery_id + "'");
            endpoint_id = update.optional_text(0);
        }
        if (!endpoint_id) return;
        if (verdict.success) {
            Query(c, kEndpointSucceeded, "record_delivery_attempt (endpoint)")
                .bind(1, *endpoint_id)
                .run();
            streak = 0;
            return;
        }
        Query failed(c, kEndpointFailed, "record_delivery_attempt (endpoint)");
        failed.bind(1, *endpoint_id).bind(2, at_ms);
        if (failed.next()) streak = static_cast<int>(failed.integer(0));  // none: deleted meanwhile
    });
    return streak;
}

bool SqliteStore::disable_webhook_endpoint(std::string_view endpoint_id, std::string_view reason,
                                           int64_t at_ms) {
    bool disabled = false;
    impl_->writer.write_and_wait([&](Connection& c) {
        disabled = Query(c, kDisableEndpoint, "disable_webhook_endpoint")
                       .bind(1, endpoint_id)
                       .bind(2, reason)
                       .bind(3, at_ms)
                       .run() > 0;
        if (!disabled) return;
        Query(c, kFailEndpointDeliveries, "disable_webhook_endpoint (deliveries)")
            .bind(1, endpoint_id)
            .bind(2, "endpoint disabled: " + std::string(reason))
            .bind(3, at_ms)
            .run();
    });
    return disabled;
}

std::vector<WebhookDelivery> SqliteStore::list_deliveries(std::string_view organization,
                                                          std::string_view environment_id,
                                                          std::string_view endpoint_id,
                                                          int limit) const {
    auto lease = impl_->readers.acquire();
    Query query(*lease, endpoint_id.empty() ? kListDeliveries : kListEndpointDeliveries,
                "list_deliveries");
    query.bind(1, organization).bind(2, environment_id).bind(3, static_cast<int64_t>(limit));
    if (!endpoint_id.empty()) query.bind(4, endpoint_id);
    std::vector<WebhookDelivery> deliveries;
    while (query.next()) deliveries.push_back(read_delivery(query));
    return deliveries;
}

std::optional<WebhookDelivery> SqliteStore::find_delivery(std::string_view organization,
                                                          std::string_view environment_id,
                                                          std::string_view delivery_id) const {
    auto lease = impl_->readers.acquire();
    Query query(*lease, kFindDelivery, "find_delivery");
    query.bind(1, organization).bind(2, environment_id).bind(3, delivery_id);
    if (!query.next()) return std::nullopt;
    return read_delivery(query);
}

std::vector<DeliveryAttempt> SqliteStore::list_delivery_attempts(
    std::string_view delivery_id) const {
    auto lease = impl_->readers.acquire();
    Query query(*lease, kListDeliveryAttempts, "list_delivery_attempts");
    query.bind(1, delivery_id);
    std::vector<DeliveryAttempt> attempts;
    while (query.next()) {
        attempts.push_back({query.text(0), static_cast<int>(query.integer(1)), query.integer(2),
                            query.integer(3), optional_int(query.optional_integer(4)),
                            query.text(5)});
    }
    return attempts;
}

bool SqliteStore::retry_delivery(std::string_view organization, std::string_view environment_id,
                                 std::string_view delivery_id, int64_t now_ms) {
    int changed = 0;
    impl_->writer.write_and_wait([&](Connection& c) {
        changed = Query(c, kRetryDelivery, "retry_delivery")
                      .bind(1, organization)
                      .bind(2, environment_id)
                      .bind(3, delivery_id)
                      .bind(4, now_ms)
                      .run();
    });
    return changed > 0;
}

}  // namespace engined::store
