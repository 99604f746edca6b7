// core/environments — an organisation's environments: the built-in `test` and `live` and up to
// five it names, their slug rules, deletion, and the default engine pins of their runs. Used by
// the API (with a caller) and by enginectl (as the operator). Every change is recorded on the
// audit trail as done by `actor` (a key id, or audit::cli_actor()). Errors are ApiError.
#pragma once

#include "audit/audit_trail.hpp"
#include "auth/principal.hpp"
#include "store/store.hpp"

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <functional>
#include <string>
#include <string_view>

namespace engined::environments {

// Named environments an organisation may have besides test and live.
inline constexpr int kMaxNamedEnvironments = 5;

// Slugs no organisation may create (test and live are built in).
bool is_reserved_slug(std::string_view slug);

// {id, slug, kind, built_in, pinned_engine_version (omitted when unset), engine_pins, created_at, updated_at}
boost::json::object environment_to_json(const store::Environment& environment);

// The operator's side: no caller, an organisation named outright.
store::Environment create_environment(store::Store& store, audit::AuditTrail& audit,
                                      const std::string& actor, const std::string& organization,
                                      const std::string& slug);
void delete_environment(store::Store& store, audit::AuditTrail& audit, const std::string& actor,
                        const std::string& organization, const std::string& slug);
// ApiError 404 when absent. An organisation's built-in environments exist once it has a key
// (store::Store::ensure_builtin_environments adds them otherwise).
store::Environment find_environment(const store::Store& store, const std::string& organization,
                                    const std::string& slug);
// Applies any of pinned_engine_version ("1.x" or null) and engine_pins ({"engine-slug": "2.x"},
// replacing the map; null clears it) and returns the environment as stored.
store::Environment set_pins(store::Store& store, audit::AuditTrail& audit, const std::string& actor,
                            const std::string& organization, const std::string& slug,
                            const boost::json::value& fields);

class EnvironmentService {
public:
    // `pins_changed` (may be empty) runs after this service changed an environment's pins: the
    // node forgets the callers it authenticated, whose principals carry the old pins.
    EnvironmentService(store::Store& store, audit::AuditTrail& audit,
                       std::function<void()> pins_changed = {})
        : store_(store), audit_(audit), pins_changed_(std::move(pins_changed)) {}

    // Live keys only. Body {"slug": "dev"}; 201 body: the environment.
    boost::json::object create(const auth::Principal& caller, const boost::json::value& body);
    boost::json::object list(const auth::Principal& caller) const;
    boost::json::object get(const auth::Principal& caller, const std::string& slug) const;
    // Live keys with engines:admin only. Any of pinned_engine_version ("1.x" or null) and
    // engine_pins ({"engine-slug": "2.x"}, replacing the map; null clears it).
    boost::json::object update(const auth::Principal& caller, const std::string& slug,
                               const boost::json::value& body);
    // Live keys only; refused while the environment has active keys, and for test and live.
    void remove(const auth::Principal& caller, const std::string& slug);

private:
    store::Store& store_;
    audit::AuditTrail& audit_;
    const std::function<void()> pins_changed_;
};

}  // namespace engined::environments
