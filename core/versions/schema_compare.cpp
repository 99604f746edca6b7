#include "versions/schema_compare.hpp"

#include "common/json_text.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <cmath>
#include <optional>
#include <set>
#include <string_view>
#include <tuple>
#include <utility>

namespace engined::versions {
namespace {

namespace json = boost::json;

// Schemas may refer to themselves; $ref chains and allOf nesting deeper than this are treated as
// unconstrained, and comparison stops descending past the second bound, so that no schema pair
// (however its cycles line up) recurses forever.
constexpr int kMaxResolveDepth = 32;
constexpr int kMaxCompareDepth = 64;

// A schema with $ref and allOf resolved away.
struct Schema {
    bool rejects_all = false;  // the boolean schema false (or an allOf containing it)
    const json::value* identity =
        nullptr;  // the node reached after following $refs, to spot cycles
    json::object keywords;
};

// Where in the data a schema applies, and how a message names that place.
struct Location {
    std::string pointer;
    std::string label;

    Location property(std::string_view name) const;
    Location item() const { return {pointer + "/*", "items of " + label}; }
    Location member() const { return {pointer + "/*", "additional properties of " + label}; }
};

Location Location::property(std::string_view name) const {
    return {pointer + "/" + json_pointer_token(name), "'" + std::string(name) + "'"};
}

// An absent sub-schema constrains nothing. One shared node, so that its address is a stable
// identity for cycle detection.
const json::value& unconstrained() {
    static const json::value kTrue = true;
    return kTrue;
}

// ---- resolving $ref and allOf ----

const json::value* resolve_local_ref(const json::value& node, const json::value& root) {
    const auto* object = node.if_object();
    const auto* ref = object ? object->if_contains("$ref") : nullptr;
    if (!ref || !ref->is_string()) return nullptr;
    const std::string_view text = ref->get_string();
    if (text.empty() || text.front() != '#') return nullptr;
    boost::system::error_code ec;
    return root.find_pointer(text.substr(1), ec);
}

bool has_ref(const json::value& node) {
    return node.is_object() && node.get_object().contains("$ref");
}

// allOf members constrain the same value, so two members' schemas for one property are combined
// with a nested allOf, to be merged in turn when that property is compared.
void merge_properties(json::object& into, const json::value& incoming) {
    if (!incoming.is_object()) return;
    json::value& slot = into["properties"];
    if (!slot.is_object()) slot = json::object();
    json::object& properties = slot.get_object();
    for (const auto& [name, schema] : incoming.get_object()) {
        if (auto* existing = properties.if_contains(name))
            *existing = json::object{{"allOf", json::array{*existing, schema}}};
        else
            properties.emplace(name, schema);
    }
}

void merge_required(json::object& into, const json::value& incoming) {
    if (!incoming.is_array()) return;
    json::value& slot = into["required"];
    if (!slot.is_array()) slot = json::array();
    json::array& required = slot.get_array();
    for (const auto& name : incoming.get_array()) {
        if (std::find(required.begin(), required.end(), name) == required.end())
            required.push_back(name);
    }
}

// Properties and required names combine; for every other keyword the first occurrence wins,
// which is exact for the usual allOf that composes an object from shared parts.
void merge_into(json::object& into, const json::object& incoming) {
    for (const auto& [key, value] : incoming) {
        if (key == "properties")
            merge_properties(into, value);
        else if (key == "required")
            merge_required(into, value);
        else if (!into.contains(key))
            into.emplace(key, value);
    }
}

Schema normalize(const json::value& node, const json::value& root, int depth = 0) {
    if (depth > kMaxResolveDepth) return {};
    // Draft 7 ignores a $ref's siblings; an unresolvable (e.g. remote) reference is unconstrained.
    if (has_ref(node)) {
        const json::value* target = resolve_local_ref(node, root);
        return target ? normalize(*target, root, depth + 1) : Schema{};
    }
    Schema schema;
    schema.identity = &node;
    if (node.is_bool()) schema.rejects_all = !node.get_bool();
    if (!node.is_object()) return schema;
    const json::object& object = node.get_object();
    const json::value* all_of = object.if_contains("allOf");
    if (!all_of || !all_of->is_array()) {
        schema.keywords = object;
        return schema;
    }
    for (const auto& [key, value] : object) {
        if (key != "allOf") schema.keywords.emplace(key, value);
    }
    for (const auto& member : all_of->get_array()) {
        Schema part = normalize(member, root, depth + 1);
        if (part.rejects_all) schema.rejects_all = true;
        merge_into(schema.keywords, part.keywords);
    }
    return schema;
}

// ---- keyword rules that need no recursion ----

using Changes = std::vector<BreakingChange>;

std::string text_of(const json::value& value) {
    return json::serialize(value);
}

std::string list_of(const json::array& values) {
    if (values.empty()) return "no value";
    std::string text;
    for (const auto& value : values) text += (text.empty() ? "" : ", ") + text_of(value);
    return text;
}

std::optional<double> number_at(const json::object& schema, std::string_view keyword) {
    const json::value* value = schema.if_contains(keyword);
    if (!value) return std::nullopt;
    if (value->is_int64()) return static_cast<double>(value->get_int64());
    if (value->is_uint64()) return static_cast<double>(value->get_uint64());
    if (value->is_double()) return value->get_double();
    return std::nullopt;
}

// Absent or malformed "type": every type is admitted.
std::optional<std::set<std::string>> type_set(const json::object& schema) {
    const json::value* type = schema.if_contains("type");
    if (!type) return std::nullopt;
    std::set<std::string> types;
    if (type->is_string()) types.emplace(type->get_string());
    if (type->is_array()) {
        for (const auto& name : type->get_array()) {
            if (name.is_string()) types.emplace(name.get_string());
        }
    }
    if (types.empty()) return std::nullopt;
    return types;
}

// Every integer is a number, so "number" admits all values of type "integer".
bool admits(const std::set<std::string>& types, const std::string& name) {
    return types.contains(name) || (name == "integer" && types.contains("number"));
}

std::string describe(const std::set<std::string>& types) {
    if (types.size() == 1) return *types.begin();
    std::string text;
    for (const auto& name : types) text += (text.empty() ? "[" : ", ") + name;
    return text + "]";
}

void check_type(const json::object& before, const json::object& after, const Location& at,
                Changes& out) {
    const auto after_types = type_set(after);
    if (!after_types) return;
    const auto before_types = type_set(before);
    if (!before_types) {
        out.push_back({at.pointer, "type_narrowed",
                       "type of " + at.label + " is now restricted to " + describe(*after_types)});
        return;
    }
    const auto admitted_after = [&](const std::string& name) { return admits(*after_types, name); };
    if (std::all_of(before_types->begin(), before_types->end(), admitted_after)) return;
    const auto admitted_before = [&](const std::string& name) {
        return admits(*before_types, name);
    };
    const bool narrowed = std::all_of(after_types->begin(), after_types->end(), admitted_before);
    out.push_back({at.pointer, narrowed ? "type_narrowed" : "type_changed",
                   "type of " + at.label + (narrowed ? " narrowed" : " changed") + " from " +
                       describe(*before_types) + " to " + describe(*after_types)});
}

// The values `enum` and `const` together allow; nullopt when neither restricts the value.
std::optional<json::array> allowed_values(const json::object& schema) {
    std::optional<json::array> values;
    if (const json::value* choices = schema.if_contains("enum"); choices && choices->is_array()) {
        values = choices->get_array();
    }
    if (const json::value* only = schema.if_contains("const")) {
        const bool consistent =
            !values || std::find(values->begin(), values->end(), *only) != values->end();
        values = consistent ? json::array{*only} : json::array{};
    }
    return values;
}

void check_values(const json::object& before, const json::object& after, const Location& at,
                  Changes& out) {
    const auto after_values = allowed_values(after);
    if (!after_values) return;
    const auto before_values = allowed_values(before);
    if (!before_values) {
        out.push_back(
            {at.pointer, "enum_value_removed",
             "values of " + at.label + " are now restricted to " + list_of(*after_values)});
        return;
    }
    json::array removed;
    for (const auto& value : *before_values) {
        if (std::find(after_values->begin(), after_values->end(), value) == after_values->end())
            removed.push_back(value);
    }
    if (removed.empty()) return;
    out.push_back({at.pointer, "enum_value_removed",
                   "values of " + at.label + " no longer include " + list_of(removed)});
}

// A numeric range end: draft 7's minimum/exclusiveMinimum (or maximum/exclusiveMaximum) folded
// into the one that binds.
struct Bound {
    double value = 0;
    bool exclusive = false;
    std::string text;  // "> 0", "<= 50"
};

std::optional<Bound> bound_at(const json::object& schema, std::string_view keyword, bool exclusive,
                              std::string_view op) {
    const auto value = number_at(schema, keyword);
    if (!value) return std::nullopt;
    return Bound{*value, exclusive, std::string(op) + " " + text_of(*schema.if_contains(keyword))};
}

// `lower`: a larger value binds tighter; otherwise a smaller one. At equal values exclusive binds.
bool binds_tighter(const Bound& candidate, const std::optional<Bound>& than, bool lower) {
    if (!than) return true;
    if (candidate.value != than->value)
        return lower ? candidate.value > than->value : candidate.value < than->value;
    return candidate.exclusive && !than->exclusive;
}

std::optional<Bound> range_end(const json::object& schema, bool lower) {
    auto inclusive =
        lower ? bound_at(schema, "minimum", false, ">=") : bound_at(schema, "maximum", false, "<=");
    auto exclusive = lower ? bound_at(schema, "exclusiveMinimum", true, ">")
                           : bound_at(schema, "exclusiveMaximum", true, "<");
    if (exclusive && binds_tighter(*exclusive, inclusive, lower)) return exclusive;
    return inclusive;
}

void check_range_end(const json::object& before, const json::object& after, bool lower,
                     const Location& at, Changes& out) {
    const auto after_end = range_end(after, lower);
    if (!after_end) return;
    const auto before_end = range_end(before, lower);
    if (!binds_tighter(*after_end, before_end, lower)) return;
    const std::string what = (lower ? "lower bound of " : "upper bound of ") + at.label;
    out.push_back({at.pointer, "constraint_tightened",
                   before_end ? what + (lower ? " raised" : " lowered") + " from " +
                                    before_end->text + " to " + after_end->text
                              : what + " set to " + after_end->text + " where there was none"});
}

// Length and size limits: an absent minimum is 0, an absent maximum unbounded.
void check_count(const json::object& before, const json::object& after, std::string_view keyword,
                 bool is_minimum, const Location& at, Changes& out) {
    const auto after_limit = number_at(after, keyword);
    if (!after_limit) return;
    const auto before_limit = number_at(before, keyword);
    const bool tightened = is_minimum ? *after_limit > before_limit.value_or(0)
                                      : !before_limit || *after_limit < *before_limit;
    if (!tightened) return;
    const std::string what = std::string(keyword) + " of " + at.label;
    const std::string after_text = text_of(*after.if_contains(keyword));
    out.push_back({at.pointer, "constraint_tightened",
                   before_limit ? what + (is_minimum ? " raised" : " lowered") + " from " +
                                      text_of(*before.if_contains(keyword)) + " to " + after_text
                                : what + " set to " + after_text + " where there was none"});
}

// Keywords where any new or different value may reject old data (regex inclusion is undecidable
// in practice, and formats are not ordered).
void check_exact(const json::object& before, const json::object& after, std::string_view keyword,
                 const Location& at, Changes& out) {
    const json::value* after_value = after.if_contains(keyword);
    if (!after_value) return;
    const json::value* before_value = before.if_contains(keyword);
    if (before_value && *before_value == *after_value) return;
    const std::string what = std::string(keyword) + " of " + at.label;
    out.push_back(
        {at.pointer, "constraint_tightened",
         before_value
             ? what + " changed from " + text_of(*before_value) + " to " + text_of(*after_value)
             : what + " set to " + text_of(*after_value) + " where there was none"});
}

void check_unique_items(const json::object& before, const json::object& after, const Location& at,
                        Changes& out) {
    const auto is_true = [](const json::object& schema) {
        const json::value* unique = schema.if_contains("uniqueItems");
        return unique && unique->is_bool() && unique->get_bool();
    };
    if (is_true(after) && !is_true(before)) {
        out.push_back(
            {at.pointer, "constraint_tightened", "items of " + at.label + " must now be unique"});
    }
}

// Every multiple of the old divisor stays valid when the old divisor is a whole multiple of the new.
void check_multiple_of(const json::object& before, const json::object& after, const Location& at,
                       Changes& out) {
    const auto after_divisor = number_at(after, "multipleOf");
    if (!after_divisor || *after_divisor <= 0) return;
    const auto before_divisor = number_at(before, "multipleOf");
    if (before_divisor) {
        const double ratio = *before_divisor / *after_divisor;
        if (std::abs(ratio - std::round(ratio)) <= 1e-9 * std::max(1.0, std::abs(ratio)) &&
            std::round(ratio) >= 1)
            return;
    }
    check_exact(before, after, "multipleOf", at, out);
}

std::set<std::string> required_names(const json::object& schema) {
    std::set<std::string> names;
    if (const json::value* required = schema.if_contains("required");
        required && required->is_array()) {
        for (const auto& name : required->get_array()) {
            if (name.is_string()) names.emplace(name.get_string());
        }
    }
    return names;
}

void check_required(const json::object& before, const json::object& after, const Location& at,
                    Changes& out) {
    const auto already = required_names(before);
    for (const auto& name : required_names(after)) {
        if (already.contains(name)) continue;
        out.push_back({at.property(name).pointer, "property_newly_required",
                       "property '" + name + "' is newly required"});
    }
}

void check_keywords(const json::object& before, const json::object& after, const Location& at,
                    Changes& out) {
    check_type(before, after, at, out);
    check_values(before, after, at, out);
    check_range_end(before, after, true, at, out);
    check_range_end(before, after, false, at, out);
    for (const auto* keyword : {"minLength", "minItems", "minProperties"})
        check_count(before, after, keyword, true, at, out);
    for (const auto* keyword : {"maxLength", "maxItems", "maxProperties"})
        check_count(before, after, keyword, false, at, out);
    check_exact(before, after, "pattern", at, out);
    check_exact(before, after, "format", at, out);
    check_unique_items(before, after, at, out);
    check_multiple_of(before, after, at, out);
    check_required(before, after, at, out);
}

// ---- the recursive walk ----

const json::object* object_at(const json::object& schema, std::string_view keyword) {
    const json::value* value = schema.if_contains(keyword);
    return value ? value->if_object() : nullptr;
}

class Comparer {
public:
    Comparer(const json::value& before_root, const json::value& after_root)
        : before_root_(before_root), after_root_(after_root) {}

