// core/net — outbound HTTP(S) for the server's own requests to integrator URLs: URL checks, the
// address classifier (SSRF guard) and the outbound client. It knows nothing of webhooks or runs.
// url.hpp: the one parser for outbound URLs, used both when a URL is registered and when it is
// called, so a URL that was accepted is parsed the same way when it is used.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace engined::net {

inline constexpr std::size_t max_url_length = 2048;

struct Url {
    std::string scheme;  // "http" or "https", lower case
    std::string host;    // lower case; an IPv6 literal without its brackets ("::1")
    uint16_t port = 0;   // the explicit port, else 80 / 443
    std::string target;  // path + query, "/" if empty
};

// Parses an absolute http/https URL. The error is a message naming what is wrong: not absolute,
// another scheme, missing host, userinfo present, fragment present, bad port, longer than
// max_url_length, whitespace, control or non-ASCII characters. IPv6 literals come in brackets.
std::variant<Url, std::string> parse_url(std::string_view text);

// The registration-time check: parse_url, plus the `https` scheme when require_https.
// nullopt when the URL is acceptable, else the reason.
std::optional<std::string> check_webhook_url(std::string_view text, bool require_https);

// The Host header value for `url`: brackets around an IPv6 literal, the port when not the
// scheme's default.
std::string host_header(const Url& url);

// `url` without its query string (and anything after it): what logs show of an integrator's
// URL, whose query may carry a token.
std::string url_without_query(std::string_view url);

}  // namespace engined::net
