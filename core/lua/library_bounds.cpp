// What each C library function exposed to scripts costs, and the guard that charges it. The
// functions not named here do constant work (math.*, string.len, select, rawget, ...), or work
// bounded by what they are given and already paid for by the VM instructions that built it.
// Guards charge counts (elements moved, values pushed, comparisons) before the work where the
// arguments say how much there will be, and bytes produced after it where only the result does
// (the result itself is already bounded by the memory cap).
#include "lua/library_bounds.hpp"
#include "lua/work_meter.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <initializer_list>

namespace engined::lua {
namespace {

std::uint64_t string_bytes_of(lua_State* L, int first, int last) {
    std::uint64_t bytes = 0;
    for (int index = first; index <= last; ++index) {
        if (lua_type(L, index) == LUA_TSTRING) bytes += lua_rawlen(L, index);
    }
    return bytes;
}

// Charges the values (each about one instruction) and string bytes of the call's results.
int charge_results(lua_State* L, int results) {
    const int top = lua_gettop(L);
    charge_work(L, static_cast<std::uint64_t>(results) +
                       string_bytes_of(L, top - results + 1, top) / kBytesPerInstruction);
    return results;
}

// Charges the arguments (one per value, plus their string bytes) before the call.
void charge_arguments(lua_State* L) {
    const int arguments = lua_gettop(L);
    charge_work(L, 1 + static_cast<std::uint64_t>(arguments) +
                       string_bytes_of(L, 1, arguments) / kBytesPerInstruction);
}

// string.lower/upper/reverse/char, utf8.char, tonumber, arithmetic on strings: work
// proportional to the arguments.
int charged_by_arguments(lua_State* L) {
    charge_arguments(L);
    return call_guarded(L);
}

// string.format and string.pack: the arguments before; the result after (widths and padding
// can make it longer than the arguments, within the memory cap).
int charged_by_arguments_and_result(lua_State* L) {
    charge_arguments(L);
    return charge_results(L, call_guarded(L));
}

// string.sub, string.byte, utf8.codepoint: work proportional to what they return.
int charged_by_result(lua_State* L) {
    return charge_results(L, call_guarded(L));
}

// string.unpack: one unit per format byte before; a 'z' option scans the data for its end.
int guarded_unpack_string(lua_State* L) {
    std::size_t format_length = 0;
    const char* format = luaL_checklstring(L, 1, &format_length);
    std::size_t data_length = 0;
    luaL_checklstring(L, 2, &data_length);
    const bool scans = std::memchr(format, 'z', format_length) != nullptr;
    charge_work(L, format_length + (scans ? data_length / kBytesPerInstruction : 0));
    return charge_results(L, call_guarded(L));
}

// string.rep: refused before the allocation when the result cannot fit (so a huge request costs
// nothing), and charged per copy and per byte before copying. Copies of an empty piece are
// charged too, although the empty result is built at once where the stock loop would copy
// nothing a billion times.
int guarded_rep(lua_State* L) {
    std::size_t length = 0;
    std::size_t separator_length = 0;
    luaL_checklstring(L, 1, &length);
    const lua_Integer count = luaL_checkinteger(L, 2);
    luaL_optlstring(L, 3, "", &separator_length);
    if (count <= 0) {
        lua_pushliteral(L, "");
        return 1;
    }
    const auto copies = static_cast<std::uint64_t>(count);
    const std::size_t unit = length + separator_length;
    if (unit > 0 && copies > memory_headroom(L) / unit) raise_memory_breach(L);
    charge_work(L, copies + copies * unit / kBytesPerInstruction);
    if (unit == 0) {
        lua_pushliteral(L, "");
        return 1;
    }
    return call_guarded(L);
}

// #t the way the table functions read it, without calling __len twice for a plain table.
lua_Integer length_of(lua_State* L, int index) {
    if (lua_type(L, index) == LUA_TTABLE) {
        if (luaL_getmetafield(L, index, "__len") == LUA_TNIL)
            return static_cast<lua_Integer>(lua_rawlen(L, index));
        lua_pop(L, 1);
    }
    return luaL_len(L, index);
}

// Whether the stock function will reach its loop: a table, or a value with a metatable (the
// stock function checks the metamethods and raises its own error otherwise).
bool table_like(lua_State* L, int index) {
    if (lua_type(L, index) == LUA_TTABLE) return true;
    if (lua_getmetatable(L, index) == 0) return false;
    lua_pop(L, 1);
    return true;
}

// Elements in [first, last], saturated; 0 for an empty range.
std::uint64_t range_size(lua_Integer first, lua_Integer last) {
    if (last < first) return 0;
    return static_cast<std::uint64_t>(static_cast<lua_Unsigned>(last) -
                                      static_cast<lua_Unsigned>(first)) +
           1;
}

// table.move(a1, f, e, t [,a2]): one unit per element moved, before moving any.
int guarded_move(lua_State* L) {
    const lua_Integer first = luaL_checkinteger(L, 2);
    const lua_Integer last = luaL_checkinteger(L, 3);
    charge_work(L, range_size(first, last));
    return call_guarded(L);
}

// table.unpack(list [,i [,j]]): one unit per value pushed, before pushing any.
int guarded_unpack_table(lua_State* L) {
    const lua_Integer first = luaL_optinteger(L, 2, 1);
    const lua_Integer last =
        lua_isnoneornil(L, 3) ? (table_like(L, 1) ? length_of(L, 1) : 0) : luaL_checkinteger(L, 3);
    charge_work(L, range_size(first, last));
    return call_guarded(L);
}

// table.concat(list [,sep [,i [,j]]]): one unit per element before; the result's bytes after.
int guarded_concat(lua_State* L) {
    if (table_like(L, 1)) {
        const lua_Integer first = luaL_optinteger(L, 3, 1);
        const lua_Integer last = lua_isnoneornil(L, 4) ? length_of(L, 1) : luaL_checkinteger(L, 4);
        charge_work(L, range_size(first, last));
    }
    return charge_results(L, call_guarded(L));
}

// table.insert(list, pos, value): the elements shifted up, before shifting.
int guarded_insert(lua_State* L) {
    if (lua_gettop(L) == 3 && table_like(L, 1)) {
        const lua_Integer end = length_of(L, 1);
        charge_work(L, range_size(luaL_checkinteger(L, 2), end));
    }
    return call_guarded(L);
}

// table.remove(list [,pos]): the elements shifted down, before shifting.
int guarded_remove(lua_State* L) {
    if (!lua_isnoneornil(L, 2) && table_like(L, 1)) {
        const lua_Integer size = length_of(L, 1);
        charge_work(L, range_size(luaL_checkinteger(L, 2), size));
    }
    return call_guarded(L);
}

// table.sort(list [,comp]): n·⌈log₂ n⌉ comparisons, before sorting (a Lua comparator is also
// counted by the hook).
int guarded_sort(lua_State* L) {
    if (table_like(L, 1)) {
        const lua_Integer count = length_of(L, 1);
        if (count > 1) {
            std::uint64_t depth = 1;
            while (depth < 64 && (std::uint64_t{1} << depth) < static_cast<std::uint64_t>(count))
                ++depth;
            charge_work(L, static_cast<std::uint64_t>(count) * depth);
        }
    }
    return call_guarded(L);
}

// table.pack(...): one unit per value.
int guarded_pack_table(lua_State* L) {
    charge_work(L, 1 + static_cast<std::uint64_t>(lua_gettop(L)));
    return call_guarded(L);
}

// utf8.len(s [,i [,j [,lax]]]) walks the string byte by byte.
int charged_by_subject(lua_State* L) {
    std::size_t length = 0;
    luaL_checklstring(L, 1, &length);
    charge_work(L, 1 + length / kBytesPerInstruction);
    return call_guarded(L);
}

// utf8.offset(s, n [,i]) walks from i towards the n-th character: charged by the bytes between
// i and where it stopped.
int guarded_offset(lua_State* L) {
    std::size_t length = 0;
    luaL_checklstring(L, 1, &length);
    const auto size = static_cast<lua_Integer>(length);
    const lua_Integer n = luaL_checkinteger(L, 2);
    lua_Integer start = luaL_optinteger(L, 3, n >= 0 ? 1 : size + 1);
    if (start < 0) start = std::max<lua_Integer>(0, size + start + 1);
    const int results = call_guarded(L);
    const lua_Integer stop =
        lua_isinteger(L, -results) ? lua_tointeger(L, -results) : (n >= 0 ? size + 1 : 1);
    charge_work(
        L, 1 + range_size(std::min(start, stop), std::max(start, stop)) / kBytesPerInstruction);
    return results;
}

// The iterator utf8.codes returns skips continuation bytes: charged by the bytes it advanced.
int charged_code_iterator(lua_State* L) {
    std::size_t length = 0;
    luaL_checklstring(L, 1, &length);
    const lua_Integer from = lua_tointeger(L, 2);
    const int results = call_guarded(L);
    const lua_Integer to =
        results > 0 ? lua_tointeger(L, -results) : static_cast<lua_Integer>(length);
    charge_work(L, 1 + range_size(from, to) / kBytesPerInstruction);
    return results;
}

// utf8.codes(s [,lax]): the stock iterator behind the charging one.
int guarded_codes(lua_State* L) {
    const int results = call_guarded(L);
    lua_pushvalue(L, -results);
    lua_pushcclosure(L, charged_code_iterator, 1);
    lua_replace(L, -results - 1);
    return results;
}

void guard_fields(lua_State* L, int table, std::initializer_list<const char*> names,
                  lua_CFunction guard) {
    for (const char* name : names) guard_field(L, table, name, guard);
}

}  // namespace

int call_guarded(lua_State* L) {
    return lua_tocfunction(L, lua_upvalueindex(1))(L);
}

void guard_field(lua_State* L, int table, const char* name, lua_CFunction guard) {
    table = lua_absindex(L, table);
    lua_getfield(L, table, name);
    lua_pushcclosure(L, guard, 1);
    lua_setfield(L, table, name);
}

void bound_string_library(lua_State* L, int string_table) {
    guard_fields(L, string_table, {"lower", "upper", "reverse", "char"}, charged_by_arguments);
    guard_fields(L, string_table, {"format", "pack"}, charged_by_arguments_and_result);
    guard_fields(L, string_table, {"sub", "byte"}, charged_by_result);
    guard_field(L, string_table, "unpack", guarded_unpack_string);
    guard_field(L, string_table, "rep", guarded_rep);
}

void bound_string_arithmetic(lua_State* L, int string_metatable) {
    guard_fields(L, string_metatable,
                 {"__add", "__sub", "__mul", "__mod", "__pow", "__div", "__idiv", "__unm"},
                 charged_by_arguments);
}

void bound_table_library(lua_State* L, int table_table) {
    guard_field(L, table_table, "move", guarded_move);
    guard_field(L, table_table, "unpack", guarded_unpack_table);
    guard_field(L, table_table, "concat", guarded_concat);
    guard_field(L, table_table, "insert", guarded_insert);
    guard_field(L, table_table, "remove", guarded_remove);
    guard_field(L, table_table, "sort", guarded_sort);
    guard_field(L, table_table, "pack", guarded_pack_table);
}

void bound_utf8_library(lua_State* L, int utf8_table) {
    guard_field(L, utf8_table, "char", charged_by_arguments);
    guard_field(L, utf8_table, "codepoint", charged_by_result);
    guard_field(L, utf8_table, "len", charged_by_subject);
    guard_field(L, utf8_table, "offset", guarded_offset);
    guard_field(L, utf8_table, "codes", guarded_codes);
}

void bound_base_library(lua_State* L, int globals) {
    guard_field(L, globals, "tonumber", charged_by_arguments);
}

}  // namespace engined::lua
