#include "http/links.hpp"

#include <algorithm>
#include <cctype>

namespace engined::http {
namespace {

constexpr std::size_t kMaxHostBytes = 255;  // a DNS name's limit (RFC 1035), with the port

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

bool is_valid_port(std::string_view port) {
    if (port.empty() || port.size() > 5 || !std::all_of(port.begin(), port.end(), is_digit))
        return false;
    const int value = std::stoi(std::string(port));
    return value >= 1 && value <= 65535;
}

bool is_name_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '.';
}

bool is_ipv6_char(char c) {
    return std::isxdigit(static_cast<unsigned char>(c)) != 0 || c == ':' || c == '.';
}

// Characters a base URL's path may hold: RFC 3986 unreserved, sub-delimiters, ':', '@', '/' and
// percent-escapes — never '?', '#', '\', spaces, controls or non-ASCII bytes.
bool is_path_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 ||
           std::string_view("-._~!$&'()*+,;=:@/%").find(c) != std::string_view::npos;
}

std::string lower(std::string_view text) {
    std::string out(text);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    return out;
}

}  // namespace

bool is_valid_host(std::string_view host) {
    if (host.empty() || host.size() > kMaxHostBytes) return false;
    std::string_view name = host;
    if (host.front() == '[') {
        const auto close = host.find(']');
        if (close == std::string_view::npos || close < 3) return false;
        const std::string_view literal = host.substr(1, close - 1);
        if (!std::all_of(literal.begin(), literal.end(), is_ipv6_char)) return false;
        const std::string_view rest = host.substr(close + 1);
        return rest.empty() || (rest.front() == ':' && is_valid_port(rest.substr(1)));
    }
    if (const auto colon = host.find(':'); colon != std::string_view::npos) {
        if (!is_valid_port(host.substr(colon + 1))) return false;
        name = host.substr(0, colon);
    }
    if (name.empty() || name.front() == '.' || name.front() == '-' ||
        name.find("..") != std::string_view::npos) {
        return false;
    }
    return std::all_of(name.begin(), name.end(), is_name_char);
}

std::optional<std::string> normalised_public_url(std::string_view text) {
    const auto separator = text.find("://");
    if (separator == std::string_view::npos) return std::nullopt;
    const std::string scheme = lower(text.substr(0, separator));
    if (scheme != "http" && scheme != "https") return std::nullopt;
    const std::string_view rest = text.substr(separator + 3);
    const std::string_view authority = rest.substr(0, rest.find('/'));
    std::string_view path = rest.substr(authority.size());
    if (!is_valid_host(authority) || !std::all_of(path.begin(), path.end(), is_path_char))
        return std::nullopt;
    while (!path.empty() && path.back() == '/') path.remove_suffix(1);
    return scheme + "://" + std::string(authority) + std::string(path);
}

Links::Links(std::string public_url, std::string listen_host, std::uint16_t listen_port)
    : public_url_(std::move(public_url)),
      listen_host_(std::move(listen_host)),
      listen_port_(listen_port) {}

std::string Links::listen_origin() const {
    const bool ipv6 = listen_host_.find(':') != std::string::npos;
    return "http://" + (ipv6 ? "[" + listen_host_ + "]" : listen_host_) + ":" +
           std::to_string(listen_port_.load());
}

std::string Links::for_request(const Request& request, std::string_view path) const {
    if (!public_url_.empty()) return public_url_ + std::string(path);
    const HeaderField host = request.header_field("Host");
    if (host.count == 1 && is_valid_host(host.value))
        return "http://" + std::string(host.value) + std::string(path);
    return listen_origin() + std::string(path);
}

std::string Links::detached(std::string_view path) const {
    return (public_url_.empty() ? listen_origin() : public_url_) + std::string(path);
}

}  // namespace engined::http
