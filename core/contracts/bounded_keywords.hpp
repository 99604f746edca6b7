// core/contracts (internal) — the keywords of the rewritten schema (schema_view.hpp) as valijson
// constraints: `pattern` and `patternProperties` matched with RE2 (linear time), `format` date, time
// and date-time checked without std::regex, and the work-budget step. Each charges the budget of
// the validation running on its thread, which throws WorkBoundExceeded once it is spent.
#pragma once

#include "contracts/schema_view.hpp"

#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>

namespace engined::contracts {

class WorkBoundExceeded : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// The work one validation may do, in steps: one per subschema application and per member or item
// it fans out to, one per 64 bytes a pattern or format reads.
class WorkBudget {
public:
    explicit WorkBudget(std::uint64_t steps);
    ~WorkBudget();
    WorkBudget(const WorkBudget&) = delete;
    WorkBudget& operator=(const WorkBudget&) = delete;

    // Charges the budget installed on this thread (none: nothing to charge).
    static void charge(std::uint64_t steps);

private:
    std::uint64_t limit_;
    std::uint64_t left_;
    WorkBudget* outer_;
};

// What the keywords charge and check, shared by the constraints here and by the acceptance check
// (acceptance_check.hpp). Each charges the budget installed on this thread for what it reads.
std::uint64_t reading_cost(std::size_t bytes);
// Whether `format` is one of the formats checked (date, time, date-time); others are annotations.
bool is_checked_format(std::string_view format);
bool conforms_to_format(std::string_view format, std::string_view text);
bool matches_pattern(const re2::RE2& pattern, std::string_view text);
// The steps of an `x-engined-step` keyword of `kind` (schema_view.cpp's step_kind) applied to a
// value with `size` members or items.
std::uint64_t step_cost(std::int64_t kind, bool is_array, std::uint64_t size);

// The compiled schema and the subschemas the patternProperties rules apply, each compiled as its
// own valijson schema (they are validated from inside a constraint).
struct CompiledSchema {
    valijson::Schema root;
    std::unordered_map<std::string, std::unique_ptr<valijson::Schema>> member_schemas;
    std::vector<std::shared_ptr<const re2::RE2>> patterns;
    std::vector<MembersRule> member_rules;
};

// Compiles `view` (free of problems) into `compiled`; throws what valijson throws.
void compile_schema(SchemaView view, CompiledSchema& compiled);

}  // namespace engined::contracts
