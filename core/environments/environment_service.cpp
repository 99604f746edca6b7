#include "environments/environment_service.hpp"

#include "auth/api_keys.hpp"
#include "common/api_error.hpp"
#include "common/crypto.hpp"
#include "common/json_text.hpp"
#include "common/time.hpp"
#include "versions/pin.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <array>

namespace engined::environments {
namespace {

constexpr std::array<std::string_view, 8> kReservedSlugs{"live", "test",  "internal", "admin",
                                                         "api",  "nexio", "draft",    "all"};

std::string read_slug(const boost::json::value& body) {
    const auto* fields = body.if_object();
    const auto* slug = fields ? fields->if_contains("slug") : nullptr;
    if (slug == nullptr || !slug->is_string()) {
        throw ApiError::invalid_request(
            "missing field slug: name the environment, e.g. {\"slug\": \"dev\"}",
            {{"/slug", "is required (a string)"}});
    }
    for (const auto& [key, value] : *fields) {
        if (key != "slug")
            throw ApiError::invalid_request(
                "unknown field '" + std::string(key) + "'",
                {{"/" + std::string(key), "not a field of an environment"}});
    }
    return std::string(slug->get_string());
}

std::optional<std::string> read_pin(const boost::json::value& value, const std::string& pointer) {
    if (value.is_null()) return std::nullopt;
    if (!value.is_string() || !versions::parse_pin(value.get_string())) {
        throw ApiError::invalid_request(pointer + " must be null or a version pin matching " +
                                            std::string(versions::kPinGrammar) +
                                            ", e.g. \"1.x\" or \"1.3\"",
                                        {{pointer, "expected a pin such as \"1.x\""}});
    }
    return std::string(value.get_string());
}

std::string read_engine_pins(const boost::json::value& value) {
    if (value.is_null()) return "{}";
    if (!value.is_object()) {
        throw ApiError::invalid_request(
            "engine_pins must be an object mapping engine slugs to pins",
            {{"/engine_pins", "expected an object"}});
    }
    for (const auto& [engine, pin] : value.get_object()) {
        const std::string pointer = "/engine_pins/" + std::string(engine);
        if (engine.empty() || !read_pin(pin, pointer)) {
            throw ApiError::invalid_request(
                "every entry of engine_pins maps an engine slug to a pin such as \"2.x\"",
                {{pointer, "expected a pin"}});
        }
    }
    return compact_json(value);
}

// An environment's pins, as one text whose hash stands for them in the audit log.
std::string pins_state(const store::Environment& environment) {
    return environment.pinned_engine_version.value_or("") + "\n" + environment.engine_pins_json;
}

}  // namespace

bool is_reserved_slug(std::string_view slug) {
    return std::find(kReservedSlugs.begin(), kReservedSlugs.end(), slug) != kReservedSlugs.end();
}

boost::json::object environment_to_json(const store::Environment& environment) {
    boost::json::object out{{"id", environment.id},
                            {"slug", environment.slug},
                            {"kind", "environment"},
                            {"built_in", environment.built_in}};
    if (environment.pinned_engine_version)
        out["pinned_engine_version"] = *environment.pinned_engine_version;
    out["engine_pins"] = parse_internal_json(environment.engine_pins_json);
    out["created_at"] = format_rfc3339_ms(environment.created_at_ms);
    out["updated_at"] = format_rfc3339_ms(environment.updated_at_ms);
    return out;
}

store::Environment create_environment(store::Store& store, audit::AuditTrail& audit,
                                      const std::string& actor, const std::string& organization,
                                      const std::string& slug) {
    if (!auth::valid_environment_slug(slug)) {
        throw ApiError::invalid_request(
            "slug must be 1-16 lowercase letters, digits or underscores",
            {{"/slug", "got '" + slug + "'"}});
    }
    if (is_reserved_slug(slug)) {
        const std::string why = slug == "live"
                                    ? "an organisation has exactly one live environment, built in"
                                    : "'" + slug + "' is reserved";
        throw ApiError(422, "reserved_environment_slug",
                       why + " (reserved: live, test, internal, admin, api, nexio, draft, all)",
                       {{"/slug", "reserved"}});
    }
    store::Environment environment;
    environment.id = uuid_v4();
    environment.organization = organization;
    environment.slug = slug;
    environment.created_at_ms = environment.updated_at_ms = now_unix_ms();
    store::AuditAppend record = audit.draft({organization, actor, "environment.create", slug, "",
                                             audit::state_hash(pins_state(environment))});
    try {
        store.ensure_builtin_environments(organization, environment.created_at_ms);
        store.insert_environment(environment, kMaxNamedEnvironments, &record);
    } catch (const store::TooManyEnvironments&) {
        throw ApiError(422, "too_many_environments",
                       "an organisation may have at most " + std::to_string(kMaxNamedEnvironments) +
                           " environments besides test and live; delete one first",
                       {{"/slug", "limit of environments reached"}});
    } catch (const std::invalid_argument&) {
        throw ApiError(409, "environment_exists", "environment '" + slug + "' exists already",
                       {{"/slug", "taken"}});
    }
    audit.logged(record);
    return environment;
}

store::Environment find_environment(const store::Store& store, const std::string& organization,
                                    const std::string& slug) {
    auto environment = store.find_environment(organization, slug);
    if (!environment) throw ApiError::not_found("environment '" + slug + "' does not exist");
    return std::move(*environment);
}

void delete_environment(store::Store& store, audit::AuditTrail& audit, const std::string& actor,
                        const std::string& organization, const std::string& slug) {
    const store::Environment environment = find_environment(store, organization, slug);
    if (environment.built_in) {
        throw ApiError(409, "built_in_environment",
                       "environment '" + slug + "' is built in and cannot be deleted");
    }
    store::AuditAppend record = audit.draft({organization, actor, "environment.delete", slug,
                                             audit::state_hash(pins_state(environment)), ""});
    try {
        if (!store.delete_environment(organization, slug, now_unix_ms(), &record)) {
            throw ApiError::not_found("environment '" + slug + "' does not exist");
        }
    } catch (const store::EnvironmentHasActiveKeys& refusal) {
        throw ApiError(409, "environment_has_active_keys",
                       std::string(refusal.what()) + "; revoke them first (enginectl keys revoke)");
    }
    audit.logged(record);
}

boost::json::object EnvironmentService::create(const auth::Principal& caller,
                                               const boost::json::value& body) {
    auth::require_live_key(caller, "creating an environment");
    return environment_to_json(
        create_environment(store_, audit_, caller.key_id, caller.organization, read_slug(body)));
}

// A caller's organisation has its built-in environments: they were added with its first key.
boost::json::object EnvironmentService::list(const auth::Principal& caller) const {
    boost::json::array data;
    for (const store::Environment& environment : store_.list_environments(caller.organization)) {
        data.push_back(environment_to_json(environment));
    }
    return {{"data", std::move(data)}};
}

boost::json::object EnvironmentService::get(const auth::Principal& caller,
                                            const std::string& slug) const {
    return environment_to_json(find_environment(store_, caller.organization, slug));
}

boost::json::object EnvironmentService::update(const auth::Principal& caller,
                                               const std::string& slug,
                                               const boost::json::value& body) {
    auth::require_live_key(caller, "pinning an environment");
    if (!caller.has_scope(auth::kScopeEnginesAdmin)) {
        throw ApiError::forbidden("this API key lacks the scope 'engines:admin'");
    }
    const store::Environment environment =
        set_pins(store_, audit_, caller.key_id, caller.organization, slug, body);
    if (pins_changed_) pins_changed_();
    return environment_to_json(environment);
}

store::Environment set_pins(store::Store& store, audit::AuditTrail& audit, const std::string& actor,
                            const std::string& organization, const std::string& slug,
                            const boost::json::value& body) {
    const auto* fields = body.if_object();
    if (fields == nullptr || fields->empty()) {
        throw ApiError::invalid_request(
            "send an object with pinned_engine_version and/or engine_pins");
    }
    store::Environment environment = find_environment(store, organization, slug);
    const std::string before = pins_state(environment);
    for (const auto& [key, value] : *fields) {
        if (key == "pinned_engine_version") {
            environment.pinned_engine_version = read_pin(value, "/pinned_engine_version");
        } else if (key == "engine_pins") {
            environment.engine_pins_json = read_engine_pins(value);
        } else {
            throw ApiError::invalid_request(
                "unknown field '" + std::string(key) + "'",
                {{"/" + std::string(key), "not a field of an environment"}});
        }
    }
    environment.updated_at_ms = now_unix_ms();
    store::AuditAppend record =
        audit.draft({organization, actor, "environment.update", slug, audit::state_hash(before),
                     audit::state_hash(pins_state(environment))});
    if (!store.update_environment_pins(environment, &record))
        throw ApiError::not_found("environment '" + slug + "' does not exist");
    audit.logged(record);
    return environment;
}

void EnvironmentService::remove(const auth::Principal& caller, const std::string& slug) {
    auth::require_live_key(caller, "deleting an environment");
    delete_environment(store_, audit_, caller.key_id, caller.organization, slug);
}

}  // namespace engined::environments
