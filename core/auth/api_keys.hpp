// API keys: `nx_<environment slug>_<secret>` (`nx_test_…`, `nx_live_…`, `nx_dev_…`), 32 random
// bytes from OpenSSL, stored only as their SHA-256 with the organisation, environment (by id) and
// scopes they grant.
#pragma once

#include "auth/key_cache.hpp"
#include "auth/principal.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace engined::store {
class Store;
struct AuditAppend;
}  // namespace engined::store

namespace engined::auth {

struct IssuedKey {
    std::string key;  // shown once; never stored
    std::string id;
};

// An environment slug's shape: 1-16 lowercase letters, digits and underscores.
bool valid_environment_slug(std::string_view slug);

// The scopes a key gets when none are named.
std::vector<std::string> default_scopes();

// Throws std::invalid_argument naming the bad organisation, environment or scope. `environment` is
// a slug of the organisation's (its built-in test and live are created on first need).
// `rate_per_second` / `rate_burst` set the key's own rate limit (both positive); unset, the
// server's default applies. `audit`: the key's audit records, appended in the write that stores
// it (their target becomes the new key's id); null appends none.
IssuedKey issue_key(store::Store& store, const std::string& organization,
                    const std::string& environment, const std::vector<std::string>& scopes,
                    std::optional<double> rate_per_second = std::nullopt,
                    std::optional<int64_t> rate_burst = std::nullopt,
                    store::AuditAppend* audit = nullptr);

// A credential header as the request carried it: its first field's value and how many fields of
// that name came (0: absent).
struct PresentedHeader {
    std::string_view value;
    std::size_t count = 0;
};

// How long a node trusts a key it looked up in its store, and how many such keys it keeps. A key
// revoked through this node is refused on its next request; one revoked elsewhere (another node
// on a shared PostgreSQL store, or enginectl on this node's SQLite file) at most this long after.
inline constexpr std::chrono::milliseconds kTrustedKeyTtl{1000};
inline constexpr std::size_t kTrustedKeyCapacity = 10'000;

class KeyAuthenticator {
public:
    // Every request's key is looked up in `store`: any revocation applies to the next request.
    explicit KeyAuthenticator(const store::Store& store) : store_(store) {}
    // Keys found valid are trusted for the cache's time-to-live without asking `store` again.
    KeyAuthenticator(const store::Store& store, std::unique_ptr<KeyCache> cache)
        : store_(store), cache_(std::move(cache)) {}

    // From `Authorization: Bearer <key>` or `X-API-Key: <key>` (both: they must name the same
    // key). Throws ApiError 400 for a header sent twice or two headers naming different keys,
    // 401 for a missing, malformed, unknown or revoked key.
    Principal authenticate(PresentedHeader authorization, PresentedHeader x_api_key) const;

    // Drops every trusted key, so that the next request of each is looked up again (after a
    // change on this node to what a principal carries, such as its environment's pins).
    void forget_cached_keys() const {
        if (cache_) cache_->clear();
    }

private:
    const store::Store& store_;
    std::unique_ptr<KeyCache> cache_;  // null: none
};

}  // namespace engined::auth
