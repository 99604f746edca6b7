#include "contracts/schema_view.hpp"

#include <re2/re2.h>

#include <boost/json.hpp>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

namespace engined::contracts {
namespace json = boost::json;
namespace {

// What a keyword of a schema object holds, as far as finding subschemas goes.
enum class Holds { nothing, schema, schema_array, schema_map, items, dependencies };

Holds holds(std::string_view keyword) {
    static const std::unordered_map<std::string_view, Holds> kinds = {
        {"additionalItems", Holds::schema},
        {"additionalProperties", Holds::schema},
        {"contains", Holds::schema},
        {"propertyNames", Holds::schema},
        {"not", Holds::schema},
        {"if", Holds::schema},
        {"then", Holds::schema},
        {"else", Holds::schema},
        {"allOf", Holds::schema_array},
        {"anyOf", Holds::schema_array},
        {"oneOf", Holds::schema_array},
        {"properties", Holds::schema_map},
        {"patternProperties", Holds::schema_map},
        {"definitions", Holds::schema_map},
        {"items", Holds::items},
        {"dependencies", Holds::dependencies},
    };
    const auto found = kinds.find(keyword);
    return found == kinds.end() ? Holds::nothing : found->second;
}

// Keywords whose subschemas apply to the very value their schema applies to.
bool applies_to_same_value(std::string_view keyword) {
    return keyword == "allOf" || keyword == "anyOf" || keyword == "oneOf" || keyword == "not" ||
           keyword == "if" || keyword == "then" || keyword == "else" || keyword == "dependencies";
}

// Keywords whose subschemas apply to the members or items of the value.
bool descends(std::string_view keyword) {
    return keyword == "properties" || keyword == "patternProperties" ||
           keyword == "additionalProperties" || keyword == "items" ||
           keyword == "additionalItems" || keyword == "contains" || keyword == "propertyNames";
}

// A subschema that fans out (applies other subschemas) or compares items pairwise starts with a
// work-budget step, so that every application that can multiply work is counted before it runs:
// the step is charged once, plus once per subschema applied to the same value (so the leaves it
// reaches are paid for), plus per member or item when it descends, plus the pairs uniqueItems
// compares. Its value: bit 0 descends, bit 1 pairwise, the rest the same-value subschema count.
// A "$ref" node has no keywords of its own: draft 7 ignores a reference's siblings.
std::int64_t step_kind(const json::object& schema) {
    if (schema.contains("$ref")) return 0;
    std::int64_t same_value = 0;
    bool goes_down = false;
    for (const auto& member : schema) {
        if (applies_to_same_value(member.key())) {
            const auto* many = member.value().if_array();
            const auto* map = member.value().if_object();
            same_value += many ? static_cast<std::int64_t>(many->size())
                          : map && member.key() == "dependencies"
                              ? static_cast<std::int64_t>(map->size())
                              : 1;
        }
        goes_down = goes_down || descends(member.key());
    }
    const auto* unique = schema.if_contains("uniqueItems");
    const bool pairwise = unique != nullptr && unique->is_bool() && unique->get_bool();
    if (same_value == 0 && !goes_down && !pairwise) return 0;
    return (same_value << 2) | (pairwise ? 2 : 0) | (goes_down ? 1 : 0);
}

std::optional<std::vector<std::string>> split_fragment(std::string_view fragment) {
    std::string decoded;
    for (std::size_t i = 0; i < fragment.size(); ++i) {
        if (fragment[i] != '%') {
            decoded += fragment[i];
            continue;
        }
        if (i + 2 >= fragment.size()) return std::nullopt;
        const std::string hex(fragment.substr(i + 1, 2));
        if (!std::isxdigit(static_cast<unsigned char>(hex[0])) ||
            !std::isxdigit(static_cast<unsigned char>(hex[1]))) {
            return std::nullopt;
        }
        decoded += static_cast<char>(std::stoi(hex, nullptr, 16));
        i += 2;
    }
    std::vector<std::string> tokens;
    if (decoded.empty()) return tokens;
    if (decoded.front() != '/') return std::nullopt;
    std::size_t start = 1;
    while (true) {
        const std::size_t end = decoded.find('/', start);
        std::string raw =
            decoded.substr(start, end == std::string::npos ? std::string::npos : end - start);
        std::string token;
        for (std::size_t i = 0; i < raw.size(); ++i) {
            if (raw[i] == '~' && i + 1 < raw.size() && (raw[i + 1] == '0' || raw[i + 1] == '1')) {
                token += raw[i + 1] == '0' ? '~' : '/';
                ++i;
            } else {
                token += raw[i];
            }
        }
        tokens.push_back(std::move(token));
        if (end == std::string::npos) break;
        start = end + 1;
    }
    return tokens;
}

// The rewritten document keeps the shape of the original except for renamed keywords and the step
// prepended to allOf; these two functions are the single statement of that mapping.
std::string view_keyword(const json::object& schema, std::string_view keyword) {
    if (keyword == "patternProperties") return kPatternSchemasKeyword;
    if (keyword == "additionalProperties" && schema.contains("patternProperties"))
        return kAdditionalSchemaKeyword;
    return std::string(keyword);
}

std::size_t view_index(const json::object& schema, std::string_view keyword, std::size_t index) {
    return keyword == "allOf" && step_kind(schema) != 0 ? index + 1 : index;
}

struct Located {
    const json::value* node;
    std::string pointer;       // in the original
    std::string view_pointer;  // in the rewritten document
};

class SchemaWalker {
public:
    explicit SchemaWalker(const json::value& root) : root_(root) {}

