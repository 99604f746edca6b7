// core/lua — how a Lua value reads to a person (internal to core/lua): the text of a log(...)
// line and of an error object that is not a string. Runs no metamethod and allocates nothing in
// Lua, so it is safe on a failed run's stack and costs the script nothing it could observe.
#pragma once

#include <cstddef>
#include <lua.hpp>
#include <string>

namespace engined::lua {

// Fields a table shows before "…", and how deep nested tables are opened.
inline constexpr std::size_t kShownTableFields = 32;
inline constexpr int kShownTableDepth = 3;

// The value at `index` as text of at most about `max_bytes` bytes (longer text ends with "…"):
// strings as they are when `quote_strings` is false, else quoted; numbers as Lua prints them;
// tables as {1, 2, code=42, ["a b"]="x"}, keys in the order `pairs` visits them; any other value
// by its type name.
std::string value_text(lua_State* L, int index, std::size_t max_bytes, bool quote_strings);

}  // namespace engined::lua
