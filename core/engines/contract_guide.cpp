#include "engines/contract_guide.hpp"

#include "common/json_text.hpp"

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

// `value` with every array cut to its first `kept` elements and a "… N more" string after them,
// so that an example shows each shape once.
constexpr std::size_t kExampleItemsKept = 1;

boost::json::value abbreviated(const boost::json::value& value) {
    if (const auto* items = value.if_array()) {
        boost::json::array out;
        for (std::size_t i = 0; i < items->size() && i < kExampleItemsKept; ++i)
            out.push_back(abbreviated((*items)[i]));
        if (items->size() > kExampleItemsKept) {
            out.push_back(boost::json::string(
                "… " + std::to_string(items->size() - kExampleItemsKept) + " more"));
        }
        return out;
    }
    if (const auto* members = value.if_object()) {
        boost::json::object out;
        for (const auto& [key, member] : *members) out[key] = abbreviated(member);
        return out;
    }
    return value;
}

const boost::json::value& member_or_null(const boost::json::object& contract, const char* key) {
    static const boost::json::value null_value;
    const auto* found = contract.if_contains(key);
    return found ? *found : null_value;
}

void submitting(std::ostringstream& out, const std::string& slug, const std::string& version) {
    const std::string pin_field =
        version.empty() ? "" : ", \"engine_version\": \"" + version + "\"";
    out << "## Submitting a run\n\n"
        << "```\nPOST /api/v1/engines/" << slug << "/runs\nAuthorization: Bearer nx_test_…\n"
        << "Content-Type: application/json\nIdempotency-Key: <a fresh UUID per logical request>\n\n"
        << "{\"input\": {…}, \"offerings\": [ … ]" << pin_field << "}\n```\n\n"
        << "The answer is `202 {\"run_id\": \"…\", \"status\": \"queued\"}` with a `Location` "
           "header.\n\n"
        << "## Which version to pin\n\n"
        << "- `\"engine_version\": \"MAJOR.MINOR\"` (e.g. `\"1.2\"`): exactly that release, "
           "forever. Use it when "
           "results must be reproducible.\n"
        << "- `\"engine_version\": \"MAJOR.x\"` (e.g. `\"1.x\"`): the newest release of that major "
           "at submit time; "
           "a new major (a breaking change of the contract) never reaches you. The usual choice.\n"
        << "- Omitted or `null`: the engine's current configuration, which its operator may change "
           "at any time.\n\n"
        << (version.empty() ? "This guide describes the current configuration; ask for "
                              "`?engine_version=` to see a "
                              "release's.\n\n"
                            : "This guide describes release " + version + ".\n\n")
        << "## Retries and idempotency\n\n"
        << "Send an `Idempotency-Key` header (1–255 printable ASCII characters) with every submit "
           "and reuse it "
           "when you retry: within 24 hours the same request answers the first answer again (same "
           "`run_id`, "
           "header `Idempotent-Replayed: true`) and creates no second run; the same key with "
           "another body answers "
           "`409 idempotency_conflict`. Use a new key for a corrected request.\n\n"
        << "`429` (`rate_limited`, or `too_many_concurrent_requests`) and `503 unavailable` did "
           "nothing: wait the "
           "`Retry-After` header's seconds, then retry with the same key, doubling the wait on "
           "each further refusal "
           "(with some jitter, capped at about a minute). Every answer carries "
           "`X-RateLimit-Limit`, "
           "`X-RateLimit-Remaining` and `X-RateLimit-Reset` (Unix seconds at which the bucket is "
           "full).\n\n"
        << "Errors use `{\"error\": {\"code\", \"message\", \"details\"}}`: `invalid_request` "
           "(400), `unauthorized` "
           "(401), `forbidden` (403, the key lacks `runs:write`), `not_found` (404), `conflict` "
           "(409, the engine is "
           "archived), `idempotency_conflict` (409), `contract_violation` (422, one detail per "
           "failure with its "
           "JSON Pointer), `unknown_engine_version` (422), `rate_limited` (429), `unavailable` "
           "(503). Do not retry "
           "a 4xx other than 429 unchanged.\n\n"
        << "## Polling for the result\n\n"
        << "`GET /api/v1/runs/{run_id}` until `status` is `completed`, `degraded` or `failed`. "
           "Poll first after "
           "2 s, then multiply the interval by 1.5 up to a 30 s cap (engined usually finishes in "
           "milliseconds, so "
           "the first poll normally finds the run done). `degraded` succeeded with a warning in "
           "`output.degradation_reason`; `failed` carries `error` and `error_details`.\n\n";
}

