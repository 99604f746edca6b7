#include "webhooks/webhook_service.hpp"

#include "common/api_error.hpp"
#include "common/crypto.hpp"
#include "common/json_text.hpp"
#include "common/log.hpp"
#include "common/time.hpp"
#include "net/url.hpp"
#include "webhooks/signature.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <charconv>

namespace engined::webhooks {
namespace {

constexpr std::size_t kMaxDescriptionLength = 500;
constexpr std::size_t kMaxAuthTokenLength = 512;
const std::vector<std::string> kEventTypes{"run.completed", "run.failed"};

boost::json::value optional_time(const std::optional<int64_t>& unix_ms) {
    return unix_ms ? boost::json::value(format_rfc3339_ms(*unix_ms)) : boost::json::value(nullptr);
}

boost::json::object endpoint_to_json(const store::WebhookEndpoint& endpoint) {
    boost::json::array events;
    for (const std::string& event : endpoint.events) events.emplace_back(event);
    return {
        {"id", endpoint.id},
        {"url", endpoint.url},
        {"events", std::move(events)},
        {"description", endpoint.description},
        {"active", endpoint.active},
        {"auth_token_set", endpoint.auth_token.has_value()},
        {"disabled_reason", endpoint.disabled_reason ? boost::json::value(*endpoint.disabled_reason)
                                                     : boost::json::value(nullptr)},
        {"consecutive_failures", endpoint.consecutive_failures},
        {"previous_secret_expires_at", optional_time(endpoint.previous_secret_expires_at_ms)},
        {"created_at", format_rfc3339_ms(endpoint.created_at_ms)},
        {"updated_at", format_rfc3339_ms(endpoint.updated_at_ms)}};
}

boost::json::object delivery_to_json(const store::WebhookDelivery& delivery,
                                     const std::vector<store::DeliveryAttempt>& attempts) {
    boost::json::array log;
    for (const store::DeliveryAttempt& attempt : attempts) {
        log.push_back(
            {{"attempt", attempt.attempt},
             {"started_at", format_rfc3339_ms(attempt.started_at_ms)},
             {"duration_ms", attempt.duration_ms},
             {"status_code", attempt.status_code ? boost::json::value(*attempt.status_code)
                                                 : boost::json::value(nullptr)},
             {"error", attempt.error.empty() ? boost::json::value(nullptr)
                                             : boost::json::value(attempt.error)}});
    }
    return {{"id", delivery.id},
            {"event_id", delivery.event_id},
            {"event_type", delivery.event_type},
            {"run_id", delivery.run_id},
            {"endpoint_id", delivery.endpoint_id ? boost::json::value(*delivery.endpoint_id)
                                                 : boost::json::value(nullptr)},
            {"url", delivery.url},
            {"status", std::string(store::to_string(delivery.status))},
            {"attempt_count", delivery.attempts},
            {"next_attempt_at", optional_time(delivery.next_attempt_at_ms)},
            {"last_status_code", delivery.last_status_code
                                     ? boost::json::value(*delivery.last_status_code)
                                     : boost::json::value(nullptr)},
            {"last_error", delivery.last_error ? boost::json::value(*delivery.last_error)
                                               : boost::json::value(nullptr)},
            {"created_at", format_rfc3339_ms(delivery.created_at_ms)},
            {"updated_at", format_rfc3339_ms(delivery.updated_at_ms)},
            {"attempts", std::move(log)}};
}

const boost::json::object& body_object(const boost::json::value& body) {
    if (!body.is_object())
        throw ApiError::invalid_request("the request body must be a JSON object");
    const auto& fields = body.get_object();
    for (const auto& [key, value] : fields) {
        static const std::vector<std::string> known{"url", "events", "description", "active",
                                                    "auth_token"};
        if (std::find(known.begin(), known.end(), key) == known.end()) {
            throw ApiError::invalid_request(
                "unknown field '" + std::string(key) +
                    "': a webhook endpoint has url, events, description, active, auth_token",
                {{"/" + std::string(key), "unknown field"}});
        }
    }
    return fields;
}

std::string read_url(const boost::json::value& value, const std::string& environment) {
    if (!value.is_string()) {
        throw ApiError::invalid_request("url must be a string",
                                        {{"/url", "expected an http(s) URL"}});
    }
    const std::string url(value.get_string());
    if (const auto problem = net::check_webhook_url(url, environment == "live")) {
        throw ApiError(422, "invalid_webhook_url", "url is not acceptable: " + *problem,
                       {{"/url", *problem}});
    }
    return url;
}

std::vector<std::string> read_events(const boost::json::value& value) {
    if (!value.is_array() || value.get_array().empty()) {
        throw ApiError::invalid_request(
            "events must be a non-empty array of run.completed, run.failed",
            {{"/events", "expected a non-empty array"}});
    }
    std::vector<std::string> events;
    for (std::size_t i = 0; i < value.get_array().size(); ++i) {
        const auto& event = value.get_array()[i];
        const std::string pointer = "/events/" + std::to_string(i);
        if (!event.is_string() || std::find(kEventTypes.begin(), kEventTypes.end(),
                                            event.get_string()) == kEventTypes.end()) {
            throw ApiError::invalid_request("events may hold run.completed and run.failed only",
                                            {{pointer, "expected run.completed or run.failed"}});
        }
        if (std::find(events.begin(), events.end(), event.get_string()) == events.end()) {
            events.emplace_back(event.get_string());
        }
    }
    return events;
}

std::string read_description(const boost::json::value& value) {
    if (!value.is_string() || utf8_length(value.get_string()) > kMaxDescriptionLength) {
        throw ApiError::invalid_request(
            "description must be a string of at most 500 characters",
            {{"/description", "expected a string of at most 500 characters"}});
    }
    return std::string(value.get_string());
}

bool read_active(const boost::json::value& value) {
    if (!value.is_bool())
        throw ApiError::invalid_request("active must be true or false",
                                        {{"/active", "expected a boolean"}});
    return value.get_bool();
}

std::optional<std::string> read_auth_token(const boost::json::value& value) {
    if (value.is_null()) return std::nullopt;
    const bool printable = value.is_string() && !value.get_string().empty() &&
                           value.get_string().size() <= kMaxAuthTokenLength &&
                           std::all_of(value.get_string().begin(), value.get_string().end(),
                                       [](char c) { return c > 0x20 && c < 0x7f; });
    if (!printable) {
        throw ApiError::invalid_request(
            "auth_token must be null or 1-512 printable ASCII characters without spaces",
            {{"/auth_token", "expected a token"}});
    }
    return std::string(value.get_string());
}

// Applies the fields present in `fields` to `endpoint`, an endpoint of environment `environment`.
void apply_fields(store::WebhookEndpoint& endpoint, const boost::json::object& fields,
                  const std::string& environment) {
    if (const auto* url = fields.if_contains("url")) endpoint.url = read_url(*url, environment);
    if (const auto* events = fields.if_contains("events")) endpoint.events = read_events(*events);
    if (const auto* description = fields.if_contains("description"))
        endpoint.description = read_description(*description);
    if (const auto* token = fields.if_contains("auth_token"))
        endpoint.auth_token = read_auth_token(*token);
    if (const auto* active = fields.if_contains("active")) {
        const bool activate = read_active(*active);
        if (activate && !endpoint.active) {
            endpoint.consecutive_failures = 0;
            endpoint.disabled_reason.reset();
        }
        endpoint.active = activate;
    }
}

ApiError too_many_endpoints() {
    return ApiError(
        422, "too_many_webhooks",
        "at most " + std::to_string(kMaxActiveEndpoints) +
            " webhook endpoints may be active in one environment; deactivate or delete one first",
        {{"/active", "limit of active endpoints reached"}});
}

boost::json::object signing_secret_to_json(const store::SigningSecret& secret,
                                           const std::string& environment) {
    return {{"secret", secret.secret},
            {"environment", environment},
            {"previous_secret_expires_at", optional_time(secret.previous_secret_expires_at_ms)},
            {"rotated_at", format_rfc3339_ms(secret.rotated_at_ms)}};
}

int parse_limit(const std::string& text) {
    if (text.empty()) return 20;
    int limit = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), limit);
    if (ec != std::errc() || end != text.data() + text.size() || limit < 1 || limit > 100) {
        throw ApiError::invalid_request("limit must be a whole number from 1 to 100",
                                        {{"limit", "out of range"}});
    }
    return limit;
}

