#include "lua/value_text.hpp"

#include "lua/key_order.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <string_view>
#include <vector>

namespace engined::lua {
namespace {

// Stops appending once the text is full, so a huge table costs no more than its first fields.
class BoundedText {
public:
    explicit BoundedText(std::size_t max_bytes) : max_bytes_(max_bytes) {}

    bool full() const { return full_; }
    std::size_t room() const { return max_bytes_ - text_.size(); }

    void append(std::string_view piece) {
        if (full_) return;
        if (piece.size() > max_bytes_ - text_.size()) {
            text_.append(piece.substr(0, max_bytes_ - text_.size()));
            full_ = true;
            return;
        }
        text_.append(piece);
    }

    std::string finish() && {
        if (full_) text_.append("…");
        return std::move(text_);
    }

private:
    std::size_t max_bytes_;
    std::string text_;
    bool full_ = false;
};

std::string number_text(lua_State* L, int index) {
    int is_integer = 0;
    const lua_Integer integer = lua_tointegerx(L, index, &is_integer);
    if (lua_isinteger(L, index) && is_integer) return std::to_string(integer);
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, LUA_NUMBER_FMT,
                  static_cast<LUAI_UACNUMBER>(lua_tonumber(L, index)));
    // Lua prints a float with an integral value as "2.0", not "2".
    if (std::strpbrk(buffer, ".eEn") == nullptr) std::strcat(buffer, ".0");
    return buffer;
}

std::string_view string_at(lua_State* L, int index) {
    std::size_t length = 0;
    const char* text = lua_tolstring(L, index, &length);
    return {text, length};
}

bool is_identifier(std::string_view text) {
    if (text.empty() || std::isdigit(static_cast<unsigned char>(text.front()))) return false;
    return std::all_of(text.begin(), text.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
    });
}

void append_quoted(BoundedText& out, std::string_view text) {
    out.append("\"");
    std::size_t start = 0;
    for (std::size_t i = 0; i < text.size() && !out.full(); ++i) {
        if (text[i] == '"' || text[i] == '\\' || text[i] == '\n') {
            out.append(text.substr(start, i - start));
            out.append(text[i] == '\n' ? "\\n" : text[i] == '"' ? "\\\"" : "\\\\");
            start = i + 1;
        }
    }
    out.append(text.substr(start));
    out.append("\"");
}

void append_value(lua_State* L, int index, int depth, bool quote_strings, BoundedText& out);

void append_key(lua_State* L, int index, BoundedText& out) {
    if (lua_type(L, index) == LUA_TSTRING && is_identifier(string_at(L, index))) {
        out.append(string_at(L, index));
    } else {
        out.append("[");
        append_value(L, index, kShownTableDepth, true, out);
        out.append("]");
    }
    out.append("=");
}

// Every key is visited once to find the first kShownTableFields in `pairs` order, and once more
// to render those; the table is not modified in between.
void append_table(lua_State* L, int index, int depth, BoundedText& out) {
    if (depth >= kShownTableDepth || !lua_checkstack(L, 6)) {
        out.append("{…}");
        return;
    }
    index = lua_absindex(L, index);
    std::vector<OrderedKey> keys;
    lua_Integer slot = 0;
    lua_pushnil(L);
    while (lua_next(L, index) != 0) {
        lua_pop(L, 1);
        keys.push_back(ordered_key(L, -1, ++slot));
    }
    const std::size_t total = keys.size();
    const std::size_t shown = std::min(total, kShownTableFields);
    std::partial_sort(keys.begin(), keys.begin() + static_cast<std::ptrdiff_t>(shown), keys.end());
    keys.resize(shown);
    // The shown keys by slot, each with its place in the output.
    std::vector<std::pair<lua_Integer, std::size_t>> wanted;
    for (std::size_t place = 0; place < shown; ++place)
        wanted.emplace_back(keys[place].slot, place);
    std::sort(wanted.begin(), wanted.end());
    std::vector<std::string> fields(shown);
    std::size_t found = 0;
    slot = 0;
    lua_pushnil(L);
    bool walking = true;
    while (found < wanted.size() && (walking = lua_next(L, index) != 0)) {
        if (++slot == wanted[found].first) {
            const std::size_t place = wanted[found++].second;
            const bool in_sequence = keys[place].rank == OrderedKey::positive_integer &&
                                     keys[place].integer == static_cast<lua_Integer>(place + 1);
            BoundedText field(out.room());
            if (!in_sequence) append_key(L, -2, field);
            append_value(L, -1, depth + 1, true, field);
            fields[place] = std::move(field).finish();
        }
        lua_pop(L, 1);
    }
    if (walking) lua_pop(L, 1);  // the key (or the first nil) where the walk stopped early
    out.append("{");
    for (std::size_t place = 0; place < shown; ++place) {
        if (place > 0) out.append(", ");
        out.append(fields[place]);
    }
    if (total > shown) out.append(", …");
    out.append("}");
}

void append_value(lua_State* L, int index, int depth, bool quote_strings, BoundedText& out) {
    switch (lua_type(L, index)) {
        case LUA_TSTRING:
            if (quote_strings) {
                append_quoted(out, string_at(L, index));
            } else {
                out.append(string_at(L, index));
            }
            break;
        case LUA_TNUMBER:
            out.append(number_text(L, index));
            break;
        case LUA_TBOOLEAN:
            out.append(lua_toboolean(L, index) ? "true" : "false");
            break;
        case LUA_TTABLE:
            append_table(L, index, depth, out);
            break;
        default:
            out.append(luaL_typename(L, index));
            break;
    }
}

}  // namespace

std::string value_text(lua_State* L, int index, std::size_t max_bytes, bool quote_strings) {
    BoundedText out(max_bytes);
    append_value(L, lua_absindex(L, index), 0, quote_strings, out);
    return std::move(out).finish();
}

}  // namespace engined::lua
