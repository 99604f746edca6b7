// core/contracts (internal) — each of ContractValidator's two judges alone, for the tests and the
// fuzz target that hold the acceptance check (acceptance_check.hpp) to valijson's verdicts. Both
// run under the work budget validate() gives the document.
#pragma once

#include "contracts/contract_validator.hpp"

#include <boost/json/value.hpp>

#include <optional>

namespace engined::contracts {

struct ValidatorJudges {
    // Whether the schema got an acceptance check (it uses only keywords the check evaluates).
    static bool has_acceptance_check(const ContractValidator& validator);
    // The acceptance check's "conforms"; false without a check or when the budget runs out.
    static bool acceptance_check_conforms(const ContractValidator& validator,
                                          const boost::json::value& document);
    // valijson's verdict; nullopt when the budget runs out.
    static std::optional<bool> valijson_conforms(const ContractValidator& validator,
                                                 const boost::json::value& document);
};

}  // namespace engined::contracts
