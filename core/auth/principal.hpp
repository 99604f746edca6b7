// core/auth — API keys (generation, hashing, lookup), scopes and the caller identity a request
// carries once authenticated. Knows the store's key records, not HTTP.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace engined::auth {

inline constexpr const char* kScopeRunsWrite = "runs:write";
inline constexpr const char* kScopeRunsRead = "runs:read";
inline constexpr const char* kScopeEnginesAdmin = "engines:admin";
// Creating, listing and deleting environments; engines:admin grants it too.
inline constexpr const char* kScopeEnvironmentsAdmin = "environments:admin";

// Who is calling: the key, and the organisation + environment every run it sees belongs to.
// The environment is the key's stored one: its id scopes every environment-scoped object, its
// slug only names it.
struct Principal {
    std::string key_id;
    std::string organization;
    std::string environment;
    std::string environment_id;
    std::vector<std::string> scopes;
    // The key's own limit; unset means the server's default.
    std::optional<double> rate_per_second;
    std::optional<int64_t> rate_burst;
    // The environment's default engine pin and per-engine overrides ({"slug": "2.x"} as JSON text),
    // applied to runs that name no engine_version.
    std::optional<std::string> pinned_engine_version;
    std::string engine_pins_json = "{}";

    bool has_scope(const std::string& scope) const {
        if (scope == kScopeEnvironmentsAdmin && has_scope(kScopeEnginesAdmin)) return true;
        return std::find(scopes.begin(), scopes.end(), scope) != scopes.end();
    }
};

// Changes to what production executes (environments, configuration, releases, archiving) are
// made with a live key only; test and other environments' keys may read, validate and plan.
// ApiError 403 naming `action` and the key's environment otherwise.
void require_live_key(const Principal& caller, const std::string& action);

}  // namespace engined::auth
