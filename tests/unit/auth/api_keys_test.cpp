#include "auth/api_keys.hpp"

#include "common/api_error.hpp"
#include "common/crypto.hpp"
#include "store/sqlite/sqlite_store.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <regex>

namespace engined::auth {
namespace {

using namespace std::chrono_literals;

// A header the request carried once (none when empty).
PresentedHeader sent(std::string_view value) {
    return {value, value.empty() ? 0u : 1u};
}

class ApiKeysTest : public ::testing::Test {
protected:
    ApiKeysTest() {
        std::filesystem::create_directories(dir_);
        store_ = std::make_unique<store::SqliteStore>(
            store::SqliteOptions{(dir_ / "keys.sqlite3").string()});
    }
    ~ApiKeysTest() override {
        store_.reset();
        std::filesystem::remove_all(dir_);
    }

    std::filesystem::path dir_ =
        std::filesystem::temp_directory_path() / ("engined-keys-" + random_hex(6));
    std::unique_ptr<store::Store> store_;
};

TEST_F(ApiKeysTest, KeysCarryTheirEnvironmentAnd32RandomBytes) {
    const IssuedKey test_key = issue_key(*store_, "acme", "test", {});
    const IssuedKey live_key = issue_key(*store_, "acme", "live", {});
    EXPECT_TRUE(std::regex_match(test_key.key, std::regex("^nx_test_[0-9a-f]{64}$")))
        << test_key.key;
    EXPECT_TRUE(std::regex_match(live_key.key, std::regex("^nx_live_[0-9a-f]{64}$")))
        << live_key.key;
}

TEST_F(ApiKeysTest, OnlyTheHashIsStored) {
    const IssuedKey issued = issue_key(*store_, "acme", "test", {});
    EXPECT_FALSE(store_->find_api_key(issued.key).has_value());
    const auto record = store_->find_api_key(sha256_hex(issued.key));
    ASSERT_TRUE(record.has_value());
    EXPECT_EQ(record->id, issued.id);
    EXPECT_EQ(record->display_prefix, issued.key.substr(0, 12));
}

TEST_F(ApiKeysTest, AuthenticatesBearerAndXApiKeyWithOrganisationEnvironmentAndScopes) {
    const IssuedKey issued = issue_key(*store_, "acme", "live", {"runs:read"});
    const KeyAuthenticator authenticator(*store_);
    const std::string bearer = "Bearer " + issued.key;
    const std::string lower_case_bearer = "bearer " + issued.key;
    for (const Principal& principal :
         {authenticator.authenticate(sent(bearer), sent("")),
          authenticator.authenticate(sent(""), sent(issued.key)),
          authenticator.authenticate(sent(lower_case_bearer), sent("")),
          authenticator.authenticate(sent(bearer), sent(issued.key))}) {
        EXPECT_EQ(principal.key_id, issued.id);
        EXPECT_EQ(principal.organization, "acme");
        EXPECT_EQ(principal.environment, "live");
        EXPECT_TRUE(principal.has_scope("runs:read"));
        EXPECT_FALSE(principal.has_scope("runs:write"));
    }
}

TEST_F(ApiKeysTest, DefaultScopesAreRunsReadAndWrite) {
    const IssuedKey issued = issue_key(*store_, "acme", "test", {});
    const Principal principal = KeyAuthenticator(*store_).authenticate(sent(""), sent(issued.key));
    EXPECT_TRUE(principal.has_scope("runs:read"));
    EXPECT_TRUE(principal.has_scope("runs:write"));
    EXPECT_FALSE(principal.has_scope("engines:admin"));
}

TEST_F(ApiKeysTest, MissingMalformedUnknownAndRevokedKeysAreUnauthorized) {
    const IssuedKey issued = issue_key(*store_, "acme", "test", {});
    const KeyAuthenticator authenticator(*store_);
    auto expect_401 = [&](std::string_view authorization, std::string_view x_api_key) {
        try {
            authenticator.authenticate(sent(authorization), sent(x_api_key));
            ADD_FAILURE() << "accepted " << authorization << x_api_key;
        } catch (const ApiError& error) {
            EXPECT_EQ(error.http_status(), 401);
            EXPECT_EQ(error.code(), "unauthorized");
        }
    };
    expect_401("", "");
    expect_401("Basic abc", "");
    expect_401("Bearer ", "");
    expect_401("", "nx_prod_" + std::string(64, 'a'));
    expect_401("", "nx_test_" + std::string(64, 'a'));
    ASSERT_TRUE(store_->revoke_api_key(issued.id, 1));
    expect_401("", issued.key);
}

// Two credentials are refused before either is looked up: a proxy in front could have checked
// one while engined would act on the other.
TEST_F(ApiKeysTest, TwoCredentialsAreAnInvalidRequestUnlessBothNameTheSameKey) {
    const IssuedKey first = issue_key(*store_, "acme", "test", {});
    const IssuedKey second = issue_key(*store_, "other", "test", {});
    const KeyAuthenticator authenticator(*store_);
    const std::string bearer_first = "Bearer " + first.key;
    auto expect_400 = [&](PresentedHeader authorization, PresentedHeader x_api_key,
                          const std::string& pointer) {
        try {
            authenticator.authenticate(authorization, x_api_key);
            ADD_FAILURE() << "accepted " << authorization.value << " / " << x_api_key.value;
        } catch (const ApiError& error) {
            EXPECT_EQ(error.http_status(), 400) << error.what();
            EXPECT_EQ(error.code(), "invalid_request");
            ASSERT_FALSE(error.details().empty());
            EXPECT_EQ(error.details()[0].pointer, pointer);
        }
    };
    expect_400({bearer_first, 2}, {}, "Authorization");
    expect_400({}, {first.key, 2}, "X-API-Key");
    expect_400(sent(bearer_first), sent(second.key), "Authorization");
    expect_400(sent("Basic dXNlcjpwYXNz"), sent(first.key), "Authorization");
    expect_400({bearer_first, 2}, sent(first.key), "Authorization");
    // The same key in both is one credential.
    EXPECT_EQ(authenticator.authenticate(sent(bearer_first), sent(first.key)).key_id, first.id);
}

TEST_F(ApiKeysTest, RefusesBadOrganisationEnvironmentOrScope) {
    EXPECT_THROW(issue_key(*store_, "", "test", {}), std::invalid_argument);
    EXPECT_THROW(issue_key(*store_, "acme corp", "test", {}), std::invalid_argument);
    EXPECT_THROW(issue_key(*store_, "acme", "prod", {}), std::invalid_argument);
    EXPECT_THROW(issue_key(*store_, "acme", "test", {"runs:delete"}), std::invalid_argument);
}

// The authenticator with a cache, on a real store: what a revocation does to a key this node
// trusts, with the node's clock moved by hand (nothing waits for real time). Another node is a
// second store object on the same database: its revocations are not counted by this node's.
class CachingAuthenticatorTest : public ApiKeysTest {
protected:
    struct ManualClock {
        std::chrono::steady_clock::time_point now{};
    };