    void compare(const json::value& before, const json::value& after, const Location& at) {
        compare_schemas(normalize(before, before_root_), normalize(after, after_root_), at);
    }

    Changes take() { return std::move(changes_); }

private:
    void compare_schemas(const Schema& before, const Schema& after, const Location& at) {
        if (before.rejects_all) return;  // nothing was accepted, so nothing can be lost
        if (after.rejects_all) {
            changes_.push_back(
                {at.pointer, "constraint_tightened", at.label + " no longer accepts any value"});
            return;
        }
        // A pair already being compared further up is a recursive schema: its changes are reported there.
        const auto visit = std::pair{before.identity, after.identity};
        if (depth_ >= kMaxCompareDepth || !active_.insert(visit).second) return;
        ++depth_;
        check_keywords(before.keywords, after.keywords, at, changes_);
        compare_properties(before.keywords, after.keywords, at);
        compare_additional_properties(before.keywords, after.keywords, at);
        compare_items(before.keywords, after.keywords, at);
        --depth_;
        active_.erase(visit);
    }

    void compare_properties(const json::object& before, const json::object& after,
                            const Location& at) {
        const json::object* before_properties = object_at(before, "properties");
        if (!before_properties) return;
        const json::object* after_properties = object_at(after, "properties");
        for (const auto& [name, before_schema] : *before_properties) {
            const Location field = at.property(name);
            if (const json::value* after_schema =
                    after_properties ? after_properties->if_contains(name) : nullptr) {
                compare(before_schema, *after_schema, field);
                continue;
            }
            // Dropping a property that was forbidden (schema false) only loosens.
            if (normalize(before_schema, before_root_).rejects_all) continue;
            changes_.push_back(
                {field.pointer, "property_removed", "property " + field.label + " was removed"});
        }
    }

