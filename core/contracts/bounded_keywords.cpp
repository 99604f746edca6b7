#include "contracts/bounded_keywords.hpp"

#include <re2/re2.h>
#include <valijson/adapters/boost_json_adapter.hpp>
#include <valijson/constraint_builder.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validation_visitor.hpp>

#include <new>
#include <regex>

namespace engined::contracts {
namespace {

thread_local WorkBudget* current_budget = nullptr;

// valijson copies a constraint into its own storage; these are what every constraint here shares.
template <typename Derived>
class BoundedConstraint : public valijson::constraints::PolyConstraint {
private:
    Constraint* cloneInto(void* place) const override {
        return new (place) Derived(static_cast<const Derived&>(*this));
    }
    size_t sizeOf() const override { return sizeof(Derived); }
};

void report(valijson::ValidationResults* results, const std::vector<std::string>& context,
            const std::string& message) {
    if (results != nullptr) results->pushError(context, message);
}

class PatternConstraint : public BoundedConstraint<PatternConstraint> {
public:
    explicit PatternConstraint(std::shared_ptr<const re2::RE2> regex) : regex_(std::move(regex)) {}

    bool validate(const valijson::adapters::Adapter& target,
                  const std::vector<std::string>& context,
                  valijson::ValidationResults* results) const override {
        if (!target.isString()) return true;
        if (matches_pattern(*regex_, target.getString())) return true;
        report(results, context, "Failed to match regex specified by 'pattern' constraint.");
        return false;
    }

private:
    std::shared_ptr<const re2::RE2> regex_;
};

bool leap_year(const std::string& digits) {
    int remainder = 0;  // the year modulo 400, from a digit string of any length
    for (char c : digits) remainder = (remainder * 10 + (c - '0')) % 400;
    return remainder % 4 == 0 && (remainder % 100 != 0 || remainder == 0);
}

bool valid_day(const std::string& year, int month, int day) {
    static constexpr int kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (month == 2 && day == 29) return leap_year(year);
    return day <= kDays[month - 1];
}

// The formats valijson checked, with the same grammar (RFC 3339 full-date, full-time, date-time);
// other formats are annotations and pass, as they did.
class FormatConstraint : public BoundedConstraint<FormatConstraint> {
public:
    explicit FormatConstraint(std::string format) : format_(std::move(format)) {}

    bool validate(const valijson::adapters::Adapter& target,
                  const std::vector<std::string>& context,
                  valijson::ValidationResults* results) const override {
        if (!target.isString() || !is_checked_format(format_)) return true;
        if (conforms_to_format(format_, target.getString())) return true;
        report(results, context, "String should be a valid " + format_);
        return false;
    }

private:
    std::string format_;
};

// The budget step that starts every subschema that fans out; schema_view.cpp's step_kind says
// what it charges.
class StepConstraint : public BoundedConstraint<StepConstraint> {
public:
    explicit StepConstraint(std::int64_t kind) : kind_(kind) {}

    bool validate(const valijson::adapters::Adapter& target, const std::vector<std::string>&,
                  valijson::ValidationResults*) const override {
        const std::uint64_t size = target.isArray()    ? target.getArraySize()
                                   : target.isObject() ? target.getObjectSize()
                                                       : 0;
        WorkBudget::charge(step_cost(kind_, target.isArray(), size));
        return true;
    }

private:
    std::int64_t kind_;
};

class MembersConstraint : public BoundedConstraint<MembersConstraint> {
public:
    MembersConstraint(const CompiledSchema& compiled, const MembersRule& rule)
        : compiled_(&compiled), rule_(&rule) {}

    bool validate(const valijson::adapters::Adapter& target,
                  const std::vector<std::string>& context,
                  valijson::ValidationResults* results) const override {
        if (!target.isObject()) return true;
        bool validated = true;
        target.applyToObject([&](const std::string& name,
                                 const valijson::adapters::Adapter& value) {
            bool matched =
                std::find(rule_->named.begin(), rule_->named.end(), name) != rule_->named.end();
            for (const auto& pattern : rule_->patterns) {
                WorkBudget::charge(reading_cost(name.size()));
                if (!re2::RE2::PartialMatch(name, *pattern.regex)) continue;
                matched = true;
                validated =
                    apply(pattern.schema,
                          "the schema of properties matching '" + pattern.regex->pattern() + "'",
                          name, value, context, results) &&
                    validated;
                if (!validated && results == nullptr) return false;
            }
            if (!matched && rule_->additional) {
                validated = apply(*rule_->additional, "additionalProperties", name, value, context,
                                  results) &&
                            validated;
            }
            return validated || results != nullptr;
        });
        return validated;
    }

private:
    // On failure the member's own pointer gets a wrapper error: dropped when the subschema said more
    // (contract_validator.cpp), the only word on it when it did not (a `false` schema).
    bool apply(const std::string& schema_pointer, const std::string& what, const std::string& name,
               const valijson::adapters::Adapter& value, const std::vector<std::string>& context,
               valijson::ValidationResults* results) const {
        // Documents are always Boost.JSON values (contract_validator.cpp), so members are too.
        const auto& member = dynamic_cast<const valijson::adapters::BoostJsonAdapter&>(value);
        std::vector<std::string> member_context = context;
        member_context.push_back("[" + name + "]");
        std::unordered_map<std::string, std::regex>
            unused_regex_cache;  // no std::regex keyword is left
        valijson::ValidationVisitor<valijson::adapters::BoostJsonAdapter> visitor(
            member, member_context, true, results, unused_regex_cache);
        if (visitor.validateSchema(*compiled_->member_schemas.at(schema_pointer))) return true;
        report(results, member_context, "Failed to validate against " + what + ".");
        return false;
    }

