// The webhook use cases behind the API: endpoints (create, list, get, update, delete, rotate the
// secret), the environment's signing secret for runs' own URLs, and the delivery log with its
// manual re-send. Always within the caller's organisation and environment; ApiError otherwise.
#pragma once

#include "audit/audit_trail.hpp"
#include "auth/principal.hpp"
#include "store/store.hpp"

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <functional>
#include <string>

namespace engined::webhooks {

inline constexpr int kMaxActiveEndpoints = 10;
// After a rotation the previous secret keeps signing this long, so receivers can switch over.
inline constexpr int64_t kSecretOverlapMs = 24LL * 60 * 60 * 1000;

class WebhookService {
public:
    // `wake` tells the dispatcher that a delivery became due (a manual re-send).
    // Endpoint changes and secret rotations are recorded on `audit`.
    WebhookService(store::Store& store, std::function<void()> wake, audit::AuditTrail& audit);

    // 201 body: the endpoint with its `secret`, shown this once.
    boost::json::object create(const auth::Principal& caller, const boost::json::value& body);
    boost::json::object list(const auth::Principal& caller) const;
    boost::json::object get(const auth::Principal& caller, const std::string& id) const;
    // Any of url, events, description, active, auth_token. Re-activating an endpoint the
    // platform disabled clears its failure streak.
    boost::json::object update(const auth::Principal& caller, const std::string& id,
                               const boost::json::value& body);
    void remove(const auth::Principal& caller, const std::string& id);
    // A new secret, shown once; the previous one keeps signing for 24 hours.
    boost::json::object rotate_secret(const auth::Principal& caller, const std::string& id);
    // Creates or rotates the secret that signs deliveries to runs' own `webhook_url`.
    boost::json::object rotate_signing_secret(const auth::Principal& caller);
    // Reveals the environment's current signing secret (created now if it has none yet) and
    // logs who asked.
    boost::json::object reveal_signing_secret(const auth::Principal& caller);

    // Newest first, each with its attempts; `limit` as a query string (1-100, default 20).
    boost::json::object list_deliveries(const auth::Principal& caller,
                                        const std::string& endpoint_id,
                                        const std::string& limit) const;
    // Sends the delivery again (same X-Nexio-Delivery); 202 body: the delivery.
    boost::json::object retry_delivery(const auth::Principal& caller,
                                       const std::string& endpoint_id,
                                       const std::string& delivery_id);

private:
    store::WebhookEndpoint visible_endpoint(const auth::Principal& caller,
                                            const std::string& id) const;
    // Stores the changed endpoint with `action`'s audit record, in one write.
    void store_update(const store::WebhookEndpoint& endpoint, const audit::Action& action);

    store::Store& store_;
    std::function<void()> wake_;
    audit::AuditTrail& audit_;
};

// The environment's secret for runs' own `webhook_url`s, created on first need (the first
// delivery to sign, or the first caller asking for it): a run's own URL needs no set-up.
store::SigningSecret signing_secret_of(store::Store& store, const std::string& organization,
                                       const std::string& environment_id);

// The signing secrets valid at `now_ms`: the current one, then the previous while it overlaps.
std::vector<std::string> valid_secrets(const std::string& secret,
                                       const std::optional<std::string>& previous,
                                       const std::optional<int64_t>& previous_expires_at_ms,
                                       int64_t now_ms);

}  // namespace engined::webhooks
