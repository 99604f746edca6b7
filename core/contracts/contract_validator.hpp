// core/contracts — JSON Schema (draft 7) contracts: each schema checked and parsed once, then used
// to validate documents from any thread; failures come back as JSON Pointer + message pairs.
// Bounded by construction: a schema with a remote or dangling $ref, a cycle that never reaches a
// nested value, too many subschemas or a pattern RE2 cannot compile is refused; patterns run under
// RE2 (linear time); each validation has a work budget proportional to the document's size.
#pragma once

#include "common/api_error.hpp"

#include <boost/json/value.hpp>

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <vector>

namespace engined::contracts {

// A schema refused, with every problem at its JSON Pointer within the schema.
class InvalidSchema : public std::invalid_argument {
public:
    explicit InvalidSchema(std::vector<ErrorDetail> problems);
    const std::vector<ErrorDetail>& problems() const { return problems_; }

private:
    std::vector<ErrorDetail> problems_;
};

// Steps one validation may take: this many, plus kStepsPerDocumentUnit per value of the document
// and per 64 bytes of its strings. A step is one subschema applied, one member or item it fans out
// to, 64 bytes read by a pattern or format, or 32 pairs compared by uniqueItems.
constexpr std::uint64_t kBaseValidationSteps = 20000;
constexpr std::uint64_t kStepsPerDocumentUnit = 8;

class ContractValidator {
public:
    // Throws InvalidSchema when `schema` is not a usable JSON Schema.
    explicit ContractValidator(const boost::json::value& schema);
    ~ContractValidator();
    ContractValidator(const ContractValidator&) = delete;
    ContractValidator& operator=(const ContractValidator&) = delete;

    // One entry per failing leaf constraint (wrapper errors of combinators are dropped), each
    // with the JSON Pointer of the offending value. Empty when the document conforms. A document
    // that needs more than its work budget gets one error at "" saying so.
    std::vector<ErrorDetail> validate(const boost::json::value& document) const;

private:
    friend struct ValidatorJudges;  // validator_judges.hpp
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// valijson's "<root>[offerings][1]" → "/offerings/1" (with ~0 / ~1 escaping).
std::string to_json_pointer(const std::vector<std::string>& context);

}  // namespace engined::contracts
