// The routing table: method + path pattern ("/api/v1/runs/{run_id}") → handler, with the scope a
// route requires. Authentication, scope checks and the error boundary happen here, once.
#pragma once

#include "auth/principal.hpp"
#include "http/message.hpp"

#include <functional>
#include <optional>
#include <utility>
#include <string>
#include <vector>

namespace engined::http {

using Handler = std::function<void(const Request&, const auth::Principal&, Responder)>;
using SyncHandler = std::function<Response(const Request&, const auth::Principal&)>;

// Resolves the caller of a request or throws ApiError(401).
using Authenticator = std::function<auth::Principal(const Request&)>;

// Admits an authenticated caller: returns headers every answer to the request carries (e.g. the
// rate-limit counters), or throws ApiError (e.g. 429) to refuse it.
using Admission =
    std::function<std::vector<std::pair<std::string, std::string>>(const auth::Principal&)>;

// Where answers to POSTs with an Idempotency-Key are kept (the store, wired by the app).
class IdempotencyLedger {
public:
    struct Stored {
        std::string request_hash;
        Response response;
    };
    virtual ~IdempotencyLedger() = default;
    virtual std::optional<Stored> find(const auth::Principal& caller, const std::string& key) = 0;
    // Called on the thread that answers, before the answer is sent.
    // Keeps `response` with its replay_body (when set) in place of its body.
    virtual void remember(const auth::Principal& caller, const IdempotencyToken& token,
                          const Response& response) = 0;
};

class Router {
public:
    explicit Router(Authenticator authenticate, Admission admit = {});

    // POSTs carrying an Idempotency-Key replay their first answer for 24 h (same body) or
    // answer 409 idempotency_conflict (another body).
    void set_idempotency_ledger(IdempotencyLedger& ledger) { ledger_ = &ledger; }

    // `scope` empty: the route is public (no key needed); kAnyValidKey: any valid key, whatever
    // its scopes.
    static constexpr const char* kAnyValidKey = "*";
    void add(Method method, std::string pattern, std::string scope, Handler handler);
    void add_sync(Method method, std::string pattern, std::string scope, SyncHandler handler);

    // Finds the route, authenticates, checks the scope and runs the handler. Every failure,
    // synchronous or not, reaches `responder` as the error envelope. Records the matched route
    // and the caller's key id on `request`.
    void dispatch(Request& request, const Responder& responder) const;

    // Every route's method and pattern, in the order of Request::route_index().
    struct RouteName {
        Method method;
        std::string pattern;
    };
    std::vector<RouteName> routes() const;

private:
    struct Route {
        Method method;
        std::string pattern;
        std::vector<std::string> segments;  // "{name}" binds a value
        std::string scope;
        Handler handler;
    };
    static std::vector<std::string> split_path(std::string_view path);
    static std::string request_fingerprint(const Request& request);
    // The responder to answer with: it records the answer under the request's key.
    Responder guard_idempotency(Request& request, const auth::Principal& caller,
                                const Responder& answer) const;
    static bool match(const Route& route, const std::vector<std::string>& segments,
                      std::vector<std::pair<std::string, std::string>>& params);

    Authenticator authenticate_;
    Admission admit_;
    IdempotencyLedger* ledger_ = nullptr;
    std::vector<Route> routes_;
};

}  // namespace engined::http
