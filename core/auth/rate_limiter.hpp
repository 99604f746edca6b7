// Per-key token buckets: `burst` requests at once, refilled at `per_second`. RateLimiter keeps
// them in memory (one node: no store write per request; full again after a restart);
// SharedRateLimiter leases tokens from buckets the nodes on one database share.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

namespace engined::store {
class SharedRateBuckets;
}

namespace engined::auth {

struct RateLimit {
    double per_second = 50;
    int64_t burst = 100;
};

struct RateDecision {
    bool allowed = false;
    int64_t limit = 0;          // X-RateLimit-Limit: the bucket's capacity
    int64_t remaining = 0;      // X-RateLimit-Remaining: whole requests left now
    int64_t reset_unix_s = 0;   // X-RateLimit-Reset: when the bucket is full again
    int64_t retry_after_s = 0;  // Retry-After when refused: until one request is allowed
};

class RateLimiter {
public:
    using Clock = std::chrono::steady_clock;

    // Takes one token from `key_id`'s bucket. Thread-safe.
    RateDecision take(const std::string& key_id, const RateLimit& limit, Clock::time_point now,
                      int64_t now_unix_ms);

private:
    struct Bucket {
        double tokens = 0;
        Clock::time_point refilled_at;
    };
    // Sharded so that concurrent requests of different keys rarely wait on one lock.
    struct Shard {
        std::mutex mutex;
        std::unordered_map<std::string, Bucket> buckets;
    };
    std::array<Shard, 16> shards_;
};

// The key's bucket lives in the database (store::SharedRateBuckets), so every node spends the
// same tokens. A node takes a lease of up to a tenth of a second's tokens in one statement and
// spends it locally; after the bucket came up empty it refuses locally until one token has
// refilled. Nodes together never admit more than the bucket gives; a lease a node leaves unspent
// for a second is dropped (fewer admitted, never more), so a burst stays within the key's burst
// plus one lease per node.
class SharedRateLimiter {
public:
    using Clock = RateLimiter::Clock;

    explicit SharedRateLimiter(store::SharedRateBuckets& buckets) : buckets_(buckets) {}

    // Spends one token of `key_id`'s lease, leasing more when it is spent. Thread-safe; throws
    // store::StoreUnavailable when the database cannot be reached.
    RateDecision take(const std::string& key_id, const RateLimit& limit, Clock::time_point now,
                      int64_t now_unix_ms);

private:
    struct Lease {
        std::mutex mutex;  // held across the database take: one lease per key and node
        int64_t tokens = 0;
        double shared_left = 0;  // the shared bucket after this node's last take
        Clock::time_point expires_at;
        Clock::time_point refused_until;
    };
    struct Shard {
        std::mutex mutex;
        std::unordered_map<std::string, std::unique_ptr<Lease>> leases;
    };
    Lease& lease_of(const std::string& key_id);

    store::SharedRateBuckets& buckets_;
    std::array<Shard, 16> shards_;
};

}  // namespace engined::auth
