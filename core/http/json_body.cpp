#include "http/json_body.hpp"

#include "common/api_error.hpp"

#include <boost/json/parser.hpp>

namespace engined::http {

boost::json::value parse_json_body(const Request& request, const JsonLimits& limits) {
    const std::string_view body = request.body();
    if (body.empty()) throw ApiError::invalid_request("request body is empty; a JSON object is expected");
    boost::json::parse_options options;
    options.max_depth = limits.max_depth;
    boost::json::parser parser({}, options);
    boost::system::error_code ec;
    const std::size_t consumed = parser.write(body.data(), body.size(), ec);
    if (ec == boost::json::error::too_deep) {
        throw ApiError::invalid_request("request body nests JSON deeper than " +
                                        std::to_string(limits.max_depth) + " levels");
    }
    if (ec) {
        throw ApiError::invalid_request("request body is not valid JSON: " + ec.message() +
                                        " (near byte " + std::to_string(consumed) + ")");
    }
    return parser.release();
}

}  // namespace engined::http
