#include "json_fields.hpp"

#include <cmath>
#include <cstdint>

namespace engined::plugin_sdk {

namespace json = boost::json;

const json::object* find_object(const json::object& parent, std::string_view key) {
    const json::value* member = parent.if_contains(key);
    return member ? member->if_object() : nullptr;
}

const json::array* find_array(const json::object& parent, std::string_view key) {
    const json::value* member = parent.if_contains(key);
    return member ? member->if_array() : nullptr;
}

std::optional<std::string_view> find_string(const json::object& parent, std::string_view key) {
    const json::value* member = parent.if_contains(key);
    if (member == nullptr || !member->is_string()) {
        return std::nullopt;
    }
    return std::string_view(member->get_string());
}

std::optional<bool> find_bool(const json::object& parent, std::string_view key) {
    const json::value* member = parent.if_contains(key);
    if (member == nullptr || !member->is_bool()) {
        return std::nullopt;
    }
    return member->get_bool();
}

std::optional<double> as_number(const json::value& value) {
    switch (value.kind()) {
        case json::kind::int64:
            return static_cast<double>(value.get_int64());
        case json::kind::uint64:
            return static_cast<double>(value.get_uint64());
        case json::kind::double_:
            return value.get_double();
        default:
            return std::nullopt;
    }
}

std::optional<double> find_number(const json::object& parent, std::string_view key) {
    const json::value* member = parent.if_contains(key);
    return member ? as_number(*member) : std::nullopt;
}

json::value json_count(std::uint64_t count) {
    return static_cast<std::int64_t>(count);
}

double round2(double value) {
    return std::round(value * 100.0) / 100.0;
}

json::value rounded_number(double value) {
    const double rounded = round2(value);
    // Beyond 2^53 a double no longer holds every integer; keep it a double there.
    constexpr double kExactIntegerLimit = 9007199254740992.0;
    if (std::trunc(rounded) == rounded && std::fabs(rounded) < kExactIntegerLimit) {
        return static_cast<std::int64_t>(rounded);
    }
    return rounded;
}

std::optional<std::uint64_t> as_positive_integer(const boost::json::value& value) {
    if (value.is_uint64() && value.get_uint64() > 0) {
        return value.get_uint64();
    }
    if (value.is_int64() && value.get_int64() > 0) {
        return static_cast<std::uint64_t>(value.get_int64());
    }
    return std::nullopt;
}

std::string json_pointer(std::string_view parent, std::string_view key) {
    std::string pointer(parent);
    pointer += '/';
    for (const char c : key) {
        if (c == '~') {
            pointer += "~0";
        } else if (c == '/') {
            pointer += "~1";
        } else {
            pointer += c;
        }
    }
    return pointer;
}

std::string json_pointer(std::string_view parent, std::size_t index) {
    return std::string(parent) + "/" + std::to_string(index);
}

}  // namespace engined::plugin_sdk
