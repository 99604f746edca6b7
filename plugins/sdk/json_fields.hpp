// Typed, forgiving reads of optional JSON members. The engine must cope with any document the
// host hands it, so a member that is absent or of the wrong type reads as "not supplied".
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstdint>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace engined::plugin_sdk {

const boost::json::object* find_object(const boost::json::object& parent, std::string_view key);
const boost::json::array* find_array(const boost::json::object& parent, std::string_view key);
std::optional<std::string_view> find_string(const boost::json::object& parent,
                                            std::string_view key);
std::optional<bool> find_bool(const boost::json::object& parent, std::string_view key);

// Any JSON number (signed, unsigned or double) as a double.
std::optional<double> as_number(const boost::json::value& value);
std::optional<double> find_number(const boost::json::object& parent, std::string_view key);

// A JSON integer greater than zero (signed or unsigned), else nullopt.
std::optional<std::uint64_t> as_positive_integer(const boost::json::value& value);

// `parent` extended by one member (escaped per RFC 6901) or one array index: where a
// configuration problem lies, for the operator.
std::string json_pointer(std::string_view parent, std::string_view key);
std::string json_pointer(std::string_view parent, std::size_t index);

// `value` rounded to two decimals, written as an integer when it has no fraction so that
// money and levels read naturally ("1445", not "1.445E3").
boost::json::value rounded_number(double value);

// A count as a signed JSON integer. Boost.JSON stores size_t as uint64, which some schema
// validators do not accept as an "integer"; counts never come near the int64 range.
boost::json::value json_count(std::uint64_t count);

// `value` rounded half away from zero to two decimals.
double round2(double value);

}  // namespace engined::plugin_sdk
