#include "lua/json_bridge.hpp"

#include <algorithm>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/string.hpp>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "common/json_text.hpp"

namespace engined::lua {
namespace {

[[noreturn]] void refuse(const std::string& why) {
    throw LuaError(FailureKind::bad_value, why);
}

// JSON text is UTF-8; a Lua string is any bytes. What a script builds byte by byte (string.char,
// "\xff", a cut through a multi-byte character) is refused rather than passed on as text that
// no JSON reader would take back.
boost::json::string_view utf8_text(const char* text, std::size_t length, const char* what) {
    const std::string_view bytes(text, length);
    if (const std::size_t offset = invalid_utf8_offset(bytes); offset != std::string_view::npos) {
        refuse(std::string(what) + " is not valid UTF-8 (byte " + std::to_string(offset + 1) +
               " of " + std::to_string(length) + ")");
    }
    return bytes;
}

void check_string(boost::json::string_view text, std::size_t max_string_bytes) {
    if (text.size() > max_string_bytes) {
        refuse("a string of " + std::to_string(text.size()) + " bytes exceeds the limit of " +
               std::to_string(max_string_bytes) + " bytes");
    }
}

// `depth`: the containers around `value`. Counted as table_to_json counts tables, so that what
// may enter Lua may also come back out.
void check_container_depth(int depth) {
    if (depth >= kMaxNestingDepth) {
        refuse("JSON nesting deeper than " + std::to_string(kMaxNestingDepth) + " levels");
    }
}

void check_at_depth(const boost::json::value& value, std::size_t max_string_bytes, int depth) {
    switch (value.kind()) {
        case boost::json::kind::string:
            check_string(value.get_string(), max_string_bytes);
            break;
        case boost::json::kind::double_:
            // JSON text has no Infinity, but a parser turns an out-of-range literal (1e999) into one;
            // a script could not return it either.
            if (!std::isfinite(value.get_double()))
                refuse("a non-finite number cannot cross into Lua");
            break;
        case boost::json::kind::array:
            check_container_depth(depth);
            for (const auto& element : value.get_array()) {
                check_at_depth(element, max_string_bytes, depth + 1);
            }
            break;
        case boost::json::kind::object:
            check_container_depth(depth);
            for (const auto& [key, member] : value.get_object()) {
                check_string(key, max_string_bytes);
                check_at_depth(member, max_string_bytes, depth + 1);
            }
            break;
        default:
            break;
    }
}

boost::json::value table_to_json(lua_State* L, int table, int depth);

boost::json::value to_json_at_depth(lua_State* L, int index, int depth) {
    switch (lua_type(L, index)) {
        case LUA_TNIL:
            return nullptr;
        case LUA_TBOOLEAN:
            return lua_toboolean(L, index) != 0;
        case LUA_TNUMBER: {
            if (lua_isinteger(L, index)) {
                return static_cast<std::int64_t>(lua_tointeger(L, index));
            }
            const double number = lua_tonumber(L, index);
            if (!std::isfinite(number)) {
                refuse("a non-finite number cannot be converted to JSON");
            }
            return number;
        }
        case LUA_TSTRING: {
            std::size_t length = 0;
            const char* text = lua_tolstring(L, index, &length);
            return boost::json::string(utf8_text(text, length, "a string returned from Lua"));
        }
        case LUA_TTABLE:
            return table_to_json(L, lua_absindex(L, index), depth + 1);
        default:
            refuse(std::string("a ") + luaL_typename(L, index) + " cannot be converted to JSON");
    }
}

boost::json::value table_to_json(lua_State* L, int table, int depth) {
    if (depth > kMaxNestingDepth || !lua_checkstack(L, 3)) {
        refuse("table nesting deeper than " + std::to_string(kMaxNestingDepth) +
               " levels (or a cycle)");
    }
    lua_Integer entries = 0;
    lua_Integer string_keys = 0;
    lua_Integer positive_integer_keys = 0;
    lua_Integer largest_integer_key = 0;
    lua_pushnil(L);
    while (lua_next(L, table) != 0) {
        lua_pop(L, 1);
        ++entries;
        if (lua_type(L, -1) == LUA_TSTRING) {
            ++string_keys;
        } else if (lua_isinteger(L, -1) && lua_tointeger(L, -1) > 0) {
            ++positive_integer_keys;
            largest_integer_key = std::max(largest_integer_key, lua_tointeger(L, -1));
        }
    }

    if (string_keys == entries) {
        // Members in byte order of their keys: `next` order follows the state's hash seed, which
        // differs between processes, and a run's output must be the same bytes in every one.
        // (Sorted here rather than looked up again: no Lua allocation may happen outside a
        // protected call.)
        std::vector<std::pair<boost::json::string_view, boost::json::value>> members;
        members.reserve(static_cast<std::size_t>(entries));
        lua_pushnil(L);
        while (lua_next(L, table) != 0) {
            std::size_t length = 0;
            const char* key = lua_tolstring(L, -2, &length);
            members.emplace_back(utf8_text(key, length, "a table key returned from Lua"),
                                 to_json_at_depth(L, -1, depth));
            lua_pop(L, 1);
        }
        std::sort(members.begin(), members.end(),
                  [](const auto& a, const auto& b) { return a.first < b.first; });
        boost::json::object object;
        object.reserve(members.size());
        for (auto& [key, member] : members) object.insert_or_assign(key, std::move(member));
        return object;
    }
    if (positive_integer_keys == entries && largest_integer_key == entries) {
        boost::json::array array;
        array.reserve(static_cast<std::size_t>(entries));
        for (lua_Integer position = 1; position <= entries; ++position) {
            lua_rawgeti(L, table, position);
            array.push_back(to_json_at_depth(L, -1, depth));
            lua_pop(L, 1);
        }
        return array;
    }
    refuse("a table converts to JSON only when its keys are all strings or exactly 1..n");
}

}  // namespace

void check_enters_lua(const boost::json::value& value, std::size_t max_string_bytes) {
    check_at_depth(value, max_string_bytes, 0);
}

void push_json(lua_State* L, const boost::json::value& value) {
    switch (value.kind()) {
        case boost::json::kind::null:
            lua_pushnil(L);
            break;
        case boost::json::kind::bool_:
            lua_pushboolean(L, value.get_bool());
            break;
        case boost::json::kind::int64:
            lua_pushinteger(L, value.get_int64());
            break;
        case boost::json::kind::uint64:
            // Beyond int64 a Lua integer would wrap; a float keeps the magnitude.
            if (value.get_uint64() <=
                static_cast<std::uint64_t>(std::numeric_limits<lua_Integer>::max())) {
                lua_pushinteger(L, static_cast<lua_Integer>(value.get_uint64()));
            } else {
                lua_pushnumber(L, static_cast<lua_Number>(value.get_uint64()));
            }
            break;
        case boost::json::kind::double_:
            lua_pushnumber(L, value.get_double());
            break;
        case boost::json::kind::string: {
            const auto& text = value.get_string();
            lua_pushlstring(L, text.data(), text.size());
            break;
        }
        case boost::json::kind::array: {
            const auto& array = value.get_array();
            luaL_checkstack(L, 2, "JSON nesting");
            lua_createtable(L, static_cast<int>(array.size()), 0);
            lua_Integer position = 0;
            for (const auto& element : array) {
                ++position;
                if (!element.is_null()) {
                    push_json(L, element);
                    lua_rawseti(L, -2, position);
                }
            }
            break;
        }
        case boost::json::kind::object: {
            const auto& object = value.get_object();
            luaL_checkstack(L, 3, "JSON nesting");
            lua_createtable(L, 0, static_cast<int>(object.size()));
            for (const auto& [key, member] : object) {
                if (!member.is_null()) {
                    lua_pushlstring(L, key.data(), key.size());
                    push_json(L, member);
                    lua_rawset(L, -3);
                }
            }
            break;
        }
    }
}

boost::json::value to_json(lua_State* L, int index) {
    return to_json_at_depth(L, index, 0);
}

}  // namespace engined::lua
