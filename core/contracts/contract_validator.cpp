#include "contracts/contract_validator.hpp"

#include "contracts/acceptance_check.hpp"
#include "contracts/bounded_keywords.hpp"
#include "contracts/schema_view.hpp"
#include "contracts/validator_judges.hpp"

#include <valijson/adapters/boost_json_adapter.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>

#include <pthread.h>

#include <algorithm>
#include <exception>
#include <system_error>

namespace engined::contracts {
namespace {

bool is_prefix(const std::vector<std::string>& prefix, const std::vector<std::string>& of) {
    return prefix.size() <= of.size() && std::equal(prefix.begin(), prefix.end(), of.begin());
}

// valijson reports, beside each real failure, the wrappers it passed through ("Failed to
// validate item #1 in array."). A wrapper is recognised by its wording and by a more specific
// error at or below its location; only the specific ones reach the client.
bool is_wrapper(const valijson::ValidationResults::Error& error,
                const std::vector<valijson::ValidationResults::Error>& all) {
    if (error.description.rfind("Failed to validate", 0) != 0) return false;
    return std::any_of(all.begin(), all.end(), [&](const auto& other) {
        return &other != &error && is_prefix(error.context, other.context) &&
               other.description.rfind("Failed to validate", 0) != 0;
    });
}

// valijson reports a missing required member at the object that lacks it, worded
// "Missing required property 'name'."; the client is pointed at the member itself
// (/input/address/state), where it has to add the value.
std::vector<std::string> missing_member_context(const valijson::ValidationResults::Error& error) {
    constexpr std::string_view kPrefix = "Missing required property '";
    constexpr std::string_view kSuffix = "'.";
    const std::string_view description = error.description;
    std::vector<std::string> context = error.context;
    if (description.size() > kPrefix.size() + kSuffix.size() && description.starts_with(kPrefix) &&
        description.ends_with(kSuffix)) {
        const auto name = description.substr(kPrefix.size(),
                                             description.size() - kPrefix.size() - kSuffix.size());
        context.push_back("[" + std::string(name) + "]");
    }
    return context;
}

// Values of the document plus 64-byte units of its strings and member names.
std::uint64_t document_units(const boost::json::value& value) {
    switch (value.kind()) {
        case boost::json::kind::string:
            return 1 + value.get_string().size() / 64;
        case boost::json::kind::array: {
            std::uint64_t units = 1;
            for (const auto& item : value.get_array()) units += document_units(item);
            return units;
        }
        case boost::json::kind::object: {
            std::uint64_t units = 1;
            for (const auto& member : value.get_object()) {
                units += member.key().size() / 64 + document_units(member.value());
            }
            return units;
        }
        default:
            return 1;
    }
}

std::string first_problem(const std::vector<ErrorDetail>& problems) {
    if (problems.empty()) return "invalid JSON Schema";
    const ErrorDetail& first = problems.front();
    return first.pointer.empty() ? first.message : first.pointer + ": " + first.message;
}

// Compiling recurses once per nesting level of a schema's subschemas, following `$ref`s, and
// the deepest schema the bounds admit (kMaxSchemaNodes levels) needs more than a thread's usual
// 8 MiB of stack in a sanitizer build (about 7 KiB a level). The compile runs on a thread of its
// own with room for it, whichever thread asked.
constexpr std::size_t kCompileStackBytes = 64u << 20;

template <class Work>
void on_compile_stack(Work&& work) {
    std::exception_ptr failure;
    auto body = [&] {
        try {
            work();
        } catch (...) {
            failure = std::current_exception();
        }
    };
    pthread_attr_t attributes;
    pthread_attr_init(&attributes);
    pthread_attr_setstacksize(&attributes, kCompileStackBytes);
    pthread_t thread;
    const int started = pthread_create(
        &thread, &attributes,
        [](void* run) -> void* {
            (*static_cast<decltype(body)*>(run))();
            return nullptr;
        },
        &body);
    pthread_attr_destroy(&attributes);
    if (started != 0)
        throw std::system_error(started, std::generic_category(), "starting the schema compiler");
    pthread_join(thread, nullptr);
    if (failure) std::rethrow_exception(failure);
}

}  // namespace

InvalidSchema::InvalidSchema(std::vector<ErrorDetail> problems)
    : std::invalid_argument(first_problem(problems)), problems_(std::move(problems)) {}

struct ContractValidator::Impl {
    CompiledSchema compiled;
    std::unique_ptr<const AcceptanceCheck> acceptance;  // nullptr: valijson decides alone
};

ContractValidator::ContractValidator(const boost::json::value& schema)
    : impl_(std::make_unique<Impl>()) {
    if (!schema.is_object())
        throw InvalidSchema({ErrorDetail{"", "a JSON Schema must be an object"}});
    on_compile_stack([&] {
        SchemaView view = make_schema_view(schema);
        if (!view.problems.empty()) throw InvalidSchema(std::move(view.problems));
        impl_->acceptance = AcceptanceCheck::compile(view.document, view.patterns);
        try {
            compile_schema(std::move(view), impl_->compiled);
        } catch (const std::exception& error) {
            throw InvalidSchema(
                {ErrorDetail{"", std::string("invalid JSON Schema: ") + error.what()}});
        }
    });
}

ContractValidator::~ContractValidator() = default;

namespace {

std::uint64_t validation_steps(const boost::json::value& document) {
    return kBaseValidationSteps + kStepsPerDocumentUnit * document_units(document);
}

// A Validator keeps per-run state; one per call keeps the shared schema thread-safe. Throws
// WorkBoundExceeded when the budget installed by the caller runs out.
bool valijson_validates(const CompiledSchema& compiled, const boost::json::value& document,
                        valijson::ValidationResults* results) {
    valijson::Validator validator;
    valijson::adapters::BoostJsonAdapter adapter(document);
    return validator.validate(compiled.root, adapter, results);
}

bool acceptance_conforms(const AcceptanceCheck* check, const boost::json::value& document,
                         std::uint64_t steps) {
    if (check == nullptr) return false;
    try {
        WorkBudget budget(steps);
        return check->conforms(document);
    } catch (const WorkBoundExceeded&) {
        return false;  // valijson's own run reports it
    }
}

}  // namespace

std::vector<ErrorDetail> ContractValidator::validate(const boost::json::value& document) const {
    const std::uint64_t steps = validation_steps(document);
    // Most documents conform: the acceptance check says so without valijson's per-member context
    // paths. Whatever it refuses or cannot judge, valijson judges again and reports.
    if (acceptance_conforms(impl_->acceptance.get(), document, steps)) return {};
    valijson::ValidationResults results;
    try {
        WorkBudget budget(steps);
        if (valijson_validates(impl_->compiled, document, &results)) return {};
    } catch (const WorkBoundExceeded& error) {
        return {{"", error.what()}};
    }

    std::vector<valijson::ValidationResults::Error> errors;
    valijson::ValidationResults::Error error;
    while (results.popError(error)) errors.push_back(error);

    std::vector<ErrorDetail> details;
    for (const auto& candidate : errors) {
        if (is_wrapper(candidate, errors)) continue;
        ErrorDetail detail{to_json_pointer(missing_member_context(candidate)),
                           candidate.description};
        const bool duplicate =
            std::any_of(details.begin(), details.end(), [&](const ErrorDetail& d) {
                return d.pointer == detail.pointer && d.message == detail.message;
            });
        if (!duplicate) details.push_back(std::move(detail));
    }
    return details;
}

bool ValidatorJudges::has_acceptance_check(const ContractValidator& validator) {
    return validator.impl_->acceptance != nullptr;
}

bool ValidatorJudges::acceptance_check_conforms(const ContractValidator& validator,
                                                const boost::json::value& document) {
    return acceptance_conforms(validator.impl_->acceptance.get(), document,
                               validation_steps(document));
}

std::optional<bool> ValidatorJudges::valijson_conforms(const ContractValidator& validator,
                                                       const boost::json::value& document) {
    try {
        WorkBudget budget(validation_steps(document));
        return valijson_validates(validator.impl_->compiled, document, nullptr);
    } catch (const WorkBoundExceeded&) {
        return std::nullopt;
    }
}

std::string to_json_pointer(const std::vector<std::string>& context) {
    std::string pointer;
    for (const std::string& part : context) {
        if (part == "<root>") continue;
        std::string_view token = part;
        if (token.size() >= 2 && token.front() == '[' && token.back() == ']') {
            token = token.substr(1, token.size() - 2);
        }
        if (token.size() >= 2 && token.front() == '"' && token.back() == '"') {
            token = token.substr(1, token.size() - 2);
        }
        pointer += '/' + escape_token(token);
    }
    return pointer;
}

}  // namespace engined::contracts
