// core/contracts — JSON Schema (draft 7) contracts: each schema parsed once, then used to
// validate documents from any thread; failures come back as JSON Pointer + message pairs.
#pragma once

#include "common/api_error.hpp"

#include <boost/json/value.hpp>

#include <memory>
#include <vector>

namespace engined::contracts {

class ContractValidator {
public:
    // Throws std::invalid_argument when `schema` is not a usable JSON Schema.
    explicit ContractValidator(const boost::json::value& schema);
    ~ContractValidator();
    ContractValidator(const ContractValidator&) = delete;
    ContractValidator& operator=(const ContractValidator&) = delete;

    // One entry per failing leaf constraint (wrapper errors of combinators are dropped), each
    // with the JSON Pointer of the offending value. Empty when the document conforms.
    std::vector<ErrorDetail> validate(const boost::json::value& document) const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// valijson's "<root>[offerings][1]" → "/offerings/1" (with ~0 / ~1 escaping).
std::string to_json_pointer(const std::vector<std::string>& context);

}  // namespace engined::contracts
