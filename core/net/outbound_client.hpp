// The outbound HTTP(S) client: one POST per call to a URL an integrator gave us, behind the SSRF
// guard (every resolved address must be public unless the operator allow-lists the host), with
// verified TLS, hard timeouts and a response size cap. Failures are values, never exceptions.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace engined::net {

struct OutboundPolicy {
    // Host names or IP literals exempt from the address guard (exact, case-insensitive; IP
    // literals compare as addresses, so "::1" matches "0::1").
    std::vector<std::string> allowed_hosts;
    // Extra PEM trust anchors; empty: the system store only. A file that cannot be loaded fails
    // every https post with tls_failed naming it.
    std::string ca_file;
    std::chrono::milliseconds connect_timeout{5000};
    std::chrono::milliseconds total_timeout{15000};     // resolve + connect + TLS + write + read
    std::size_t max_response_bytes = 64 * 1024;         // larger bodies fail as response_too_large
    std::size_t max_response_header_bytes = 16 * 1024;  // larger headers fail as response_too_large
};

struct OutboundRequest {
    std::string url;
    // Sent as given (Content-Type etc.); Host, Content-Length, Transfer-Encoding and Connection
    // are the client's own. A name or value with CR, LF or NUL fails the post as protocol_error.
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;  // always a POST
};

enum class OutboundFailure {
    none,
    invalid_url,
    refused_address,
    resolve_failed,
    connect_failed,
    tls_failed,
    timed_out,
    response_too_large,
    protocol_error,
};

std::string_view to_string(OutboundFailure f);

struct OutboundResult {
    OutboundFailure failure = OutboundFailure::none;  // none: an HTTP answer was read (any status)
    std::string detail;                               // human-readable, for the delivery log
    int status = 0;                                   // 0 when no status line was read
    std::string body;                                 // at most max_response_bytes
    std::optional<std::string> retry_after;           // the Retry-After header, raw
    std::string remote_address;                       // the vetted address actually connected to
    std::chrono::milliseconds elapsed{0};
};

class OutboundSession;

class OutboundClient {
public:
    // Copies share the policy and the TLS trust store, which are read-only after construction.
    explicit OutboundClient(OutboundPolicy policy);

    // Synchronous and thread-safe (each call uses its own io_context and its own connection,
    // closed after the answer); never throws. The host is resolved once and only vetted addresses
    // are connected to; redirects are not followed (a 3xx is just a status).
    OutboundResult post(const OutboundRequest& request) const;

private:
    friend class OutboundSession;
    struct Impl;
    std::shared_ptr<const Impl> impl_;
};

// How long an OutboundSession keeps a connection for the next post to the same origin.
struct KeepAlive {
    std::size_t max_idle = 8;                   // idle connections kept; the oldest goes first
    std::chrono::milliseconds idle_for{30000};  // closed when unused this long
    std::chrono::milliseconds max_age{60000};   // not reused once this old: a DNS change is seen
};

// A sequence of posts from one thread that keeps connections open between them: a post to an
// origin (scheme, host, port) with an idle connection sends on it instead of resolving,
// connecting and shaking hands again. A connection is vetted by the address guard when it is
// opened and is only reused for the host name it was opened for. A kept connection the
// receiver closed while it was idle is replaced by a fresh one within the same post, provided
// nothing of an answer arrived on it (the request may then reach the receiver twice: deliveries
// are at least once). Not thread-safe: one session per thread. Never throws from post.
class OutboundSession {
public:
    explicit OutboundSession(const OutboundClient& client, KeepAlive keep_alive = {});
    ~OutboundSession();
    OutboundSession(const OutboundSession&) = delete;
    OutboundSession& operator=(const OutboundSession&) = delete;

    OutboundResult post(const OutboundRequest& request);
    // Closes the connections idle longer than keep_alive allows; a caller with nothing to send
    // calls it so that no socket lingers half-closed until the next post.
    void close_expired();
    std::size_t idle_connections() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace engined::net
