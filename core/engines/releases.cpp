// Publishing, listing and shipping immutable engine versions (SPEC §5).
#include "engines/engine_service.hpp"

#include "common/api_error.hpp"
#include "common/crypto.hpp"
#include "common/json_text.hpp"
#include "common/log.hpp"
#include "common/time.hpp"
#include "engines/engine_json.hpp"
#include "engines/config_diff.hpp"
#include "engines/presets.hpp"
#include "engines/rollout_policy.hpp"
#include "versions/pin.hpp"
#include "versions/schema_compare.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

namespace engined::engines {
namespace {

constexpr int kBundleFormat = 1;

// A bundle refused for a reason already worded for the operator.
class BundleRefused : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};
constexpr std::size_t kMaxChangelog = 2000;

// A version's newest rollout, or null.
boost::json::value rollout_json(const std::vector<store::RolloutRecord>& rollouts, int major,
                                int minor) {
    const auto* newest = newest_rollout_of(rollouts, major, minor);
    return newest ? boost::json::value(rollout_to_json(*newest)) : boost::json::value(nullptr);
}

boost::json::array breaking_reasons(const boost::json::value& before,
                                    const boost::json::value& after) {
    boost::json::array reasons;
    for (const char* side : {"request", "response"}) {
        const std::string key = std::string(side) + "_schema";
        const auto changes = versions::breaking_changes(before.at(key), after.at(key));
        for (const auto& change : changes) {
            reasons.push_back({{"pointer", "/" + std::string(side) + change.pointer},
                               {"rule", change.rule},
                               {"message", std::string(side) + ": " + change.message}});
        }
    }
    return reasons;
}

boost::json::object make_bundle(const store::EngineRecord& engine,
                                const store::ReleaseRecord& release,
                                const boost::json::value& config) {
    return {{"bundle_format", kBundleFormat},
            {"engine",
             {{"slug", engine.slug},
              {"engine_type", engine.engine_type},
              {"label", engine.label},
              {"description", engine.description}}},
            {"version", version_name(release.major, release.minor)},
            {"changelog", release.changelog},
            {"bump", release.bump},
            {"is_breaking_from_previous_major", release.is_breaking_from_previous_major},
            {"reasons", parse_internal_json(release.reasons_json)},
            {"published_by", release.published_by},
            {"released_at", format_rfc3339_ms(release.released_at_ms)},
            {"config", config}};
}

std::string read_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

}  // namespace

void EngineService::bootstrap() {
    builtin_engines_ = read_builtin_engines(resources_dir_);
    // Built-in engines seeded by an earlier start: a release shipped since reaches them below.
    std::set<std::string> seeded_before;
    for (const BuiltinEngine& builtin : builtin_engines_) {
        if (plugins_.find(builtin.engine_type) == nullptr) continue;
        if (store_.find_engine("", builtin.slug)) seeded_before.insert(builtin.slug);
        const boost::json::value preset = load_preset_config(resources_dir_, builtin.engine_type);
        const auto errors = check_config(builtin.engine_type, preset);
        if (!errors.empty()) {
            throw std::runtime_error("the preset configuration of engine '" + builtin.slug +
                                     "' is unusable: " + errors.front().pointer + " " +
                                     errors.front().message);
        }
        const std::string config_json = canonical_json(preset);
        const int64_t now = now_unix_ms();
        store::EngineRecord engine;
        engine.id = "eng_" + builtin.slug;
        engine.slug = builtin.slug;
        engine.label = builtin.label;
        engine.description = builtin.description;
        engine.engine_type = builtin.engine_type;
        engine.config_hash = sha256_hex(config_json);
        engine.config_updated_by = "preset";
        engine.config_updated_at_ms = engine.created_at_ms = engine.updated_at_ms = now;
        store_.ensure_builtin_engine(engine, config_json);
        engines_changed();
    }
    const auto versions_dir = resources_dir_ / "versions";
    if (!std::filesystem::is_directory(versions_dir)) return;
    std::vector<std::filesystem::path> bundles;
    for (const auto& engine_dir : std::filesystem::directory_iterator(versions_dir)) {
        if (!engine_dir.is_directory()) continue;
        for (const auto& file : std::filesystem::directory_iterator(engine_dir)) {
            if (file.path().extension() == ".json" && file.path().filename() != kBuiltinEngineFile)
                bundles.push_back(file.path());
        }
    }
    // Oldest first, so that each engine's releases are imported in the order they were made.
    std::sort(bundles.begin(), bundles.end(), [](const auto& a, const auto& b) {
        const auto va = exact_version(a.stem().string());
        const auto vb = exact_version(b.stem().string());
        return std::tuple(a.parent_path(), va.value_or(std::pair{0, 0})) <
               std::tuple(b.parent_path(), vb.value_or(std::pair{0, 0}));
    });
    std::set<std::string> shipped_now;
    for (const auto& file : bundles) {
        if (import_bundle(file)) shipped_now.insert(file.parent_path().filename().string());
    }
    // A new install starts from the preset (the newest bundle's configuration when shipped as
    // documented); an existing one takes the newest release once a bundle newer than it lands.
    for (const std::string& slug : shipped_now) {
        if (seeded_before.contains(slug)) adopt_newest_release(slug);
    }
}

