#include "engines/engine_service.hpp"

#include "common/api_error.hpp"
#include "common/crypto.hpp"
#include "common/json_text.hpp"
#include "common/time.hpp"
#include "engines/engine_json.hpp"
#include "engines/presets.hpp"
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
                                            std::to_string(min_length) + "-" + std::to_string(max_length) +
                                            " characters",
                                        {{std::string("/") + name, "bad length or type"}});
    }
    return std::string(value->get_string());
}

// A schema's problems located within the configuration.
std::vector<ErrorDetail> prefixed(const std::string& pointer, const std::vector<ErrorDetail>& problems) {
    std::vector<ErrorDetail> located;
    for (const auto& problem : problems) located.push_back({pointer + problem.pointer, problem.message});
    return located;
}

// PUT and validate take {"config": {...}}, the shape GET answers with.
const boost::json::value& config_of(const boost::json::value& body) {
    const auto* config = body.is_object() ? body.get_object().if_contains("config") : nullptr;
    if (config == nullptr) {
        throw ApiError::invalid_request("the body must be {\"config\": {...}}", {{"/config", "is required"}});
    }
    return *config;
}

}  // namespace

EngineService::EngineService(store::Store& store, const plugin::PluginRegistry& plugins,
                             std::filesystem::path resources_dir, lua::Limits lua_limits)
    : store_(store), plugins_(plugins), resources_dir_(std::move(resources_dir)), lua_limits_(lua_limits) {}

store::EngineRecord EngineService::find(const auth::Principal& caller, const std::string& slug) const {
    auto engine = store_.find_engine(caller.organization, slug);
    if (!engine) throw ApiError::not_found("engine '" + slug + "' does not exist");
    return *engine;
}

store::EngineRecord EngineService::find_own(const auth::Principal& caller, const std::string& slug) const {
    store::EngineRecord engine = find(caller, slug);
    // A built-in engine is shared by every organisation: a change by one would change everyone's runs and pins.
    if (engine.organization.empty()) {
        throw ApiError(403, "builtin_engine_read_only",
                       "built-in engine '" + slug + "' is read-only; copy it into an engine of your organisation "
                       "with POST /api/v1/engines {\"slug\": \"...\", \"copy_from\": \"" + slug + "\"} and change the copy");
    }
    return engine;
}

std::string EngineService::load_config(const std::string& hash) const {
    auto config = store_.config_json(hash);
    if (!config) throw ApiError::internal("configuration " + hash + " is missing from the store");
    return *config;
}

std::shared_ptr<const contracts::ContractValidator> EngineService::request_contract(
    const std::string& config_hash, const std::string& config_json) const {
    std::lock_guard lock(contracts_mutex_);
    auto& slot = contracts_[config_hash];
    if (!slot) {
        // Parsed once per configuration: every run of a version reuses it.
        const boost::json::value config = parse_internal_json(config_json);
        try {
            slot = std::make_shared<const contracts::ContractValidator>(config.at("request_schema"));
        } catch (const contracts::InvalidSchema& refused) {
            // Stored before the schema bounds existed: refused here rather than run.
            contracts_.erase(config_hash);
            throw ApiError(422, "invalid_config",
                           "the engine's request_schema is not usable; PUT a corrected configuration",
                           prefixed("/request_schema", refused.problems()));
        }
    }
    return slot;
}

boost::json::object EngineService::create(const auth::Principal& caller, const boost::json::value& body) {
    if (!body.is_object()) throw ApiError::invalid_request("the request body must be a JSON object");
    const auto& fields = body.get_object();
    const std::string slug = string_field(fields, "slug", true, 1, 200);
    if (!valid_slug(slug)) {
        throw ApiError::invalid_request("slug must be 3-50 characters matching ^[a-z0-9][a-z0-9-]*[a-z0-9]$",
                                        {{"/slug", "got '" + slug + "'"}});
    }
    // With copy_from, the new engine starts from another engine the caller sees (its current
    // configuration, or the release copy_from_version names) instead of its type's preset.
    const std::string source_slug = string_field(fields, "copy_from", false, 1, 200);
    const std::string source_pin = string_field(fields, "copy_from_version", false, 1, 50);
    if (!source_pin.empty() && source_slug.empty()) {
        throw ApiError::invalid_request("copy_from_version needs copy_from: the engine whose release to copy",
                                        {{"/copy_from", "is required with copy_from_version"}});
    }
    std::optional<store::EngineRecord> source;
    std::string source_config_hash;
    if (!source_slug.empty()) {
        source = store_.find_engine(caller.organization, source_slug);
        if (!source) {
            throw ApiError::invalid_request("copy_from names engine '" + source_slug + "', which does not exist",
                                            {{"/copy_from", "unknown engine"}});
        }
        source_config_hash = source_pin.empty() ? source->config_hash : find_release(*source, source_pin).config_hash;
    }
    const std::string label = source && !fields.contains("label") ? source->label
                                                                   : string_field(fields, "label", true, 1, kMaxLabel);
    const std::string description = source && !fields.contains("description")
                                        ? source->description
                                        : string_field(fields, "description", false, 0, kMaxDescription);
    const std::string engine_type = source && !fields.contains("engine_type")
                                        ? source->engine_type
                                        : string_field(fields, "engine_type", true, 1, 100);
    if (plugins_.find(engine_type) == nullptr) {
        throw ApiError::invalid_request("engine_type '" + engine_type + "' is not installed on this server",
                                        {{"/engine_type", "unknown engine type"}});
    }
    if (source && source->engine_type != engine_type) {
        throw ApiError::invalid_request("engine_type '" + engine_type + "' differs from the type '" +
                                            source->engine_type + "' of engine '" + source_slug + "'",
                                        {{"/engine_type", "must match the copied engine's type"}});
    }
    if (store_.find_engine(caller.organization, slug)) {
        throw ApiError(409, "conflict", "an engine with slug '" + slug + "' already exists");
    }
    const std::string config_json =
        source ? load_config(source_config_hash) : canonical_json(load_preset_config(resources_dir_, engine_type));
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
    try {
        store_.insert_engine(engine, config_json);
    } catch (const std::invalid_argument&) {
        throw ApiError(409, "conflict", "an engine with slug '" + slug + "' already exists");
    }
    return engine_to_json(engine);
}

