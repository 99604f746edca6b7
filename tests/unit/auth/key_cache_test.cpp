#include "auth/api_keys.hpp"
#include "auth/key_cache.hpp"

#include "common/api_error.hpp"
#include "common/crypto.hpp"
#include "store/sqlite/sqlite_store.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <memory>

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
}

TEST(KeyCache, RememberingAgainRestartsTheTimeToLive) {
    ManualClock clock;
    KeyCache cache(1000ms, 8, clock.reader());
    cache.remember("hash-a", caller_named("key_a"));
    clock.now += 600ms;
    cache.remember("hash-a", caller_named("key_a"));
    clock.now += 600ms;
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

// The authenticator with a cache, on a real store: what a revocation in the store does to a key
// this node trusts, with the node's clock moved by hand.
class CachingAuthenticatorTest : public ::testing::Test {
protected:
    CachingAuthenticatorTest() {
        std::filesystem::create_directories(dir_);
        store_ = std::make_unique<store::SqliteStore>(
            store::SqliteOptions{(dir_ / "keys.sqlite3").string()});
    }
    ~CachingAuthenticatorTest() override {
        store_.reset();
        std::filesystem::remove_all(dir_);
    }

    KeyAuthenticator caching_authenticator() {
        return KeyAuthenticator(
            *store_, std::make_unique<KeyCache>(kSharedStoreKeyTtl, 16, clock_.reader()));
    }
    static int status_of(const KeyAuthenticator& authenticator, const std::string& key) {
        try {
            authenticator.authenticate({}, {key, 1});
            return 200;
        } catch (const ApiError& error) {
            return error.http_status();
        }
    }

    std::filesystem::path dir_ =
        std::filesystem::temp_directory_path() / ("engined-key-cache-" + random_hex(6));
    std::unique_ptr<store::Store> store_;
    ManualClock clock_;
};

TEST_F(CachingAuthenticatorTest, ARevokedKeyIsRefusedOnceItsTimeToLivePassed) {
    const IssuedKey issued = issue_key(*store_, "acme", "test", {});
    const KeyAuthenticator authenticator = caching_authenticator();
    EXPECT_EQ(status_of(authenticator, issued.key), 200);
    ASSERT_TRUE(store_->revoke_api_key(issued.id, 1));

    clock_.now += kSharedStoreKeyTtl - 1ms;
    EXPECT_EQ(status_of(authenticator, issued.key), 200) << "trusted for the time-to-live";
    clock_.now += 1ms;
    EXPECT_EQ(status_of(authenticator, issued.key), 401) << "asked the store again at the TTL";
    clock_.now += kSharedStoreKeyTtl * 5;
    EXPECT_EQ(status_of(authenticator, issued.key), 401) << "a refusal is never cached as valid";

    // Without a cache (the SQLite node), the next request already sees a revocation.
    const IssuedKey other = issue_key(*store_, "acme", "test", {});
    const KeyAuthenticator uncached(*store_);
    EXPECT_EQ(status_of(uncached, other.key), 200);
    ASSERT_TRUE(store_->revoke_api_key(other.id, 2));
    EXPECT_EQ(status_of(uncached, other.key), 401);
}

TEST_F(CachingAuthenticatorTest, ForgettingTheCachedKeysAsksTheStoreOnTheNextRequest) {
    const IssuedKey issued = issue_key(*store_, "acme", "test", {});
    const KeyAuthenticator authenticator = caching_authenticator();
    EXPECT_EQ(status_of(authenticator, issued.key), 200);
    ASSERT_TRUE(store_->revoke_api_key(issued.id, 1));
    authenticator.forget_cached_keys();
    EXPECT_EQ(status_of(authenticator, issued.key), 401);
}

TEST_F(CachingAuthenticatorTest, AnUnknownKeyIsNotRememberedAsRefused) {
    // The key is refused while the store does not know it, and accepted at once once it does:
    // a key created a moment ago by enginectl works on its first request.
    const std::string key = "nx_test_" + std::string(64, 'b');
    const KeyAuthenticator authenticator = caching_authenticator();
    EXPECT_EQ(status_of(authenticator, key), 401);
    store_->ensure_builtin_environments("acme", 1);
    store::ApiKey record;
    record.id = "key_late";
    record.organization = "acme";
    record.environment = "test";
    record.environment_id = store_->find_environment("acme", "test")->id;
    record.scopes = default_scopes();
    record.display_prefix = key.substr(0, 12);
    record.created_at_ms = 1;
    store_->insert_api_key(record, sha256_hex(key));
    EXPECT_EQ(status_of(authenticator, key), 200);
}

}  // namespace
}  // namespace engined::auth
