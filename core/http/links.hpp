// Absolute links in answers (a run's Location, the evaluation `audit` URL, the OpenAPI server):
// the configured public base URL (--public-url) when there is one, else the origin the request
// was sent to (its Host header), else the server's own listen address. Also the checks that
// make a public URL and a Host header safe to echo into a link.
#pragma once

#include "http/message.hpp"

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace engined::http {

// `text` as a public base URL: absolute http or https, a valid host[:port], an optional path,
// no user info, query or fragment. Returned with the scheme lower-cased and trailing slashes
// removed ("https://api.example.com/"  → "https://api.example.com"); nullopt when invalid.
std::optional<std::string> normalised_public_url(std::string_view text);

// True for a Host header value a link may carry: host[:port], the host a DNS name or IPv4
// address (letters, digits, '-' and '.') or a bracketed IPv6 literal, the port 1-65535.
bool is_valid_host(std::string_view host);

class Links {
public:
    // `public_url` is empty or normalised (normalised_public_url); `listen_host` is the
    // listener's IP address; `listen_port` may be 0 until the listener is bound.
    Links(std::string public_url, std::string listen_host, std::uint16_t listen_port);

    // Once the listener is bound (its port is chosen then when configured as 0).
    void set_listen_port(std::uint16_t port) { listen_port_.store(port); }

    // The absolute URL of `path` ("/api/v1/runs/…") for the answer to `request`: under the public
    // URL; without one, http:// and the request's Host when it is valid (sent once); else the
    // listen address.
    std::string for_request(const Request& request, std::string_view path) const;

    // For what is sent later, not built off a request (webhook deliveries): under the public
    // URL, else the listen address.
    std::string detached(std::string_view path) const;

private:
    std::string listen_origin() const;

    std::string public_url_;
    std::string listen_host_;
    std::atomic<std::uint16_t> listen_port_;
};

}  // namespace engined::http
