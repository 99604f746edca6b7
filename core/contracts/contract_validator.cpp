#include "contracts/contract_validator.hpp"

#include <valijson/adapters/boost_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>

#include <algorithm>
#include <stdexcept>

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

}  // namespace

struct ContractValidator::Impl {
    valijson::Schema schema;
};

ContractValidator::ContractValidator(const boost::json::value& schema) : impl_(std::make_unique<Impl>()) {
    if (!schema.is_object()) throw std::invalid_argument("a JSON Schema must be an object");
    try {
        valijson::SchemaParser parser;
        valijson::adapters::BoostJsonAdapter adapter(schema);
        parser.populateSchema(adapter, impl_->schema);
    } catch (const std::exception& error) {
        throw std::invalid_argument(std::string("invalid JSON Schema: ") + error.what());
    }
}

ContractValidator::~ContractValidator() = default;

std::vector<ErrorDetail> ContractValidator::validate(const boost::json::value& document) const {
    // A Validator keeps per-run state; one per call keeps the shared schema thread-safe.
    valijson::Validator validator;
    valijson::ValidationResults results;
    valijson::adapters::BoostJsonAdapter adapter(document);
    if (validator.validate(impl_->schema, adapter, &results)) return {};

    std::vector<valijson::ValidationResults::Error> errors;
    valijson::ValidationResults::Error error;
    while (results.popError(error)) errors.push_back(error);

    std::vector<ErrorDetail> details;
    for (const auto& candidate : errors) {
        if (is_wrapper(candidate, errors)) continue;
        ErrorDetail detail{to_json_pointer(candidate.context), candidate.description};
        const bool duplicate = std::any_of(details.begin(), details.end(), [&](const ErrorDetail& d) {
            return d.pointer == detail.pointer && d.message == detail.message;
        });
        if (!duplicate) details.push_back(std::move(detail));
    }
    return details;
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
        pointer += '/';
        for (char c : token) {
            if (c == '~') pointer += "~0";
            else if (c == '/') pointer += "~1";
            else pointer += c;
        }
    }
    return pointer;
}

}  // namespace engined::contracts