    KeyAuthenticator caching_authenticator() {
        return KeyAuthenticator(
            *store_, std::make_unique<KeyCache>(kTrustedKeyTtl, 16, [this] { return clock_.now; }));
    }
    static int status_of(const KeyAuthenticator& authenticator, const std::string& key) {
        try {
            authenticator.authenticate({}, {key, 1});
            return 200;
        } catch (const ApiError& error) {
            return error.http_status();
        }
    }

    store::SqliteStore other_node_{store::SqliteOptions{(dir_ / "keys.sqlite3").string()}};
    ManualClock clock_;
};

TEST_F(CachingAuthenticatorTest, AKeyRevokedElsewhereIsRefusedOnceItsTimeToLivePassed) {
    const IssuedKey issued = issue_key(*store_, "acme", "test", {});
    const KeyAuthenticator authenticator = caching_authenticator();
    EXPECT_EQ(status_of(authenticator, issued.key), 200);
    ASSERT_TRUE(other_node_.revoke_api_key(issued.id, 1));

    clock_.now += kTrustedKeyTtl - 1ms;
    EXPECT_EQ(status_of(authenticator, issued.key), 200) << "trusted for the time-to-live";
    clock_.now += 1ms;
    EXPECT_EQ(status_of(authenticator, issued.key), 401) << "asked the store again at the TTL";
    clock_.now += kTrustedKeyTtl * 5;
    EXPECT_EQ(status_of(authenticator, issued.key), 401) << "a refusal is never cached as valid";
}

TEST_F(CachingAuthenticatorTest, AKeyRevokedThroughThisNodeIsRefusedAtOnce) {
    const IssuedKey revoked = issue_key(*store_, "acme", "test", {});
    const IssuedKey kept = issue_key(*store_, "acme", "test", {});
    const KeyAuthenticator authenticator = caching_authenticator();
    EXPECT_EQ(status_of(authenticator, revoked.key), 200);
    EXPECT_EQ(status_of(authenticator, kept.key), 200);
    ASSERT_TRUE(store_->revoke_api_key(revoked.id, 1));
    EXPECT_EQ(status_of(authenticator, revoked.key), 401);
    EXPECT_EQ(status_of(authenticator, kept.key), 200);

    // Without a cache, any revocation is seen by the next request.
    const KeyAuthenticator uncached(*store_);
    EXPECT_EQ(status_of(uncached, kept.key), 200);
    ASSERT_TRUE(other_node_.revoke_api_key(kept.id, 2));
    EXPECT_EQ(status_of(uncached, kept.key), 401);
}

TEST_F(CachingAuthenticatorTest, ForgettingTheCachedKeysAsksTheStoreOnTheNextRequest) {
    const IssuedKey issued = issue_key(*store_, "acme", "test", {});
    const KeyAuthenticator authenticator = caching_authenticator();
    EXPECT_EQ(status_of(authenticator, issued.key), 200);
    ASSERT_TRUE(other_node_.revoke_api_key(issued.id, 1));
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
