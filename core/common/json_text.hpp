// JSON the server produced itself or already accepted (stored columns, plugin results, Lua
// arguments): parsed with a generous nesting bound, so that anything a request was allowed to
// carry in is never refused on the way out.
#pragma once

#include <boost/json/value.hpp>
#include <boost/system/error_code.hpp>

#include <string>
#include <string_view>

namespace engined {

boost::json::value parse_internal_json(std::string_view text, boost::system::error_code& ec);

// Throws boost::system::system_error when `text` is not JSON.
boost::json::value parse_internal_json(std::string_view text);

// Serialises in member order, numbers in their shortest round-trip form ("0.25"): what the API
// answers with.
std::string compact_json(const boost::json::value& value);

// Serialises with object keys sorted at every level: equal content gives equal text, so the
// text can be hashed (content hashes of configurations and release bundles).
std::string canonical_json(const boost::json::value& value);

// The same ordering, indented for files people read and diff (versions/ bundles).
std::string pretty_json(const boost::json::value& value);

// A member name as one JSON Pointer token (RFC 6901): '~' becomes "~0", '/' becomes "~1".
std::string json_pointer_token(std::string_view name);

// `text` with every byte that is not part of well-formed UTF-8 replaced by U+FFFD. The
// serialisers copy string bytes as they are, so text taken from a request line or header (not
// checked like a JSON body) passes through this before it goes into an answer.
std::string valid_utf8(std::string_view text);

// The offset of the first byte of `text` that is not part of well-formed UTF-8, or npos when
// all of it is.
std::size_t invalid_utf8_offset(std::string_view text);

}  // namespace engined
