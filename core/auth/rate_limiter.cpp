#include "auth/rate_limiter.hpp"

#include "store/store.hpp"

#include <algorithm>
#include <cmath>
#include <functional>

namespace engined::auth {

namespace {

// A lease spends a tenth of a second's tokens; one left unspent for a second is dropped.
constexpr double kLeaseSeconds = 0.1;
constexpr auto kLeaseLifetime = std::chrono::seconds(1);

// The headers' figures for a bucket holding `tokens` after this request; `wait_s` is how long a
// refused caller waits for one token.
RateDecision decide(const RateLimit& limit, bool allowed, double tokens, double wait_s,
                    int64_t now_unix_ms) {
    RateDecision decision;
    decision.limit = limit.burst;
    decision.allowed = allowed;
    decision.remaining = static_cast<int64_t>(std::floor(tokens));
    const double seconds_to_full = (static_cast<double>(limit.burst) - tokens) / limit.per_second;
    decision.reset_unix_s = (now_unix_ms + 999) / 1000 +
                            static_cast<int64_t>(std::ceil(std::max(0.0, seconds_to_full)));
    if (!allowed) {
        decision.retry_after_s = std::max<int64_t>(1, static_cast<int64_t>(std::ceil(wait_s)));
    }
    return decision;
}

// Tokens one lease asks for: a tenth of a second's worth, at least 1, at most the burst.
int64_t lease_size(const RateLimit& limit) {
    const auto tenth = static_cast<int64_t>(std::floor(limit.per_second * kLeaseSeconds));
    return std::clamp<int64_t>(tenth, 1, std::max<int64_t>(1, limit.burst));
}

}  // namespace

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
    const bool allowed = bucket.tokens >= 1.0;
    if (allowed) bucket.tokens -= 1.0;
    return decide(limit, allowed, bucket.tokens, (1.0 - bucket.tokens) / limit.per_second,
                  now_unix_ms);
}

SharedRateLimiter::Lease& SharedRateLimiter::lease_of(const std::string& key_id) {
    Shard& shard = shards_[std::hash<std::string>{}(key_id) % shards_.size()];
    std::lock_guard lock(shard.mutex);
    std::unique_ptr<Lease>& lease = shard.leases[key_id];
    if (!lease) lease = std::make_unique<Lease>();
    return *lease;
}

RateDecision SharedRateLimiter::take(const std::string& key_id, const RateLimit& limit,
                                     Clock::time_point now, int64_t now_unix_ms) {
    Lease& lease = lease_of(key_id);
    std::lock_guard lock(lease.mutex);
    if (now >= lease.expires_at) lease.tokens = 0;
    if (lease.tokens == 0 && now >= lease.refused_until) {
        const store::RateTokenLease taken =
            buckets_.take_rate_tokens(key_id, limit.per_second, limit.burst, lease_size(limit));
        lease.tokens = taken.granted;
        lease.shared_left = taken.tokens_left;
        lease.expires_at = now + kLeaseLifetime;
        const double wait_s =
            taken.granted > 0 ? 0.0 : (1.0 - taken.tokens_left) / limit.per_second;
        lease.refused_until = now + std::chrono::duration_cast<Clock::duration>(
                                        std::chrono::duration<double>(wait_s));
    }
    const bool allowed = lease.tokens > 0;
    if (allowed) --lease.tokens;
    const double wait_s = std::chrono::duration<double>(lease.refused_until - now).count();
    return decide(limit, allowed, static_cast<double>(lease.tokens) + lease.shared_left, wait_s,
                  now_unix_ms);
}

}  // namespace engined::auth