// An endpoint's settings (not its secrets), as the hash that stands for them in the audit log.
std::string endpoint_state_hash(const store::WebhookEndpoint& endpoint) {
    std::string state = endpoint.url + "\n" + endpoint.description + "\n";
    for (const std::string& event : endpoint.events) state += event + ",";
    state += endpoint.active ? "\nactive\n" : "\ninactive\n";
    state += endpoint.auth_token ? sha256_hex(*endpoint.auth_token) : std::string();
    return audit::state_hash(state);
}

}  // namespace

std::vector<std::string> valid_secrets(const std::string& secret,
                                       const std::optional<std::string>& previous,
                                       const std::optional<int64_t>& previous_expires_at_ms,
                                       int64_t now_ms) {
    std::vector<std::string> secrets{secret};
    if (previous && previous_expires_at_ms && *previous_expires_at_ms > now_ms)
        secrets.push_back(*previous);
    return secrets;
}

store::SigningSecret signing_secret_of(store::Store& store, const std::string& organization,
                                       const std::string& environment_id) {
    if (auto current = store.find_signing_secret(organization, environment_id))
        return std::move(*current);
    const store::SigningSecret created = store.add_signing_secret(
        organization, environment_id, {new_secret(), std::nullopt, std::nullopt, now_unix_ms()});
    log::info("webhook signing secret created",
              {{"organization", organization}, {"environment_id", environment_id}});
    return created;
}

