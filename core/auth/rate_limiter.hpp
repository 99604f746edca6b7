// Per-key token buckets: `burst` requests at once, refilled at `per_second`. In memory only, so
// it costs no store write per request; counters start full again after a restart.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

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

}  // namespace engined::auth
