#include "common/json_text.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <vector>

namespace engined {

namespace {

boost::json::parse_options internal_options() {
    boost::json::parse_options options;
    options.max_depth = 1024;
    return options;
}

std::vector<const boost::json::key_value_pair*> sorted_members(const boost::json::object& object) {
    std::vector<const boost::json::key_value_pair*> members;
    members.reserve(object.size());
    for (const auto& member : object) members.push_back(&member);
    std::sort(members.begin(), members.end(),
              [](const auto* a, const auto* b) { return a->key() < b->key(); });
    return members;
}

void write(const boost::json::value& value, std::string& out, int indent, int depth) {
    const auto newline = [&](int level) {
        if (indent == 0) return;
        out += '\n';
        out.append(static_cast<std::size_t>(indent * level), ' ');
    };
    if (value.is_object()) {
        const auto members = sorted_members(value.get_object());
        out += '{';
        for (std::size_t i = 0; i < members.size(); ++i) {
            if (i > 0) out += ',';
            newline(depth + 1);
            out += boost::json::serialize(boost::json::string(members[i]->key()));
            out += indent == 0 ? ":" : ": ";
            write(members[i]->value(), out, indent, depth + 1);
        }
        if (!members.empty()) newline(depth);
        out += '}';
    } else if (value.is_array()) {
        const auto& array = value.get_array();
        out += '[';
        for (std::size_t i = 0; i < array.size(); ++i) {
            if (i > 0) out += ',';
            newline(depth + 1);
            write(array[i], out, indent, depth + 1);
        }
        if (!array.empty()) newline(depth);
        out += ']';
    } else {
        out += boost::json::serialize(value);
    }
}

}  // namespace

boost::json::value parse_internal_json(std::string_view text, boost::system::error_code& ec) {
    return boost::json::parse(text, ec, {}, internal_options());
}

boost::json::value parse_internal_json(std::string_view text) {
    boost::system::error_code ec;
    boost::json::value value = parse_internal_json(text, ec);
    if (ec) throw boost::system::system_error(ec);
    return value;
}

std::string canonical_json(const boost::json::value& value) {
    std::string out;
    write(value, out, 0, 0);
    return out;
}

std::string pretty_json(const boost::json::value& value) {
    std::string out;
    write(value, out, 2, 0);
    out += '\n';
    return out;
}

}  // namespace engined