WebhookService::WebhookService(store::Store& store, std::function<void()> wake,
                               audit::AuditTrail& audit)
    : store_(store), wake_(std::move(wake)), audit_(audit) {}

boost::json::object WebhookService::create(const auth::Principal& caller,
                                           const boost::json::value& body) {
    const auto& fields = body_object(body);
    if (!fields.contains("url")) {
        throw ApiError::invalid_request("missing field 'url': the endpoint's https URL",
                                        {{"/url", "is required"}});
    }
    const int64_t now = now_unix_ms();
    store::WebhookEndpoint endpoint;
    endpoint.id = "we_" + random_hex(12);
    endpoint.organization = caller.organization;
    endpoint.environment_id = caller.environment_id;
    endpoint.events = kEventTypes;
    endpoint.secret = new_secret();
    endpoint.created_at_ms = now;
    endpoint.updated_at_ms = now;
    apply_fields(endpoint, fields, caller.environment);
    store::AuditAppend audit =
        audit_.draft({caller.organization, caller.key_id, "webhook_endpoint.create", endpoint.id,
                      "", endpoint_state_hash(endpoint)});
    try {
        store_.insert_webhook_endpoint(endpoint, kMaxActiveEndpoints, &audit);
    } catch (const store::TooManyActiveEndpoints&) {
        throw too_many_endpoints();
    }
    audit_.logged(audit);
    boost::json::object answer = endpoint_to_json(endpoint);
    answer["secret"] = endpoint.secret;
    return answer;
}

boost::json::object WebhookService::list(const auth::Principal& caller) const {
    boost::json::array data;
    for (const auto& endpoint :
         store_.list_webhook_endpoints(caller.organization, caller.environment_id)) {
        data.push_back(endpoint_to_json(endpoint));
    }
    return {{"data", std::move(data)}};
}

boost::json::object WebhookService::get(const auth::Principal& caller,
                                        const std::string& id) const {
    return endpoint_to_json(visible_endpoint(caller, id));
}

boost::json::object WebhookService::update(const auth::Principal& caller, const std::string& id,
                                           const boost::json::value& body) {
    store::WebhookEndpoint endpoint = visible_endpoint(caller, id);
    const std::string before = endpoint_state_hash(endpoint);
    apply_fields(endpoint, body_object(body), caller.environment);
    endpoint.updated_at_ms = now_unix_ms();
    store_update(endpoint, {caller.organization, caller.key_id, "webhook_endpoint.update", id,
                            before, endpoint_state_hash(endpoint)});
    // A re-activated endpoint's held deliveries are due again.
    if (endpoint.active && wake_) wake_();
    return endpoint_to_json(endpoint);
}

void WebhookService::remove(const auth::Principal& caller, const std::string& id) {
    store::AuditAppend audit =
        audit_.draft({caller.organization, caller.key_id, "webhook_endpoint.delete", id, "", ""});
    if (!store_.delete_webhook_endpoint(caller.organization, caller.environment_id, id,
                                        now_unix_ms(), &audit)) {
        throw ApiError::not_found("no webhook endpoint '" + id + "'");
    }
    audit_.logged(audit);
}

