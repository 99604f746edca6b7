#include "contracts/acceptance_check.hpp"

#include "contracts/bounded_keywords.hpp"
#include "contracts/schema_view.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <cstdint>
#include <deque>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

namespace engined::contracts {
namespace json = boost::json;

namespace {

enum class Verdict { invalid, valid, unknown };

// JSON types as bits, for "type" and for a value; an int64 is both an integer and a number, as
// valijson's strict types have it, a double is a number only.
enum TypeBit : unsigned {
    kNull = 1,
    kBoolean = 2,
    kObject = 4,
    kArray = 8,
    kNumber = 16,
    kString = 32,
    kInteger = 64,
};

unsigned type_bits(const json::value& value) {
    switch (value.kind()) {
        case json::kind::null:
            return kNull;
        case json::kind::bool_:
            return kBoolean;
        case json::kind::object:
            return kObject;
        case json::kind::array:
            return kArray;
        case json::kind::string:
            return kString;
        case json::kind::int64:
            return kNumber | kInteger;
        case json::kind::uint64:  // never asked: see Evaluation::check
        case json::kind::double_:
            return kNumber;
    }
    return 0;
}

std::optional<unsigned> type_bit_named(std::string_view name) {
    if (name == "null") return kNull;
    if (name == "boolean") return kBoolean;
    if (name == "object") return kObject;
    if (name == "array") return kArray;
    if (name == "number") return kNumber;
    if (name == "string") return kString;
    if (name == "integer") return kInteger;
    if (name == "any") return kNull | kBoolean | kObject | kArray | kNumber | kString | kInteger;
    return std::nullopt;
}

// Keywords valijson evaluates that this check does not: a schema using one gets no check.
bool unsupported_keyword(std::string_view keyword) {
    static constexpr std::string_view kUnsupported[] = {
        "additionalItems",   "contains",      "dependencies",         "divisibleBy",
        "maxProperties",     "minProperties", "multipleOf",           "propertyNames",
        "patternProperties", kMembersKeyword, kPatternSchemasKeyword, kAdditionalSchemaKeyword,
    };
    return std::find(std::begin(kUnsupported), std::end(kUnsupported), keyword) !=
           std::end(kUnsupported);
}

// Code points, as valijson counts a string's length; nullopt for a string holding U+0000, which
// valijson's count stops at.
std::optional<std::uint64_t> code_points(std::string_view text) {
    std::uint64_t count = 0;
    for (const char c : text) {
        if (c == '\0') return std::nullopt;
        if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++count;
    }
    return count;
}

class Unsupported {};

// The verdict of parts that must all hold: the first exact "invalid" decides, "cannot tell" only
// once no part said "invalid".
class AllOf {
public:
    // True once the verdict is "invalid": nothing after it can change that.
    bool add(Verdict part) {
        if (part != Verdict::valid) verdict_ = part;
        return part == Verdict::invalid;
    }
    Verdict verdict() const { return verdict_; }

private:
    Verdict verdict_ = Verdict::valid;
};

}  // namespace

struct AcceptanceCheck::Node {
    std::optional<bool> boolean;  // a boolean schema
    const Node* ref = nullptr;    // a "$ref": the node is its target, its siblings ignored
    unsigned types = 0;           // 0: no "type"
    std::vector<std::pair<std::string, const Node*>> properties;
    std::vector<std::string> required;
    const Node* additional = nullptr;
    const Node* items = nullptr;
    std::optional<std::uint64_t> min_items, max_items, min_length, max_length;
    std::optional<double> minimum, maximum, exclusive_minimum, exclusive_maximum;
    bool unique_items = false;
    std::vector<const json::array*> value_sets;  // "enum", and "const" as a set of one
    const re2::RE2* pattern = nullptr;
    std::string format;
    std::optional<std::int64_t> step;
    std::vector<const Node*> all_of, any_of, one_of;
    const Node* negated = nullptr;
    const Node* condition = nullptr;
    const Node* then_branch = nullptr;
    const Node* else_branch = nullptr;
};

struct AcceptanceCheck::Nodes {
    json::value rewritten;  // owns what value_sets point into
    std::vector<std::shared_ptr<const re2::RE2>> patterns;
    std::deque<json::array> constants;
    std::deque<Node> nodes;
    std::unordered_map<std::string, Node*> by_pointer;
};

namespace {

class Compiler {
public:
    explicit Compiler(AcceptanceCheck::Nodes& nodes) : nodes_(nodes) {}

