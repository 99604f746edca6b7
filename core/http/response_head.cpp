#include "http/response_head.hpp"

#include <boost/beast/http/status.hpp>

#include <charconv>

namespace engined::http {
namespace {

void append_field_text(std::string& head, std::string_view text) {
    for (const char c : text) head += (c == '\r' || c == '\n') ? ' ' : c;
}

void append_field(std::string& head, std::string_view name, std::string_view value) {
    append_field_text(head, name);
    head += ": ";
    append_field_text(head, value);
    head += "\r\n";
}

}  // namespace

void append_decimal(std::string& text, std::uint64_t number) {
    char digits[24];
    const auto end = std::to_chars(digits, digits + sizeof digits, number).ptr;
    text.append(digits, end);
}

bool status_has_body(int status) {
    return status >= 200 && status != 204 && status != 304;
}

std::string response_head(const Response& response, const ResponseFraming& framing) {
    std::string head;
    head.reserve(160 + response.content_type.size() + framing.request_id.size());
    head += framing.version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ";
    append_decimal(head, static_cast<std::uint64_t>(response.status));
    head += ' ';
    const auto reason = boost::beast::http::obsolete_reason(
        static_cast<boost::beast::http::status>(response.status));
    head.append(reason.data(), reason.size());
    head += "\r\n";
    append_field(head, "Server", "engined");
    append_field(head, "Content-Type", response.content_type);
    append_field(head, "X-Request-Id", framing.request_id);
    for (const auto& [name, value] : response.headers) append_field(head, name, value);
    // HTTP/1.1 connections persist unless told otherwise, HTTP/1.0 ones close.
    if (framing.version == 10 && framing.keep_alive) head += "Connection: keep-alive\r\n";
    if (framing.version != 10 && !framing.keep_alive) head += "Connection: close\r\n";
    if (status_has_body(response.status)) {
        head += "Content-Length: ";
        append_decimal(head, response.body.size());
        head += "\r\n";
    }
    head += "\r\n";
    return head;
}

}  // namespace engined::http