boost::json::array EngineService::list(const auth::Principal& caller) const {
    boost::json::array out;
    for (const auto& engine : store_.list_engines(caller.organization)) out.push_back(engine_to_json(engine));
    return out;
}

boost::json::object EngineService::get(const auth::Principal& caller, const std::string& slug) const {
    return engine_to_json(find(caller, slug));
}

boost::json::object EngineService::archive(const auth::Principal& caller, const std::string& slug) {
    store::EngineRecord engine = find_own(caller, slug);
    engine.updated_at_ms = now_unix_ms();
    store_.set_engine_status(engine.organization, slug, "archived", engine.updated_at_ms);
    engine.status = "archived";
    return engine_to_json(engine);
}

boost::json::object EngineService::get_config(const auth::Principal& caller, const std::string& slug) const {
    const store::EngineRecord engine = find(caller, slug);
    return {{"config", parse_internal_json(load_config(engine.config_hash))},
            {"engine_type", engine.engine_type},
            {"preset", engine.engine_type},
            {"config_hash", engine.config_hash},
            {"config_updated_at", format_rfc3339_ms(engine.config_updated_at_ms)},
            {"config_updated_by", engine.config_updated_by}};
}

boost::json::object EngineService::put_config(const auth::Principal& caller, const std::string& slug,
                                              const boost::json::value& body) {
    const store::EngineRecord engine = find_own(caller, slug);
    if (engine.status == "archived") throw ApiError(409, "conflict", "engine '" + slug + "' is archived");
    const boost::json::value& config = config_of(body);
    auto errors = check_config(engine.engine_type, config);
    if (!errors.empty()) {
        // Worded before the details are moved into the error: argument order is unspecified.
        const std::string message = "the configuration is not usable (" + std::to_string(errors.size()) +
                                    " problem(s)); POST it to .../config/validate for the full list";
        throw ApiError(422, "invalid_config", message, std::move(errors));
    }
    const std::string config_json = canonical_json(config);
    store_.update_engine_config(engine.organization, slug, sha256_hex(config_json), config_json,
                                "api_key:" + caller.key_id, now_unix_ms());
    return get_config(caller, slug);
}

boost::json::object EngineService::validate_config(const auth::Principal& caller, const std::string& slug,
                                                   const boost::json::value& body) const {
    const store::EngineRecord engine = find(caller, slug);
    std::vector<ErrorDetail> errors;
    const auto* config = body.is_object() ? body.get_object().if_contains("config") : nullptr;
    if (config == nullptr) {
        errors.push_back({"/config", "is required: the body must be {\"config\": {...}}"});
    } else {
        errors = check_config(engine.engine_type, *config);
    }
    boost::json::array listed;
    for (const auto& error : errors) listed.push_back({{"path", error.pointer}, {"message", error.message}});
    return {{"valid", errors.empty()}, {"errors", std::move(listed)}};
}

