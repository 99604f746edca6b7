#include "common/json_text.hpp"

#include <boost/container/small_vector.hpp>
#include <boost/json.hpp>
#include <boost/json/basic_parser_impl.hpp>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cmath>
#include <vector>

namespace engined {

namespace {

boost::json::parse_options internal_options() {
    boost::json::parse_options options;
    options.max_depth = 1024;
    return options;
}

struct Layout {
    int indent = 0;  // 0: compact
    bool sort_keys = false;
};

// Shortest text that reads back as the same double ("0.25", not Boost's "2.5E-1").
void write_number(double number, std::string& out) {
    if (!std::isfinite(number)) {
        out += "null";
        return;
    }
    char buffer[32];
    const auto result = std::to_chars(buffer, buffer + sizeof buffer, number);
    out.append(buffer, result.ptr);
}

// A JSON string as Boost.JSON's serializer writes it: '"' and '\\' escaped, the control
// characters below 0x20 as \b \t \n \f \r or \u00xx, every other byte (UTF-8 included) as it is.
// Written here rather than through boost::json::serialize, which builds a serializer and a
// string of its own for each value: this runs for every member name and scalar of every answer
// and hash.
void write_string(std::string_view text, std::string& out) {
    static constexpr char kHex[] = "0123456789abcdef";
    out += '"';
    std::size_t plain_from = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const auto byte = static_cast<unsigned char>(text[i]);
        if (byte >= 0x20 && byte != '"' && byte != '\\') continue;
        out.append(text.data() + plain_from, i - plain_from);
        plain_from = i + 1;
        out += '\\';
        switch (byte) {
            case '"':
            case '\\':
                out += static_cast<char>(byte);
                break;
            case '\b':
                out += 'b';
                break;
            case '\t':
                out += 't';
                break;
            case '\n':
                out += 'n';
                break;
            case '\f':
                out += 'f';
                break;
            case '\r':
                out += 'r';
                break;
            default:
                out += "u00";
                out += kHex[byte >> 4];
                out += kHex[byte & 0xf];
        }
    }
    out.append(text.data() + plain_from, text.size() - plain_from);
    out += '"';
}

template <typename Integer>
void write_integer(Integer number, std::string& out) {
    char buffer[24];
    const auto result = std::to_chars(buffer, buffer + sizeof buffer, number);
    out.append(buffer, result.ptr);
}

void newline(std::string& out, const Layout& layout, int level) {
    if (layout.indent == 0) return;
    out += '\n';
    out.append(static_cast<std::size_t>(layout.indent * level), ' ');
}

void write(const boost::json::value& value, std::string& out, const Layout& layout, int depth);

void write_object(const boost::json::object& object, std::string& out, const Layout& layout,
                  int depth) {
    // Most objects have a handful of members: their order is sorted on the stack.
    boost::container::small_vector<const boost::json::key_value_pair*, 16> members;
    for (const auto& member : object) members.push_back(&member);
    if (layout.sort_keys) {
        std::sort(members.begin(), members.end(),
                  [](const auto* a, const auto* b) { return a->key() < b->key(); });
    }
    out += '{';
    for (std::size_t i = 0; i < members.size(); ++i) {
        if (i > 0) out += ',';
        newline(out, layout, depth + 1);
        write_string(members[i]->key(), out);
        out += layout.indent == 0 ? ":" : ": ";
        write(members[i]->value(), out, layout, depth + 1);
    }
    if (!members.empty()) newline(out, layout, depth);
    out += '}';
}

void write(const boost::json::value& value, std::string& out, const Layout& layout, int depth) {
    switch (value.kind()) {
        case boost::json::kind::object:
            write_object(value.get_object(), out, layout, depth);
            break;
        case boost::json::kind::array: {
            const auto& array = value.get_array();
            out += '[';
            for (std::size_t i = 0; i < array.size(); ++i) {
                if (i > 0) out += ',';
                newline(out, layout, depth + 1);
                write(array[i], out, layout, depth + 1);
            }
            if (!array.empty()) newline(out, layout, depth);
            out += ']';
            break;
        }
        case boost::json::kind::string:
            write_string(value.get_string(), out);
            break;
        case boost::json::kind::double_:
            write_number(value.get_double(), out);
            break;
        case boost::json::kind::int64:
            write_integer(value.get_int64(), out);
            break;
        case boost::json::kind::uint64:
            write_integer(value.get_uint64(), out);
            break;
        case boost::json::kind::bool_:
            out += value.get_bool() ? "true" : "false";
            break;
        case boost::json::kind::null:
            out += "null";
            break;
    }
}

}  // namespace

