// The one way route handlers answer with JSON: compact, shortest-decimal numbers.
#pragma once

#include "common/json_text.hpp"
#include "http/message.hpp"

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

namespace engined::api {

inline http::Response json_response(int status, const boost::json::value& body) {
    return http::Response::json(status, compact_json(body));
}

// Most answers are objects: serialised as they are, not copied into a value first.
inline http::Response json_response(int status, const boost::json::object& body) {
    return http::Response::json(status, compact_json(body));
}

}  // namespace engined::api