std::vector<ErrorDetail> EngineService::check_config(const std::string& engine_type,
                                                     const boost::json::value& config) const {
    if (!config.is_object()) return {{"", "a configuration must be a JSON object"}};
    const auto& fields = config.get_object();
    std::vector<ErrorDetail> errors = schema_errors(config);
    if (const auto* debug = fields.if_contains("debug"); debug != nullptr && !debug->is_bool()) {
        errors.push_back({"/debug", "must be true or false (true keeps the scorecard's log(...) lines in each run's trace)"});
    }
    const auto* source = fields.if_contains("lua_source");
    if (source == nullptr || !source->is_string()) {
        errors.push_back({"/lua_source", "is required: the Lua scorecard source as a string"});
    } else {
        try {
            lua::Sandbox sandbox(source->get_string(), "scorecard.lua", lua_limits_);
            sandbox.begin_run();
            // A scorecard may prove itself: self_test() must return true.
            if (sandbox.has_function("self_test")) {
                const boost::json::value passed = sandbox.call("self_test", {});
                if (!(passed.is_bool() && passed.get_bool())) {
                    errors.push_back({"/lua_source", "self_test() did not return true"});
                }
            }
        } catch (const lua::LuaError& error) {
            errors.push_back({"/lua_source", truncated_text(error.message(), kMaxErrorMessageBytes)});
        }
    }
    for (auto& error : plugin_config_errors(plugins_, engine_type, config)) errors.push_back(std::move(error));
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

ResolvedEngine EngineService::resolve(const auth::Principal& caller, const std::string& slug,
                                      const std::optional<std::string>& pin) const {
    store::EngineRecord engine = find(caller, slug);
    if (engine.status == "archived") {
        throw ApiError(409, "conflict", "engine '" + slug + "' is archived and accepts no new runs");
    }
    return at_version(std::move(engine), pin);
}

ResolvedEngine EngineService::at_version(store::EngineRecord engine, const std::optional<std::string>& pin) const {
    ResolvedEngine resolved;
    resolved.engine = std::move(engine);
    if (pin) {
        const store::ReleaseRecord release = find_release(resolved.engine, *pin);
        resolved.version = version_name(release.major, release.minor);
        resolved.config_hash = release.config_hash;
    } else {
        resolved.config_hash = resolved.engine.config_hash;
    }
    resolved.config_json = load_config(resolved.config_hash);
    resolved.request_contract = request_contract(resolved.config_hash, resolved.config_json);
    return resolved;
}

std::optional<store::ReleaseRecord> EngineService::matching_release(const store::EngineRecord& engine,
                                                                   const versions::Pin& pin,
                                                                   std::string* available) const {
    std::optional<store::ReleaseRecord> match;
    for (auto& release : store_.list_releases(engine.organization, engine.slug)) {
        if (available) *available += (available->empty() ? "" : ", ") + version_name(release.major, release.minor);
        if (release.major != pin.major) continue;
        if (pin.minor ? release.minor == *pin.minor : (!match || release.minor > match->minor)) {
            match = std::move(release);
        }
    }
    return match;
}

ResolvedEngine EngineService::resolve_for_run(const auth::Principal& caller, const std::string& slug,
                                              const std::optional<std::string>& pin) const {
    std::optional<std::string> chosen = pin;
    std::optional<std::string> source = pin ? std::optional<std::string>("request") : std::nullopt;
    if (!chosen && caller.engine_pins_json != "{}") {
        const boost::json::value pins = parse_internal_json(caller.engine_pins_json);
        if (const auto* engine_pin = pins.as_object().if_contains(slug); engine_pin && engine_pin->is_string()) {
            chosen = std::string(engine_pin->get_string());
            source = "engine_pin";
        }
    }
    if (!chosen && caller.pinned_engine_version) {
        // The environment's default pins only the engines that have a release matching it.
        const store::EngineRecord engine = find(caller, slug);
        const auto parsed = versions::parse_pin(*caller.pinned_engine_version);
        if (parsed && matching_release(engine, *parsed, nullptr)) {
            chosen = caller.pinned_engine_version;
            source = "environment";
        }
    }
    ResolvedEngine resolved = resolve(caller, slug, chosen);
    resolved.pin = std::move(chosen);
    resolved.pin_source = std::move(source);
    return resolved;
}

store::ReleaseRecord EngineService::find_release(const store::EngineRecord& engine, const std::string& pin) const {
    const auto parsed = versions::parse_pin(pin);
    if (!parsed) {
        throw ApiError::invalid_request(
            "engine_version \"" + pin + "\" does not match " + versions::kPinGrammar +
                ": use \"<major>.<minor>\" for an exact release or \"<major>.x\" for the newest minor",
            {{"/engine_version", "does not match " + std::string(versions::kPinGrammar)}});
    }
    std::string available;
    auto match = matching_release(engine, *parsed, &available);
    if (!match) {
        throw ApiError::unknown_engine_version("engine '" + engine.slug + "' has no release matching \"" + pin +
                                               "\" (released: " + (available.empty() ? "none" : available) + ")");
    }
    return *match;
}

boost::json::object EngineService::contract(const auth::Principal& caller, const std::string& slug,
                                            const std::optional<std::string>& pin) const {
    // Archived engines still describe themselves: their runs and pins remain readable.
    const ResolvedEngine resolved = at_version(find(caller, slug), pin);
    const boost::json::value config = parse_internal_json(resolved.config_json);
    const auto& fields = config.get_object();
    auto field = [&](const char* name) {
        const auto* value = fields.if_contains(name);
        return value ? *value : boost::json::value(nullptr);
    };
    return {{"engine", slug},
            {"engine_type", resolved.engine.engine_type},
            {"engine_version", resolved.version ? boost::json::value(*resolved.version) : boost::json::value(nullptr)},
            {"request_schema", field("request_schema")},
            {"response_schema", field("response_schema")},
            {"scoring_dimensions", field("scoring_dimensions")},
            {"appetite_weight_profiles", field("appetite_weight_profiles")},
            {"default_appetite_bucket", field("default_appetite_bucket")},
            {"example_request", field("example_request")},
            {"example_response", field("example_response")}};
}

}  // namespace engined::engines
