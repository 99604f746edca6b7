// The step from a message Beast parsed to the Request handlers see. The server's sessions and
// the HTTP fuzz harness (fuzz/) both take it, so the harness exercises the server's own path.
#pragma once

#include "http/message.hpp"

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <string>

namespace engined::http {

using BeastRequest = boost::beast::http::request<boost::beast::http::string_body>;

Method to_method(boost::beast::http::verb beast_method);

// The Request views `message` (target, body, headers): it is valid while `message` lives.
Request make_request(const BeastRequest& message, std::string request_id);

}  // namespace engined::http
