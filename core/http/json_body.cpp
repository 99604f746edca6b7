#include "http/json_body.hpp"

#include "common/api_error.hpp"
#include "common/json_text.hpp"

#include <boost/json/parser.hpp>

#include <cmath>
#include <optional>
#include <string>
#include <vector>

namespace engined::http {
namespace {

struct ValueCount {
    std::size_t values = 0;
    bool has_non_finite = false;
};

// Counts up to `limit` + 1 values, then stops: the body limit already bounds the walk. Boost.JSON
// reads a number beyond a double (1e400) as an infinity, which no JSON text can carry onwards.
ValueCount count_values(const boost::json::value& root, std::size_t limit) {
    ValueCount count;
    std::vector<const boost::json::value*> pending{&root};
    while (!pending.empty() && count.values <= limit) {
        const boost::json::value* value = pending.back();
        pending.pop_back();
        ++count.values;
        if (const auto* array = value->if_array()) {
            for (const auto& item : *array) pending.push_back(&item);
        } else if (const auto* object = value->if_object()) {
            for (const auto& member : *object) pending.push_back(&member.value());
        } else if (const double* number = value->if_double(); number && !std::isfinite(*number)) {
            count.has_non_finite = true;
        }
    }
    return count;
}

// The JSON Pointer of the first non-finite number, depth first; only walked once one was seen.
std::optional<std::string> non_finite_pointer(const boost::json::value& value,
                                              const std::string& pointer) {
    if (const double* number = value.if_double(); number && !std::isfinite(*number)) return pointer;
    if (const auto* array = value.if_array()) {
        for (std::size_t i = 0; i < array->size(); ++i) {
            if (auto found = non_finite_pointer((*array)[i], pointer + "/" + std::to_string(i)))
                return found;
        }
    } else if (const auto* object = value.if_object()) {
        for (const auto& member : *object) {
            if (auto found = non_finite_pointer(member.value(),
                                                pointer + "/" + json_pointer_token(member.key()))) {
                return found;
            }
        }
    }
    return std::nullopt;
}

}  // namespace

boost::json::value parse_json_body(const Request& request, const JsonLimits& limits,
                                   boost::json::storage_ptr storage) {
    const std::string_view body = request.body();
    if (body.empty())
        throw ApiError::invalid_request("request body is empty; a JSON object is expected");
    boost::json::parse_options options;
    options.max_depth = limits.max_depth;
    boost::json::parser parser({}, options);
    parser.reset(std::move(storage));
    boost::system::error_code ec;
    const std::size_t consumed = parser.write(body.data(), body.size(), ec);
    if (ec == boost::json::error::too_deep) {
        throw ApiError::invalid_request("request body nests JSON deeper than " +
                                        std::to_string(limits.max_depth) + " levels");
    }
    if (ec == boost::json::error::extra_data) {
        throw ApiError::invalid_request(
            "request body has " + std::to_string(body.size() - consumed) +
            " bytes after its JSON value (from byte " + std::to_string(consumed) +
            "); only whitespace may follow it");
    }
    if (ec) {
        throw ApiError::invalid_request("request body is not valid JSON: " + ec.message() +
                                        " (near byte " + std::to_string(consumed) + ")");
    }
    boost::json::value document = parser.release();
    const ValueCount count = count_values(document, limits.max_elements);
    if (count.values > limits.max_elements) {
        throw ApiError::invalid_request(
            "request body holds more than " + std::to_string(limits.max_elements) +
            " JSON values (objects, arrays, strings, numbers, booleans and nulls)");
    }
    if (count.has_non_finite) {
        const std::string pointer = non_finite_pointer(document, "").value_or("");
        throw ApiError::invalid_request(
            "request body holds a number beyond the range of a double (about ±1.8e308) at \"" +
                pointer + "\"",
            {{pointer, "number out of range: at most 1.7976931348623157e308 in magnitude"}});
    }
    return document;
}

}  // namespace engined::http
