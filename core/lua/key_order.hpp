// core/lua — the order in which the sandbox's `pairs` visits a table's keys (internal to
// core/lua), shared by `pairs` itself and by the text of tables in log lines and error objects.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <lua.hpp>

namespace engined::lua {

// One key of a table in the order `pairs` visits it. Lua 5.4 seeds its string hash per state
// from addresses, so the stock `pairs` order changes between processes; this order depends on
// the keys' values alone: positive integers ascending, then the other numbers ascending, then
// strings by bytes, then false and true, then the remaining keys (tables, functions, ...) in the
// order `next` gave them, which has no meaning across states.
struct OrderedKey {
    enum Rank : int { positive_integer, other_number, string, boolean, other };
    Rank rank = other;
    bool is_integer = false;
    lua_Integer integer = 0;
    lua_Number number = 0;
    const char* text = nullptr;  // anchored by the table the key belongs to (or a copy of it)
    std::size_t length = 0;
    lua_Integer slot = 0;  // the key's position in the traversal that found it

    bool operator<(const OrderedKey& other_key) const {
        if (rank != other_key.rank) return rank < other_key.rank;
        switch (rank) {
            case positive_integer:
            case boolean:
                return integer < other_key.integer;
            case other_number:
                if (is_integer && other_key.is_integer) return integer < other_key.integer;
                if (number != other_key.number) return number < other_key.number;
                return is_integer && !other_key.is_integer;
            case string: {
                const int order =
                    std::memcmp(text, other_key.text, std::min(length, other_key.length));
                return order != 0 ? order < 0 : length < other_key.length;
            }
            case other:
                break;
        }
        return slot < other_key.slot;
    }
};

// The key at `index` (which must stay reachable while the OrderedKey is used), found at `slot`.
OrderedKey ordered_key(lua_State* L, int index, lua_Integer slot);

}  // namespace engined::lua
