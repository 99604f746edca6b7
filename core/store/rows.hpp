// core/store/rows — how each table's row becomes its record, written once for every backend.
// `Row` is a backend's view of one result row, its columns in the order of the backend's SELECT
// (the same order on every backend): text(c), optional_text(c), integer(c), optional_integer(c)
// and optional_real(c). Included only by the backends.
#pragma once

#include "store/backend_support.hpp"

#include <algorithm>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

// Each table's columns, in the order its reader below maps them; a backend's statements select
// them with their own placeholders after this text.
#define ENGINED_RUN_COLUMNS                                                          \
    "seq, id, organization, environment, engine_slug, engine_type, engine_version, " \
    "engine_version_pin, status, stage, request_json, config_hash, webhook_url, "    \
    "api_key_id, output_json, results_json, error_code, error_message, "             \
    "error_details_json, trace_json, attempts, created_at_ms, started_at_ms, "       \
    "completed_at_ms, fingerprint, fingerprint_json, environment_id, "               \
    "engine_version_pin_source, engine_version_rollout, lease_owner, leased_until_ms "
#define ENGINED_SELECT_RUN "SELECT " ENGINED_RUN_COLUMNS " FROM runs "
#define ENGINED_SELECT_ENGINE                                                               \
    "SELECT id, organization, slug, label, description, engine_type, status, config_hash, " \
    "       config_updated_by, config_updated_at_ms, created_at_ms, updated_at_ms "         \
    "  FROM engines "
#define ENGINED_SELECT_RELEASE                                                             \
    "SELECT organization, engine_slug, major, minor, config_hash, content_hash, "          \
    "       bundle_json, changelog, bump, is_breaking_from_previous_major, reasons_json, " \
    "       published_by, released_at_ms "                                                 \
    "  FROM engine_releases "
#define ENGINED_SELECT_ROLLOUT                                                                   \
    "SELECT organization, engine_slug, major, from_minor, to_minor, percent, state, opened_by, " \
    "       opened_at_ms, updated_at_ms, closed_at_ms "                                          \
    "  FROM engine_rollouts "
#define ENGINED_SELECT_ENVIRONMENT                                                       \
    "SELECT id, organization, slug, built_in, pinned_engine_version, engine_pins_json, " \
    "       created_at_ms, updated_at_ms FROM environments "
#define ENGINED_SELECT_ENDPOINT                                                               \
    "SELECT id, organization, environment_id, url, description, events, active, auth_token, " \
    "       secret, previous_secret, previous_secret_expires_at_ms, consecutive_failures, "   \
    "       disabled_reason, created_at_ms, updated_at_ms "                                   \
    "  FROM webhook_endpoints "
#define ENGINED_SELECT_API_KEY                                                                  \
    "SELECT k.id, k.organization, k.environment, k.scopes, k.display_prefix, k.created_at_ms, " \
    "       k.revoked_at_ms, k.rate_per_second, k.rate_burst, k.environment_id, "               \
    "       e.pinned_engine_version, coalesce(e.engine_pins_json, '{}') "                       \
    "  FROM api_keys k LEFT JOIN environments e ON e.id = k.environment_id "
#define ENGINED_SELECT_AUDIT                                                                   \
    "SELECT seq, id, organization, position, actor, action, target, before_hash, after_hash, " \
    "       at_ms, previous_mac, mac FROM audit_log "
#define ENGINED_SELECT_POOL                                                   \
    "SELECT p.name, s.carrier_count, p.snapshot, p.source, p.imported_at_ms " \
    "FROM pools p JOIN pool_snapshots s ON s.hash = p.snapshot "

