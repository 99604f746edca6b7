#include "http/json_body.hpp"

#include "common/api_error.hpp"

#include <boost/json/parser.hpp>

#include <vector>

namespace engined::http {
namespace {

// Counts up to `limit` + 1 values, then stops: the body limit already bounds the walk.
std::size_t count_values(const boost::json::value& root, std::size_t limit) {
    std::size_t count = 0;
    std::vector<const boost::json::value*> pending{&root};
    while (!pending.empty() && count <= limit) {
        const boost::json::value* value = pending.back();
        pending.pop_back();
        ++count;
        if (const auto* array = value->if_array()) {
            for (const auto& item : *array) pending.push_back(&item);
        } else if (const auto* object = value->if_object()) {
            for (const auto& member : *object) pending.push_back(&member.value());
        }
    }
    return count;
}

}  // namespace

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
    boost::json::value document = parser.release();
    if (count_values(document, limits.max_elements) > limits.max_elements) {
        throw ApiError::invalid_request("request body holds more than " + std::to_string(limits.max_elements) +
                                        " JSON values (objects, arrays, strings, numbers, booleans and nulls)");
    }
    return document;
}

}  // namespace engined::http