    void compare_additional_properties(const json::object& before, const json::object& after,
                                       const Location& at) {
        const json::value* after_extra = after.if_contains("additionalProperties");
        if (!after_extra) return;
        const json::value* before_extra = before.if_contains("additionalProperties");
        const Schema before_schema =
            normalize(before_extra ? *before_extra : unconstrained(), before_root_);
        const Schema after_schema = normalize(*after_extra, after_root_);
        if (after_schema.rejects_all && !before_schema.rejects_all) {
            changes_.push_back({at.pointer, "additional_properties_closed",
                                at.label + " no longer accepts properties beyond those it lists"});
            return;
        }
        compare_schemas(before_schema, after_schema, at.member());
    }

    // Per-position (array) items cannot be lined up with a single item schema, so any change
    // involving that form is reported as a whole.
    void compare_items(const json::object& before, const json::object& after, const Location& at) {
        const json::value* after_items = after.if_contains("items");
        if (!after_items) return;
        const json::value* before_items = before.if_contains("items");
        if (after_items->is_array() || (before_items && before_items->is_array())) {
            if (!before_items || *before_items != *after_items) {
                changes_.push_back({at.pointer, "items_changed",
                                    "per-position item schemas of " + at.label + " changed"});
            }
            return;
        }
        compare(before_items ? *before_items : unconstrained(), *after_items, at.item());
    }

    const json::value& before_root_;
    const json::value& after_root_;
    std::set<std::pair<const json::value*, const json::value*>> active_;
    int depth_ = 0;
    Changes changes_;
};

}  // namespace

std::vector<BreakingChange> breaking_changes(const boost::json::value& before,
                                             const boost::json::value& after) {
    Comparer comparer(before, after);
    comparer.compare(before, after, Location{"", "the document"});
    Changes changes = comparer.take();
    const auto key = [](const BreakingChange& change) {
        return std::tie(change.pointer, change.rule, change.message);
    };
    std::sort(changes.begin(), changes.end(),
              [&](const auto& a, const auto& b) { return key(a) < key(b); });
    changes.erase(std::unique(changes.begin(), changes.end(),
                              [&](const auto& a, const auto& b) { return key(a) == key(b); }),
                  changes.end());
    return changes;
}

}  // namespace engined::versions
