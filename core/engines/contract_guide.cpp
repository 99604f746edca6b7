#include "engines/contract_guide.hpp"

#include "common/json_text.hpp"
#include "versions/pin.hpp"

#include <boost/json.hpp>

#include <sstream>

namespace engined::engines {
namespace {

std::string text_of(const boost::json::object& object, const char* key) {
    const auto* value = object.if_contains(key);
    if (value == nullptr || value->is_null()) return "";
    return value->is_string() ? std::string(value->get_string()) : boost::json::serialize(*value);
}

void json_block(std::ostringstream& out, const boost::json::value& value) {
    std::string text = pretty_json(value);
    out << "```json\n" << text << "```\n\n";
}

}  // namespace

std::string contract_markdown(const boost::json::object& contract) {
    const std::string slug = text_of(contract, "engine");
    const std::string version = text_of(contract, "engine_version");
    const std::string pin_field = version.empty() ? "" : ", \"engine_version\": \"" + version + "\"";
    std::ostringstream out;
    out << "# Engine `" << slug << "`" << (version.empty() ? " (current configuration)" : " version " + version) << "\n\n"
        << "Engine type: `" << text_of(contract, "engine_type") << "`. This guide is generated from the engine's "
        << "contract; every run request is validated against the schema below before it is queued.\n\n"
        << "## Submitting a run\n\n"
        << "```\nPOST /api/v1/engines/" << slug << "/runs\nAuthorization: Bearer nx_test_…\n"
        << "Content-Type: application/json\n\n{\"input\": {…}, \"offerings\": [ … ]" << pin_field << "}\n```\n\n"
        << "The answer is `202 {\"run_id\": \"…\", \"status\": \"queued\"}` with a `Location` header. "
        << (version.empty() ? "Pin `engine_version` (`\"<major>.<minor>\"` or `\"<major>.x\"`) to keep this behaviour "
                              "fixed; without it the engine's current configuration runs.\n\n"
                            : "Keep `engine_version` pinned to get exactly this behaviour forever.\n\n")
        << "Errors use `{\"error\": {\"code\", \"message\", \"details\"}}`: `invalid_request` (400), `unauthorized` (401), "
        << "`forbidden` (403, the key lacks `runs:write`), `not_found` (404), `conflict` (409, the engine is archived), "
        << "`contract_violation` (422, one detail per failure with its JSON Pointer), `unknown_engine_version` (422), "
        << "`unavailable` (503, retry after `Retry-After`).\n\n"
        << "## Polling for the result\n\n"
        << "`GET /api/v1/runs/{run_id}` until `status` is `completed`, `degraded` or `failed`. Poll first after "
        << "2 s, then multiply the interval by 1.5 up to a 30 s cap (engined usually finishes in milliseconds, so "
        << "the first poll normally finds the run done). `degraded` succeeded with a warning in "
        << "`output.degradation_reason`; `failed` carries `error` and `error_details`.\n\n"
        << "## Request schema\n\n";
    json_block(out, contract.at("request_schema"));
    out << "## Scoring dimensions\n\nLevels run from 1.0 (best) to 4.0 (worst); a lower overall level ranks higher.\n\n"
        << "| key | label | method | enabled |\n| --- | --- | --- | --- |\n";
    if (const auto* dimensions = contract.if_contains("scoring_dimensions"); dimensions && dimensions->is_array()) {
        for (const auto& dimension : dimensions->get_array()) {
            if (!dimension.is_object()) continue;
            const auto& d = dimension.get_object();
            out << "| `" << text_of(d, "key") << "` | " << text_of(d, "label") << " | " << text_of(d, "method")
                << " | " << text_of(d, "enabled") << " |\n";
        }
    }
    out << "\n## Weight profiles (`input.appetite_bucket`, default `" << text_of(contract, "default_appetite_bucket")
        << "`)\n\n| bucket | label | weights |\n| --- | --- | --- |\n";
    if (const auto* profiles = contract.if_contains("appetite_weight_profiles"); profiles && profiles->is_array()) {
        for (const auto& profile : profiles->get_array()) {
            if (!profile.is_object()) continue;
            const auto& p = profile.get_object();
            out << "| `" << text_of(p, "bucket") << "` | " << text_of(p, "label") << " | `"
                << canonical_json(p.contains("weights") ? p.at("weights") : boost::json::value(nullptr)) << "` |\n";
        }
    }
    out << "\n## Example request\n\n";
    json_block(out, contract.contains("example_request") ? contract.at("example_request") : boost::json::value(nullptr));
    out << "## Example response\n\n";
    json_block(out, contract.contains("example_response") ? contract.at("example_response") : boost::json::value(nullptr));
    out << "## Response schema\n\n";
    json_block(out, contract.at("response_schema"));
    return out.str();
}

}  // namespace engined::engines
