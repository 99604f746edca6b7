#include "http/router.hpp"

#include "common/api_error.hpp"
#include "common/crypto.hpp"
#include "common/json_text.hpp"

#include <boost/json/value.hpp>

#include <algorithm>

namespace engined::http {

Router::Router(Authenticator authenticate, Admission admit)
    : authenticate_(std::move(authenticate)), admit_(std::move(admit)) {}

void Router::add(Method method, std::string pattern, std::string scope, Handler handler) {
    auto segments = split_path(pattern);
    routes_.push_back(
        {method, std::move(pattern), std::move(segments), std::move(scope), std::move(handler)});
}

std::vector<Router::RouteName> Router::routes() const {
    std::vector<RouteName> names;
    for (const Route& route : routes_) names.push_back({route.method, route.pattern});
    return names;
}

void Router::add_sync(Method method, std::string pattern, std::string scope, SyncHandler handler) {
    add(method, std::move(pattern), std::move(scope),
        [handler = std::move(handler)](const Request& request, const auth::Principal& principal,
                                       Responder responder) {
            responder.respond(handler(request, principal));
        });
}

std::vector<std::string> Router::split_path(std::string_view path) {
    std::vector<std::string> segments;
    std::size_t start = 0;
    while (start <= path.size()) {
        const auto slash = path.find('/', start);
        const auto end = slash == std::string_view::npos ? path.size() : slash;
        if (end > start) segments.emplace_back(path.substr(start, end - start));
        if (slash == std::string_view::npos) break;
        start = slash + 1;
    }
    return segments;
}

bool Router::match(const Route& route, const std::vector<std::string>& segments,
                   std::vector<std::pair<std::string, std::string>>& params) {
    if (route.segments.size() != segments.size()) return false;
    params.clear();
    for (std::size_t i = 0; i < segments.size(); ++i) {
        const std::string& pattern = route.segments[i];
        if (pattern.size() > 2 && pattern.front() == '{' && pattern.back() == '}') {
            params.emplace_back(pattern.substr(1, pattern.size() - 2), segments[i]);
        } else if (pattern != segments[i]) {
            return false;
        }
    }
    return true;
}

void Router::dispatch(Request& request, const Responder& responder) const {
    try {
        const auto segments = split_path(request.path());
        std::vector<std::pair<std::string, std::string>> params;
        const Route* found = nullptr;
        bool path_known = false;
        for (const Route& route : routes_) {
            if (!match(route, segments, params)) continue;
            path_known = true;
            if (route.method == request.method()) {
                found = &route;
                break;
            }
        }
        if (found == nullptr) {
            if (path_known) {
                throw ApiError::method_not_allowed(std::string(to_string(request.method())) +
                                                   " is not supported on " +
                                                   std::string(request.path()));
            }
            throw ApiError::not_found("no route matches " + std::string(request.path()));
        }
        request.bind_path_params(std::move(params));
        request.set_route(static_cast<int>(found - routes_.data()), found->pattern);
        if (found->scope.empty()) {
            found->handler(request, auth::Principal{}, responder);
            return;
        }
        const auth::Principal principal = authenticate_(request);
        request.set_key_id(principal.key_id);
        const auto headers =
            admit_ ? admit_(principal) : std::vector<std::pair<std::string, std::string>>{};
        Responder answer =
            headers.empty() ? responder : Responder([responder, headers](Response response) {
                response.headers.insert(response.headers.end(), headers.begin(), headers.end());
                responder.respond(std::move(response));
            });
        try {
            if (found->scope != kAnyValidKey && !principal.has_scope(found->scope)) {
                throw ApiError::forbidden("this API key lacks the scope '" + found->scope + "'");
            }
            if (request.method() == Method::post && ledger_ != nullptr &&
                !request.header("Idempotency-Key").empty()) {
                answer = guard_idempotency(request, principal, answer);
                if (!request.idempotency()) return;  // replayed
            }
            found->handler(request, principal, answer);
        } catch (...) {
            answer.fail(std::current_exception());
        }
    } catch (...) {
        responder.fail(std::current_exception());
    }
}

Responder Router::guard_idempotency(Request& request, const auth::Principal& caller,
                                    const Responder& answer) const {
    const std::string key(request.header("Idempotency-Key"));
    if (key.size() > 255 ||
        !std::all_of(key.begin(), key.end(), [](char c) { return c > 0x20 && c < 0x7f; })) {
        throw ApiError::invalid_request("Idempotency-Key must be 1-255 printable ASCII characters",
                                        {{"Idempotency-Key", "malformed"}});
    }
    IdempotencyToken token{key, request_fingerprint(request)};
    if (const auto stored = ledger_->find(caller, key)) {
        if (stored->request_hash != token.request_hash) {
            throw ApiError(409, "idempotency_conflict",
                           "Idempotency-Key '" + key +
                               "' was used with a different request in the last 24 hours");
        }
        Response replay = stored->response;
        replay.headers.emplace_back("Idempotent-Replayed", "true");
        answer.respond(std::move(replay));
        return answer;
    }
    request.set_idempotency(token);
    // Server failures are not remembered: the client may retry them with the same key.
    return Responder([answer, token, caller, ledger = ledger_](Response response) {
        if (response.status < 500 && !token.answered_durably->load())
            ledger->remember(caller, token, response);
        answer.respond(std::move(response));
    });
}

std::string Router::request_fingerprint(const Request& request) {
    // Equal JSON bodies hash equal whatever their key order or spacing.
    boost::system::error_code ec;
    const boost::json::value body = parse_internal_json(request.body(), ec);
    return sha256_hex(std::string(to_string(request.method())) + " " + std::string(request.path()) +
                      "\n" + (ec ? std::string(request.body()) : canonical_json(body)));
}

}  // namespace engined::http
