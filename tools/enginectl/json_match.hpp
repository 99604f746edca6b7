// Deep comparison and display of JSON values for `enginectl lua test`: what a rule author
// means by "the script returned what I expected", and how a mismatch is shown to them.
#pragma once

#include <boost/json/value.hpp>

#include <optional>
#include <string>

namespace engined::cli {

// nullopt when `actual` matches `expected`, else the JSON Pointer of the first difference ("" for
// the whole value). Numbers match when within `tolerance` of each other whatever their JSON type
// (Lua answers 1 where a test file says 1.0); objects match key by key, in any order; arrays
// element by element.
std::optional<std::string> first_difference(const boost::json::value& expected,
                                            const boost::json::value& actual, double tolerance);

// Compact JSON with numbers as people write them (0.15, not boost's 1.5E-1), for messages.
std::string readable_json(const boost::json::value& value);

// The value of a JSON number of any kind; nullopt for anything else.
std::optional<double> number_value(const boost::json::value& value);

}  // namespace engined::cli
