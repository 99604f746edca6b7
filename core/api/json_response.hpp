// The one way route handlers answer with JSON: compact, shortest-decimal numbers.
#pragma once

#include "common/json_text.hpp"
#include "http/message.hpp"

#include <boost/json/value.hpp>

namespace engined::api {

inline http::Response json_response(int status, const boost::json::value& body) {
    return http::Response::json(status, compact_json(body));
}

}  // namespace engined::api
