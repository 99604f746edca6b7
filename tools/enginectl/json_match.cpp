#include "json_match.hpp"

#include "common/json_text.hpp"

#include <boost/json.hpp>

#include <charconv>
#include <cmath>

namespace engined::cli {
namespace {

std::optional<std::string> difference_at(const boost::json::value& expected,
                                         const boost::json::value& actual, double tolerance,
                                         const std::string& pointer) {
    const auto expected_number = number_value(expected);
    const auto actual_number = number_value(actual);
    if (expected_number || actual_number) {
        const bool close = expected_number && actual_number &&
                           std::fabs(*expected_number - *actual_number) <= tolerance;
        return close ? std::nullopt : std::optional(pointer);
    }
    if (expected.kind() != actual.kind()) return pointer;
    if (expected.is_object()) {
        const auto& want = expected.get_object();
        const auto& got = actual.get_object();
        for (const auto& [key, value] : want) {
            const std::string at = pointer + "/" + json_pointer_token(key);
            if (!got.contains(key)) return at;
            if (auto difference = difference_at(value, got.at(key), tolerance, at))
                return difference;
        }
        for (const auto& [key, value] : got) {
            if (!want.contains(key)) return pointer + "/" + json_pointer_token(key);
        }
        return std::nullopt;
    }
    if (expected.is_array()) {
        const auto& want = expected.get_array();
        const auto& got = actual.get_array();
        for (std::size_t i = 0; i < want.size() && i < got.size(); ++i) {
            if (auto difference =
                    difference_at(want[i], got[i], tolerance, pointer + "/" + std::to_string(i))) {
                return difference;
            }
        }
        if (want.size() != got.size())
            return pointer + "/" + std::to_string(std::min(want.size(), got.size()));
        return std::nullopt;
    }
    return expected == actual ? std::nullopt : std::optional(pointer);
}

}  // namespace

std::optional<std::string> first_difference(const boost::json::value& expected,
                                            const boost::json::value& actual, double tolerance) {
    return difference_at(expected, actual, tolerance, "");
}

std::string readable_json(const boost::json::value& value) {
    if (value.is_double()) {
        char text[32];
        // The shortest text that reads back as the same double.
        const auto end = std::to_chars(text, text + sizeof text, value.get_double()).ptr;
        return std::string(text, end);
    }
    std::string out;
    if (value.is_object()) {
        for (const auto& [key, item] : value.get_object()) {
            out += (out.empty() ? "{" : ",") + boost::json::serialize(boost::json::string(key)) +
                   ":" + readable_json(item);
        }
        return out.empty() ? "{}" : out + "}";
    }
    if (value.is_array()) {
        for (const auto& item : value.get_array())
            out += (out.empty() ? "[" : ",") + readable_json(item);
        return out.empty() ? "[]" : out + "]";
    }
    return boost::json::serialize(value);
}

std::optional<double> number_value(const boost::json::value& value) {
    if (value.is_double()) return value.get_double();
    if (value.is_int64()) return static_cast<double>(value.get_int64());
    if (value.is_uint64()) return static_cast<double>(value.get_uint64());
    return std::nullopt;
}

}  // namespace engined::cli