    const AcceptanceCheck::Node* node_at(const std::string& pointer) {
        if (const auto found = nodes_.by_pointer.find(pointer); found != nodes_.by_pointer.end())
            return found->second;
        boost::system::error_code error;
        const json::value* schema = nodes_.rewritten.find_pointer(pointer, error);
        if (schema == nullptr) throw Unsupported();
        AcceptanceCheck::Node& node = nodes_.nodes.emplace_back();
        nodes_.by_pointer.emplace(pointer, &node);
        fill(node, *schema, pointer);
        return &node;
    }

private:
    void fill(AcceptanceCheck::Node& node, const json::value& schema, const std::string& pointer) {
        if (schema.is_bool()) {
            node.boolean = schema.get_bool();
            return;
        }
        if (!schema.is_object()) throw Unsupported();
        const json::object& object = schema.get_object();
        if (const json::value* ref = object.if_contains("$ref")) {
            node.ref = node_at(pointer_of(*ref));
            return;
        }
        for (const auto& member : object) {
            const std::string_view keyword = member.key();
            const json::value& value = member.value();
            const std::string at = pointer + "/" + escape_token(keyword);
            if (unsupported_keyword(keyword)) throw Unsupported();
            if (keyword == "type") {
                node.types = types_of(value);
            } else if (keyword == "properties") {
                for (const auto& property : as_object(value)) {
                    node.properties.emplace_back(std::string(property.key()),
                                                 node_at(at + "/" + escape_token(property.key())));
                }
            } else if (keyword == "required") {
                for (const auto& name : as_array(value)) {
                    if (!name.is_string()) throw Unsupported();
                    node.required.emplace_back(name.get_string());
                }
            } else if (keyword == "additionalProperties") {
                node.additional = node_at(at);
            } else if (keyword == "items") {
                if (value.is_array()) throw Unsupported();
                node.items = node_at(at);
            } else if (keyword == "minItems") {
                node.min_items = count_of(value);
            } else if (keyword == "maxItems") {
                node.max_items = count_of(value);
            } else if (keyword == "minLength") {
                node.min_length = count_of(value);
            } else if (keyword == "maxLength") {
                node.max_length = count_of(value);
            } else if (keyword == "minimum") {
                node.minimum = number_of(value);
            } else if (keyword == "maximum") {
                node.maximum = number_of(value);
            } else if (keyword == "exclusiveMinimum") {
                node.exclusive_minimum = number_of(value);
            } else if (keyword == "exclusiveMaximum") {
                node.exclusive_maximum = number_of(value);
            } else if (keyword == "uniqueItems") {
                if (!value.is_bool()) throw Unsupported();
                node.unique_items = value.get_bool();
            } else if (keyword == "enum") {
                node.value_sets.push_back(&as_array(value));
            } else if (keyword == "const") {
                node.value_sets.push_back(&nodes_.constants.emplace_back(json::array{value}));
            } else if (keyword == kPatternKeyword) {
                node.pattern = nodes_.patterns.at(static_cast<std::size_t>(value.as_int64())).get();
            } else if (keyword == kFormatKeyword) {
                node.format = std::string(value.as_string());
            } else if (keyword == kStepKeyword) {
                node.step = value.as_int64();
            } else if (keyword == "allOf" || keyword == "anyOf" || keyword == "oneOf") {
                auto& into = keyword == "allOf"   ? node.all_of
                             : keyword == "anyOf" ? node.any_of
                                                  : node.one_of;
                for (std::size_t i = 0; i < as_array(value).size(); ++i)
                    into.push_back(node_at(at + "/" + std::to_string(i)));
            } else if (keyword == "not") {
                node.negated = node_at(at);
            } else if (keyword == "if") {
                node.condition = node_at(at);
            } else if (keyword == "then") {
                node.then_branch = node_at(at);
            } else if (keyword == "else") {
                node.else_branch = node_at(at);
            }
            // Anything else is an annotation or a container ("definitions") to valijson too.
        }
    }

    static std::string pointer_of(const json::value& ref) {
        const auto pointer = ref.is_string() ? pointer_of_fragment(ref.get_string()) : std::nullopt;
        if (!pointer) throw Unsupported();
        return *pointer;
    }

