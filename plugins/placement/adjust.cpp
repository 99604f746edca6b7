#include "adjust.hpp"

#include "evaluate.hpp"
#include "sdk_names.hpp"

namespace engined::placement {

namespace json = boost::json;

namespace {

constexpr std::string_view kAdjustFunction = "adjust";

json::array offering_ids(const Package& package) {
    json::array ids;
    for (const Offering* offering : package.offerings) {
        ids.push_back(json::string(offering->id));
    }
    return ids;
}

}  // namespace

PackageAdjuster::PackageAdjuster(ScoringHost& host, const json::object& context)
    : host_(host), context_(context), defined_(host.has_function(kAdjustFunction)) {}

std::vector<const Package*> PackageAdjuster::survivors(const std::vector<Package>& ranked,
                                                       std::size_t wanted) {
    std::vector<const Package*> kept;
    for (const Package& package : ranked) {
        if (kept.size() == wanted) {
            break;
        }
        if (!vetoes(package)) {
            kept.push_back(&package);
        }
    }
    return kept;
}

// Asks adjust once per package: a package seen again (the search may return it twice) keeps
// its first answer and is counted and traced once.
bool PackageAdjuster::vetoes(const Package& package) {
    if (!defined_) {
        return false;
    }
    if (const auto decided = decided_.find(package.position); decided != decided_.end()) {
        return decided->second;
    }
    const auto reason = veto_reason(package);
    decided_.emplace(package.position, reason.has_value());
    if (reason) {
        ++vetoed_count_;
        host_.trace("RANK", {{"event", "package_vetoed"},
                             {"offering_ids", offering_ids(package)},
                             {"overall_level", rounded_number(package.scorecard.overall_level)},
                             {"reason", kLuaVeto},
                             {"detail", *reason}});
    }
    return reason.has_value();
}

std::optional<std::string> PackageAdjuster::veto_reason(const Package& package) {
    json::value returned;
    try {
        returned = host_.call(kAdjustFunction, json::array{package_for_script(package), context_});
    } catch (const ScriptFailure& failure) {
        throw run_failure_for(failure, kAdjustFunction);
    }
    if (returned.is_null()) {
        return std::nullopt;
    }
    const json::object* table = returned.if_object();
    const auto veto = table ? find_bool(*table, "veto") : std::nullopt;
    if (!veto) {
        throw RunFailure("lua_error",
                         "adjust must return nil or {veto = true|false, reason = \"...\"}");
    }
    if (!*veto) {
        return std::nullopt;
    }
    return std::string(find_string(*table, "reason").value_or(""));
}

}  // namespace engined::placement
