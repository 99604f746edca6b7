#include "auth/rate_limiter.hpp"

#include <algorithm>
#include <cmath>
#include <functional>

namespace engined::auth {

RateDecision RateLimiter::take(const std::string& key_id, const RateLimit& limit,
                               Clock::time_point now, int64_t now_unix_ms) {
    Shard& shard = shards_[std::hash<std::string>{}(key_id) % shards_.size()];
    std::lock_guard lock(shard.mutex);
    const double capacity = static_cast<double>(limit.burst);
    auto [entry, created] = shard.buckets.try_emplace(key_id, Bucket{capacity, now});
    Bucket& bucket = entry->second;
    if (!created) {
        const double elapsed = std::chrono::duration<double>(now - bucket.refilled_at).count();
        bucket.tokens =
            std::min(capacity, bucket.tokens + std::max(0.0, elapsed) * limit.per_second);
        bucket.refilled_at = now;
    }
    RateDecision decision;
    decision.limit = limit.burst;
    decision.allowed = bucket.tokens >= 1.0;
    if (decision.allowed) bucket.tokens -= 1.0;
    decision.remaining = static_cast<int64_t>(std::floor(bucket.tokens));
    const double seconds_to_full = (capacity - bucket.tokens) / limit.per_second;
    decision.reset_unix_s =
        (now_unix_ms + 999) / 1000 + static_cast<int64_t>(std::ceil(seconds_to_full));
    if (!decision.allowed) {
        decision.retry_after_s = std::max<int64_t>(
            1, static_cast<int64_t>(std::ceil((1.0 - bucket.tokens) / limit.per_second)));
    }
    return decision;
}

}  // namespace engined::auth
