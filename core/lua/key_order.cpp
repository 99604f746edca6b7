#include "lua/key_order.hpp"

namespace engined::lua {

OrderedKey ordered_key(lua_State* L, int index, lua_Integer slot) {
    OrderedKey key;
    key.slot = slot;
    switch (lua_type(L, index)) {
        case LUA_TNUMBER:
            key.is_integer = lua_isinteger(L, index) != 0;
            key.integer = key.is_integer ? lua_tointeger(L, index) : 0;
            key.number = lua_tonumber(L, index);
            key.rank = key.is_integer && key.integer > 0 ? OrderedKey::positive_integer
                                                         : OrderedKey::other_number;
            break;
        case LUA_TSTRING:
            key.rank = OrderedKey::string;
            key.text = lua_tolstring(L, index, &key.length);
            break;
        case LUA_TBOOLEAN:
            key.rank = OrderedKey::boolean;
            key.integer = lua_toboolean(L, index);
            break;
        default:
            break;
    }
    return key;
}

}  // namespace engined::lua
