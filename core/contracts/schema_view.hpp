// core/contracts (internal) — checks a JSON Schema from a configuration before anything runs it, and
// rewrites it into the document valijson compiles. Owns the schema bounds: references only local
// and resolvable, no cycle that never reaches a nested value, a bounded chain of such keywords and a
// bounded number of subschemas, patterns RE2 can compile within a program size. In the rewritten
// document the keywords valijson would evaluate with std::regex (`pattern`, `patternProperties`,
// `format`) are replaced by this component's own keywords (bounded_keywords.hpp), and every
// subschema that fans out starts with a work-budget step. Knows no HTTP and no store.
#pragma once

#include "common/api_error.hpp"

#include <boost/json/value.hpp>

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace re2 {
class RE2;
}

namespace engined::contracts {

// Subschemas (objects and booleans at schema positions, definitions included) in one schema.
constexpr std::size_t kMaxSchemaNodes = 2000;
// $ref, allOf, anyOf, oneOf, not, if/then/else and dependencies apply to the same value, so a chain
// of them is recursion that no document ends: it is refused past this length.
constexpr std::size_t kMaxSameValueChain = 32;
// RE2's measure of a compiled pattern (roughly its instruction count).
constexpr int kMaxPatternProgramSize = 2000;

// The keywords of the rewritten document (never seen in a configuration: refused there).
inline constexpr const char* kPatternKeyword = "x-engined-pattern";
inline constexpr const char* kFormatKeyword = "x-engined-format";
inline constexpr const char* kMembersKeyword = "x-engined-members";
inline constexpr const char* kPatternSchemasKeyword = "x-engined-pattern-schemas";
inline constexpr const char* kAdditionalSchemaKeyword = "x-engined-additional-schema";
inline constexpr const char* kStepKeyword = "x-engined-step";

// A JSON Schema `pattern` under RE2 (UTF-8, unanchored search); nullptr and `error` set when RE2
// cannot compile it (backreferences, lookaround…) or its program is larger than the bound.
std::shared_ptr<const re2::RE2> compile_pattern(const std::string& pattern, std::string& error);

// patternProperties with additionalProperties and the names of properties, for one object schema:
// a member matching no name and no pattern gets `additional` (when there is one).
struct MembersRule {
    struct Pattern {
        std::shared_ptr<const re2::RE2> regex;
        std::string schema;  // JSON Pointer of its subschema in the rewritten document
    };
    std::vector<Pattern> patterns;
    std::optional<std::string> additional;
    std::vector<std::string> named;
};

// One reference token of a JSON Pointer: '~' written "~0", '/' written "~1".
std::string escape_token(std::string_view token);

// A JSON Pointer of the rewritten document as a "$ref" for valijson, which percent-decodes it.
std::string fragment_of(const std::string& pointer);
// The JSON Pointer a "$ref" written by fragment_of names; nullopt for any other reference.
std::optional<std::string> pointer_of_fragment(std::string_view reference);

struct SchemaView {
    boost::json::value document;  // what valijson compiles; valid only when `problems` is empty
    std::vector<ErrorDetail> problems;  // each with the JSON Pointer into the schema as sent
    // Referred to by index from the rewritten document's own keywords.
    std::vector<std::shared_ptr<const re2::RE2>> patterns;
    std::vector<MembersRule> member_rules;
};

SchemaView make_schema_view(const boost::json::value& schema);

}  // namespace engined::contracts
