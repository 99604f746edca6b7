#include "auth/api_keys.hpp"

#include "common/api_error.hpp"
#include "common/crypto.hpp"
#include "common/time.hpp"
#include "store/store.hpp"

#include <algorithm>
#include <cctype>
#include <optional>
#include <stdexcept>

namespace engined::auth {
namespace {

constexpr std::size_t kSecretBytes = 32;

bool known_scope(const std::string& scope) {
    return scope == kScopeRunsWrite || scope == kScopeRunsRead || scope == kScopeEnginesAdmin ||
           scope == kScopeEnvironmentsAdmin;
}

bool valid_organization(const std::string& organization) {
    return !organization.empty() && organization.size() <= 64 &&
           std::all_of(organization.begin(), organization.end(), [](char c) {
               return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '_' || c == '.';
           });
}

// Whether `key` has the form nx_<slug>_<64 hex>. Only a shape check: the environment is the
// stored record's (a slug such as `test_x` makes `nx_test_x_…` keys, which are not `test` keys).
bool well_formed(std::string_view key) {
    constexpr std::string_view prefix = "nx_";
    const std::size_t secret_chars = 2 * kSecretBytes;
    if (key.size() < prefix.size() + 2 + secret_chars || !key.starts_with(prefix)) return false;
    const std::string_view secret = key.substr(key.size() - secret_chars);
    const std::string_view slug =
        key.substr(prefix.size(), key.size() - prefix.size() - secret_chars - 1);
    return key[key.size() - secret_chars - 1] == '_' && valid_environment_slug(slug) &&
           std::all_of(secret.begin(), secret.end(),
                       [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); });
}

// The key of `Authorization: Bearer <key>` (the scheme case-insensitive); nullopt for any other form.
std::optional<std::string_view> bearer_key(std::string_view authorization) {
    constexpr std::string_view bearer = "Bearer ";
    if (authorization.size() <= bearer.size() ||
        !std::equal(bearer.begin(), bearer.end(), authorization.begin(),
                    [](char a, char b) { return std::tolower(a) == std::tolower(b); })) {
        return std::nullopt;
    }
    return authorization.substr(bearer.size());
}

void require_single(const PresentedHeader& header, const char* name) {
    if (header.count <= 1) return;
    throw ApiError::invalid_request(
        std::string("send one ") + name + " header, not " + std::to_string(header.count),
        {{name, "sent " + std::to_string(header.count) + " times"}});
}

}  // namespace

bool valid_environment_slug(std::string_view slug) {
    return !slug.empty() && slug.size() <= 16 && std::all_of(slug.begin(), slug.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    });
}

std::vector<std::string> default_scopes() {
    return {kScopeRunsWrite, kScopeRunsRead};
}

IssuedKey issue_key(store::Store& store, const std::string& organization,
                    const std::string& environment, const std::vector<std::string>& scopes,
                    std::optional<double> rate_per_second, std::optional<int64_t> rate_burst,
                    store::AuditAppend* audit) {
    if ((rate_per_second && !(*rate_per_second > 0)) || (rate_burst && *rate_burst <= 0)) {
        throw std::invalid_argument("a key's rate limit and burst must be positive");
    }
    if (!valid_organization(organization)) {
        throw std::invalid_argument(
            "organisation must be 1-64 characters of letters, digits, '-', '_' or '.'");
    }
    store.ensure_builtin_environments(organization, now_unix_ms());
    const auto scope = store.find_environment(organization, environment);
    if (!scope) {
        throw std::invalid_argument(
            "environment '" + environment + "' does not exist in organisation '" + organization +
            "' (test, live, or one created with `enginectl environments create`)");
    }
    for (const std::string& scope : scopes) {
        if (!known_scope(scope)) {
            throw std::invalid_argument(
                "unknown scope '" + scope +
                "' (known: runs:write, runs:read, engines:admin, environments:admin)");
        }
    }
    IssuedKey issued;
    const std::string prefix = "nx_" + environment + "_";
    issued.key = prefix + random_hex(kSecretBytes);
    issued.id = "key_" + random_hex(8);
    store::ApiKey record;
    record.id = issued.id;
    record.organization = organization;
    record.environment = environment;
    record.environment_id = scope->id;
    record.scopes = scopes.empty() ? default_scopes() : scopes;
    record.display_prefix = issued.key.substr(0, prefix.size() + 4);
    record.created_at_ms = now_unix_ms();
    record.rate_per_second = rate_per_second;
    record.rate_burst = rate_burst;
    if (audit != nullptr) {
        for (store::AuditRecord& draft : audit->records) draft.target = issued.id;
    }
    store.insert_api_key(record, sha256_hex(issued.key), audit);
    return issued;
}

Principal KeyAuthenticator::authenticate(PresentedHeader authorization,
                                         PresentedHeader x_api_key) const {
    // One credential per request: were two accepted, a proxy in front of engined could check one
    // while engined acts on the other.
    require_single(authorization, "Authorization");
    require_single(x_api_key, "X-API-Key");
    std::string_view key = x_api_key.value;
    if (authorization.count == 1 && x_api_key.count == 1) {
        if (bearer_key(authorization.value) != x_api_key.value) {
            throw ApiError::invalid_request(
                "Authorization and X-API-Key name different keys; send one of them",
                {{"Authorization", "differs from X-API-Key"},
                 {"X-API-Key", "differs from Authorization"}});
        }
    } else if (authorization.count == 1) {
        const auto bearer = bearer_key(authorization.value);
        if (!bearer)
            throw ApiError::unauthorized("the Authorization header must be 'Bearer <API key>'");
        key = *bearer;
    }
    if (key.empty()) {
        throw ApiError::unauthorized(
            "missing API key: send 'Authorization: Bearer <key>' or 'X-API-Key: <key>'");
    }
    if (!well_formed(key)) {
        throw ApiError::unauthorized(
            "malformed API key: keys look like nx_<environment>_<secret>, e.g. nx_test_<secret>");
    }
    const std::string key_hash = sha256_hex(key);
    const uint64_t revocations = store_.key_revocations();
    if (cache_) {
        if (auto cached = cache_->find(key_hash, revocations)) return std::move(*cached);
    }
    const auto record = store_.find_api_key(key_hash);
    // Refusals are not cached: a key created a moment ago works on its first request.
    if (!record || record->revoked_at_ms) {
        throw ApiError::unauthorized("the API key is not valid or has been revoked");
    }
    Principal caller{record->id,
                     record->organization,
                     record->environment,
                     record->environment_id,
                     record->scopes,
                     record->rate_per_second,
                     record->rate_burst,
                     record->pinned_engine_version,
                     record->engine_pins_json};
    if (cache_) cache_->remember(key_hash, caller, revocations);
    return caller;
}

}  // namespace engined::auth