void EngineService::adopt_newest_release(const std::string& slug) {
    const auto releases = store_.list_releases("", slug);
    if (releases.empty()) return;
    const store::ReleaseRecord& newest = releases.back();
    const auto engine = store_.find_engine("", slug);
    if (!engine || engine->config_hash == newest.config_hash) return;
    const std::string version = version_name(newest.major, newest.minor);
    store_.update_engine_config("", slug, newest.config_hash, load_config(newest.config_hash),
                                "release:" + version, now_unix_ms());
    engines_changed();
    log::info("built-in engine moved to its newest release",
              {{"engine", slug}, {"version", version}});
}

bool EngineService::import_bundle(const std::filesystem::path& file) {
    const std::string where =
        "versions/" + file.parent_path().filename().string() + "/" + file.filename().string();
    try {
        return import_bundle_file(file, where);
    } catch (const BundleRefused&) {
        throw;
    } catch (const std::exception& error) {
        // A missing or mistyped field of a hand-edited bundle: still name the file.
        throw std::runtime_error("release bundle " + where + " is malformed: " + error.what());
    }
}

bool EngineService::import_bundle_file(const std::filesystem::path& file,
                                       const std::string& where) {
    auto refuse = [&](const std::string& why) {
        return BundleRefused("release bundle " + where + ": " + why);
    };
    boost::system::error_code ec;
    const boost::json::value bundle = parse_internal_json(read_file(file), ec);
    if (ec || !bundle.is_object()) throw refuse("is not a JSON object");
    const auto& fields = bundle.get_object();
    const auto version = exact_version(file.stem().string());
    const auto* engine_info = fields.if_contains("engine");
    const auto* config = fields.if_contains("config");
    if (!version || !fields.contains("version") ||
        fields.at("version") != boost::json::value(file.stem().string()) ||
        engine_info == nullptr || !engine_info->is_object() || config == nullptr ||
        engine_info->at("slug") != boost::json::value(file.parent_path().filename().string())) {
        throw refuse(
            "its name must be <slug>/<major>.<minor>.json and match its engine.slug and version");
    }
    const std::string slug = file.parent_path().filename().string();
    const std::string content_hash = sha256_hex(canonical_json(bundle));
    if (const auto stored = store_.find_release("", slug, version->first, version->second)) {
        if (stored->content_hash != content_hash) {
            throw refuse(
                "differs from the stored release " + slug + " " + file.stem().string() +
                " (content hash " + content_hash + ", stored " + stored->content_hash +
                "); released versions are immutable: restore the file or export it again with "
                "`enginectl versions export`");
        }
        return false;
    }
    const std::string engine_type(engine_info->at("engine_type").as_string());
    const auto errors = check_config(engine_type, *config);
    if (!errors.empty())
        throw refuse("its configuration is unusable: " + errors.front().pointer + " " +
                     errors.front().message);
    const std::string config_json = canonical_json(*config);
    const int64_t now = now_unix_ms();
    if (!store_.find_engine("", slug)) {
        store::EngineRecord engine;
        engine.id = "eng_" + slug;
        engine.slug = slug;
        engine.label = std::string(engine_info->at("label").as_string());
        engine.description = std::string(engine_info->at("description").as_string());
        engine.engine_type = engine_type;
        engine.config_hash = sha256_hex(config_json);
        engine.config_updated_by = "bundle:" + where;
        engine.config_updated_at_ms = engine.created_at_ms = engine.updated_at_ms = now;
        store_.insert_engine(engine, config_json);
        engines_changed();
    }
    store::ReleaseRecord release;
    release.engine_slug = slug;
    release.major = version->first;
    release.minor = version->second;
    release.config_hash = sha256_hex(config_json);
    release.content_hash = content_hash;
    release.bundle_json = canonical_json(bundle);
    release.changelog = std::string(fields.at("changelog").as_string());
    release.bump = std::string(fields.at("bump").as_string());
    release.is_breaking_from_previous_major =
        fields.at("is_breaking_from_previous_major").as_bool();
    release.reasons_json = canonical_json(fields.at("reasons"));
    release.published_by = std::string(fields.at("published_by").as_string());
    release.released_at_ms = parse_rfc3339_ms(fields.at("released_at").as_string()).value_or(now);
    store_.insert_release(release, config_json);
    engines_changed();
    log::info("release bundle imported", {{"file", where}});
    return true;
}

