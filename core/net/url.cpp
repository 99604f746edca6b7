#include "net/url.hpp"

#include <boost/asio/ip/address.hpp>

#include <algorithm>
#include <cctype>

namespace engined::net {
namespace {

std::string lower(std::string_view text) {
    std::string out(text);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

// Letters, digits, '-', '_' and dots between non-empty labels (one trailing dot allowed, as in
// a fully qualified name). Anything else (percent-encoding, '%' zone ids, ...) is refused.
bool is_host_name(std::string_view host) {
    if (host.ends_with('.')) host.remove_suffix(1);
    if (host.empty() || host.front() == '.' || host.find("..") != std::string_view::npos)
        return false;
    return std::all_of(host.begin(), host.end(), [](unsigned char c) {
        return std::isalnum(c) || c == '-' || c == '_' || c == '.';
    });
}

std::optional<uint16_t> parse_port(std::string_view text) {
    if (text.empty() || text.size() > 5) return std::nullopt;
    unsigned value = 0;
    for (char c : text) {
        if (c < '0' || c > '9') return std::nullopt;
        value = value * 10 + static_cast<unsigned>(c - '0');
    }
    if (value == 0 || value > 65535) return std::nullopt;
    return static_cast<uint16_t>(value);
}

}  // namespace

std::variant<Url, std::string> parse_url(std::string_view text) {
    if (text.size() > max_url_length) {
        return "URL is longer than " + std::to_string(max_url_length) + " characters";
    }
    for (unsigned char c : text) {
        if (c <= 0x20 || c == 0x7f)
            return std::string("URL contains whitespace or control characters");
        if (c >= 0x80) return std::string("URL contains non-ASCII characters");
    }
    const auto scheme_end = text.find("://");
    const auto first_delimiter = text.find_first_of("/?#");
    if (scheme_end == std::string_view::npos || scheme_end == 0 || first_delimiter < scheme_end) {
        return std::string("URL is not absolute (expected http:// or https://)");
    }
    Url url;
    url.scheme = lower(text.substr(0, scheme_end));
    if (url.scheme != "http" && url.scheme != "https") {
        return "URL scheme '" + url.scheme + "' is not http or https";
    }
    if (text.find('#') != std::string_view::npos) return std::string("URL has a fragment");

    std::string_view rest = text.substr(scheme_end + 3);
    const auto authority_end = rest.find_first_of("/?");
    std::string_view authority = rest.substr(0, authority_end);
    const std::string_view target =
        authority_end == std::string_view::npos ? "" : rest.substr(authority_end);
    if (authority.find('@') != std::string_view::npos)
        return std::string("URL has userinfo (user:password@)");

    std::string_view port_text;
    bool has_port = false;
    if (authority.starts_with('[')) {
        const auto close = authority.find(']');
        if (close == std::string_view::npos)
            return std::string("URL has an unterminated IPv6 literal");
        const std::string literal(authority.substr(1, close - 1));
        boost::system::error_code ec;
        boost::asio::ip::make_address_v6(literal, ec);
        if (ec || literal.find('%') != std::string::npos) {
            return "URL host [" + literal + "] is not an IPv6 address";
        }
        url.host = lower(literal);
        const std::string_view after = authority.substr(close + 1);
        if (!after.empty()) {
            if (!after.starts_with(':'))
                return std::string("URL has characters after the IPv6 literal");
            has_port = true;
            port_text = after.substr(1);
        }
    } else {
        const auto colon = authority.find(':');
        std::string_view host = authority.substr(0, colon);
        if (colon != std::string_view::npos) {
            has_port = true;
            port_text = authority.substr(colon + 1);
        }
        if (host.empty()) return std::string("URL has no host");
        if (!is_host_name(host))
            return "URL host '" + std::string(host) + "' is not a valid host name";
        url.host = lower(host);
    }
    if (url.host.empty()) return std::string("URL has no host");

    if (has_port) {
        const auto port = parse_port(port_text);
        if (!port)
            return "URL port '" + std::string(port_text) + "' is not a number from 1 to 65535";
        url.port = *port;
    } else {
        url.port = url.scheme == "https" ? 443 : 80;
    }
    url.target = target.empty()            ? "/"
                 : target.starts_with('?') ? "/" + std::string(target)
                                           : std::string(target);
    return url;
}

std::optional<std::string> check_webhook_url(std::string_view text, bool require_https) {
    auto parsed = parse_url(text);
    if (auto* error = std::get_if<std::string>(&parsed)) return std::move(*error);
    if (require_https && std::get<Url>(parsed).scheme != "https")
        return std::string("URL must use https");
    return std::nullopt;
}

std::string host_header(const Url& url) {
    const bool ipv6 = url.host.find(':') != std::string::npos;
    std::string out = ipv6 ? "[" + url.host + "]" : url.host;
    const uint16_t default_port = url.scheme == "https" ? 443 : 80;
    if (url.port != default_port) out += ":" + std::to_string(url.port);
    return out;
}

std::string url_without_query(std::string_view url) {
    return std::string(url.substr(0, url.find_first_of("?#")));
}

}  // namespace engined::net
