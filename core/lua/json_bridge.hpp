// JSON <-> Lua marshalling for the sandbox. JSON null has no Lua counterpart that survives a
// table: it becomes nil, so an object key holding null is omitted and an array element holding
// null leaves a hole. Going back, a table whose keys are exactly 1..n is an array, a table with
// only string keys is an object, and an empty table is the empty object.
#pragma once

#include <boost/json/value.hpp>
#include <cstddef>
#include <lua.hpp>

#include "lua/sandbox.hpp"

namespace engined::lua {

// Deepest nesting of arrays/objects (or tables) that crosses the boundary; deeper Lua values
// are treated as cycles.
inline constexpr int kMaxNestingDepth = 64;

// Throws LuaError(bad_value) when `value` may not enter Lua: a string or key longer than
// `max_string_bytes`, a non-finite number, or more than kMaxNestingDepth nested arrays/objects.
// Whatever it admits, to_json converts back.
void check_enters_lua(const boost::json::value& value, std::size_t max_string_bytes);

// Pushes a value that passed check_enters_lua. Allocates in Lua, so it may raise a Lua error:
// call it in protected mode only.
void push_json(lua_State* L, const boost::json::value& value);

// Converts the Lua value at `index`. Throws LuaError(bad_value); raises no Lua error, so it may
// run unprotected.
boost::json::value to_json(lua_State* L, int index);

}  // namespace engined::lua