    static unsigned types_of(const json::value& value) {
        unsigned bits = 0;
        auto add = [&bits](const json::value& name) {
            const auto bit = name.is_string() ? type_bit_named(name.get_string()) : std::nullopt;
            if (!bit) throw Unsupported();
            bits |= *bit;
        };
        if (value.is_array()) {
            for (const auto& name : value.get_array()) add(name);
        } else {
            add(value);
        }
        if (bits == 0) throw Unsupported();  // "type": [] is valijson's to judge
        return bits;
    }

    static const json::object& as_object(const json::value& value) {
        if (!value.is_object()) throw Unsupported();
        return value.get_object();
    }
    static const json::array& as_array(const json::value& value) {
        if (!value.is_array()) throw Unsupported();
        return value.get_array();
    }
    static std::uint64_t count_of(const json::value& value) {
        if (!value.is_int64() || value.get_int64() < 0) throw Unsupported();
        return static_cast<std::uint64_t>(value.get_int64());
    }
    static double number_of(const json::value& value) {
        if (!value.is_number()) throw Unsupported();
        return value.to_number<double>();
    }

    AcceptanceCheck::Nodes& nodes_;
};

// An exact "invalid" decides a schema; "cannot tell" only once nothing else did.
class Evaluation {
public:
    Verdict check(const AcceptanceCheck::Node& node, const json::value& value) const {
        if (node.ref) return check(*node.ref, value);
        if (node.boolean) return *node.boolean ? Verdict::valid : Verdict::invalid;
        // Past INT64_MAX valijson's Boost.JSON adapter has no number to compare.
        if (value.is_uint64()) return Verdict::unknown;
        if (node.step) {
            const std::uint64_t size = value.is_array()    ? value.get_array().size()
                                       : value.is_object() ? value.get_object().size()
                                                           : 0;
            WorkBudget::charge(step_cost(*node.step, value.is_array(), size));
        }
        if (node.types != 0 && (node.types & type_bits(value)) == 0) return Verdict::invalid;
        AllOf parts;
        for (const json::array* values : node.value_sets) {
            if (parts.add(one_of_values(*values, value))) return Verdict::invalid;
        }
        switch (value.kind()) {
            case json::kind::object:
                if (parts.add(check_object(node, value.get_object()))) return Verdict::invalid;
                break;
            case json::kind::array:
                if (parts.add(check_array(node, value.get_array()))) return Verdict::invalid;
                break;
            case json::kind::string:
                if (parts.add(check_string(node, value.get_string()))) return Verdict::invalid;
                break;
            case json::kind::int64:
            case json::kind::uint64:
            case json::kind::double_:
                if (!number_in_bounds(node, value.to_number<double>())) return Verdict::invalid;
                break;
            default:
                break;
        }
        for (const auto* part : node.all_of) {
            if (parts.add(check(*part, value))) return Verdict::invalid;
        }
        if (!node.any_of.empty() && parts.add(any_of(node.any_of, value))) return Verdict::invalid;
        if (!node.one_of.empty() && parts.add(one_of(node.one_of, value))) return Verdict::invalid;
        if (node.negated && parts.add(negation(check(*node.negated, value))))
            return Verdict::invalid;
        if (node.condition && parts.add(conditional(node, value))) return Verdict::invalid;
        return parts.verdict();
    }

private:
    Verdict check_object(const AcceptanceCheck::Node& node, const json::object& object) const {
        for (const std::string& name : node.required) {
            if (!object.contains(name)) return Verdict::invalid;
        }
        if (node.properties.empty() && node.additional == nullptr) return Verdict::valid;
        AllOf members;
        for (const auto& member : object) {
            const AcceptanceCheck::Node* schema = node.additional;
            for (const auto& [name, property] : node.properties) {
                if (name == member.key()) {
                    schema = property;
                    break;
                }
            }
            if (schema && members.add(check(*schema, member.value()))) break;
        }
        return members.verdict();
    }

    Verdict check_array(const AcceptanceCheck::Node& node, const json::array& array) const {
        if (node.min_items && array.size() < *node.min_items) return Verdict::invalid;
        if (node.max_items && array.size() > *node.max_items) return Verdict::invalid;
        AllOf items;
        if (node.unique_items && items.add(distinct_strings(array))) return Verdict::invalid;
        if (node.items == nullptr) return items.verdict();
        for (const auto& item : array) {
            if (items.add(check(*node.items, item))) break;
        }
        return items.verdict();
    }

