#include "common/shared_lru_cache.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

namespace engined {
namespace {

std::shared_ptr<const int> value(int v) {
    return std::make_shared<const int>(v);
}

TEST(SharedLruCache, KeepsUpToItsCapacityAndMakesEachKeyOnce) {
    SharedLruCache<int> cache(2);
    int made = 0;
    auto make = [&] { return value(++made); };
    EXPECT_EQ(*cache.get_or_make("a", make), 1);
    EXPECT_EQ(*cache.get_or_make("b", make), 2);
    EXPECT_EQ(*cache.get_or_make("a", make), 1);  // at the capacity: both kept
    EXPECT_EQ(cache.size(), 2u);
    EXPECT_EQ(made, 2);
}

TEST(SharedLruCache, PastItsCapacityEvictsTheLeastRecentlyUsed) {
    SharedLruCache<int> cache(2);
    cache.get_or_make("a", [] { return value(1); });
    cache.get_or_make("b", [] { return value(2); });
    cache.get("a");                                   // "b" is now the least recently used
    cache.get_or_make("c", [] { return value(3); });  // one past the capacity
    EXPECT_EQ(cache.size(), 2u);
    EXPECT_EQ(cache.get("b"), nullptr);
    EXPECT_EQ(*cache.get("a"), 1);
    EXPECT_EQ(*cache.get("c"), 3);
}

TEST(SharedLruCache, AnEvictedValueLivesOnForWhoeverStillHoldsIt) {
    SharedLruCache<int> cache(1);
    const std::shared_ptr<const int> held = cache.get_or_make("a", [] { return value(7); });
    cache.get_or_make("b", [] { return value(8); });
    EXPECT_EQ(cache.get("a"), nullptr);
    EXPECT_EQ(*held, 7);
    EXPECT_EQ(held.use_count(), 1);  // the cache let go of it
}

TEST(SharedLruCache, StoresNeitherANullValueNorAFailedMake) {
    SharedLruCache<int> cache(2);
    EXPECT_EQ(cache.get_or_make("a", [] { return std::shared_ptr<const int>(); }), nullptr);
    EXPECT_THROW(cache.get_or_make(
                     "b", []() -> std::shared_ptr<const int> { throw std::runtime_error("x"); }),
                 std::runtime_error);
    EXPECT_EQ(cache.size(), 0u);
}

TEST(SharedLruCache, ACapacityOfZeroKeepsOne) {
    SharedLruCache<int> cache(0);
    cache.get_or_make("a", [] { return value(1); });
    EXPECT_EQ(cache.capacity(), 1u);
    EXPECT_EQ(*cache.get("a"), 1);
}

}  // namespace
}  // namespace engined
