// What changed between two configurations of an engine, grouped the way an operator reviews a
// release: its schemas, its weights (dimensions, weight profiles, default bucket), its Lua and
// the rest. Pure JSON in, JSON out.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

namespace engined::engines {

// At most so many changes are listed; `truncated` says when more differ.
inline constexpr std::size_t kMaxDiffChanges = 200;

// {"changes": [{"section": "request_schema" | "response_schema" | "weights" | "lua" | "other",
//   "pointer", "change": "added" | "removed" | "changed", "before"?, "after"?}], "truncated"}.
// The Lua source is one change listing the lines removed and added. `before` null (nothing
// released yet) lists every field as added.
boost::json::object config_diff(const boost::json::value& before, const boost::json::value& after);

}  // namespace engined::engines
