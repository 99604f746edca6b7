// core/lua — the guards that bound the C library functions a script may call (internal to
// core/lua). Each function either does constant work, or charges its work to the run's
// instruction budget (work_meter.hpp) before or while doing it, so that no single call runs
// unbounded: docs/lua.md lists what each one charges.
#pragma once

#include <lua.hpp>

namespace engined::lua {

// Replaces the function in field `name` of the table at `table` by `guard`, a C closure whose
// first upvalue is the function it replaces.
void guard_field(lua_State* L, int table, const char* name, lua_CFunction guard);

// Inside a guard: calls the replaced function with the guard's arguments; returns its results.
int call_guarded(lua_State* L);

// Replaces string.find, match, gmatch and gsub in the table at `string_table` with the pattern
// matcher of pattern_matching.cpp, which charges every matching step.
void install_budgeted_pattern_matching(lua_State* L, int string_table);

// Puts charging guards in front of the other functions of the string, table and utf8 tables and
// of the base library table `globals` whose work grows with their arguments.
void bound_string_library(lua_State* L, int string_table);
// The string metatable's arithmetic metamethods ("10" + 1) convert the whole string.
void bound_string_arithmetic(lua_State* L, int string_metatable);
void bound_table_library(lua_State* L, int table_table);
void bound_utf8_library(lua_State* L, int utf8_table);
void bound_base_library(lua_State* L, int globals);

}  // namespace engined::lua
