// How a request's body is delimited (RFC 9112 §6), checked beyond what Beast's parser refuses:
// a body length must have exactly one reading, or a proxy in front of engined could take the
// body for a second request and engined answer it (request smuggling).
#pragma once

#include "common/api_error.hpp"
#include "http/beast_request.hpp"

#include <optional>

namespace engined::http {

// Why a request whose header is complete cannot be framed safely, or nullopt when it can:
// - 400 `invalid_request`: Transfer-Encoding whose final coding is not `chunked` (the body's end
//   cannot be known), Transfer-Encoding together with Content-Length, Transfer-Encoding in an
//   HTTP/1.0 request, or Content-Length sent more than once or as a list;
// - 501 `not_implemented`: `chunked` preceded by other codings (gzip, …), which engined does
//   not decode.
// The session answers the refusal and closes the connection without reading further.
std::optional<ApiError> framing_error(const BeastRequest::header_type& header);

}  // namespace engined::http
