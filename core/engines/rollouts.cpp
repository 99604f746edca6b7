// Canary rollouts of a release to the runs pinned "<major>.x": open (or change the share of),
// promote, abort and read them. What a range pin then resolves to is rollout_policy.hpp's.
#include "engines/engine_service.hpp"

#include "common/api_error.hpp"
#include "common/time.hpp"
#include "engines/engine_json.hpp"
#include "engines/rollout_policy.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <tuple>

namespace engined::engines {

const EngineService::RolloutEnd EngineService::kPromote{"promoted", "version.rollout.promote",
                                                        "promoting a rollout"};
const EngineService::RolloutEnd EngineService::kAbort{"aborted", "version.rollout.abort",
                                                      "aborting a rollout"};

audit::Action EngineService::rollout_opened(const auth::Principal& caller, const std::string& slug,
                                            const std::string& version, int percent) {
    return {caller.organization,  caller.key_id, "version.rollout.open",
            slug + "@" + version, std::string(), audit::state_hash(std::to_string(percent))};
}

int EngineService::rollout_percent(const boost::json::value& percent, const std::string& where) {
    const auto number = percent.is_int64()    ? std::optional<int64_t>(percent.get_int64())
                        : percent.is_uint64() ? std::optional<int64_t>(static_cast<int64_t>(
                                                    std::min<uint64_t>(percent.get_uint64(), 100)))
                                              : std::nullopt;
    if (!number || *number < 1 || *number > 99) {
        throw ApiError(422, "invalid_rollout_percent",
                       "the rollout's percent must be an integer from 1 to 99 (promote to give "
                       "the new version every run, abort to give it none)",
                       {{where, "expected an integer from 1 to 99"}});
    }
    return static_cast<int>(*number);
}

EngineService::RolloutTarget EngineService::rollout_target(const auth::Principal& caller,
                                                           const std::string& slug,
                                                           const std::string& version,
                                                           const char* action) const {
    auth::require_live_key(caller, action);
    RolloutTarget target;
    target.engine = find_own(caller, slug);
    if (target.engine.status == "archived")
        throw ApiError(409, "conflict", "engine '" + slug + "' is archived");
    const auto numbers = exact_version(version);
    if (!numbers) {
        throw ApiError::invalid_request(
            "version must be \"<major>.<minor>\" without leading zeros, got \"" + version + "\"",
            {{"version", "expected <major>.<minor>"}});
    }
    std::tie(target.major, target.minor) = *numbers;
    target.releases = store_.list_releases(target.engine.organization, slug);
    const bool released =
        std::any_of(target.releases.begin(), target.releases.end(), [&](const auto& release) {
            return release.major == target.major && release.minor == target.minor;
        });
    if (!released) throw ApiError::not_found("engine '" + slug + "' has no version " + version);
    target.rollouts = store_.list_rollouts(target.engine.organization, slug);
    return target;
}

int EngineService::rollout_from(const RolloutTarget& target, int major, int minor) {
    const std::string pin = std::to_string(major) + ".x";
    const std::string version = version_name(major, minor);
    for (const auto& release : target.releases) {
        if (release.major == major && release.minor > minor) {
            throw ApiError(409, "rollout_not_newest",
                           "only the newest minor of " + pin + " can be rolled out; " +
                               version_name(major, release.minor) + " is newer than " + version);
        }
    }
    // What the pin means for everyone else now; the version itself is held back while it rolls out.
    std::vector<store::RolloutRecord> holding = target.rollouts;
    store::RolloutRecord held;
    held.major = major;
    held.to_minor = minor;
    holding.push_back(held);
    const RangeChoice previous = choose_in_range(target.releases, holding, major, std::nullopt);
    if (previous.release == nullptr) {
        throw ApiError(409, "rollout_without_previous",
                       version + " is the first release of " + pin +
                           ": a rollout shares runs between it and an earlier minor, and there is "
                           "none");
    }
    return previous.release->minor;
}

boost::json::object EngineService::rollout(const auth::Principal& caller, const std::string& slug,
                                           const std::string& version,
                                           const boost::json::value& body, bool& created) {
    RolloutTarget target = rollout_target(caller, slug, version, "rolling out a version");
    const auto* fields = body.if_object();
    const auto* percent_field = fields ? fields->if_contains("percent") : nullptr;
    if (percent_field == nullptr) {
        throw ApiError::invalid_request("the body must be {\"percent\": 1..99}",
                                        {{"/percent", "is required"}});
    }
    const int percent = rollout_percent(*percent_field, "/percent");
    const int64_t now = now_unix_ms();
    const auto* open = open_rollout_of(target.rollouts, target.major);
    if (open != nullptr && open->to_minor == target.minor) {
        // The same version again: its share changes (a canary widened or narrowed).
        store::AuditAppend audit =
            audit_.draft({caller.organization, caller.key_id, "version.rollout.percent",
                          slug + "@" + version, audit::state_hash(std::to_string(open->percent)),
                          audit::state_hash(std::to_string(percent))});
        if (!store_.set_rollout_percent(target.engine.organization, slug, target.major, percent,
                                        now, &audit)) {
            throw ApiError(409, "no_open_rollout",
                           "the rollout of " + version + " was closed meanwhile");
        }
        engines_changed();
        audit_.logged(audit);
        created = false;
        return get_rollout(caller, slug, version);
    }
    const int from_minor = rollout_from(target, target.major, target.minor);
    if (open != nullptr) {
        throw ApiError(409, "rollout_open",
                       "version " + version_name(open->major, open->to_minor) +
                           " is rolling out to " + std::to_string(target.major) +
                           ".x; promote or abort it first");
    }
    store::RolloutRecord rollout;
    rollout.organization = target.engine.organization;
    rollout.engine_slug = slug;
    rollout.major = target.major;
    rollout.from_minor = from_minor;
    rollout.to_minor = target.minor;
    rollout.percent = percent;
    rollout.opened_by = "api_key:" + caller.key_id;
    rollout.opened_at_ms = now;
    rollout.updated_at_ms = now;
    store::AuditAppend audit = audit_.draft(rollout_opened(caller, slug, version, percent));
    try {
        store_.open_rollout(rollout, &audit);
    } catch (const std::invalid_argument&) {
        throw ApiError(
            409, "rollout_open",
            "another rollout of " + std::to_string(target.major) + ".x was opened meanwhile");
    }
    engines_changed();
    audit_.logged(audit);
    created = true;
    return rollout_to_json(rollout);
}

boost::json::object EngineService::close_rollout(const auth::Principal& caller,
                                                 const std::string& slug,
                                                 const std::string& version,
                                                 const RolloutEnd& end) {
    const RolloutTarget target = rollout_target(caller, slug, version, end.doing);
    const auto* open = open_rollout_of(target.rollouts, target.major);
    if (open == nullptr || open->to_minor != target.minor) {
        throw ApiError(409, "no_open_rollout", "version " + version + " has no open rollout");
    }
    store::AuditAppend audit =
        audit_.draft({caller.organization, caller.key_id, end.audit_action, slug + "@" + version,
                      audit::state_hash(std::to_string(open->percent)), std::string()});
    if (!store_.close_rollout(target.engine.organization, slug, target.major, end.state,
                              now_unix_ms(), &audit)) {
        throw ApiError(409, "no_open_rollout", "version " + version + " has no open rollout");
    }
    engines_changed();
    audit_.logged(audit);
    return get_rollout(caller, slug, version);
}

boost::json::object EngineService::promote_rollout(const auth::Principal& caller,
                                                   const std::string& slug,
                                                   const std::string& version) {
    return close_rollout(caller, slug, version, kPromote);
}

boost::json::object EngineService::abort_rollout(const auth::Principal& caller,
                                                 const std::string& slug,
                                                 const std::string& version) {
    return close_rollout(caller, slug, version, kAbort);
}

boost::json::object EngineService::get_rollout(const auth::Principal& caller,
                                               const std::string& slug,
                                               const std::string& version) const {
    const store::EngineRecord engine = find(caller, slug);
    const auto numbers = exact_version(version);
    const auto rollouts = store_.list_rollouts(engine.organization, slug);
    const auto* newest =
        numbers ? newest_rollout_of(rollouts, numbers->first, numbers->second) : nullptr;
    if (newest == nullptr) {
        throw ApiError::not_found("version " + version + " of engine '" + slug +
                                  "' has never been rolled out");
    }
    return rollout_to_json(*newest);
}

}  // namespace engined::engines
