#include "engines/engine_service.hpp"

#include "common/api_error.hpp"
#include "common/crypto.hpp"
#include "common/json_text.hpp"
#include "common/time.hpp"
#include "engines/engine_json.hpp"
#include "engines/rollout_policy.hpp"
#include "engines/presets.hpp"
#include "engines/scorecard_check.hpp"
#include "versions/pin.hpp"

#include <boost/json.hpp>

#include <regex>

namespace engined::engines {
namespace {

constexpr std::size_t kMaxLabel = 100;
constexpr std::size_t kMaxDescription = 500;

bool valid_slug(const std::string& slug) {
    static const std::regex form("^[a-z0-9][a-z0-9-]*[a-z0-9]$");
    return slug.size() >= 3 && slug.size() <= 50 && std::regex_match(slug, form);
}

std::string string_field(const boost::json::object& body, const char* name, bool required,
                         std::size_t min_length, std::size_t max_length) {
    const auto* value = body.if_contains(name);
    if (value == nullptr || value->is_null()) {
        if (required) {
            throw ApiError::invalid_request(std::string("missing field '") + name + "'",
                                            {{std::string("/") + name, "is required"}});
        }
        return {};
    }
    const std::size_t length = value->is_string() ? utf8_length(value->get_string()) : 0;
    if (!value->is_string() || length < min_length || length > max_length) {
        throw ApiError::invalid_request(std::string("field '") + name + "' must be a string of " +
                                            std::to_string(min_length) + "-" +
                                            std::to_string(max_length) + " characters",
                                        {{std::string("/") + name, "bad length or type"}});
    }
    return std::string(value->get_string());
}

// A schema's problems located within the configuration.
std::vector<ErrorDetail> prefixed(const std::string& pointer,
                                  const std::vector<ErrorDetail>& problems) {
    std::vector<ErrorDetail> located;
    for (const auto& problem : problems)
        located.push_back({pointer + problem.pointer, problem.message});
    return located;
}

// PUT and validate take {"config": {...}}, the shape GET answers with.
const boost::json::value& config_of(const boost::json::value& body) {
    const auto* config = body.is_object() ? body.get_object().if_contains("config") : nullptr;
    if (config == nullptr) {
        throw ApiError::invalid_request("the body must be {\"config\": {...}}",
                                        {{"/config", "is required"}});
    }
    return *config;
}

std::string unquoted(std::string_view tag) {
    if (tag.starts_with("W/")) tag.remove_prefix(2);
    if (tag.size() >= 2 && tag.front() == '"' && tag.back() == '"')
        tag = tag.substr(1, tag.size() - 2);
    return std::string(tag);
}

// The configured weight profiles with the weights runs actually use: a scorecard's weights()
// overrides the configured ones, and the contract advertises what ranks.
boost::json::value profiles_as_run(boost::json::value profiles,
                                   const boost::json::array& effective) {
    if (!profiles.is_array()) return profiles;
    for (auto& profile : profiles.get_array()) {
        if (!profile.is_object()) continue;
        for (const auto& used : effective) {
            if (used.at("bucket") != profile.get_object()["bucket"]) continue;
            profile.get_object()["weights"] = used.at("weights");
            profile.get_object()["weights_source"] = used.at("source");
        }
    }
    return profiles;
}

boost::json::array details_json(const std::vector<ErrorDetail>& details) {
    boost::json::array listed;
    for (const auto& detail : details)
        listed.push_back({{"path", detail.pointer}, {"message", detail.message}});
    return listed;
}

}  // namespace

bool config_hash_matches(std::string_view expected, const std::string& config_hash) {
    // If-Match may list several entity tags; "*" matches any configuration.
    while (!expected.empty()) {
        const auto comma = expected.find(',');
        std::string_view tag = expected.substr(0, comma);
        while (!tag.empty() && tag.front() == ' ') tag.remove_prefix(1);
        while (!tag.empty() && tag.back() == ' ') tag.remove_suffix(1);
        if (tag == "*" || unquoted(tag) == config_hash) return true;
        if (comma == std::string_view::npos) break;
        expected.remove_prefix(comma + 1);
    }
    return false;
}

std::string config_etag(const std::string& config_hash) {
    return "\"" + config_hash + "\"";
}

EngineService::EngineService(store::Store& store, const plugin::PluginRegistry& plugins,
                             std::filesystem::path resources_dir, lua::Limits lua_limits,
                             audit::AuditTrail& audit, std::size_t cached_configs,
                             RunResolutionCache resolutions)
    : store_(store),
      audit_(audit),
      plugins_(plugins),
      resources_dir_(std::move(resources_dir)),
      lua_limits_(lua_limits),
      config_texts_(cached_configs),
      contracts_(cached_configs),
      effective_weights_(cached_configs),
      run_resolutions_(resolutions.ttl, resolutions.capacity, std::move(resolutions.clock)) {}

store::EngineRecord EngineService::find(const auth::Principal& caller,
                                        const std::string& slug) const {
    auto engine = store_.find_engine(caller.organization, slug);
    if (!engine) throw ApiError::not_found("engine '" + slug + "' does not exist");
    return *engine;
}

EngineService::EngineReleases EngineService::releases_of(store::EngineRecord engine) const {
    EngineReleases target{std::move(engine), {}, {}};
    target.releases = store_.list_releases(target.engine.organization, target.engine.slug);
    target.rollouts = store_.list_rollouts(target.engine.organization, target.engine.slug);
    return target;
}

std::shared_ptr<const EngineService::EngineReleases> EngineService::releases_for_runs(
    const auth::Principal& caller, const std::string& slug) const {
    std::string key = caller.organization;
    key += '\n';  // in neither an organisation nor a slug
    key += slug;
    // Read before the store is: a change committed meanwhile makes this entry miss.
    const uint64_t changes = engine_changes_.load(std::memory_order_acquire);
    if (auto cached = run_resolutions_.find(key, changes)) return std::move(*cached);
    auto target = std::make_shared<const EngineReleases>(releases_of(find(caller, slug)));
    run_resolutions_.remember(key, target, changes);
    return target;
}

store::EngineRecord EngineService::find_own(const auth::Principal& caller,
                                            const std::string& slug) const {
    store::EngineRecord engine = find(caller, slug);
    // A built-in engine is shared by every organisation: a change by one would change everyone's runs and pins.
    if (engine.organization.empty()) {
        throw ApiError(403, "builtin_engine_read_only",
                       "built-in engine '" + slug +
                           "' is read-only; copy it into an engine of your organisation "
                           "with POST /api/v1/engines {\"slug\": \"...\", \"copy_from\": \"" +
                           slug + "\"} and change the copy");
    }
    return engine;
}

std::string EngineService::load_config(const std::string& hash) const {
    // Read outside the cache's lock: on a shared store it is a round trip.
    return *config_texts_.get_or_make(hash, [&] {
        auto config = store_.config_json(hash);
        if (!config)
            throw ApiError::internal("configuration " + hash + " is missing from the store");
        return std::make_shared<const std::string>(std::move(*config));
    });
}

std::shared_ptr<const contracts::ContractValidator> EngineService::request_contract(
    const std::string& config_hash) const {
    // Read and parsed outside the cache's lock, once per configuration while it is kept: every
    // run of a version reuses it.
    return contracts_.get_or_make(config_hash, [&] {
        const boost::json::value config = parse_internal_json(load_config(config_hash));
        try {
            return std::make_shared<const contracts::ContractValidator>(
                config.at("request_schema"));
        } catch (const contracts::InvalidSchema& refused) {
            // Stored before the schema bounds existed: refused here rather than run.
            throw ApiError(
                422, "invalid_config",
                "the engine's request_schema is not usable; PUT a corrected configuration",
                prefixed("/request_schema", refused.problems()));
        }
    });
}

boost::json::object EngineService::create(const auth::Principal& caller,
                                          const boost::json::value& body) {
    if (!body.is_object())
        throw ApiError::invalid_request("the request body must be a JSON object");
    const auto& fields = body.get_object();
    const std::string slug = string_field(fields, "slug", true, 1, 200);
    if (!valid_slug(slug)) {
        throw ApiError::invalid_request(
            "slug must be 3-50 characters matching ^[a-z0-9][a-z0-9-]*[a-z0-9]$",
            {{"/slug", "got '" + slug + "'"}});
    }
    // With copy_from, the new engine starts from another engine the caller sees (its current
    // configuration, or the release copy_from_version names) instead of its type's preset.
    const std::string source_slug = string_field(fields, "copy_from", false, 1, 200);
    const std::string source_pin = string_field(fields, "copy_from_version", false, 1, 50);
    if (!source_pin.empty() && source_slug.empty()) {
        throw ApiError::invalid_request(
            "copy_from_version needs copy_from: the engine whose release to copy",
            {{"/copy_from", "is required with copy_from_version"}});
    }
    std::optional<store::EngineRecord> source;
    std::string source_config_hash;
    if (!source_slug.empty()) {
        source = store_.find_engine(caller.organization, source_slug);
        if (!source) {
            throw ApiError::invalid_request(
                "copy_from names engine '" + source_slug + "', which does not exist",
                {{"/copy_from", "unknown engine"}});
        }
        source_config_hash =
            source_pin.empty() ? source->config_hash
                               : find_release(releases_of(*source), source_pin).release.config_hash;
    }
    const std::string label = source && !fields.contains("label")
                                  ? source->label
                                  : string_field(fields, "label", true, 1, kMaxLabel);
    const std::string description =
        source && !fields.contains("description")
            ? source->description
            : string_field(fields, "description", false, 0, kMaxDescription);
    const std::string engine_type = source && !fields.contains("engine_type")
                                        ? source->engine_type
                                        : string_field(fields, "engine_type", true, 1, 100);
    if (plugins_.find(engine_type) == nullptr) {
        throw ApiError::invalid_request(
            "engine_type '" + engine_type + "' is not installed on this server",
            {{"/engine_type", "unknown engine type"}});
    }
    if (source && source->engine_type != engine_type) {
        throw ApiError::invalid_request("engine_type '" + engine_type +
                                            "' differs from the type '" + source->engine_type +
                                            "' of engine '" + source_slug + "'",
                                        {{"/engine_type", "must match the copied engine's type"}});
    }
    if (store_.find_engine(caller.organization, slug)) {
        throw ApiError(409, "conflict", "an engine with slug '" + slug + "' already exists");
    }
    const std::string config_json =
        source ? load_config(source_config_hash)
               : canonical_json(load_preset_config(resources_dir_, engine_type));
    const int64_t now = now_unix_ms();
    store::EngineRecord engine;
    engine.id = "eng_" + random_hex(8);
    engine.organization = caller.organization;
    engine.slug = slug;
    engine.label = label;
    engine.description = description;
    engine.engine_type = engine_type;
    engine.config_hash = sha256_hex(config_json);
    engine.config_updated_by = "api_key:" + caller.key_id;
    engine.config_updated_at_ms = engine.created_at_ms = engine.updated_at_ms = now;
    store::AuditAppend audit = audit_.draft(
        {caller.organization, caller.key_id, "engine.create", slug, "", engine.config_hash});
    try {
        store_.insert_engine(engine, config_json, &audit);
    } catch (const std::invalid_argument&) {
        throw ApiError(409, "conflict", "an engine with slug '" + slug + "' already exists");
    }
    engines_changed();  // the organisation's engine now comes before a built-in one of its slug
    audit_.logged(audit);
    return engine_to_json(engine);
}

boost::json::array EngineService::list(const auth::Principal& caller) const {
    boost::json::array out;
    for (const auto& engine : store_.list_engines(caller.organization))
        out.push_back(engine_to_json(engine));
    return out;
}

boost::json::object EngineService::get(const auth::Principal& caller,
                                       const std::string& slug) const {
    return engine_to_json(find(caller, slug));
}

boost::json::object EngineService::archive(const auth::Principal& caller, const std::string& slug) {
    auth::require_live_key(caller, "archiving an engine");
    return set_status(caller, slug, "archived", "engine.archive");
}

boost::json::object EngineService::unarchive(const auth::Principal& caller,
                                             const std::string& slug) {
    auth::require_live_key(caller, "unarchiving an engine");
    return set_status(caller, slug, "active", "engine.unarchive");
}

boost::json::object EngineService::set_status(const auth::Principal& caller,
                                              const std::string& slug, const std::string& status,
                                              const std::string& action) {
    store::EngineRecord engine = find_own(caller, slug);
    const std::string before = engine.status;
    engine.updated_at_ms = now_unix_ms();
    store::AuditAppend audit = audit_.draft({caller.organization, caller.key_id, action, slug,
                                             audit::state_hash(before), audit::state_hash(status)});
    store_.set_engine_status(engine.organization, slug, status, engine.updated_at_ms, &audit);
    engines_changed();
    audit_.logged(audit);
    engine.status = status;
    return engine_to_json(engine);
}

boost::json::object EngineService::get_config(const auth::Principal& caller,
                                              const std::string& slug) const {
    const store::EngineRecord engine = find(caller, slug);
    return {{"config", parse_internal_json(load_config(engine.config_hash))},
            {"engine_type", engine.engine_type},
            {"preset", engine.engine_type},
            {"config_hash", engine.config_hash},
            {"config_updated_at", format_rfc3339_ms(engine.config_updated_at_ms)},
            {"config_updated_by", engine.config_updated_by}};
}

boost::json::object EngineService::put_config(const auth::Principal& caller,
                                              const std::string& slug,
                                              const boost::json::value& body,
                                              const std::optional<std::string>& if_match) {
    auth::require_live_key(caller, "changing an engine's configuration");
    const boost::json::value& config = config_of(body);
    // Held from the If-Match comparison to the write, so that two writers holding the same hash
    // cannot both succeed on this server.
    std::lock_guard writes(config_writes_mutex_);
    const store::EngineRecord engine = find_own(caller, slug);
    if (engine.status == "archived")
        throw ApiError(409, "conflict", "engine '" + slug + "' is archived");
    if (if_match) require_config_hash(engine, *if_match, "If-Match");
    auto errors = check_config(engine.engine_type, config);
    if (!errors.empty()) {
        // Worded before the details are moved into the error: argument order is unspecified.
        const std::string message =
            "the configuration is not usable (" + std::to_string(errors.size()) +
            " problem(s)); POST it to .../config/validate for the full list";
        throw ApiError(422, "invalid_config", message, std::move(errors));
    }
    const std::string config_json = canonical_json(config);
    const std::string config_hash = sha256_hex(config_json);
    store::AuditAppend audit = audit_.draft({caller.organization, caller.key_id, "config.update",
                                             slug, engine.config_hash, config_hash});
    store_.update_engine_config(engine.organization, slug, config_hash, config_json,
                                "api_key:" + caller.key_id, now_unix_ms(), &audit);
    engines_changed();
    audit_.logged(audit);
    return get_config(caller, slug);
}

void EngineService::require_config_hash(const store::EngineRecord& engine,
                                        const std::string& expected, const std::string& where) {
    if (config_hash_matches(expected, engine.config_hash)) return;
    throw ApiError(412, "precondition_failed",
                   "the configuration of engine '" + engine.slug +
                       "' changed since it was read (now " + engine.config_hash +
                       "); GET it again, review the change and retry",
                   {{where, "expected " + expected + ", current " + engine.config_hash}});
}

boost::json::object EngineService::validate_config(const auth::Principal& caller,
                                                   const std::string& slug,
                                                   const boost::json::value& body) const {
    const store::EngineRecord engine = find(caller, slug);
    std::vector<ErrorDetail> errors;
    std::vector<ErrorDetail> warnings;
    const auto* config = body.is_object() ? body.get_object().if_contains("config") : nullptr;
    if (config == nullptr) {
        errors.push_back({"/config", "is required: the body must be {\"config\": {...}}"});
    } else {
        errors = check_config(engine.engine_type, *config, &warnings);
    }
    return {{"valid", errors.empty()},
            {"errors", details_json(errors)},
            {"warnings", details_json(warnings)}};
}

std::vector<ErrorDetail> EngineService::check_config(const std::string& engine_type,
                                                     const boost::json::value& config,
                                                     std::vector<ErrorDetail>* warnings) const {
    if (!config.is_object()) return {{"", "a configuration must be a JSON object"}};
    const auto& fields = config.get_object();
    std::vector<ErrorDetail> errors = schema_errors(config);
    for (auto& error : example_errors(config)) errors.push_back(std::move(error));
    if (const auto* debug = fields.if_contains("debug"); debug != nullptr && !debug->is_bool()) {
        errors.push_back({"/debug",
                          "must be true or false (true keeps the scorecard's log(...) lines in "
                          "each run's trace)"});
    }
    ScorecardVerdict scorecard = check_scorecard(config, lua_limits_);
    for (auto& error : scorecard.errors) errors.push_back(std::move(error));
    if (warnings != nullptr) *warnings = std::move(scorecard.warnings);
    for (auto& error : plugin_config_errors(plugins_, engine_type, config))
        errors.push_back(std::move(error));
    return errors;
}

std::vector<ErrorDetail> EngineService::schema_errors(const boost::json::value& config) {
    std::vector<ErrorDetail> errors;
    const auto* fields = config.if_object();
    for (const char* schema : {"request_schema", "response_schema"}) {
        const auto* value = fields ? fields->if_contains(schema) : nullptr;
        if (value == nullptr) {
            errors.push_back({std::string("/") + schema, "is required"});
            continue;
        }
        try {
            contracts::ContractValidator check(*value);
        } catch (const contracts::InvalidSchema& refused) {
            for (auto& problem : prefixed(std::string("/") + schema, refused.problems())) {
                errors.push_back(std::move(problem));
            }
        }
    }
    return errors;
}

boost::json::array EngineService::effective_weights(const std::string& config_hash,
                                                    const boost::json::value& config) const {
    // Computed outside the cache's lock: it runs the scorecard, once per configuration.
    return *effective_weights_.get_or_make(config_hash, [&] {
        return std::make_shared<const boost::json::array>(
            check_scorecard(config, lua_limits_).effective_weights);
    });
}

namespace {

void refuse_if_archived(const store::EngineRecord& engine) {
    if (engine.status == "archived") {
        throw ApiError(409, "conflict",
                       "engine '" + engine.slug + "' is archived and accepts no new runs");
    }
}

}  // namespace

ResolvedEngine EngineService::resolve(const auth::Principal& caller, const std::string& slug,
                                      const std::optional<std::string>& pin,
                                      std::optional<std::string_view> run_id) const {
    const EngineReleases target = releases_of(find(caller, slug));
    refuse_if_archived(target.engine);
    return at_version(target, pin, run_id);
}

ResolvedEngine EngineService::at_version(const EngineReleases& target,
                                         const std::optional<std::string>& pin,
                                         std::optional<std::string_view> run_id) const {
    ResolvedEngine resolved;
    resolved.engine = target.engine;
    if (pin) {
        ReleaseMatch match = find_release(target, *pin, run_id);
        resolved.version = version_name(match.release.major, match.release.minor);
        resolved.config_hash = match.release.config_hash;
        resolved.release_content_hash = match.release.content_hash;
        resolved.rollout_share = std::move(match.rollout_share);
    } else {
        resolved.config_hash = resolved.engine.config_hash;
    }
    resolved.request_contract = request_contract(resolved.config_hash);
    return resolved;
}

std::optional<EngineService::ReleaseMatch> EngineService::matching_release(
    const EngineReleases& target, const versions::Pin& pin, std::string* available,
    std::optional<std::string_view> run_id) {
    if (available) {
        for (const auto& release : target.releases)
            *available +=
                (available->empty() ? "" : ", ") + version_name(release.major, release.minor);
    }
    if (pin.minor) {
        // Exact pins never depend on rollouts.
        for (const auto& release : target.releases) {
            if (release.major == pin.major && release.minor == *pin.minor)
                return ReleaseMatch{release, std::nullopt};
        }
        return std::nullopt;
    }
    const RangeChoice choice = choose_in_range(target.releases, target.rollouts, pin.major, run_id);
    if (choice.release == nullptr) return std::nullopt;
    return ReleaseMatch{*choice.release, choice.rollout_share
                                             ? std::optional<std::string>(*choice.rollout_share)
                                             : std::nullopt};
}

ResolvedEngine EngineService::resolve_for_run(const auth::Principal& caller,
                                              const std::string& slug,
                                              const std::optional<std::string>& pin,
                                              std::string_view run_id) const {
    const std::shared_ptr<const EngineReleases> target = releases_for_runs(caller, slug);
    std::optional<std::string> chosen = pin;
    std::optional<std::string> source = pin ? std::optional<std::string>("request") : std::nullopt;
    if (!chosen && caller.engine_pins_json != "{}") {
        const boost::json::value pins = parse_internal_json(caller.engine_pins_json);
        if (const auto* engine_pin = pins.as_object().if_contains(slug);
            engine_pin && engine_pin->is_string()) {
            chosen = std::string(engine_pin->get_string());
            source = "engine_pin";
        }
    }
    if (!chosen && caller.pinned_engine_version) {
        // The environment's default pins only the engines that have a release matching it.
        const auto parsed = versions::parse_pin(*caller.pinned_engine_version);
        if (parsed && matching_release(*target, *parsed, nullptr)) {
            chosen = caller.pinned_engine_version;
            source = "environment";
        }
    }
    refuse_if_archived(target->engine);
    ResolvedEngine resolved = at_version(*target, chosen, run_id);
    resolved.pin = std::move(chosen);
    resolved.pin_source = std::move(source);
    return resolved;
}

EngineService::ReleaseMatch EngineService::find_release(
    const EngineReleases& target, const std::string& pin,
    std::optional<std::string_view> run_id) const {
    const auto parsed = versions::parse_pin(pin);
    if (!parsed) {
        throw ApiError::invalid_request(
            "engine_version \"" + pin + "\" does not match " + versions::kPinGrammar +
                ": use \"<major>.<minor>\" for an exact release or \"<major>.x\" for the newest "
                "minor",
            {{"/engine_version", "does not match " + std::string(versions::kPinGrammar)}});
    }
    std::string available;
    auto match = matching_release(target, *parsed, &available, run_id);
    if (!match) {
        throw ApiError::unknown_engine_version(
            "engine '" + target.engine.slug + "' has no release matching \"" + pin +
            "\" (released: " + (available.empty() ? "none" : available) + ")");
    }
    return *match;
}

boost::json::object EngineService::contract(const auth::Principal& caller, const std::string& slug,
                                            const std::optional<std::string>& pin) const {
    // Archived engines still describe themselves: their runs and pins remain readable.
    const ResolvedEngine resolved = at_version(releases_of(find(caller, slug)), pin);
    const boost::json::value config = parse_internal_json(load_config(resolved.config_hash));
    const auto& fields = config.get_object();
    auto field = [&](const char* name) {
        const auto* value = fields.if_contains(name);
        return value ? *value : boost::json::value(nullptr);
    };
    return {{"engine", slug},
            {"engine_type", resolved.engine.engine_type},
            {"engine_version", resolved.version ? boost::json::value(*resolved.version)
                                                : boost::json::value(nullptr)},
            {"request_schema", field("request_schema")},
            {"response_schema", field("response_schema")},
            {"scoring_dimensions", field("scoring_dimensions")},
            {"appetite_weight_profiles",
             profiles_as_run(field("appetite_weight_profiles"),
                             effective_weights(resolved.config_hash, config))},
            {"default_appetite_bucket", field("default_appetite_bucket")},
            {"example_request", field("example_request")},
            {"example_response", field("example_response")}};
}

}  // namespace engined::engines
