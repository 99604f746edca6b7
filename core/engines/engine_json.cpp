#include "engines/engine_json.hpp"

#include "common/json_text.hpp"
#include "common/time.hpp"
#include "versions/pin.hpp"

#include <boost/json.hpp>

namespace engined::engines {

std::string version_name(int major, int minor) {
    return std::to_string(major) + "." + std::to_string(minor);
}

std::optional<std::pair<int, int>> exact_version(const std::string& text) {
    const auto pin = versions::parse_pin(text);
    if (!pin || !pin->minor) return std::nullopt;
    return std::pair{pin->major, *pin->minor};
}

boost::json::object engine_to_json(const store::EngineRecord& engine) {
    return {{"id", engine.id},
            {"slug", engine.slug},
            {"label", engine.label},
            {"description", engine.description},
            {"engine_type", engine.engine_type},
            {"status", engine.status},
            {"built_in", engine.organization.empty()},
            {"created_at", format_rfc3339_ms(engine.created_at_ms)},
            {"updated_at", format_rfc3339_ms(engine.updated_at_ms)}};
}

boost::json::object release_to_json(const store::ReleaseRecord& release) {
    return {{"engine", release.engine_slug},
            {"version", version_name(release.major, release.minor)},
            {"released_at", format_rfc3339_ms(release.released_at_ms)},
            {"changelog", release.changelog},
            {"bump", release.bump},
            {"is_breaking_from_previous_major", release.is_breaking_from_previous_major},
            {"reasons", parse_internal_json(release.reasons_json)},
            {"published_by", release.published_by},
            {"content_hash", release.content_hash}};
}

boost::json::object rollout_to_json(const store::RolloutRecord& rollout) {
    return {{"engine", rollout.engine_slug},
            {"version", version_name(rollout.major, rollout.to_minor)},
            {"from_version", version_name(rollout.major, rollout.from_minor)},
            {"pin", std::to_string(rollout.major) + ".x"},
            {"percent", rollout.percent},
            {"state", rollout.state},
            {"opened_by", rollout.opened_by},
            {"opened_at", format_rfc3339_ms(rollout.opened_at_ms)},
            {"updated_at", format_rfc3339_ms(rollout.updated_at_ms)},
            {"closed_at", rollout.closed_at_ms
                              ? boost::json::value(format_rfc3339_ms(*rollout.closed_at_ms))
                              : boost::json::value(nullptr)}};
}

}  // namespace engined::engines
