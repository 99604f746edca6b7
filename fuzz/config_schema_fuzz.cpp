// fuzz_config_schema: the JSON Schemas of an engine configuration, as PUT sends them, compiled by
// contracts::ContractValidator and used on a document. The input is a configuration (an object
// with request_schema and response_schema) or a bare schema, then a NUL byte and the document to
// validate (no NUL: each schema validates the configuration itself). Invariants: a refused schema
// says why, each problem at a JSON Pointer; a compiled one validates without throwing, answers
// the same twice, and points each error at a JSON Pointer. A crash, a stack overflow or a hang (a
// $ref cycle, catastrophic backtracking) is what the harness exists to catch. And the acceptance
// check, which answers for conforming documents without valijson, never accepts a document
// valijson refuses.
#include "contracts/contract_validator.hpp"
#include "contracts/validator_judges.hpp"
#include "fuzz_support.hpp"

#include <boost/json/parse.hpp>

#include <optional>
#include <vector>

namespace {

constexpr std::string_view kTarget = "fuzz_config_schema";

std::optional<boost::json::value> parsed(std::string_view text) {
    boost::system::error_code ec;
    boost::json::value value = boost::json::parse(text, ec);
    if (ec) return std::nullopt;
    return value;
}

bool is_pointer(const std::string& pointer) {
    return pointer.empty() || pointer.front() == '/';
}

void check(const boost::json::value& schema, const boost::json::value& document) {
    std::optional<engined::contracts::ContractValidator> validator;
    try {
        validator.emplace(schema);
    } catch (const engined::contracts::InvalidSchema& refused) {
        engined::fuzz::require(!refused.problems().empty(), kTarget,
                               "a schema refused without a problem");
        for (const auto& problem : refused.problems()) {
            engined::fuzz::require(is_pointer(problem.pointer) && !problem.message.empty(), kTarget,
                                   "a problem without a pointer or message: [" + problem.pointer +
                                       "] " + problem.message);
        }
        return;
    }
    const auto errors = validator->validate(document);
    for (const auto& error : errors) {
        engined::fuzz::require(is_pointer(error.pointer), kTarget,
                               "an error pointer that is not one: " + error.pointer);
    }
    const auto again = validator->validate(document);
    engined::fuzz::require(again.size() == errors.size(), kTarget,
                           "two validations of one document differ");
    using engined::contracts::ValidatorJudges;
    if (ValidatorJudges::acceptance_check_conforms(*validator, document)) {
        const std::optional<bool> reference =
            ValidatorJudges::valijson_conforms(*validator, document);
        engined::fuzz::require(!reference || *reference, kTarget,
                               "the acceptance check accepted a document valijson refuses");
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text = engined::fuzz::as_text(data, size);
    const auto separator = text.find('\0');
    const auto config = parsed(text.substr(0, separator));
    const auto document =
        separator == std::string_view::npos ? config : parsed(text.substr(separator + 1));
    if (!config || !document) return 0;
    const auto* fields = config->if_object();
    const bool is_configuration =
        fields && (fields->contains("request_schema") || fields->contains("response_schema"));
    if (!is_configuration) {
        check(*config, *document);
        return 0;
    }
    for (const char* key : {"request_schema", "response_schema"}) {
        if (const auto* schema = fields->if_contains(key)) check(*schema, *document);
    }
    return 0;
}