    // Only strings are compared here; any other item leaves uniqueness to valijson.
    static Verdict distinct_strings(const json::array& array) {
        std::vector<std::string_view> texts;
        texts.reserve(array.size());
        for (const auto& item : array) {
            if (!item.is_string()) return Verdict::unknown;
            texts.emplace_back(item.get_string());
        }
        std::sort(texts.begin(), texts.end());
        return std::adjacent_find(texts.begin(), texts.end()) == texts.end() ? Verdict::valid
                                                                             : Verdict::invalid;
    }

    static Verdict check_string(const AcceptanceCheck::Node& node, const json::string& text) {
        if (node.min_length || node.max_length) {
            const auto length = code_points(text);
            if (!length) return Verdict::unknown;
            if (node.min_length && *length < *node.min_length) return Verdict::invalid;
            if (node.max_length && *length > *node.max_length) return Verdict::invalid;
        }
        const std::string_view chars(text.data(), text.size());
        if (node.pattern && !matches_pattern(*node.pattern, chars)) return Verdict::invalid;
        if (is_checked_format(node.format) && !conforms_to_format(node.format, chars))
            return Verdict::invalid;
        return Verdict::valid;
    }

    static bool number_in_bounds(const AcceptanceCheck::Node& node, double number) {
        return !(node.minimum && number < *node.minimum) &&
               !(node.maximum && number > *node.maximum) &&
               !(node.exclusive_minimum && number <= *node.exclusive_minimum) &&
               !(node.exclusive_maximum && number >= *node.exclusive_maximum);
    }

    // Under strict types a string, boolean or null equals only a value of its own kind; numbers,
    // arrays and objects are left to valijson's comparison.
    static Verdict one_of_values(const json::array& values, const json::value& value) {
        if (!(value.is_string() || value.is_bool() || value.is_null())) return Verdict::unknown;
        for (const auto& candidate : values) {
            if (candidate.kind() == value.kind() && candidate == value) return Verdict::valid;
        }
        return Verdict::invalid;
    }

    Verdict any_of(const std::vector<const AcceptanceCheck::Node*>& parts,
                   const json::value& value) const {
        Verdict verdict = Verdict::invalid;
        for (const auto* part : parts) {
            const Verdict result = check(*part, value);
            if (result == Verdict::valid) return result;
            if (result == Verdict::unknown) verdict = result;
        }
        return verdict;
    }

    Verdict one_of(const std::vector<const AcceptanceCheck::Node*>& parts,
                   const json::value& value) const {
        int valid = 0;
        bool unknown = false;
        for (const auto* part : parts) {
            const Verdict result = check(*part, value);
            valid += result == Verdict::valid ? 1 : 0;
            unknown = unknown || result == Verdict::unknown;
        }
        if (valid > 1) return Verdict::invalid;
        if (unknown) return Verdict::unknown;
        return valid == 1 ? Verdict::valid : Verdict::invalid;
    }

    static Verdict negation(Verdict verdict) {
        if (verdict == Verdict::unknown) return verdict;
        return verdict == Verdict::valid ? Verdict::invalid : Verdict::valid;
    }

    Verdict conditional(const AcceptanceCheck::Node& node, const json::value& value) const {
        const Verdict condition = check(*node.condition, value);
        if (condition == Verdict::unknown) return condition;
        const AcceptanceCheck::Node* branch =
            condition == Verdict::valid ? node.then_branch : node.else_branch;
        return branch ? check(*branch, value) : Verdict::valid;
    }
};

}  // namespace

AcceptanceCheck::AcceptanceCheck() : nodes_(std::make_unique<Nodes>()) {}
AcceptanceCheck::~AcceptanceCheck() = default;

std::unique_ptr<const AcceptanceCheck> AcceptanceCheck::compile(
    const json::value& rewritten, const std::vector<std::shared_ptr<const re2::RE2>>& patterns) {
    std::unique_ptr<AcceptanceCheck> check(new AcceptanceCheck());
    check->nodes_->rewritten = rewritten;
    check->nodes_->patterns = patterns;
    try {
        check->root_ = Compiler(*check->nodes_).node_at("");
    } catch (const Unsupported&) {
        return nullptr;
    } catch (const std::exception&) {
        return nullptr;  // a shape only valijson knows what to make of
    }
    return check;
}

bool AcceptanceCheck::conforms(const json::value& document) const {
    return Evaluation().check(*root_, document) == Verdict::valid;
}

}  // namespace engined::contracts
