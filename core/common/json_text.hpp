// JSON the server produced itself or already accepted (stored columns, plugin results, Lua
// arguments): parsed with a generous nesting bound, so that anything a request was allowed to
// carry in is never refused on the way out.
#pragma once

#include <boost/json/value.hpp>
#include <boost/system/error_code.hpp>

#include <string_view>

namespace engined {

boost::json::value parse_internal_json(std::string_view text, boost::system::error_code& ec);

// Throws boost::system::system_error when `text` is not JSON.
boost::json::value parse_internal_json(std::string_view text);

}  // namespace engined