boost::json::object WebhookService::rotate_secret(const auth::Principal& caller,
                                                  const std::string& id) {
    store::WebhookEndpoint endpoint = visible_endpoint(caller, id);
    const int64_t now = now_unix_ms();
    endpoint.previous_secret = endpoint.secret;
    endpoint.previous_secret_expires_at_ms = now + kSecretOverlapMs;
    endpoint.secret = new_secret();
    endpoint.updated_at_ms = now;
    store_update(endpoint, {caller.organization, caller.key_id, "webhook_endpoint.rotate_secret",
                            id, audit::state_hash(*endpoint.previous_secret),
                            audit::state_hash(endpoint.secret)});
    boost::json::object answer = endpoint_to_json(endpoint);
    answer["secret"] = endpoint.secret;
    return answer;
}

boost::json::object WebhookService::rotate_signing_secret(const auth::Principal& caller) {
    const int64_t now = now_unix_ms();
    store::SigningSecret secret{new_secret(), std::nullopt, std::nullopt, now};
    if (const auto current =
            store_.find_signing_secret(caller.organization, caller.environment_id)) {
        secret.previous_secret = current->secret;
        secret.previous_secret_expires_at_ms = now + kSecretOverlapMs;
    }
    store::AuditAppend audit =
        audit_.draft({caller.organization, caller.key_id, "signing_secret.rotate",
                      "environment:" + caller.environment,
                      secret.previous_secret ? audit::state_hash(*secret.previous_secret) : "",
                      audit::state_hash(secret.secret)});
    store_.put_signing_secret(caller.organization, caller.environment_id, secret, &audit);
    audit_.logged(audit);
    return signing_secret_to_json(secret, caller.environment);
}

boost::json::object WebhookService::reveal_signing_secret(const auth::Principal& caller) {
    const store::SigningSecret secret =
        signing_secret_of(store_, caller.organization, caller.environment_id);
    // No audit trail of its own exists yet: this line is the record of who saw the secret.
    log::info("webhook signing secret revealed", {{"organization", caller.organization},
                                                  {"environment", caller.environment},
                                                  {"key_id", caller.key_id}});
    return signing_secret_to_json(secret, caller.environment);
}

boost::json::object WebhookService::list_deliveries(const auth::Principal& caller,
                                                    const std::string& endpoint_id,
                                                    const std::string& limit) const {
    visible_endpoint(caller, endpoint_id);
    boost::json::array data;
    for (const auto& delivery : store_.list_deliveries(caller.organization, caller.environment_id,
                                                       endpoint_id, parse_limit(limit))) {
        data.push_back(delivery_to_json(delivery, store_.list_delivery_attempts(delivery.id)));
    }
    return {{"data", std::move(data)}};
}

boost::json::object WebhookService::retry_delivery(const auth::Principal& caller,
                                                   const std::string& endpoint_id,
                                                   const std::string& delivery_id) {
    const store::WebhookEndpoint endpoint = visible_endpoint(caller, endpoint_id);
    const auto delivery =
        store_.find_delivery(caller.organization, caller.environment_id, delivery_id);
    if (!delivery || delivery->endpoint_id != endpoint_id) {
        throw ApiError::not_found("no delivery '" + delivery_id + "' for webhook endpoint '" +
                                  endpoint_id + "'");
    }
    if (!endpoint.active) {
        throw ApiError(409, "endpoint_inactive",
                       "webhook endpoint '" + endpoint_id +
                           "' is not active; activate it to re-send deliveries");
    }
    store_.retry_delivery(caller.organization, caller.environment_id, delivery_id, now_unix_ms());
    if (wake_) wake_();
    const auto retried =
        store_.find_delivery(caller.organization, caller.environment_id, delivery_id);
    return delivery_to_json(*retried, store_.list_delivery_attempts(delivery_id));
}

store::WebhookEndpoint WebhookService::visible_endpoint(const auth::Principal& caller,
                                                        const std::string& id) const {
    auto endpoint = store_.find_webhook_endpoint(caller.organization, caller.environment_id, id);
    if (!endpoint) throw ApiError::not_found("no webhook endpoint '" + id + "'");
    return *endpoint;
}

void WebhookService::store_update(const store::WebhookEndpoint& endpoint,
                                  const audit::Action& action) {
    store::AuditAppend audit = audit_.draft(action);
    try {
        if (!store_.update_webhook_endpoint(endpoint, kMaxActiveEndpoints, &audit)) {
            throw ApiError::not_found("no webhook endpoint '" + endpoint.id + "'");
        }
    } catch (const store::TooManyActiveEndpoints&) {
        throw too_many_endpoints();
    }
    audit_.logged(audit);
}

}  // namespace engined::webhooks