namespace engined::store {

inline std::optional<int> optional_int(const std::optional<int64_t>& value) {
    return value ? std::optional<int>(static_cast<int>(*value)) : std::nullopt;
}

// How many columns a comma-separated column list names.
constexpr int count_columns(std::string_view columns) {
    int count = 1;
    for (const char c : columns) count += c == ',' ? 1 : 0;
    return count;
}

// How many columns ENGINED_RUN_COLUMNS names: a statement's own columns follow them. Counted from
// the list itself, so a column added there cannot shift a statement's own columns unnoticed.
inline constexpr int kRunColumnCount = count_columns(ENGINED_RUN_COLUMNS);
// read_run maps the columns by hand, 0 to 30; this is what ties that mapping to the list. A column
// added to the list fails here until read_run maps it too and the count is raised with it: a
// count taken from the list alone could not notice read_run falling behind.
static_assert(kRunColumnCount == 31, "read_run maps 31 columns: map the new one, then count it");

template <class Row>
Run read_run(const Row& row) {
    Run run;
    run.seq = row.integer(0);
    run.id = row.text(1);
    run.organization = row.text(2);
    run.environment = row.text(3);
    run.engine_slug = row.text(4);
    run.engine_type = row.text(5);
    run.engine_version = row.optional_text(6);
    run.engine_version_pin = row.optional_text(7);
    const std::string status = row.text(8);
    const auto parsed = parse_run_status(status);
    if (!parsed) throw StoreUnavailable("read run " + run.id + ": unknown status '" + status + "'");
    run.status = *parsed;
    run.stage = row.text(9);
    run.request_json = row.text(10);
    run.config_hash = row.text(11);
    run.webhook_url = row.optional_text(12);
    run.api_key_id = row.text(13);
    run.output_json = row.text(14);
    run.results_json = row.text(15);
    run.error_code = row.optional_text(16);
    run.error_message = row.optional_text(17);
    run.error_details_json = row.text(18);
    run.trace_json = row.text(19);
    run.attempts = static_cast<int>(row.integer(20));
    run.created_at_ms = row.integer(21);
    run.started_at_ms = row.optional_integer(22);
    run.completed_at_ms = row.optional_integer(23);
    run.fingerprint = row.optional_text(24);
    run.fingerprint_json = row.optional_text(25);
    run.environment_id = row.text(26);
    run.engine_version_pin_source = row.optional_text(27);
    run.engine_version_rollout = row.optional_text(28);
    run.lease_owner = row.optional_text(29);
    run.leased_until_ms = row.optional_integer(30);
    return run;
}

template <class Row>
ApiKey read_api_key(const Row& row) {
    ApiKey key;
    key.id = row.text(0);
    key.organization = row.text(1);
    key.environment = row.text(2);
    const std::string scopes = row.text(3);
    for (std::size_t start = 0; start < scopes.size();) {
        const std::size_t comma = std::min(scopes.find(',', start), scopes.size());
        if (comma > start) key.scopes.push_back(scopes.substr(start, comma - start));
        start = comma + 1;
    }
    key.display_prefix = row.text(4);
    key.created_at_ms = row.integer(5);
    key.revoked_at_ms = row.optional_integer(6);
    key.rate_per_second = row.optional_real(7);
    key.rate_burst = row.optional_integer(8);
    key.environment_id = row.text(9);
    key.pinned_engine_version = row.optional_text(10);
    key.engine_pins_json = row.text(11);
    return key;
}

template <class Row>
Environment read_environment(const Row& row) {
    Environment environment;
    environment.id = row.text(0);
    environment.organization = row.text(1);
    environment.slug = row.text(2);
    environment.built_in = row.integer(3) != 0;
    environment.pinned_engine_version = row.optional_text(4);
    environment.engine_pins_json = row.text(5);
    environment.created_at_ms = row.integer(6);
    environment.updated_at_ms = row.integer(7);
    return environment;
}

template <class Row>
EngineRecord read_engine(const Row& row) {
    EngineRecord engine;
    engine.id = row.text(0);
    engine.organization = row.text(1);
    engine.slug = row.text(2);
    engine.label = row.text(3);
    engine.description = row.text(4);
    engine.engine_type = row.text(5);
    engine.status = row.text(6);
    engine.config_hash = row.text(7);
    engine.config_updated_by = row.text(8);
    engine.config_updated_at_ms = row.integer(9);
    engine.created_at_ms = row.integer(10);
    engine.updated_at_ms = row.integer(11);
    return engine;
}

template <class Row>
ReleaseRecord read_release(const Row& row) {
    ReleaseRecord release;
    release.organization = row.text(0);
    release.engine_slug = row.text(1);
    release.major = static_cast<int>(row.integer(2));
    release.minor = static_cast<int>(row.integer(3));
    release.config_hash = row.text(4);
    release.content_hash = row.text(5);
    release.bundle_json = row.text(6);
    release.changelog = row.text(7);
    release.bump = row.text(8);
    release.is_breaking_from_previous_major = row.integer(9) != 0;
    release.reasons_json = row.text(10);
    release.published_by = row.text(11);
    release.released_at_ms = row.integer(12);
    return release;
}

template <class Row>
RolloutRecord read_rollout(const Row& row) {
    RolloutRecord rollout;
    rollout.organization = row.text(0);
    rollout.engine_slug = row.text(1);
    rollout.major = static_cast<int>(row.integer(2));
    rollout.from_minor = static_cast<int>(row.integer(3));
    rollout.to_minor = static_cast<int>(row.integer(4));
    rollout.percent = static_cast<int>(row.integer(5));
    rollout.state = row.text(6);
    rollout.opened_by = row.text(7);
    rollout.opened_at_ms = row.integer(8);
    rollout.updated_at_ms = row.integer(9);
    rollout.closed_at_ms = row.optional_integer(10);
    return rollout;
}

template <class Row>
PoolSummary read_pool(const Row& row) {
    return {row.text(0), row.integer(1), row.text(2), row.text(3), row.integer(4)};
}

template <class Row>
WebhookEndpoint read_endpoint(const Row& row) {
    WebhookEndpoint endpoint;
    endpoint.id = row.text(0);
    endpoint.organization = row.text(1);
    endpoint.environment_id = row.text(2);
    endpoint.url = row.text(3);
    endpoint.description = row.text(4);
    endpoint.events = events_from_json(row.text(5));
    endpoint.active = row.integer(6) != 0;
    endpoint.auth_token = row.optional_text(7);
    endpoint.secret = row.text(8);
    endpoint.previous_secret = row.optional_text(9);
    endpoint.previous_secret_expires_at_ms = row.optional_integer(10);
    endpoint.consecutive_failures = static_cast<int>(row.integer(11));
    endpoint.disabled_reason = row.optional_text(12);
    endpoint.created_at_ms = row.integer(13);
    endpoint.updated_at_ms = row.integer(14);
    return endpoint;
}

template <class Row>
WebhookDelivery read_delivery(const Row& row) {
    WebhookDelivery delivery;
    delivery.id = row.text(0);
    delivery.event_id = row.text(1);
    delivery.event_type = row.text(2);
    delivery.event_created_at_ms = row.integer(3);
    delivery.run_id = row.text(4);
    delivery.organization = row.text(5);
    delivery.environment_id = row.text(6);
    delivery.endpoint_id = row.optional_text(7);
    delivery.url = row.text(8);
    delivery.status = parse_delivery_status(row.text(9));
    delivery.attempts = static_cast<int>(row.integer(10));
    delivery.next_attempt_at_ms = row.optional_integer(11);
    delivery.last_status_code = optional_int(row.optional_integer(12));
    delivery.last_error = row.optional_text(13);
    delivery.created_at_ms = row.integer(14);
    delivery.updated_at_ms = row.integer(15);
    return delivery;
}

// A page read with one row past `limit`: drops that row; the cursor to continue below when
// there was one.
template <class Record>
std::optional<int64_t> close_page(std::vector<Record>& records, int limit) {
    if (records.size() <= static_cast<std::size_t>(limit)) return std::nullopt;
    records.pop_back();
    return records.back().seq;
}

template <class Row>
AuditRecord read_audit(const Row& row) {
    AuditRecord record;
    record.seq = row.integer(0);
    record.id = row.text(1);
    record.organization = row.text(2);
    record.position = row.integer(3);
    record.actor = row.text(4);
    record.action = row.text(5);
    record.target = row.text(6);
    record.before_hash = row.text(7);
    record.after_hash = row.text(8);
    record.at_ms = row.integer(9);
    record.previous_mac = row.text(10);
    record.mac = row.text(11);
    return record;
}

}  // namespace engined::store
