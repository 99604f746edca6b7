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

// Who is calling: the key, and the organisation + environment every run it sees belongs to.
struct Principal {
    std::string key_id;
    std::string organization;
    std::string environment;
    std::vector<std::string> scopes;
    // The key's own limit; unset means the server's default.
    std::optional<double> rate_per_second;
    std::optional<int64_t> rate_burst;

    bool has_scope(const std::string& scope) const {
        return std::find(scopes.begin(), scopes.end(), scope) != scopes.end();
    }
};

}  // namespace engined::auth