EngineService::ReleasePlan EngineService::plan_release(const store::EngineRecord& engine) const {
    ReleasePlan plan;
    auto releases = store_.list_releases(engine.organization, engine.slug);
    if (!releases.empty()) plan.newest = std::move(releases.back());
    if (plan.newest && plan.newest->config_hash == engine.config_hash) {
        plan.already_released = true;
        plan.release = *plan.newest;
        return plan;
    }
    plan.config = parse_internal_json(load_config(engine.config_hash));
    // A configuration stored before today's checks existed (schema bounds, the scorecard's hooks,
    // the examples) is refused here, not released.
    if (auto errors = check_config(engine.engine_type, plan.config); !errors.empty()) {
        const std::string message = "the configuration cannot be released: it is not usable (" +
                                    std::to_string(errors.size()) +
                                    " problem(s)); PUT a corrected configuration";
        throw ApiError(422, "invalid_config", message, std::move(errors));
    }
    store::ReleaseRecord& release = plan.release;
    release.organization = engine.organization;
    release.engine_slug = engine.slug;
    release.config_hash = engine.config_hash;
    if (!plan.newest) {
        release.bump = "initial";
    } else {
        const boost::json::array reasons = breaking_reasons(
            parse_internal_json(load_config(plan.newest->config_hash)), plan.config);
        const bool breaking = !reasons.empty();
        release.major = breaking ? plan.newest->major + 1 : plan.newest->major;
        release.minor = breaking ? 0 : plan.newest->minor + 1;
        release.bump = breaking ? "major" : "minor";
        release.is_breaking_from_previous_major = breaking;
        release.reasons_json = canonical_json(reasons);
    }
    return plan;
}

boost::json::object EngineService::plan(const auth::Principal& caller,
                                        const std::string& slug) const {
    const store::EngineRecord engine = find(caller, slug);
    const ReleasePlan plan = plan_release(engine);
    const boost::json::value base = plan.newest
                                        ? parse_internal_json(load_config(plan.newest->config_hash))
                                        : boost::json::value(nullptr);
    const boost::json::value& current = plan.already_released ? base : plan.config;
    return {{"engine", slug},
            {"version", version_name(plan.release.major, plan.release.minor)},
            {"bump", plan.already_released ? "none" : plan.release.bump},
            {"already_released", plan.already_released},
            {"reasons", plan.already_released ? boost::json::value(boost::json::array{})
                                              : parse_internal_json(plan.release.reasons_json)},
            {"config_hash", engine.config_hash},
            {"base_version",
             plan.newest ? boost::json::value(version_name(plan.newest->major, plan.newest->minor))
                         : boost::json::value(nullptr)},
            {"diff", config_diff(base, current)}};
}

