// Routes of webhook management (SPEC §4): endpoints, their secrets and their delivery log.
#include "api/routes.hpp"

#include "api/json_response.hpp"
#include "common/json_text.hpp"

#include <boost/json.hpp>

namespace engined::api {
namespace {

using http::Method;
using http::Request;
using http::Response;

std::string id_of(const Request& request) {
    return std::string(request.path_param("webhook_id"));
}

// A secret is shown in the first answer only: a repeat with the same Idempotency-Key answers the
// same object with "secret": null and a note, so the idempotency store never holds a secret.
Response answer_with_secret(int status, boost::json::object answer) {
    Response response = json_response(status, answer);
    answer["secret"] = nullptr;
    answer["secret_note"] =
        "the secret is shown only in the first answer to this request; rotate it if it was not "
        "kept";
    response.replay_body = compact_json(answer);
    return response;
}

}  // namespace

void register_webhook_routes(http::Router& router, webhooks::WebhookService& webhooks,
                             const http::JsonLimits& json_limits) {
    const std::string write = auth::kScopeRunsWrite;
    const std::string read = auth::kScopeRunsRead;

    router.add_sync(
        Method::post, "/api/v1/webhooks", write,
        [&webhooks, json_limits](const Request& request, const auth::Principal& caller) {
            return answer_with_secret(
                201, webhooks.create(caller, http::parse_json_body(request, json_limits)));
        });
    router.add_sync(Method::get, "/api/v1/webhooks", read,
                    [&webhooks](const Request&, const auth::Principal& caller) {
                        return json_response(200, webhooks.list(caller));
                    });
    // Before /api/v1/webhooks/{webhook_id}, which would take "signing-secret" for an id.
    router.add_sync(Method::get, "/api/v1/webhooks/signing-secret", auth::kScopeEnginesAdmin,
                    [&webhooks](const Request&, const auth::Principal& caller) {
                        Response response =
                            json_response(200, webhooks.reveal_signing_secret(caller));
                        response.headers.emplace_back("Cache-Control", "no-store");
                        return response;
                    });
    router.add_sync(Method::get, "/api/v1/webhooks/{webhook_id}", read,
                    [&webhooks](const Request& request, const auth::Principal& caller) {
                        return json_response(200, webhooks.get(caller, id_of(request)));
                    });
    router.add_sync(
        Method::patch, "/api/v1/webhooks/{webhook_id}", write,
        [&webhooks, json_limits](const Request& request, const auth::Principal& caller) {
            return json_response(200, webhooks.update(caller, id_of(request),
                                                      http::parse_json_body(request, json_limits)));
        });
    router.add_sync(Method::del, "/api/v1/webhooks/{webhook_id}", write,
                    [&webhooks](const Request& request, const auth::Principal& caller) {
                        webhooks.remove(caller, id_of(request));
                        return json_response(
                            200, boost::json::object{{"id", id_of(request)}, {"deleted", true}});
                    });
    router.add_sync(Method::post, "/api/v1/webhooks/{webhook_id}/rotate-secret", write,
                    [&webhooks](const Request& request, const auth::Principal& caller) {
                        return answer_with_secret(200,
                                                  webhooks.rotate_secret(caller, id_of(request)));
                    });
    router.add_sync(Method::post, "/api/v1/webhooks/signing-secret/rotate", write,
                    [&webhooks](const Request&, const auth::Principal& caller) {
                        return answer_with_secret(200, webhooks.rotate_signing_secret(caller));
                    });
    router.add_sync(Method::get, "/api/v1/webhooks/{webhook_id}/deliveries", read,
                    [&webhooks](const Request& request, const auth::Principal& caller) {
                        std::string limit;
                        request.query_param("limit", limit);
                        return json_response(
                            200, webhooks.list_deliveries(caller, id_of(request), limit));
                    });
    router.add_sync(
        Method::post, "/api/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/retry", write,
        [&webhooks](const Request& request, const auth::Principal& caller) {
            return json_response(
                202, webhooks.retry_delivery(caller, id_of(request),
                                             std::string(request.path_param("delivery_id"))));
        });
}

}  // namespace engined::api
