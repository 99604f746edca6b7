#include "auth/rate_limiter.hpp"

#include <gtest/gtest.h>

namespace engined::auth {
namespace {

using namespace std::chrono_literals;

constexpr int64_t kNowMs = 1'800'000'000'000;

TEST(RateLimiter, BurstIsServedThenTheNextRequestWaitsForOneToken) {
    RateLimiter limiter;
    const RateLimit limit{5, 5};
    const auto t0 = RateLimiter::Clock::time_point{} + 1h;
    for (int64_t expected_remaining = 4; expected_remaining >= 0; --expected_remaining) {
        const RateDecision decision = limiter.take("key_a", limit, t0, kNowMs);
        EXPECT_TRUE(decision.allowed);
        EXPECT_EQ(decision.limit, 5);
        EXPECT_EQ(decision.remaining, expected_remaining);
    }
    const RateDecision refused = limiter.take("key_a", limit, t0, kNowMs);
    EXPECT_FALSE(refused.allowed);
    EXPECT_EQ(refused.remaining, 0);
    EXPECT_EQ(refused.retry_after_s, 1);
    EXPECT_EQ(refused.reset_unix_s, kNowMs / 1000 + 1);  // five tokens at 5/s: full again in 1 s
}

TEST(RateLimiter, TokensRefillAtTheRateUpToTheBurst) {
    RateLimiter limiter;
    const RateLimit limit{5, 5};
    const auto t0 = RateLimiter::Clock::time_point{} + 1h;
    for (int i = 0; i < 5; ++i) limiter.take("key_a", limit, t0, kNowMs);
    EXPECT_FALSE(limiter.take("key_a", limit, t0 + 100ms, kNowMs).allowed);  // half a token
    EXPECT_TRUE(limiter.take("key_a", limit, t0 + 210ms, kNowMs).allowed);   // one whole token
    const RateDecision after_long_idle = limiter.take("key_a", limit, t0 + 1h, kNowMs);
    EXPECT_TRUE(after_long_idle.allowed);
    EXPECT_EQ(after_long_idle.remaining, 4);  // capped at the burst, minus this request
}

TEST(RateLimiter, KeysHaveSeparateBuckets) {
    RateLimiter limiter;
    const RateLimit limit{1, 1};
    const auto t0 = RateLimiter::Clock::time_point{} + 1h;
    EXPECT_TRUE(limiter.take("key_a", limit, t0, kNowMs).allowed);
    EXPECT_FALSE(limiter.take("key_a", limit, t0, kNowMs).allowed);
    EXPECT_TRUE(limiter.take("key_b", limit, t0, kNowMs).allowed);
}

TEST(RateLimiter, SlowRatesAskForLongerWaits) {
    RateLimiter limiter;
    const RateLimit limit{0.25, 1};  // one request every 4 s
    const auto t0 = RateLimiter::Clock::time_point{} + 1h;
    EXPECT_TRUE(limiter.take("key_a", limit, t0, kNowMs).allowed);
    EXPECT_EQ(limiter.take("key_a", limit, t0, kNowMs).retry_after_s, 4);
}

}  // namespace
}  // namespace engined::auth
