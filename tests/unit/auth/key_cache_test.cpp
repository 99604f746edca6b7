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
    cache.remember("hash-a", caller_named("key_a"), 0);
    clock.now += 999ms;
    const auto found = cache.find("hash-a", 0);
    ASSERT_TRUE(found);
    EXPECT_EQ(found->key_id, "key_a");
    EXPECT_EQ(found->scopes, std::vector<std::string>{kScopeRunsRead});
    clock.now += 1ms;  // exactly the time-to-live
    EXPECT_FALSE(cache.find("hash-a", 0));
    clock.now += 1ms;
    EXPECT_FALSE(cache.find("hash-a", 0));
    EXPECT_FALSE(cache.find("hash-never-stored", 0));

    // Remembered again, a key is trusted for a whole time-to-live from then.
    cache.remember("hash-a", caller_named("key_a"), 0);
    clock.now += 999ms;
    EXPECT_TRUE(cache.find("hash-a", 0));
}

TEST(KeyCache, HoldsAtMostItsCapacityDroppingExpiredEntriesFirst) {
    ManualClock clock;
    KeyCache cache(1000ms, 3, clock.reader());
    cache.remember("hash-old", caller_named("key_old"), 0);
    clock.now += 500ms;
    cache.remember("hash-b", caller_named("key_b"), 0);
    cache.remember("hash-c", caller_named("key_c"), 0);
    EXPECT_EQ(cache.size(), 3u);  // at the capacity
    // Refreshing a stored key adds nothing.
    cache.remember("hash-c", caller_named("key_c"), 0);
    EXPECT_EQ(cache.size(), 3u);

    clock.now += 500ms;  // hash-old has expired
    cache.remember("hash-d", caller_named("key_d"), 0);
    EXPECT_EQ(cache.size(), 3u);
    EXPECT_FALSE(cache.find("hash-old", 0));
    EXPECT_TRUE(cache.find("hash-b", 0));
    EXPECT_TRUE(cache.find("hash-d", 0));

    // Past the capacity with nothing expired: the cache starts over rather than grow.
    cache.remember("hash-e", caller_named("key_e"), 0);
    EXPECT_EQ(cache.size(), 1u);
    EXPECT_TRUE(cache.find("hash-e", 0));
    EXPECT_FALSE(cache.find("hash-b", 0));
}

TEST(KeyCache, AnEntryStoredBeforeARevocationMissesAfterIt) {
    ManualClock clock;
    KeyCache cache(1000ms, 8, clock.reader());
    cache.remember("hash-a", caller_named("key_a"), 3);
    EXPECT_TRUE(cache.find("hash-a", 3));
    EXPECT_FALSE(cache.find("hash-a", 4)) << "a key was revoked through this node since";
    cache.remember("hash-a", caller_named("key_a"), 4);
    EXPECT_TRUE(cache.find("hash-a", 4));
}

TEST(KeyCache, RefusesANonPositiveTimeToLiveOrCapacity) {
    EXPECT_THROW(KeyCache(0ms, 8), std::invalid_argument);
    EXPECT_THROW(KeyCache(1000ms, 0), std::invalid_argument);
}

}  // namespace
}  // namespace engined::auth