    void run(SchemaView& view) {
        patterns_ = &view.patterns;
        rules_ = &view.member_rules;
        view.document = walk(root_, "");
        if (problems_.empty()) check_same_value_chains();
        view.problems = std::move(problems_);
    }

private:
    struct Node {
        std::vector<std::string> same_value;  // pointers of subschemas applied to the same value
    };

    void refuse(std::string pointer, std::string message) {
        problems_.push_back({std::move(pointer), std::move(message)});
    }

    // The subschema at `tokens`, or nullopt when they do not lead to one (a "$ref" into "enum"…).
    std::optional<Located> locate(const std::vector<std::string>& tokens) const {
        Located at{&root_, "", ""};
        Holds holding = Holds::schema;
        const json::object* owner = nullptr;
        std::string keyword;
        for (const std::string& token : tokens) {
            at.pointer += "/" + escape_token(token);
            switch (holding) {
                case Holds::schema: {
                    if (!at.node->is_object() || !at.node->get_object().contains(token))
                        return std::nullopt;
                    owner = &at.node->get_object();
                    keyword = token;
                    holding = holds(token);
                    at.view_pointer += "/" + escape_token(view_keyword(*owner, token));
                    at.node = &owner->at(token);
                    if (holding == Holds::items)
                        holding = at.node->is_array() ? Holds::schema_array : Holds::schema;
                    if (holding == Holds::nothing) return std::nullopt;
                    if (holding == Holds::schema) continue;
                    break;
                }
                case Holds::schema_array: {
                    if (!at.node->is_array() || token.empty() || token.size() > 9 ||
                        !std::all_of(token.begin(), token.end(),
                                     [](char c) { return c >= '0' && c <= '9'; })) {
                        return std::nullopt;
                    }
                    const std::size_t index = std::stoul(token);
                    if (index >= at.node->get_array().size()) return std::nullopt;
                    at.view_pointer += "/" + std::to_string(view_index(*owner, keyword, index));
                    at.node = &at.node->get_array()[index];
                    holding = Holds::schema;
                    continue;
                }
                case Holds::schema_map:
                case Holds::dependencies: {
                    if (!at.node->is_object() || !at.node->get_object().contains(token))
                        return std::nullopt;
                    at.view_pointer += "/" + escape_token(token);
                    at.node = &at.node->get_object().at(token);
                    if (holding == Holds::dependencies && at.node->is_array()) return std::nullopt;
                    holding = Holds::schema;
                    continue;
                }
                default:
                    return std::nullopt;
            }
        }
        if (holding != Holds::schema || !(at.node->is_object() || at.node->is_bool()))
            return std::nullopt;
        return at;
    }

    std::optional<std::string> resolve_ref(const json::value& ref, const std::string& at) {
        const std::string where = at + "/$ref";
        if (!ref.is_string()) {
            refuse(where, "must be a string");
            return std::nullopt;
        }
        const std::string_view text = ref.get_string();
        if (text.empty() || text.front() != '#') {
            refuse(where,
                   "only local references (\"#\" or \"#/...\") are allowed: this server fetches no "
                   "other schema");
            return std::nullopt;
        }
        const auto tokens = split_fragment(text.substr(1));
        const auto target = tokens ? locate(*tokens) : std::nullopt;
        if (!target) {
            refuse(where,
                   "\"" + std::string(text) + "\" does not point at a subschema of this schema");
            return std::nullopt;
        }
        nodes_[at].same_value.push_back(target->pointer);
        return fragment_of(target->view_pointer);
    }

    std::shared_ptr<const re2::RE2> pattern_at(const json::value& text, const std::string& where) {
        if (!text.is_string()) {
            refuse(where, "must be a string");
            return nullptr;
        }
        std::string error;
        auto compiled = compile_pattern(std::string(text.get_string()), error);
        if (!compiled) refuse(where, error);
        return compiled;
    }

