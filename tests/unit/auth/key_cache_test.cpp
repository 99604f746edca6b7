#include "auth/key_cache.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>

namespace engined::auth {
namespace {

using namespace std::chrono_literals;

// A clock the test moves by hand: nothing here waits for real time to pass.
struct ManualClock {
    std::chrono::steady_clock::time_point now{};
    KeyCache::Clock reader() {
        return [this] { return now; };
    }
};

Principal caller_named(const std::string& key_id) {
    Principal caller;
    caller.key_id = key_id;
    caller.organization = "acme";
    caller.environment = "test";
    caller.scopes = {kScopeRunsRead};
    return caller;
}

TEST(KeyCache, AnEntryAnswersUntilItsTimeToLiveAndNotFromThen) {
    ManualClock clock;
    KeyCache cache(1000ms, 8, clock.reader());
    cache.remember("hash-a", caller_named("key_a"));
    clock.now += 999ms;
    const auto found = cache.find("hash-a");
    ASSERT_TRUE(found);
    EXPECT_EQ(found->key_id, "key_a");
    EXPECT_EQ(found->scopes, std::vector<std::string>{kScopeRunsRead});
    clock.now += 1ms;  // exactly the time-to-live
    EXPECT_FALSE(cache.find("hash-a"));
    clock.now += 1ms;
    EXPECT_FALSE(cache.find("hash-a"));
    EXPECT_FALSE(cache.find("hash-never-stored"));

    // Remembered again, a key is trusted for a whole time-to-live from then.
    cache.remember("hash-a", caller_named("key_a"));
    clock.now += 999ms;
    EXPECT_TRUE(cache.find("hash-a"));
}

TEST(KeyCache, HoldsAtMostItsCapacityDroppingExpiredEntriesFirst) {
    ManualClock clock;
    KeyCache cache(1000ms, 3, clock.reader());
    cache.remember("hash-old", caller_named("key_old"));
    clock.now += 500ms;
    cache.remember("hash-b", caller_named("key_b"));
    cache.remember("hash-c", caller_named("key_c"));
    EXPECT_EQ(cache.size(), 3u);  // at the capacity
    // Refreshing a stored key adds nothing.
    cache.remember("hash-c", caller_named("key_c"));
    EXPECT_EQ(cache.size(), 3u);

    clock.now += 500ms;  // hash-old has expired
    cache.remember("hash-d", caller_named("key_d"));
    EXPECT_EQ(cache.size(), 3u);
    EXPECT_FALSE(cache.find("hash-old"));
    EXPECT_TRUE(cache.find("hash-b"));
    EXPECT_TRUE(cache.find("hash-d"));

    // Past the capacity with nothing expired: the cache starts over rather than grow.
    cache.remember("hash-e", caller_named("key_e"));
    EXPECT_EQ(cache.size(), 1u);
    EXPECT_TRUE(cache.find("hash-e"));
    EXPECT_FALSE(cache.find("hash-b"));
}

TEST(KeyCache, RefusesANonPositiveTimeToLiveOrCapacity) {
    EXPECT_THROW(KeyCache(0ms, 8), std::invalid_argument);
    EXPECT_THROW(KeyCache(1000ms, 0), std::invalid_argument);
}

}  // namespace
}  // namespace engined::auth
