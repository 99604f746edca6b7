// core/auth/key_cache — the callers this node authenticated a moment ago, by their key's hash,
// so that a store shared by several nodes (where every lookup is a round trip to the database)
// is asked about each key at most once per time-to-live. Knows principals and a clock, not the
// store or HTTP.
#pragma once

#include "auth/principal.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace engined::auth {

class KeyCache {
public:
    using Clock = std::function<std::chrono::steady_clock::time_point()>;

    // An entry answers for `ttl` after it was stored, then the store is asked again: a key
    // revoked in the store is still accepted here for at most `ttl`. At most `capacity` entries;
    // when full, the expired ones go, and if none had, every one (a cache miss costs one lookup).
    KeyCache(
        std::chrono::milliseconds ttl, std::size_t capacity,
        Clock clock = [] { return std::chrono::steady_clock::now(); });

    // The caller stored under `key_hash` less than the time-to-live ago, at the same
    // `revocations` count (store::Store::key_revocations): a revocation through this node makes
    // every entry stored before it miss. The count is read before the lookup it caches.
    std::optional<Principal> find(const std::string& key_hash, uint64_t revocations) const;
    void remember(const std::string& key_hash, const Principal& caller, uint64_t revocations);
    void clear();
    std::size_t size() const;

private:
    struct Entry {
        Principal caller;
        std::chrono::steady_clock::time_point expires_at;
        uint64_t revocations = 0;
    };

    const std::chrono::milliseconds ttl_;
    const std::size_t capacity_;
    const Clock clock_;
    mutable std::mutex mutex_;
    std::unordered_map<std::string, Entry> entries_;
};

}  // namespace engined::auth