boost::json::value parse_internal_json(std::string_view text, boost::system::error_code& ec,
                                       boost::json::storage_ptr storage) {
    return boost::json::parse(text, ec, std::move(storage), internal_options());
}

boost::json::value parse_internal_json(std::string_view text) {
    boost::system::error_code ec;
    boost::json::value value = parse_internal_json(text, ec);
    if (ec) throw boost::system::system_error(ec);
    return value;
}

namespace {

// A basic_parser handler that keeps nothing: the parser alone checks the grammar, the UTF-8 and
// the nesting bound.
struct Discard {
    static constexpr std::size_t max_object_size = std::size_t(-1);
    static constexpr std::size_t max_array_size = std::size_t(-1);
    static constexpr std::size_t max_key_size = std::size_t(-1);
    static constexpr std::size_t max_string_size = std::size_t(-1);
    using error_code = boost::system::error_code;
    using string_view = boost::json::string_view;
    bool on_document_begin(error_code&) { return true; }
    bool on_document_end(error_code&) { return true; }
    bool on_array_begin(error_code&) { return true; }
    bool on_array_end(std::size_t, error_code&) { return true; }
    bool on_object_begin(error_code&) { return true; }
    bool on_object_end(std::size_t, error_code&) { return true; }
    bool on_string_part(string_view, std::size_t, error_code&) { return true; }
    bool on_string(string_view, std::size_t, error_code&) { return true; }
    bool on_key_part(string_view, std::size_t, error_code&) { return true; }
    bool on_key(string_view, std::size_t, error_code&) { return true; }
    bool on_number_part(string_view, error_code&) { return true; }
    bool on_int64(std::int64_t, string_view, error_code&) { return true; }
    bool on_uint64(std::uint64_t, string_view, error_code&) { return true; }
    bool on_double(double, string_view, error_code&) { return true; }
    bool on_bool(bool, error_code&) { return true; }
    bool on_null(error_code&) { return true; }
    bool on_comment_part(string_view, error_code&) { return true; }
    bool on_comment(string_view, error_code&) { return true; }
};

}  // namespace

bool is_internal_json(std::string_view text) {
    boost::json::basic_parser<Discard> parser(internal_options());
    boost::system::error_code ec;
    const std::size_t consumed = parser.write_some(false, text.data(), text.size(), ec);
    return !ec && consumed == text.size();
}

std::size_t json_whitespace_end(std::string_view text, std::size_t at) {
    while (at < text.size() &&
           (text[at] == ' ' || text[at] == '\t' || text[at] == '\n' || text[at] == '\r')) {
        ++at;
    }
    return at;
}

// The closing quote is the first one after an even number of backslashes (found with memchr,
// strings being most of a document's bytes).
std::size_t json_string_end(std::string_view text, std::size_t at) {
    for (std::size_t from = at + 1;;) {
        const std::size_t quote = text.find('"', from);
        std::size_t backslashes = 0;
        while (text[quote - 1 - backslashes] == '\\') ++backslashes;  // stops at the opening quote
        if (backslashes % 2 == 0) return quote + 1;
        from = quote + 1;
    }
}

std::string json_string_value(std::string_view token) {
    if (token.find('\\') == std::string_view::npos) {
        return std::string(token.substr(1, token.size() - 2));
    }
    return std::string(parse_internal_json(token).get_string());
}

namespace {

// Past the value starting at `at`, in text known to be JSON.
std::size_t skip_value(std::string_view text, std::size_t at) {
    if (text[at] == '"') return json_string_end(text, at);
    if (text[at] != '{' && text[at] != '[') {  // a number or a literal
        return std::min(text.find_first_of(",}] \t\n\r", at), text.size());
    }
    std::size_t depth = 0;
    do {
        switch (text[at]) {
            case '"':
                at = json_string_end(text, at);
                continue;
            case '{':
            case '[':
                ++depth;
                break;
            case '}':
            case ']':
                --depth;
                break;
            default:
                break;
        }
        ++at;
    } while (depth > 0);
    return at;
}

}  // namespace

std::optional<std::vector<MemberText>> object_member_texts(std::string_view text) {
    std::size_t at = json_whitespace_end(text, 0);
    if (at == text.size() || text[at] != '{') return std::nullopt;
    std::vector<MemberText> members;
    at = json_whitespace_end(text, at + 1);
    while (text[at] != '}') {
        const std::size_t key_end = text.find_first_of("\"\\", at + 1);
        if (text[key_end] == '\\') return std::nullopt;
        const std::string_view key = text.substr(at + 1, key_end - at - 1);
        for (const MemberText& member : members) {
            if (member.key == key) return std::nullopt;
        }
        at = json_whitespace_end(text, json_whitespace_end(text, key_end + 1) + 1);  // past the ':'
        const std::size_t value_end = skip_value(text, at);
        members.push_back({key, text.substr(at, value_end - at)});
        at = json_whitespace_end(text, value_end);
        if (text[at] == ',') at = json_whitespace_end(text, at + 1);
    }
    return members;
}

