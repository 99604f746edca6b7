// core/http — the HTTP surface: listener and sessions (Boost.Beast), the routing table, the
// error envelope and a small client. Knows nothing of runs, engines or SQL; use cases plug in
// as route handlers. message.hpp holds the Beast-free request/response types handlers see.
#pragma once

#include <atomic>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace engined::http {

enum class Method { get, post, put, patch, del, head, options, other };

std::string_view to_string(Method method);

// A POST's Idempotency-Key and the fingerprint of what it asked (method, path, canonical body).
// `answered_durably` is set by an asynchronous handler whose answer either was stored with its own
// write or must not be stored (it lost a race for the key): the router then records nothing.
struct IdempotencyToken {
    std::string key;
    std::string request_hash;
    std::shared_ptr<std::atomic<bool>> answered_durably =
        std::make_shared<std::atomic<bool>>(false);
};

// A header as the request carried it: the first field's value (empty when absent) and how many
// fields of that name came. A lookup that knows only values (tests) reports a non-empty one as
// sent once.
struct HeaderField {
    HeaderField() = default;
    HeaderField(std::string_view first_value)
        : value(first_value), count(first_value.empty() ? 0 : 1) {}
    HeaderField(std::string_view first_value, std::size_t fields)
        : value(first_value), count(fields) {}

    std::string_view value;
    std::size_t count = 0;
};

// A parsed request as handlers see it. Views point into the session's buffers and are valid
// only until the handler returns; an asynchronous handler copies what it keeps.
class Request {
public:
    using HeaderLookup = std::function<HeaderField(std::string_view)>;

    Request(Method method, std::string_view target, std::string_view body, HeaderLookup headers,
            std::string request_id);

    Method method() const noexcept { return method_; }
    std::string_view path() const noexcept { return path_; }
    std::string_view query() const noexcept { return query_; }
    std::string_view body() const noexcept { return body_; }
    const std::string& request_id() const noexcept { return request_id_; }

    // Empty when absent.
    std::string_view header(std::string_view name) const { return headers_(name).value; }
    // With how many times it was sent, for headers that must come at most once.
    HeaderField header_field(std::string_view name) const { return headers_(name); }

    // The percent-decoded value of query parameter `name`, or nullopt-like empty + false.
    bool query_param(std::string_view name, std::string& value) const;

    // Values bound by the route pattern ("{run_id}").
    std::string_view path_param(std::string_view name) const;
    void bind_path_params(std::vector<std::pair<std::string, std::string>> params) {
        path_params_ = std::move(params);
    }

    // Set by the router: the matched route (its index in the routing table and its pattern, e.g.
    // "/api/v1/runs/{run_id}"; -1 and empty when none matched) and the authenticated caller's key
    // id (empty when none). The session reads them back for the access log and the metrics.
    int route_index() const noexcept { return route_index_; }
    std::string_view route_pattern() const noexcept { return route_pattern_; }
    void set_route(int index, std::string_view pattern) {
        route_index_ = index;
        route_pattern_ = pattern;
    }
    const std::string& key_id() const noexcept { return key_id_; }
    void set_key_id(std::string key_id) { key_id_ = std::move(key_id); }

    // Set by the router for a POST carrying an Idempotency-Key that has no answer yet.
    const std::optional<IdempotencyToken>& idempotency() const noexcept { return idempotency_; }
    void set_idempotency(IdempotencyToken token) { idempotency_ = std::move(token); }

private:
    Method method_;
    std::string_view path_;
    std::string_view query_;
    std::string_view body_;
    HeaderLookup headers_;
    std::string request_id_;
    std::vector<std::pair<std::string, std::string>> path_params_;
    int route_index_ = -1;
    std::string_view route_pattern_;  // points into the router's table
    std::string key_id_;
    std::optional<IdempotencyToken> idempotency_;
};

struct Response {
    int status = 200;
    std::string content_type = "application/json";
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;
    // What a repeat with the same Idempotency-Key answers instead of `body`, when the first answer
    // shows something only once (a secret): only this is kept in the idempotency store.
    std::optional<std::string> replay_body;

    static Response json(int status, std::string body);
};

// Delivers a handler's answer to its session, from any thread, exactly once. `fail` turns an
// exception into the error envelope (core/http/error_envelope.hpp) — the one place that does.
class Responder {
public:
    using Sink = std::function<void(Response)>;
    explicit Responder(Sink sink) : state_(std::make_shared<State>(std::move(sink))) {}

    // A second answer to the same request is dropped: the first one is already on the wire.
    void respond(Response response) const {
        if (!state_->answered.exchange(true)) state_->sink(std::move(response));
    }
    void fail(std::exception_ptr error) const;

private:
    struct State {
        explicit State(Sink s) : sink(std::move(s)) {}
        Sink sink;
        std::atomic<bool> answered{false};
    };
    std::shared_ptr<State> state_;
};

}  // namespace engined::http