    const CompiledSchema* compiled_;
    const MembersRule* rule_;
};

class PatternBuilder : public valijson::ConstraintBuilder {
public:
    explicit PatternBuilder(const CompiledSchema& compiled) : compiled_(compiled) {}
    valijson::constraints::Constraint* make(
        const valijson::adapters::Adapter& value) const override {
        return new PatternConstraint(compiled_.patterns.at(value.getInteger()));
    }

private:
    const CompiledSchema& compiled_;
};

class FormatBuilder : public valijson::ConstraintBuilder {
public:
    valijson::constraints::Constraint* make(
        const valijson::adapters::Adapter& value) const override {
        return new FormatConstraint(value.getString());
    }
};

class StepBuilder : public valijson::ConstraintBuilder {
public:
    valijson::constraints::Constraint* make(
        const valijson::adapters::Adapter& value) const override {
        return new StepConstraint(value.getInteger());
    }
};

class MembersBuilder : public valijson::ConstraintBuilder {
public:
    explicit MembersBuilder(const CompiledSchema& compiled) : compiled_(compiled) {}
    valijson::constraints::Constraint* make(
        const valijson::adapters::Adapter& value) const override {
        return new MembersConstraint(compiled_, compiled_.member_rules.at(value.getInteger()));
    }

private:
    const CompiledSchema& compiled_;
};

void parse(const boost::json::value& document, const CompiledSchema& compiled,
           valijson::Schema& into) {
    valijson::SchemaParser parser;
    // The parser owns and deletes its builders.
    parser.addConstraintBuilder(kPatternKeyword, new PatternBuilder(compiled));
    parser.addConstraintBuilder(kFormatKeyword, new FormatBuilder());
    parser.addConstraintBuilder(kStepKeyword, new StepBuilder());
    parser.addConstraintBuilder(kMembersKeyword, new MembersBuilder(compiled));
    parser.populateSchema(valijson::adapters::BoostJsonAdapter(document), into);
}

}  // namespace

std::uint64_t reading_cost(std::size_t bytes) {
    return 1 + bytes / 64;
}

bool is_checked_format(std::string_view format) {
    return format == "date" || format == "time" || format == "date-time";
}

bool conforms_to_format(std::string_view format, std::string_view text) {
    WorkBudget::charge(reading_cost(text.size()));
    static const re2::RE2 kDate(R"(([0-9]+)-(0[1-9]|1[012])-(0[1-9]|[12][0-9]|3[01]))");
    static const re2::RE2 kTime(
        R"(([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9]))");
    static const re2::RE2 kDateTime(
        R"(([0-9]+)-(0[1-9]|1[012])-(0[1-9]|[12][0-9]|3[01])[Tt]([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9]))");
    if (format == "time") return re2::RE2::FullMatch(text, kTime);
    std::string year;
    int month = 0;
    int day = 0;
    return re2::RE2::FullMatch(text, format == "date" ? kDate : kDateTime, &year, &month, &day) &&
           valid_day(year, month, day);
}

bool matches_pattern(const re2::RE2& pattern, std::string_view text) {
    WorkBudget::charge(reading_cost(text.size()));
    return re2::RE2::PartialMatch(text, pattern);
}

std::uint64_t step_cost(std::int64_t kind, bool is_array, std::uint64_t size) {
    std::uint64_t steps = 1 + static_cast<std::uint64_t>(kind >> 2);
    if (kind & 1) steps += size;
    if ((kind & 2) && is_array && size > 1) steps += size * (size - 1) / 32;
    return steps;
}

WorkBudget::WorkBudget(std::uint64_t steps) : limit_(steps), left_(steps), outer_(current_budget) {
    current_budget = this;
}

WorkBudget::~WorkBudget() {
    current_budget = outer_;
}

void WorkBudget::charge(std::uint64_t steps) {
    WorkBudget* budget = current_budget;
    if (budget == nullptr) return;
    if (steps > budget->left_) {
        throw WorkBoundExceeded("validating this document takes more than the " +
                                std::to_string(budget->limit_) +
                                " steps its size allows against this schema");
    }
    budget->left_ -= steps;
}

void compile_schema(SchemaView view, CompiledSchema& compiled) {
    compiled.patterns = std::move(view.patterns);
    compiled.member_rules = std::move(view.member_rules);
    parse(view.document, compiled, compiled.root);
    // Each patternProperties/additionalProperties subschema becomes a schema of its own: the
    // rewritten document with its root referring to it, so that its references still resolve.
    boost::json::value rooted = view.document;
    auto add = [&](const std::string& pointer) {
        if (compiled.member_schemas.contains(pointer)) return;
        rooted.as_object()["$ref"] = fragment_of(pointer);
        auto schema = std::make_unique<valijson::Schema>();
        parse(rooted, compiled, *schema);
        compiled.member_schemas.emplace(pointer, std::move(schema));
    };
    for (const auto& rule : compiled.member_rules) {
        for (const auto& pattern : rule.patterns) add(pattern.schema);
        if (rule.additional) add(*rule.additional);
    }
}

}  // namespace engined::contracts