boost::json::object EngineService::publish(const auth::Principal& caller, const std::string& slug,
                                           const boost::json::value& body, bool& created,
                                           const std::function<void()>& gate) {
    auth::require_live_key(caller, "publishing a version");
    const store::EngineRecord engine = find_own(caller, slug);
    if (engine.status == "archived")
        throw ApiError(409, "conflict", "engine '" + slug + "' is archived");
    std::string changelog;
    std::optional<int> rollout_percent_now;
    if (body.is_object()) {
        // Published straight into a rollout: "<major>.x" keeps its meaning for the other share.
        if (const auto* percent = body.get_object().if_contains("rollout_percent");
            percent && !percent->is_null()) {
            rollout_percent_now = rollout_percent(*percent, "/rollout_percent");
        }
        if (const auto* text = body.get_object().if_contains("changelog");
            text && !text->is_null()) {
            if (!text->is_string() || utf8_length(text->get_string()) > kMaxChangelog) {
                throw ApiError::invalid_request(
                    "changelog must be a string of at most 2000 characters",
                    {{"/changelog", "bad type or length"}});
            }
            changelog = std::string(text->get_string());
        }
        // The configuration the operator reviewed (plan, diff): publishing another one is refused.
        if (const auto* reviewed = body.get_object().if_contains("config_hash");
            reviewed && !reviewed->is_null()) {
            if (!reviewed->is_string()) {
                throw ApiError::invalid_request(
                    "config_hash must be the configuration hash a plan or GET .../config answered",
                    {{"/config_hash", "expected a string"}});
            }
            require_config_hash(engine, std::string(reviewed->get_string()), "/config_hash");
        }
    }
    ReleasePlan plan = plan_release(engine);
    if (!plan.already_released && gate) gate();
    if (plan.already_released) {
        created = false;
        boost::json::object answer = release_to_json(*plan.newest);
        answer["already_released"] = true;
        return answer;
    }
    store::ReleaseRecord& release = plan.release;
    RolloutTarget rollouts{engine, store_.list_releases(engine.organization, slug),
                           store_.list_rollouts(engine.organization, slug), release.major,
                           release.minor};
    // A new minor would change what an open rollout shares runs between.
    if (const auto* open = open_rollout_of(rollouts.rollouts, release.major)) {
        throw ApiError(409, "rollout_open",
                       "version " + version_name(open->major, open->to_minor) +
                           " is rolling out to " + std::to_string(open->major) +
                           ".x; promote or abort it before publishing another minor");
    }
    release.changelog = changelog;
    release.published_by = "api_key:" + caller.key_id;
    release.released_at_ms = now_unix_ms();
    const boost::json::value bundle = make_bundle(engine, release, plan.config);
    release.bundle_json = canonical_json(bundle);
    release.content_hash = sha256_hex(release.bundle_json);
    const std::string version = version_name(release.major, release.minor);
    std::vector<audit::Action> actions{
        {caller.organization, caller.key_id, "version.publish", slug + "@" + version,
         plan.newest ? plan.newest->content_hash : std::string(), release.content_hash}};
    if (rollout_percent_now)
        actions.push_back(rollout_opened(caller, slug, version, *rollout_percent_now));
    store::AuditAppend audit = audit_.draft(actions);
    try {
        if (rollout_percent_now) {
            store::RolloutRecord rollout;
            rollout.organization = engine.organization;
            rollout.engine_slug = slug;
            rollout.major = release.major;
            rollout.from_minor = rollout_from(rollouts, release.major, release.minor);
            rollout.to_minor = release.minor;
            rollout.percent = *rollout_percent_now;
            rollout.opened_by = release.published_by;
            rollout.opened_at_ms = release.released_at_ms;
            rollout.updated_at_ms = release.released_at_ms;
            store_.insert_release_in_rollout(release, canonical_json(plan.config), rollout, &audit);
        } else {
            store_.insert_release(release, canonical_json(plan.config), &audit);
        }
    } catch (const std::invalid_argument&) {
        throw ApiError(409, "conflict",
                       "version " + version + " was published concurrently; publish again");
    }
    engines_changed();
    audit_.logged(audit);
    created = true;
    boost::json::object answer = release_to_json(release);
    answer["already_released"] = false;
    answer["rollout"] =
        rollout_json(store_.list_rollouts(engine.organization, slug), release.major, release.minor);
    return answer;
}

boost::json::array EngineService::list_versions(const auth::Principal& caller,
                                                const std::string& slug) const {
    const store::EngineRecord engine = find(caller, slug);
    auto releases = store_.list_releases(engine.organization, slug);
    const auto rollouts = store_.list_rollouts(engine.organization, slug);
    boost::json::array out;
    for (auto it = releases.rbegin(); it != releases.rend(); ++it) {
        boost::json::object version = release_to_json(*it);
        version["rollout"] = rollout_json(rollouts, it->major, it->minor);
        out.push_back(std::move(version));
    }
    return out;
}

boost::json::object EngineService::get_version(const auth::Principal& caller,
                                               const std::string& slug,
                                               const std::string& version) const {
    boost::json::value bundle = export_version(caller, slug, version);
    const store::EngineRecord engine = find(caller, slug);
    const auto numbers = exact_version(version);
    boost::json::object answer = release_to_json(
        *store_.find_release(engine.organization, slug, numbers->first, numbers->second));
    answer["rollout"] = rollout_json(store_.list_rollouts(engine.organization, slug),
                                     numbers->first, numbers->second);
    answer["config"] = bundle.at("config");
    return answer;
}

boost::json::value EngineService::export_version(const auth::Principal& caller,
                                                 const std::string& slug,
                                                 const std::string& version) const {
    const store::EngineRecord engine = find(caller, slug);
    const auto numbers = exact_version(version);
    if (!numbers) {
        throw ApiError::invalid_request(
            "version must be \"<major>.<minor>\" without leading zeros, got \"" + version + "\"",
            {{"version", "expected <major>.<minor>"}});
    }
    const auto release =
        store_.find_release(engine.organization, slug, numbers->first, numbers->second);
    if (!release) throw ApiError::not_found("engine '" + slug + "' has no version " + version);
    return parse_internal_json(release->bundle_json);
}

}  // namespace engined::engines
