// fuzz_schema_compare: versions::breaking_changes on two JSON documents taken from one input,
// split at the first NUL byte (before, then after; no NUL: the input is compared with itself).
// Invariants: a schema compared with itself has no breaking change, and the changes between the
// two come sorted by pointer, rule and message as documented.
#include "fuzz_support.hpp"
#include "versions/schema_compare.hpp"

#include <boost/json/parse.hpp>

#include <algorithm>
#include <optional>
#include <tuple>

namespace {

constexpr std::string_view kTarget = "fuzz_schema_compare";

std::optional<boost::json::value> parsed(std::string_view text) {
    boost::system::error_code ec;
    boost::json::value value = boost::json::parse(text, ec);
    if (ec) return std::nullopt;
    return value;
}

std::string listed(const std::vector<engined::versions::BreakingChange>& changes) {
    std::string text;
    for (const auto& change : changes)
        text += " [" + change.pointer + " " + change.rule + ": " + change.message + "]";
    return text;
}

void require_unchanged(const boost::json::value& schema) {
    const auto changes = engined::versions::breaking_changes(schema, schema);
    engined::fuzz::require(changes.empty(), kTarget,
                           "a schema compared with itself breaks:" + listed(changes));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text = engined::fuzz::as_text(data, size);
    const auto separator = text.find('\0');
    const auto before = parsed(text.substr(0, separator));
    const auto after =
        separator == std::string_view::npos ? before : parsed(text.substr(separator + 1));
    if (!before || !after) return 0;

    require_unchanged(*before);
    require_unchanged(*after);
    const auto changes = engined::versions::breaking_changes(*before, *after);
    const bool sorted =
        std::is_sorted(changes.begin(), changes.end(), [](const auto& a, const auto& b) {
            return std::tie(a.pointer, a.rule, a.message) < std::tie(b.pointer, b.rule, b.message);
        });
    engined::fuzz::require(sorted, kTarget, "changes out of order:" + listed(changes));
    return 0;
}