    json::value walk(const json::value& schema, const std::string& pointer) {
        if (nodes_.size() >= kMaxSchemaNodes) {
            if (!too_many_reported_) {
                refuse(pointer, "the schema has more than " + std::to_string(kMaxSchemaNodes) +
                                    " subschemas");
                too_many_reported_ = true;
            }
            return nullptr;
        }
        if (nodes_.try_emplace(pointer).second) walk_order_.push_back(pointer);
        if (schema.is_bool()) return schema;
        if (!schema.is_object()) {
            refuse(pointer, "must be a JSON Schema: an object or a boolean");
            return nullptr;
        }
        const json::object& object = schema.get_object();
        json::object view;
        for (const auto& member : object) {
            const std::string key(member.key());
            const std::string at = pointer + "/" + escape_token(key);
            const json::value& value = member.value();
            if (key.rfind("x-engined-", 0) == 0) {
                refuse(at, "keywords starting with \"x-engined-\" are reserved");
            } else if (key == "$ref") {
                if (auto fragment = resolve_ref(value, pointer))
                    view["$ref"] = std::move(*fragment);
            } else if (key == "id" && value.is_string()) {
                // Draft 7 names it "$id"; valijson would take "id" as a base URI. It identifies
                // nothing here, since only local references are followed.
            } else if (key == "pattern") {
                if (auto compiled = pattern_at(value, at)) {
                    view[kPatternKeyword] = static_cast<std::int64_t>(patterns_->size());
                    patterns_->push_back(std::move(compiled));
                }
            } else if (key == "format") {
                if (!value.is_string())
                    refuse(at, "must be a string");
                else
                    view[kFormatKeyword] = value;
            } else {
                view[view_keyword(object, key)] = walk_keyword(object, key, value, pointer, at);
            }
        }
        if (const auto* pattern_properties = object.if_contains("patternProperties")) {
            view[kMembersKeyword] = members_rule(object, *pattern_properties, pointer);
        }
        if (const std::int64_t kind = step_kind(object); kind != 0) {
            json::array all_of{json::object{{kStepKeyword, kind}}};
            if (const auto* members = view.if_contains("allOf"); members && members->is_array()) {
                for (const auto& item : members->get_array()) all_of.push_back(item);
            }
            view["allOf"] = std::move(all_of);
        }
        return view;
    }

    json::value walk_keyword(const json::object& object, const std::string& key,
                             const json::value& value, const std::string& pointer,
                             const std::string& at) {
        Holds holding = holds(key);
        if (holding == Holds::items)
            holding = value.is_array() ? Holds::schema_array : Holds::schema;
        const bool same_value = applies_to_same_value(key) && !object.contains("$ref");
        auto child = [&](const json::value& sub, const std::string& sub_pointer) {
            if (same_value) nodes_[pointer].same_value.push_back(sub_pointer);
            return walk(sub, sub_pointer);
        };
        switch (holding) {
            case Holds::nothing:
                return value;
            case Holds::schema:
                return child(value, at);
            case Holds::schema_array: {
                if (!value.is_array()) {
                    refuse(at, "must be an array of schemas");
                    return nullptr;
                }
                json::array out;
                for (std::size_t i = 0; i < value.get_array().size(); ++i) {
                    out.push_back(child(value.get_array()[i], at + "/" + std::to_string(i)));
                }
                return out;
            }
            case Holds::schema_map:
            case Holds::dependencies: {
                if (!value.is_object()) {
                    refuse(at, "must be an object");
                    return nullptr;
                }
                json::object out;
                for (const auto& entry : value.get_object()) {
                    const std::string sub_pointer = at + "/" + escape_token(entry.key());
                    if (key == "patternProperties")
                        pattern_at(json::value(entry.key()), sub_pointer);
                    if (holding == Holds::dependencies && entry.value().is_array()) {
                        out[entry.key()] = entry.value();
                    } else {
                        out[entry.key()] = child(entry.value(), sub_pointer);
                    }
                }
                return out;
            }
            default:
                return value;
        }
    }

    // patternProperties and additionalProperties, taken out of valijson's hands together (the
    // latter applies only to members no pattern matched); the rule names the rewritten subschemas.
    json::value members_rule(const json::object& object, const json::value& pattern_properties,
                             const std::string& pointer) {
        MembersRule rule;
        if (!pattern_properties.is_object()) return nullptr;
        for (const auto& entry : pattern_properties.get_object()) {
            std::string ignored;
            auto compiled = compile_pattern(std::string(entry.key()), ignored);
            const auto target =
                locate_pointer(pointer + "/patternProperties/" + escape_token(entry.key()));
            if (!compiled || !target) return nullptr;
            rule.patterns.push_back({std::move(compiled), target->view_pointer});
        }
        if (object.contains("additionalProperties")) {
            if (const auto target = locate_pointer(pointer + "/additionalProperties"))
                rule.additional = target->view_pointer;
        }
        if (const auto* named = object.if_contains("properties"); named && named->is_object()) {
            for (const auto& entry : named->get_object()) rule.named.emplace_back(entry.key());
        }
        rules_->push_back(std::move(rule));
        return static_cast<std::int64_t>(rules_->size() - 1);
    }