void scoring(std::ostringstream& out, const boost::json::object& contract) {
    out << "## Scoring dimensions\n\nLevels run from 1.0 (best) to 4.0 (worst); a lower overall "
           "level ranks higher.\n\n"
        << "| key | label | method | enabled |\n| --- | --- | --- | --- |\n";
    if (const auto* dimensions = contract.if_contains("scoring_dimensions");
        dimensions && dimensions->is_array()) {
        for (const auto& dimension : dimensions->get_array()) {
            if (!dimension.is_object()) continue;
            const auto& d = dimension.get_object();
            out << "| `" << text_of(d, "key") << "` | " << text_of(d, "label") << " | "
                << text_of(d, "method") << " | " << text_of(d, "enabled") << " |\n";
        }
    }
    out << "\n## Weight profiles (`input.appetite_bucket`, default `"
        << text_of(contract, "default_appetite_bucket")
        << "`)\n\n| bucket | label | weights |\n| --- | --- | --- |\n";
    if (const auto* profiles = contract.if_contains("appetite_weight_profiles");
        profiles && profiles->is_array()) {
        for (const auto& profile : profiles->get_array()) {
            if (!profile.is_object()) continue;
            const auto& p = profile.get_object();
            out << "| `" << text_of(p, "bucket") << "` | " << text_of(p, "label") << " | `"
                << canonical_json(p.contains("weights") ? p.at("weights")
                                                        : boost::json::value(nullptr))
                << "` |\n";
        }
    }
    out << "\n";
}

}  // namespace

std::string contract_markdown(const boost::json::object& contract, GuideDetail detail) {
    const std::string slug = text_of(contract, "engine");
    const std::string version = text_of(contract, "engine_version");
    const bool full = detail == GuideDetail::full;
    const std::string pin_query = version.empty() ? "" : "engine_version=" + version;
    std::ostringstream out;
    out << "# Engine `" << slug << "`"
        << (version.empty() ? " (current configuration)" : " version " + version) << "\n\n"
        << "Engine type: `" << text_of(contract, "engine_type")
        << "`. This guide is generated from the engine's "
        << "contract; every run request is validated against the request schema before it is "
           "queued. "
        << (full ? "This is the full guide."
                 : "JSON is compact, examples are abbreviated (arrays show their first element and "
                   "`\"… N more\"`) "
                   "and the response schema is left out: `GET /api/v1/engines/" +
                       slug + "/contract.md?" + pin_query + (pin_query.empty() ? "" : "&") +
                       "full=1` has everything, `…/contract` the JSON and "
                       "`…/openapi.json` the OpenAPI 3.0 description.")
        << "\n\n";
    submitting(out, slug, version);
    // The full guide indents its JSON for people; the compact one spends no bytes on whitespace.
    const auto block = [&](const boost::json::value& value) {
        if (full) return json_block(out, value);
        out << "```json\n" << compact_json(value) << "\n```\n\n";
    };
    const auto example = [&](const char* key) {
        return full ? member_or_null(contract, key) : abbreviated(member_or_null(contract, key));
    };
    out << "## Request schema\n\n";
    block(member_or_null(contract, "request_schema"));
    scoring(out, contract);
    out << "## Example request\n\n";
    block(example("example_request"));
    out << "## Example response\n\n";
    block(example("example_response"));
    if (full) {
        out << "## Response schema\n\n";
        json_block(out, member_or_null(contract, "response_schema"));
    }
    return out.str();
}

}  // namespace engined::engines
