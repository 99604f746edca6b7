// The bytes a response sends before its body: the status line and the header fields
// (RFC 9112 §4, §6). The session writes them beside the body in one gather write, instead of
// filling Beast's field container and running its serializer for every answer, which cost more
// than the head itself (docs/performance.md).
#pragma once

#include "http/message.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace engined::http {

// Appends the decimal digits of `number`: the head's status and length, the access log's figures.
void append_decimal(std::string& text, std::uint64_t number);

// Whether a response with this status carries a body (and so Content-Length): not 1xx, 204, 304.
bool status_has_body(int status);

// What the session knows of the exchange beyond the handler's answer.
struct ResponseFraming {
    std::string_view request_id;  // echoed as X-Request-Id
    unsigned version = 11;        // the request's HTTP version: 10 or 11
    bool keep_alive = true;       // whether the connection stays open after this answer
};

// "HTTP/1.1 200 OK", then Server, Content-Type, X-Request-Id, the response's own headers in
// order, Connection where the version's default does not already say it, and Content-Length
// (the body's size; none for a status without a body), ending with the blank line. A CR or LF in
// a name or value is written as a space: no field can start another.
std::string response_head(const Response& response, const ResponseFraming& framing);

}  // namespace engined::http
