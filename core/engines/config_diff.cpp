#include "engines/config_diff.hpp"

#include "common/json_text.hpp"

#include <boost/json.hpp>

#include <map>
#include <sstream>
#include <string>

namespace engined::engines {
namespace {

namespace json = boost::json;

constexpr std::size_t kMaxLuaLines = 100;

std::string section_of(std::string_view field) {
    if (field == "request_schema" || field == "response_schema") return std::string(field);
    if (field == "scoring_dimensions" || field == "appetite_weight_profiles" ||
        field == "default_appetite_bucket") {
        return "weights";
    }
    if (field == "lua_source") return "lua";
    return "other";
}

class Differ {
public:
    json::object finish() && {
        return {{"changes", std::move(changes_)}, {"truncated", truncated_}};
    }

    void field(std::string_view name, const json::value* before, const json::value* after) {
        const std::string pointer = "/" + json_pointer_token(name);
        const std::string section = section_of(name);
        if (name == "lua_source" && before && after && before->is_string() && after->is_string()) {
            if (*before != *after) lua(pointer, before->get_string(), after->get_string());
            return;
        }
        walk(section, pointer, before, after);
    }

private:
    void add(json::object change) {
        if (changes_.size() >= kMaxDiffChanges) {
            truncated_ = true;
            return;
        }
        changes_.push_back(std::move(change));
    }

    void walk(const std::string& section, const std::string& pointer, const json::value* before,
              const json::value* after) {
        if (before == nullptr && after == nullptr) return;
        if (before == nullptr)
            return add({{"section", section},
                        {"pointer", pointer},
                        {"change", "added"},
                        {"after", *after}});
        if (after == nullptr)
            return add({{"section", section},
                        {"pointer", pointer},
                        {"change", "removed"},
                        {"before", *before}});
        if (*before == *after) return;
        if (before->is_object() && after->is_object()) {
            for (const auto& [key, value] : before->get_object()) {
                walk(section, pointer + "/" + json_pointer_token(key), &value,
                     after->get_object().if_contains(key));
            }
            for (const auto& [key, value] : after->get_object()) {
                if (!before->get_object().contains(key))
                    walk(section, pointer + "/" + json_pointer_token(key), nullptr, &value);
            }
            return;
        }
        if (before->is_array() && after->is_array()) {
            const auto& left = before->get_array();
            const auto& right = after->get_array();
            for (std::size_t i = 0; i < std::max(left.size(), right.size()); ++i) {
                walk(section, pointer + "/" + std::to_string(i),
                     i < left.size() ? &left[i] : nullptr, i < right.size() ? &right[i] : nullptr);
            }
            return;
        }
        add({{"section", section},
             {"pointer", pointer},
             {"change", "changed"},
             {"before", *before},
             {"after", *after}});
    }

    // Lines are compared as multisets: enough to review what a scorecard edit removed and added.
    void lua(const std::string& pointer, std::string_view before, std::string_view after) {
        std::map<std::string, long> count;
        auto lines = [](std::string_view text, auto&& each) {
            std::istringstream in{std::string(text)};
            for (std::string line; std::getline(in, line);) each(line);
        };
        lines(before, [&](const std::string& line) { ++count[line]; });
        lines(after, [&](const std::string& line) { --count[line]; });
        json::array removed;
        json::array added;
        lines(before, [&](const std::string& line) {
            if (count[line] > 0 && removed.size() < kMaxLuaLines) {
                removed.push_back(json::string(line));
                --count[line];
            }
        });
        lines(after, [&](const std::string& line) {
            if (count[line] < 0 && added.size() < kMaxLuaLines) {
                added.push_back(json::string(line));
                ++count[line];
            }
        });
        add({{"section", "lua"},
             {"pointer", pointer},
             {"change", "changed"},
             {"lines_removed", std::move(removed)},
             {"lines_added", std::move(added)}});
    }

    json::array changes_;
    bool truncated_ = false;
};

}  // namespace

json::object config_diff(const json::value& before, const json::value& after) {
    Differ differ;
    const json::object empty;
    const json::object& left = before.is_object() ? before.get_object() : empty;
    const json::object& right = after.is_object() ? after.get_object() : empty;
    for (const auto& [key, value] : left) differ.field(key, &value, right.if_contains(key));
    for (const auto& [key, value] : right) {
        if (!left.contains(key)) differ.field(key, nullptr, &value);
    }
    return std::move(differ).finish();
}

}  // namespace engined::engines