    std::optional<Located> locate_pointer(const std::string& pointer) const {
        const auto tokens = split_fragment(pointer);
        return tokens ? locate(*tokens) : std::nullopt;
    }

    // Refuses a cycle of same-value keywords (no document ends it) and a chain of them longer than
    // kMaxSameValueChain; the walk is memoised, so it is linear in the schema's size.
    void check_same_value_chains() {
        for (const std::string& pointer : walk_order_) {
            if (!height_.contains(pointer) && !chain_from(pointer, 1, {pointer})) return;
        }
    }

    bool chain_from(const std::string& pointer, std::size_t depth, std::vector<std::string> path) {
        if (depth > kMaxSameValueChain) {
            refuse(path.front(),
                   "applies more than " + std::to_string(kMaxSameValueChain) +
                       " nested $ref/allOf/anyOf/oneOf/not/if/then/else/dependencies to the same "
                       "value (through " +
                       pointer + ")");
            return false;
        }
        on_path_.insert(pointer);
        std::size_t height = 1;
        for (const std::string& next : nodes_[pointer].same_value) {
            if (on_path_.contains(next)) {
                std::string cycle;
                const auto start = std::find(path.begin(), path.end(), next);
                for (auto it = start; it != path.end(); ++it) cycle += *it + " -> ";
                refuse(next, "is part of a $ref/allOf cycle that never reaches a nested value: " +
                                 cycle + next);
                return false;
            }
            if (!height_.contains(next)) {
                auto longer = path;
                longer.push_back(next);
                if (!chain_from(next, depth + 1, std::move(longer))) return false;
            }
            if (depth + height_[next] > kMaxSameValueChain) {
                refuse(path.front(),
                       "applies more than " + std::to_string(kMaxSameValueChain) +
                           " nested $ref/allOf/anyOf/oneOf/not/if/then/else/dependencies to the "
                           "same value (through " +
                           next + ")");
                return false;
            }
            height = std::max(height, height_[next] + 1);
        }
        on_path_.erase(pointer);
        height_[pointer] = height;
        return true;
    }

    const json::value& root_;
    std::vector<std::shared_ptr<const re2::RE2>>* patterns_ = nullptr;
    std::vector<MembersRule>* rules_ = nullptr;
    std::unordered_map<std::string, Node> nodes_;
    std::vector<std::string> walk_order_;  // so that the same schema always gets the same verdict
    std::unordered_map<std::string, std::size_t> height_;
    std::unordered_set<std::string> on_path_;
    std::vector<ErrorDetail> problems_;
    bool too_many_reported_ = false;
};

}  // namespace

std::string escape_token(std::string_view token) {
    std::string out;
    for (char c : token) {
        if (c == '~')
            out += "~0";
        else if (c == '/')
            out += "~1";
        else
            out += c;
    }
    return out;
}

std::string fragment_of(const std::string& pointer) {
    std::string out = "#";
    for (char c : pointer) {
        if (c == '%')
            out += "%25";
        else
            out += c;
    }
    return out;
}

std::shared_ptr<const re2::RE2> compile_pattern(const std::string& pattern, std::string& error) {
    RE2::Options options;
    options.set_log_errors(false);
    // RE2 refuses programs past max_mem itself; the program-size bound below is the documented one.
    options.set_max_mem(8 << 20);
    auto compiled = std::make_shared<const RE2>(pattern, options);
    if (!compiled->ok()) {
        error = "RE2 cannot compile this pattern (" + compiled->error() +
                "); patterns use RE2 syntax, without backreferences or lookaround";
        return nullptr;
    }
    if (compiled->ProgramSize() > kMaxPatternProgramSize) {
        error = "the pattern is too complex: its RE2 program has " +
                std::to_string(compiled->ProgramSize()) + " instructions, at most " +
                std::to_string(kMaxPatternProgramSize);
        return nullptr;
    }
    return compiled;
}

std::optional<std::string> pointer_of_fragment(std::string_view reference) {
    if (reference.empty() || reference.front() != '#') return std::nullopt;
    const std::string_view fragment = reference.substr(1);
    std::string pointer;
    for (std::size_t i = 0; i < fragment.size(); ++i) {
        if (fragment[i] != '%') {
            pointer += fragment[i];
        } else if (fragment.substr(i, 3) == "%25") {
            pointer += '%';
            i += 2;
        } else {
            return std::nullopt;
        }
    }
    return pointer;
}

SchemaView make_schema_view(const boost::json::value& schema) {
    SchemaView view;
    SchemaWalker(schema).run(view);
    return view;
}

}  // namespace engined::contracts