std::optional<std::size_t> non_finite_number_at(std::string_view text) {
    boost::json::parser parser({}, internal_options());
    boost::system::error_code ec;
    const std::size_t offset = parser.write(text.data(), text.size(), ec);
    if (!ec) return std::nullopt;
    const std::string_view rest = text.substr(offset);  // after any '-': the parser took it
    if (rest.starts_with("Infinity") || rest.starts_with("NaN")) return offset;
    return std::nullopt;
}

std::string compact_json(const boost::json::value& value) {
    std::string out;
    write(value, out, Layout{0, false}, 0);
    return out;
}

std::string compact_json(const boost::json::object& object) {
    std::string out;
    write_object(object, out, Layout{0, false}, 0);
    return out;
}

std::string canonical_json(const boost::json::value& value) {
    std::string out;
    write(value, out, Layout{0, true}, 0);
    return out;
}

std::string canonical_json(const boost::json::object& object) {
    std::string out;
    write_object(object, out, Layout{0, true}, 0);
    return out;
}

std::string pretty_json(const boost::json::value& value) {
    std::string out;
    write(value, out, Layout{2, true}, 0);
    out += '\n';
    return out;
}

std::string json_pointer_token(std::string_view name) {
    std::string token;
    token.reserve(name.size());
    for (const char c : name) {
        if (c == '~') {
            token += "~0";
        } else if (c == '/') {
            token += "~1";
        } else {
            token += c;
        }
    }
    return token;
}

namespace {

// The length of the well-formed UTF-8 sequence starting at text[i], or 0 when the byte there
// does not start one. Per RFC 3629: no overlongs, no surrogates, nothing past U+10FFFF.
std::size_t utf8_sequence_length(std::string_view text, std::size_t i) {
    const auto lead = static_cast<unsigned char>(text[i]);
    std::size_t length = 0;
    unsigned char low = 0x80, high = 0xBF;  // the range of the second byte
    if (lead < 0x80) {
        return 1;
    } else if (lead >= 0xC2 && lead <= 0xDF) {
        length = 2;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
        length = 3;
        if (lead == 0xE0) low = 0xA0;
        if (lead == 0xED) high = 0x9F;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
        length = 4;
        if (lead == 0xF0) low = 0x90;
        if (lead == 0xF4) high = 0x8F;
    }
    if (length == 0 || i + length > text.size()) return 0;
    for (std::size_t k = 1; k < length; ++k) {
        const auto byte = static_cast<unsigned char>(text[i + k]);
        if (k == 1 ? byte < low || byte > high : byte < 0x80 || byte > 0xBF) return 0;
    }
    return length;
}

}  // namespace

std::string valid_utf8(std::string_view text) {
    static constexpr std::string_view kReplacement = "\xEF\xBF\xBD";
    std::string out;
    out.reserve(text.size());
    std::size_t i = 0;
    while (i < text.size()) {
        const std::size_t length = utf8_sequence_length(text, i);
        if (length > 0) {
            out.append(text.substr(i, length));
            i += length;
        } else {
            out.append(kReplacement);
            ++i;
        }
    }
    return out;
}

std::size_t utf8_length(std::string_view text) {
    std::size_t length = 0;
    for (const char c : text) {
        if ((static_cast<unsigned char>(c) & 0xC0) != 0x80)
            ++length;  // every byte but continuations
    }
    return length;
}

std::string truncated_text(std::string_view text, std::size_t max_bytes) {
    if (text.size() <= max_bytes) return std::string(text);
    std::size_t cut = max_bytes;
    // Back off to the lead byte of the character the cut would split (at most 3 continuation bytes).
    for (int steps = 0;
         steps < 3 && cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80; ++steps)
        --cut;
    return std::string(text.substr(0, cut)) + "\xE2\x80\xA6[truncated " +
           std::to_string(text.size() - cut) + " bytes]";
}

std::size_t invalid_utf8_offset(std::string_view text) {
    std::size_t i = 0;
    while (i < text.size()) {
        const std::size_t length = utf8_sequence_length(text, i);
        if (length == 0) return i;
        i += length;
    }
    return std::string_view::npos;
}

}  // namespace engined
