// The store's behaviour, once for every backend: the same typed suite runs against SQLite (a file
// in a temporary directory) and PostgreSQL (a fresh database on the server that
// ENGINED_TEST_POSTGRES_URL names; tools/with-postgres.sh starts one, and tools/test.sh always
// does). Without the variable the PostgreSQL half skips, saying so.
#include "store/postgres/postgres_store.hpp"
#include "store/sqlite/sqlite_store.hpp"

#include "audit/audit_trail.hpp"
#include "audit/chain.hpp"
#include "postgres_database.hpp"
#include "store_test_support.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <memory>
#include <optional>
#include <map>
#include <regex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace engined::store {
namespace {

// Both backends number their migrations alike (a step one of them does not need is a no-op).
constexpr int kLatestSchemaVersion = 14;

struct SqliteBackend {
    static constexpr const char* kName = "sqlite";
    TempDir dir;
    std::unique_ptr<Store> open() { return std::make_unique<SqliteStore>(SqliteOptions{dir.db()}); }
};

struct PostgresBackend {
    static constexpr const char* kName = "postgresql";
    testing::PostgresTestDatabase database;
    std::string url = database.url();
    std::unique_ptr<Store> open() { return std::make_unique<PostgresStore>(PostgresOptions{url}); }
};

template <class Backend>
class StoreContract : public ::testing::Test {
protected:
    void SetUp() override {
        if constexpr (std::is_same_v<Backend, PostgresBackend>) {
            if (backend_.url.empty()) {
                GTEST_SKIP() << testing::kPostgresSkipReason;
            }
        }
        store_ = backend_.open();
    }

    Store& store() { return *store_; }

    Backend backend_;
    std::unique_ptr<Store> store_;
};

using Backends = ::testing::Types<SqliteBackend, PostgresBackend>;
struct BackendNames {
    template <class Backend>
    static std::string GetName(int) {
        return Backend::kName;
    }
};
TYPED_TEST_SUITE(StoreContract, Backends, BackendNames);

ApiKey make_key(const std::string& id, const std::string& environment_id = "test") {
    ApiKey key;
    key.id = id;
    key.organization = "org_a";
    key.environment = "test";
    key.environment_id = environment_id;
    key.scopes = {"runs:write", "runs:read"};
    key.display_prefix = "nx_test_" + id.substr(4, 4);
    key.created_at_ms = 1'700'000'000'000;
    return key;
}

EngineRecord make_engine(const std::string& slug, const std::string& config_json) {
    EngineRecord engine;
    engine.id = "eng_" + slug;
    engine.organization = "org_a";
    engine.slug = slug;
    engine.label = "Engine " + slug;
    engine.engine_type = "placement";
    engine.config_hash = sha256_hex(config_json);
    engine.config_updated_by = "key_1";
    engine.config_updated_at_ms = 1;
    engine.created_at_ms = 1;
    engine.updated_at_ms = 1;
    return engine;
}

WebhookEndpoint make_endpoint(const std::string& id, bool active = true) {
    WebhookEndpoint endpoint;
    endpoint.id = id;
    endpoint.organization = "org_a";
    endpoint.environment_id = "test";
    endpoint.url = "https://hooks.example.com/" + id;
    endpoint.events = {"run.completed", "run.failed"};
    endpoint.active = active;
    endpoint.secret = "whsec_" + id;
    endpoint.created_at_ms = 1;
    endpoint.updated_at_ms = 1;
    return endpoint;
}

TYPED_TEST(StoreContract, ReportsTheSameSchemaVersionOnEveryBackend) {
    EXPECT_EQ(this->store().schema_version(), kLatestSchemaVersion);
}

// PostgreSQL: one bucket per key in the database, spent by every store (node) on it; a SQLite
// file has one process, whose buckets stay in memory.
TYPED_TEST(StoreContract, RateBucketsAreSharedByEveryNodeOnPostgresqlOnly) {
    SharedRateBuckets* buckets = this->store().shared_rate_buckets();
    if constexpr (std::is_same_v<TypeParam, SqliteBackend>) {
        EXPECT_EQ(buckets, nullptr);
    } else {
        ASSERT_NE(buckets, nullptr);
        std::unique_ptr<Store> other_node = this->backend_.open();
        SharedRateBuckets& other = *other_node->shared_rate_buckets();
        // One token a thousand seconds: nothing refills while the test runs.
        const double per_second = 0.001;
        RateTokenLease first = buckets->take_rate_tokens("key_a", per_second, 10, 4);
        EXPECT_EQ(first.granted, 4) << "a new bucket starts full";
        EXPECT_NEAR(first.tokens_left, 6, 0.1);
        RateTokenLease second = other.take_rate_tokens("key_a", per_second, 10, 10);
        EXPECT_EQ(second.granted, 6) << "the other node gets what is left, not a bucket of its own";
        EXPECT_LT(second.tokens_left, 1);
        EXPECT_EQ(buckets->take_rate_tokens("key_a", per_second, 10, 1).granted, 0);
        EXPECT_EQ(other.take_rate_tokens("key_b", per_second, 10, 10).granted, 10)
            << "each key has its own bucket";
        EXPECT_EQ(other.take_rate_tokens("key_c", per_second, 3, 10).granted, 3)
            << "never more than the burst";
    }
}

TYPED_TEST(StoreContract, ARunGoesFromQueuedToItsOutcomeOnce) {
    Store& store = this->store();
    NewRun run = make_run("run_1");
    run.webhook_url = "https://hooks.example.com/mine";
    run.engine_version = "1.2";
    run.engine_version_rollout = "new";
    ASSERT_FALSE(insert(store, run));
    auto stored = store.get_run("run_1");
    ASSERT_TRUE(stored);
    EXPECT_EQ(stored->status, RunStatus::queued);
    EXPECT_EQ(stored->request_json, run.request_json);
    EXPECT_EQ(stored->engine_version, "1.2");
    EXPECT_EQ(stored->engine_version_rollout, "new");
    EXPECT_EQ(stored->output_json, "null");
    EXPECT_EQ(store.config_json(run.config_hash), run.config_json);
    EXPECT_EQ(store.queue_counts().queued, 1);

    ASSERT_TRUE(claim(store, "run_1", 1'700'000'000'100));
    EXPECT_EQ(store.get_run("run_1")->attempts, 1);
    EXPECT_EQ(store.queue_counts().queued, 0);
    EXPECT_EQ(store.queue_counts().processing, 1);
    ASSERT_FALSE(finish(store, "run_1", completed_outcome()));
    stored = store.get_run("run_1");
    EXPECT_EQ(stored->status, RunStatus::completed);
    EXPECT_EQ(stored->results_json, completed_outcome().results_json);
    EXPECT_EQ(stored->fingerprint, completed_outcome().fingerprint);
    EXPECT_EQ(stored->started_at_ms, 1'700'000'000'100);
    EXPECT_EQ(store.queue_counts().queued + store.queue_counts().processing, 0);

    EXPECT_TRUE(holds<std::logic_error>(finish(store, "run_1", failed_outcome())))
        << "the outcome is written once";
    EXPECT_EQ(store.get_run("run_1")->status, RunStatus::completed);
    EXPECT_FALSE(claim(store, "run_missing", 1'700'000'000'100));
    EXPECT_TRUE(holds<std::out_of_range>(finish(store, "run_missing", completed_outcome())));
    EXPECT_TRUE(holds<std::invalid_argument>(insert(store, make_run("run_1")))) << "a duplicate id";
    RunOutcome not_terminal = completed_outcome();
    not_terminal.status = RunStatus::processing;
    ASSERT_FALSE(insert(store, make_run("run_2")));
    EXPECT_TRUE(holds<std::invalid_argument>(finish(store, "run_2", not_terminal)));
    EXPECT_EQ(store.get_run("run_missing"), std::nullopt);
}

TYPED_TEST(StoreContract, TheListingCursorPagesNewestFirstAndFilters) {
    Store& store = this->store();
    for (int i = 1; i <= 5; ++i) ASSERT_FALSE(insert(store, make_run("run_" + std::to_string(i))));
    ASSERT_FALSE(insert(store, make_run("run_other", "org_b")));
    ASSERT_FALSE(finish(store, "run_2", failed_outcome()));

    RunPageQuery query{"org_a", "test", "placement", std::nullopt, std::nullopt, std::nullopt, 2};
    RunPage page = store.list_runs(query);
    EXPECT_EQ(ids_of(page.runs), (std::vector<std::string>{"run_5", "run_4"}));
    ASSERT_TRUE(page.next_before_seq);
    query.before_seq = page.next_before_seq;
    page = store.list_runs(query);
    EXPECT_EQ(ids_of(page.runs), (std::vector<std::string>{"run_3", "run_2"}));
    query.before_seq = page.next_before_seq;
    page = store.list_runs(query);
    EXPECT_EQ(ids_of(page.runs), std::vector<std::string>{"run_1"});
    EXPECT_FALSE(page.next_before_seq) << "the last page says no more follow";

    query.before_seq.reset();
    query.status = RunStatus::failed;
    EXPECT_EQ(ids_of(store.list_runs(query).runs), std::vector<std::string>{"run_2"});
    query.status.reset();
    query.engine_version = "9.9";
    EXPECT_TRUE(store.list_runs(query).runs.empty());
    query.limit = 0;
    EXPECT_THROW(store.list_runs(query), std::invalid_argument);
}

TYPED_TEST(StoreContract, KeysAreFoundByHashAndRevokedOnce) {
    Store& store = this->store();
    ApiKey key = make_key("key_0000000000000001");
    key.rate_per_second = 2.5;
    key.rate_burst = 10;
    store.insert_api_key(key, "hash_1");
    store.insert_api_key(make_key("key_0000000000000002"), "hash_2");
    const auto found = store.find_api_key("hash_1");
    ASSERT_TRUE(found);
    EXPECT_EQ(found->scopes, key.scopes);
    EXPECT_EQ(found->rate_per_second, 2.5);
    EXPECT_EQ(found->rate_burst, 10);
    EXPECT_EQ(store.find_api_key("hash_missing"), std::nullopt);
    EXPECT_THROW(store.insert_api_key(make_key("key_0000000000000003"), "hash_1"),
                 std::invalid_argument);
    EXPECT_EQ(store.list_api_keys(std::string("org_a")).size(), 2u);
    EXPECT_TRUE(store.list_api_keys(std::string("org_b")).empty());
    EXPECT_TRUE(store.revoke_api_key(key.id, 5));
    EXPECT_FALSE(store.revoke_api_key(key.id, 6)) << "revoked once";
    EXPECT_EQ(store.find_api_key("hash_1")->revoked_at_ms, 5);
}

TYPED_TEST(StoreContract, EnvironmentsAreLimitedAndKeptWhileKeysAreActive) {
    Store& store = this->store();
    store.ensure_builtin_environments("org_a", 1);
    store.ensure_builtin_environments("org_a", 2);
    auto environments = store.list_environments("org_a");
    ASSERT_EQ(environments.size(), 2u);
    EXPECT_EQ(environments[0].slug, "test");
    EXPECT_EQ(environments[1].slug, "live");
    EXPECT_NE(environments[0].id, environments[1].id);

    Environment staging{"env-staging", "org_a", "staging", false, std::string("1.x"), "{}", 3, 3};
    store.insert_environment(staging, 2);
    store.insert_environment({"env-qa", "org_a", "qa", false, std::nullopt, "{}", 4, 4}, 2);
    EXPECT_THROW(
        store.insert_environment({"env-dev", "org_a", "dev", false, std::nullopt, "{}", 5, 5}, 2),
        TooManyEnvironments)
        << "past the limit";
    EXPECT_EQ(store.find_environment("org_a", "dev"), std::nullopt)
        << "nothing of the refused write stays";
    EXPECT_THROW(
        store.insert_environment({"env-qa2", "org_a", "qa", false, std::nullopt, "{}", 6, 6}, 5),
        std::invalid_argument);

    staging.pinned_engine_version = "2.x";
    staging.updated_at_ms = 7;
    EXPECT_TRUE(store.update_environment_pins(staging));
    EXPECT_EQ(store.find_environment("org_a", "staging")->pinned_engine_version, "2.x");

    store.insert_api_key(make_key("key_0000000000000009", "env-staging"), "hash_staging");
    EXPECT_EQ(store.find_api_key("hash_staging")->pinned_engine_version, "2.x")
        << "keys read their environment's pins";
    EXPECT_THROW(store.delete_environment("org_a", "staging", 8), EnvironmentHasActiveKeys);
    ASSERT_TRUE(store.revoke_api_key("key_0000000000000009", 9));
    EXPECT_TRUE(store.delete_environment("org_a", "staging", 10));
    EXPECT_FALSE(store.delete_environment("org_a", "staging", 11));
    EXPECT_FALSE(store.delete_environment("org_a", "test", 11)) << "built-in environments stay";
}

TYPED_TEST(StoreContract, EnginesKeepTheirReleasesImmutable) {
    Store& store = this->store();
    const std::string config = R"({"version":1})";
    const EngineRecord engine = make_engine("quotes", config);
    store.insert_engine(engine, config);
    EXPECT_THROW(store.insert_engine(engine, config), std::invalid_argument);

    EngineRecord builtin = make_engine("default", config);
    builtin.organization = "";
    builtin.id = "eng_builtin";
    EXPECT_EQ(store.ensure_builtin_engine(builtin, config).id, "eng_builtin");
    builtin.label = "changed";
    EXPECT_EQ(store.ensure_builtin_engine(builtin, config).label, "Engine default")
        << "seeded once";
    const auto engines = store.list_engines("org_a");
    ASSERT_EQ(engines.size(), 2u);
    EXPECT_EQ(engines[0].slug, "default");
    EXPECT_EQ(store.find_engine("org_b", "default")->id, "eng_builtin");
    EXPECT_EQ(store.find_engine("org_b", "quotes"), std::nullopt);

    const std::string next = R"({"version":2})";
    EXPECT_TRUE(store.update_engine_config("org_a", "quotes", sha256_hex(next), next, "key_2", 5));
    EXPECT_FALSE(
        store.update_engine_config("org_a", "missing", sha256_hex("{}"), "{}", "key_2", 5));
    EXPECT_EQ(store.config_json(sha256_hex("{}")), std::nullopt)
        << "an unknown engine leaves no configuration";
    EXPECT_TRUE(store.set_engine_status("org_a", "quotes", "archived", 6));
    EXPECT_EQ(store.find_engine("org_a", "quotes")->status, "archived");

    ReleaseRecord release{"org_a", "quotes",  1,     0,    sha256_hex(next), "content", "{}",
                          "first", "initial", false, "[]", "key_2",          7};
    store.insert_release(release, next);
    EXPECT_THROW(store.insert_release(release, next), std::invalid_argument)
        << "a version is released once";
    release.minor = 1;
    release.bump = "minor";
    store.insert_release(release, next);
    const auto releases = store.list_releases("org_a", "quotes");
    ASSERT_EQ(releases.size(), 2u);
    EXPECT_EQ(releases[1].minor, 1);
    EXPECT_EQ(store.find_release("org_a", "quotes", 1, 0)->changelog, "first");
    EXPECT_EQ(store.find_release("org_a", "quotes", 2, 0), std::nullopt);
}

RolloutRecord make_rollout(int from_minor, int to_minor, int percent) {
    RolloutRecord rollout;
    rollout.organization = "org_a";
    rollout.engine_slug = "quotes";
    rollout.major = 1;
    rollout.from_minor = from_minor;
    rollout.to_minor = to_minor;
    rollout.percent = percent;
    rollout.opened_by = "api_key:key_1";
    rollout.opened_at_ms = 10;
    return rollout;
}

TYPED_TEST(StoreContract, OneRolloutPerMajorIsOpenAndClosedOnce) {
    Store& store = this->store();
    store.open_rollout(make_rollout(0, 1, 10));
    EXPECT_THROW(store.open_rollout(make_rollout(0, 2, 20)), std::invalid_argument)
        << "a second open rollout of the same major";
    RolloutRecord other_major = make_rollout(0, 1, 5);
    other_major.major = 2;
    store.open_rollout(other_major);

    EXPECT_TRUE(store.set_rollout_percent("org_a", "quotes", 1, 25, 11));
    EXPECT_FALSE(store.set_rollout_percent("org_a", "quotes", 3, 25, 11)) << "none open";
    EXPECT_THROW(store.set_rollout_percent("org_a", "quotes", 1, 100, 11), std::invalid_argument)
        << "percent is 1..99";
    EXPECT_TRUE(store.close_rollout("org_a", "quotes", 1, "aborted", 12));
    EXPECT_FALSE(store.close_rollout("org_a", "quotes", 1, "promoted", 13)) << "closed once";
    store.open_rollout(make_rollout(0, 1, 30));  // the major is free again

    const auto rollouts = store.list_rollouts("org_a", "quotes");
    ASSERT_EQ(rollouts.size(), 3u);
    EXPECT_EQ(rollouts[0].state, "aborted");
    EXPECT_EQ(rollouts[0].percent, 25);
    EXPECT_EQ(rollouts[0].updated_at_ms, 12);
    EXPECT_EQ(rollouts[0].closed_at_ms, std::optional<int64_t>(12));
    EXPECT_EQ(rollouts[1].major, 2);
    EXPECT_EQ(rollouts[2].state, "open");
    EXPECT_EQ(rollouts[2].closed_at_ms, std::nullopt);
    EXPECT_EQ(rollouts[2].opened_by, "api_key:key_1");
    EXPECT_TRUE(store.list_rollouts("org_b", "quotes").empty());
}

TYPED_TEST(StoreContract, AReleaseInARolloutIsWrittenWholeOrNotAtAll) {
    Store& store = this->store();
    const std::string config = R"({"version":1})";
    ReleaseRecord release{"org_a",   "quotes", 1,  1,       sha256_hex(config),
                          "content", "{}",     "", "minor", false,
                          "[]",      "key_2",  7};
    store.open_rollout(make_rollout(0, 2, 10));
    EXPECT_THROW(store.insert_release_in_rollout(release, config, make_rollout(0, 1, 10)),
                 std::invalid_argument);
    EXPECT_EQ(store.find_release("org_a", "quotes", 1, 1), std::nullopt)
        << "the refused rollout took its release with it";
    ASSERT_TRUE(store.close_rollout("org_a", "quotes", 1, "aborted", 8));
    store.insert_release_in_rollout(release, config, make_rollout(0, 1, 10));
    EXPECT_TRUE(store.find_release("org_a", "quotes", 1, 1).has_value());
    EXPECT_EQ(store.list_rollouts("org_a", "quotes").back().to_minor, 1);
}

TYPED_TEST(StoreContract, PoolsPointAtContentAddressedSnapshots) {
    Store& store = this->store();
    const std::string carriers = R"([{"id":"a"},{"id":"b"}])";
    const PoolSummary summary = store.replace_pool("org_a", "west", carriers, "west.csv", 5);
    EXPECT_EQ(summary.carrier_count, 2);
    EXPECT_EQ(summary.snapshot, sha256_hex(carriers));
    EXPECT_EQ(store.pool_carriers(summary.snapshot), carriers);
    store.replace_pool("org_a", "west", R"([{"id":"c"}])", "west2.csv", 6);
    EXPECT_EQ(store.pool_snapshot("org_a", "west")->carrier_count, 1);
    EXPECT_EQ(store.pool_carriers(summary.snapshot), carriers) << "an old snapshot stays";
    EXPECT_THROW(store.replace_pool("org_a", "east", "[]", "east.csv", 7), std::invalid_argument);
    EXPECT_EQ(store.list_pools("org_a").size(), 1u);
    EXPECT_TRUE(store.list_pools("org_b").empty());
}

TYPED_TEST(StoreContract, AnIdempotencyKeyMakesOneRun) {
    Store& store = this->store();
    const IdempotencyRecord record{
        "org_a",       "test",           "key-1", "hash", 202, R"({"id":"run_1"})",
        "/runs/run_1", 1'700'000'000'000};
    NewRun first = make_run("run_1");
    first.idempotency = record;
    ASSERT_FALSE(insert(store, first));
    NewRun second = make_run("run_2");
    second.idempotency = record;
    EXPECT_TRUE(holds<IdempotencyKeyTaken>(insert(store, second)));
    EXPECT_EQ(store.get_run("run_2"), std::nullopt) << "nothing of the refused write stays";
    const auto found = store.find_idempotency("org_a", "test", "key-1", record.created_at_ms + 1);
    ASSERT_TRUE(found);
    EXPECT_EQ(found->response_body, record.response_body);
    EXPECT_EQ(store.find_idempotency("org_a", "test", "key-1",
                                     record.created_at_ms + kIdempotencyWindowMs + 1),
              std::nullopt)
        << "past the window";

    Outcome taken;
    store.remember_idempotency(record, taken.completion());
    EXPECT_TRUE(holds<IdempotencyKeyTaken>(taken.get()));
    IdempotencyRecord later = record;
    later.created_at_ms += kIdempotencyWindowMs + 1;
    later.response_body = "{}";
    Outcome taken_over;
    store.remember_idempotency(later, taken_over.completion());
    EXPECT_FALSE(taken_over.get()) << "an expired record may be taken over";
}

TYPED_TEST(StoreContract, TheActiveEndpointLimitHoldsAtAndPastIt) {
    Store& store = this->store();
    store.insert_webhook_endpoint(make_endpoint("we_1"), 2);
    store.insert_webhook_endpoint(make_endpoint("we_2"), 2);
    EXPECT_THROW(store.insert_webhook_endpoint(make_endpoint("we_3"), 2), TooManyActiveEndpoints);
    EXPECT_EQ(store.find_webhook_endpoint("org_a", "test", "we_3"), std::nullopt);
    store.insert_webhook_endpoint(make_endpoint("we_paused", false), 2);
    WebhookEndpoint paused = *store.find_webhook_endpoint("org_a", "test", "we_paused");
    paused.active = true;
    EXPECT_THROW(store.update_webhook_endpoint(paused, 2), TooManyActiveEndpoints);
    EXPECT_FALSE(store.find_webhook_endpoint("org_a", "test", "we_paused")->active);
    EXPECT_EQ(store.list_webhook_endpoints("org_a", "test").size(), 3u);
    EXPECT_TRUE(store.delete_webhook_endpoint("org_a", "test", "we_1", 5));
    EXPECT_TRUE(store.update_webhook_endpoint(paused, 2));
    EXPECT_FALSE(store.delete_webhook_endpoint("org_a", "test", "we_1", 6));
}

TYPED_TEST(StoreContract, TheOutboxLeasesEachDeliveryToOneSender) {
    Store& store = this->store();
    store.insert_webhook_endpoint(make_endpoint("we_all"), 10);
    NewRun run = make_run("run_1");
    run.webhook_url = "https://hooks.example.com/own";
    ASSERT_FALSE(insert(store, run));
    ASSERT_FALSE(finish(store, "run_1", completed_outcome()));
    const int64_t now = completed_outcome().completed_at_ms + 1;
    EXPECT_TRUE(store.lease_due_deliveries(now - 10, now + 60'000, 10).empty()) << "not due yet";
    const auto leased = store.lease_due_deliveries(now, now + 60'000, 10);
    ASSERT_EQ(leased.size(), 2u);
    EXPECT_EQ(leased[0].event_id, leased[1].event_id) << "one event, one id for every destination";
    EXPECT_EQ(leased[0].event_type, "run.completed");
    EXPECT_TRUE(store.lease_due_deliveries(now, now + 60'000, 10).empty())
        << "leased deliveries are taken";
    EXPECT_EQ(store.lease_due_deliveries(now + 60'000, now + 120'000, 1).size(), 1u)
        << "an expired lease frees them";

    const std::string endpoint_delivery = leased[0].endpoint_id ? leased[0].id : leased[1].id;
    const AttemptVerdict retry{DeliveryStatus::pending, now + 5, false};
    EXPECT_EQ(store.record_delivery_attempt({endpoint_delivery, 1, now, 3, 500, "HTTP 500"}, retry,
                                            now + 3),
              1);
    EXPECT_EQ(store.record_delivery_attempt(
                  {endpoint_delivery, 2, now, 3, std::nullopt, "timed_out"}, retry, now + 4),
              2);
    EXPECT_TRUE(store.disable_webhook_endpoint(
        "we_all", "disabled after 2 consecutive failed delivery attempts", 9));
    EXPECT_FALSE(store.disable_webhook_endpoint("we_all", "again", 10)) << "disabled once";
    EXPECT_EQ(store.find_delivery("org_a", "test", endpoint_delivery)->status,
              DeliveryStatus::failed);
    EXPECT_EQ(store.list_delivery_attempts(endpoint_delivery).size(), 2u);
    EXPECT_EQ(store.list_deliveries("org_a", "test", "we_all", 10).size(), 1u);
    EXPECT_EQ(store.list_deliveries("org_a", "test", "", 10).size(), 2u);
    EXPECT_TRUE(store.retry_delivery("org_a", "test", endpoint_delivery, now + 20));
    EXPECT_FALSE(store.retry_delivery("org_b", "test", endpoint_delivery, now + 20))
        << "another organisation's";

    EXPECT_FALSE(store.find_signing_secret("org_a", "test"));
    const SigningSecret first =
        store.add_signing_secret("org_a", "test", {"whsec_1", std::nullopt, std::nullopt, 1});
    EXPECT_EQ(store.add_signing_secret("org_a", "test", {"whsec_2", std::nullopt, std::nullopt, 2})
                  .secret,
              first.secret);
    store.put_signing_secret("org_a", "test", {"whsec_3", std::string("whsec_1"), int64_t{99}, 3});
    EXPECT_EQ(store.find_signing_secret("org_a", "test")->previous_secret, "whsec_1");
}

TYPED_TEST(StoreContract, AsynchronousWritesAreGroupedAndCounted) {
    Store& store = this->store();
    constexpr int kWrites = 40;
    std::vector<std::unique_ptr<Outcome>> outcomes;
    for (int i = 0; i < kWrites; ++i) {
        outcomes.push_back(std::make_unique<Outcome>());
        store.insert_run(make_run("run_" + std::to_string(i)), outcomes.back()->completion());
    }
    for (auto& outcome : outcomes) EXPECT_FALSE(outcome->get());
    const Store::WriterStats stats = store.writer_stats();
    EXPECT_EQ(stats.writes, static_cast<uint64_t>(kWrites));
    EXPECT_LE(stats.transactions, static_cast<uint64_t>(kWrites));
    EXPECT_GE(stats.largest_batch, 1u);
    EXPECT_EQ(store.queue_counts().queued, kWrites);
}

// --- The queue protocol: claim, lease, heartbeat, takeover, lease-guarded outcome, poison cap.

constexpr int64_t kNow = 1'700'000'000'100;

TYPED_TEST(StoreContract, AClaimLeasesTheOldestQueuedRunToOneNode) {
    Store& store = this->store();
    for (const char* id : {"run_1", "run_2"}) ASSERT_FALSE(insert(store, make_run(id)));

    const auto first = claim(store, std::nullopt, kNow, "node_a");
    ASSERT_TRUE(first);
    EXPECT_FALSE(first->crashed);
    EXPECT_EQ(first->run.id, "run_1");
    EXPECT_EQ(first->run.status, RunStatus::processing);
    EXPECT_EQ(first->run.attempts, 1);
    EXPECT_EQ(first->run.lease_owner, "node_a");
    EXPECT_EQ(first->run.leased_until_ms, kNow + kTestLeaseMs);
    EXPECT_EQ(first->run.request_json, make_run("run_1").request_json);
    EXPECT_EQ(store.get_run("run_1")->lease_owner, "node_a");

    EXPECT_EQ(claim(store, std::nullopt, kNow, "node_b")->run.id, "run_2");
    EXPECT_FALSE(claim(store, std::nullopt, kNow, "node_c")) << "both runs are leased";
    EXPECT_FALSE(claim(store, "run_1", kNow + kTestLeaseMs, "node_c"))
        << "a lease holds up to its last millisecond";
    EXPECT_EQ(store.queue_counts().processing, 2);
}

TYPED_TEST(StoreContract, AnExpiredLeaseIsTakenOverAndOnlyTheNewHolderStoresTheOutcome) {
    Store& store = this->store();
    ASSERT_FALSE(insert(store, make_run("run_1")));
    ASSERT_TRUE(claim(store, "run_1", kNow, "node_a"));

    const auto taken = claim(store, std::nullopt, kNow + kTestLeaseMs + 1, "node_b");
    ASSERT_TRUE(taken) << "node_a's lease expired";
    EXPECT_EQ(taken->run.attempts, 2);
    EXPECT_EQ(taken->run.lease_owner, "node_b");

    EXPECT_TRUE(holds<LeaseLost>(finish_as(store, "run_1", "node_a", failed_outcome())))
        << "the holder whose lease was taken over cannot write the outcome";
    EXPECT_EQ(store.get_run("run_1")->status, RunStatus::processing);
    ASSERT_FALSE(finish_as(store, "run_1", "node_b", completed_outcome()));
    EXPECT_EQ(store.get_run("run_1")->status, RunStatus::completed);
    EXPECT_EQ(store.get_run("run_1")->attempts, 2);
    const std::exception_ptr late = finish_as(store, "run_1", "node_a", failed_outcome());
    EXPECT_TRUE(holds<std::logic_error>(late) && !holds<LeaseLost>(late)) << "written once";
    EXPECT_EQ(store.get_run("run_1")->results_json, completed_outcome().results_json);
}

TYPED_TEST(StoreContract, TheHeartbeatExtendsOnlyItsOwnersLeases) {
    Store& store = this->store();
    for (const char* id : {"run_a", "run_b"}) ASSERT_FALSE(insert(store, make_run(id)));
    ASSERT_TRUE(claim(store, "run_a", kNow, "node_a"));
    ASSERT_TRUE(claim(store, "run_b", kNow, "node_b"));
    Outcome extended;
    store.extend_run_leases("node_a", {"run_a", "run_b"}, kNow + 3 * kTestLeaseMs,
                            extended.completion());
    ASSERT_FALSE(extended.get());
    EXPECT_EQ(store.get_run("run_a")->leased_until_ms, kNow + 3 * kTestLeaseMs);
    EXPECT_EQ(store.get_run("run_b")->leased_until_ms, kNow + kTestLeaseMs)
        << "named, but node_b's";

    const int64_t later = kNow + 2 * kTestLeaseMs;
    const auto taken = claim(store, std::nullopt, later, "node_c");
    ASSERT_TRUE(taken);
    EXPECT_EQ(taken->run.id, "run_b") << "node_b stopped beating";
    EXPECT_FALSE(claim(store, std::nullopt, later, "node_c")) << "node_a's run is still held";
}

TYPED_TEST(StoreContract, ARunClaimedAsOftenAsTheCapComesBackCrashedWithItsCountKept) {
    Store& store = this->store();
    ASSERT_FALSE(insert(store, make_run("run_1")));
    constexpr int kCap = 2;
    int64_t at = kNow;
    for (int attempt = 1; attempt <= kCap; ++attempt) {
        const auto claimed =
            claim(store, std::nullopt, at, "node_" + std::to_string(attempt), kCap);
        ASSERT_TRUE(claimed);
        EXPECT_FALSE(claimed->crashed) << attempt;
        EXPECT_EQ(claimed->run.attempts, attempt);
        at += kTestLeaseMs + 1;  // each holder dies with its lease
    }
    const auto poisoned = claim(store, std::nullopt, at, "node_last", kCap);
    ASSERT_TRUE(poisoned);
    EXPECT_TRUE(poisoned->crashed);
    EXPECT_EQ(poisoned->run.attempts, kCap);
    EXPECT_EQ(poisoned->run.lease_owner, "node_last") << "held while its failure is stored";
    RunOutcome crashed = failed_outcome();
    crashed.error_code = "run_crashed";
    ASSERT_FALSE(finish_as(store, "run_1", "node_last", crashed));
    EXPECT_EQ(store.get_run("run_1")->error_code, "run_crashed");
}

// A run as the accepting node's submit stores it: leased to `owner` until `until`.
NewRun held_run(const std::string& id, const std::string& owner, int64_t until) {
    NewRun run = make_run(id);
    run.held_by = RunHold{owner, until};
    return run;
}

// Each run's start; the first failure, if any.
std::exception_ptr start(Store& store, const std::string& owner,
                         const std::vector<std::string>& run_ids, int64_t at) {
    for (const std::string& run_id : run_ids) {
        Outcome outcome;
        store.start_run(owner, run_id, at, outcome.completion());
        if (std::exception_ptr error = outcome.get()) return error;
    }
    return nullptr;
}

// What a submit hands its workers instead of reading the run back is the run as stored.
TYPED_TEST(StoreContract, AQueuedRunAsHandedOverIsTheRunAsStored) {
    Store& store = this->store();
    for (const bool held : {false, true}) {
        SCOPED_TRACE(held);
        const std::string id = held ? "run_held" : "run_free";
        NewRun run = held ? held_run(id, "node_a", kNow + kTestLeaseMs) : make_run(id);
        run.engine_version = "1.2";
        run.engine_version_pin = "1.x";
        run.engine_version_pin_source = "request";
        run.engine_version_rollout = "new";
        run.webhook_url = "https://example.com/hook";
        ASSERT_FALSE(insert(store, run));
        const Run handed = queued_run(run);
        const Run stored = *store.get_run(id);
        EXPECT_EQ(handed.id, stored.id);
        EXPECT_EQ(handed.organization, stored.organization);
        EXPECT_EQ(handed.environment, stored.environment);
        EXPECT_EQ(handed.environment_id, stored.environment_id);
        EXPECT_EQ(handed.engine_slug, stored.engine_slug);
        EXPECT_EQ(handed.engine_type, stored.engine_type);
        EXPECT_EQ(handed.engine_version, stored.engine_version);
        EXPECT_EQ(handed.engine_version_pin, stored.engine_version_pin);
        EXPECT_EQ(handed.engine_version_pin_source, stored.engine_version_pin_source);
        EXPECT_EQ(handed.engine_version_rollout, stored.engine_version_rollout);
        EXPECT_EQ(handed.status, stored.status);
        EXPECT_EQ(handed.stage, stored.stage);
        EXPECT_EQ(handed.request_json, stored.request_json);
        EXPECT_EQ(handed.config_hash, stored.config_hash);
        EXPECT_EQ(handed.webhook_url, stored.webhook_url);
        EXPECT_EQ(handed.api_key_id, stored.api_key_id);
        EXPECT_EQ(handed.output_json, stored.output_json);
        EXPECT_EQ(handed.results_json, stored.results_json);
        EXPECT_EQ(handed.error_code, stored.error_code);
        EXPECT_EQ(handed.error_message, stored.error_message);
        EXPECT_EQ(handed.error_details_json, stored.error_details_json);
        EXPECT_EQ(handed.trace_json, stored.trace_json);
        EXPECT_EQ(handed.attempts, stored.attempts);
        EXPECT_EQ(handed.lease_owner, stored.lease_owner);
        EXPECT_EQ(handed.leased_until_ms, stored.leased_until_ms);
        EXPECT_EQ(handed.created_at_ms, stored.created_at_ms);
        EXPECT_EQ(handed.started_at_ms, stored.started_at_ms);
        EXPECT_EQ(handed.completed_at_ms, stored.completed_at_ms);
        EXPECT_EQ(handed.fingerprint, stored.fingerprint);
        EXPECT_EQ(handed.fingerprint_json, stored.fingerprint_json);
    }
    EXPECT_EQ(store.get_run("run_held")->attempts, 1);
    EXPECT_EQ(store.get_run("run_held")->lease_owner, "node_a");
    EXPECT_EQ(store.get_run("run_free")->attempts, 0);
    EXPECT_EQ(store.get_run("run_free")->lease_owner, std::nullopt);
}

// The accepting node holds its run from the insert on: no claim on any node takes it while the
// lease lasts, however old it is; once the lease expired (the node died) any claim takes it over
// as its second attempt, and the first holder's outcome is refused.
TYPED_TEST(StoreContract, ARunInsertedHeldIsClaimedByNoOtherNodeUntilItsLeaseExpires) {
    Store& store = this->store();
    ASSERT_FALSE(insert(store, held_run("run_held", "node_a", kNow + kTestLeaseMs)));
    ASSERT_FALSE(insert(store, make_run("run_free")));
    EXPECT_EQ(store.get_run("run_held")->status, RunStatus::queued);
    EXPECT_EQ(store.queue_counts().queued, 2);

    const auto first = claim(store, std::nullopt, kNow, "node_b");
    ASSERT_TRUE(first);
    EXPECT_EQ(first->run.id, "run_free") << "the older run is held by node_a";
    EXPECT_FALSE(claim(store, std::nullopt, kNow, "node_b"));
    EXPECT_FALSE(claim(store, "run_held", kNow + kTestLeaseMs, "node_b"))
        << "a lease holds up to its last millisecond";

    const auto taken = claim(store, std::nullopt, kNow + kTestLeaseMs + 1, "node_b");
    ASSERT_TRUE(taken) << "node_a's lease expired";
    EXPECT_EQ(taken->run.id, "run_held");
    EXPECT_EQ(taken->run.attempts, 2);
    EXPECT_EQ(taken->run.status, RunStatus::processing);
    EXPECT_EQ(taken->run.lease_owner, "node_b");
    EXPECT_FALSE(taken->crashed);

    ASSERT_FALSE(start(store, "node_a", {"run_held"}, kNow + kTestLeaseMs + 2));
    EXPECT_EQ(store.get_run("run_held")->started_at_ms, kNow + kTestLeaseMs + 1)
        << "the start of a run held by another node changes nothing";
    EXPECT_TRUE(holds<LeaseLost>(finish_as(store, "run_held", "node_a", failed_outcome())))
        << "the holder whose lease was taken over cannot write the outcome";
    ASSERT_FALSE(finish_as(store, "run_held", "node_b", completed_outcome()));
    EXPECT_EQ(store.get_run("run_held")->status, RunStatus::completed);
    EXPECT_EQ(store.get_run("run_held")->attempts, 2);
}

// The holder starts its runs in one write it need not wait for; the outcome needs no start.
TYPED_TEST(StoreContract, TheHolderStartsItsRunsAndFinishesThemStartedOrNot) {
    Store& store = this->store();
    const int64_t until = kNow + kTestLeaseMs;
    for (const char* id : {"run_1", "run_2", "run_3"})
        ASSERT_FALSE(insert(store, held_run(id, "node_a", until)));
    ASSERT_FALSE(insert(store, held_run("run_other", "node_b", until)));
    ASSERT_FALSE(finish_as(store, "run_3", "node_a", completed_outcome()));

    ASSERT_FALSE(start(store, "node_a", {"run_1", "run_other", "run_3", "run_missing"}, kNow + 5));
    const Run started = *store.get_run("run_1");
    EXPECT_EQ(started.status, RunStatus::processing);
    EXPECT_EQ(started.stage, "processing");
    EXPECT_EQ(started.started_at_ms, kNow + 5);
    EXPECT_EQ(started.attempts, 1) << "the attempt was counted by the insert";
    EXPECT_EQ(started.lease_owner, "node_a");
    EXPECT_EQ(store.get_run("run_other")->status, RunStatus::queued) << "node_b's";
    EXPECT_EQ(store.get_run("run_3")->status, RunStatus::completed) << "finished before its start";
    EXPECT_EQ(store.get_run("run_2")->status, RunStatus::queued) << "not in the batch";
    EXPECT_EQ(store.queue_counts().processing, 1);

    RunOutcome with_start = completed_outcome();
    with_start.started_at_ms = kNow + 9;
    ASSERT_FALSE(finish_as(store, "run_1", "node_a", with_start));
    EXPECT_EQ(store.get_run("run_1")->started_at_ms, kNow + 5) << "the start write's time stays";
    ASSERT_FALSE(finish_as(store, "run_2", "node_a", with_start));
    EXPECT_EQ(store.get_run("run_2")->started_at_ms, kNow + 9) << "no start write landed";
    EXPECT_TRUE(holds<LeaseLost>(finish_as(store, "run_other", "node_a", with_start)));
}

TYPED_TEST(StoreContract, TheHeartbeatRenewsAHeldRunNotYetStarted) {
    Store& store = this->store();
    ASSERT_FALSE(insert(store, held_run("run_waiting", "node_a", kNow + kTestLeaseMs)));
    ASSERT_FALSE(insert(store, held_run("run_started", "node_a", kNow + kTestLeaseMs)));
    ASSERT_FALSE(start(store, "node_a", {"run_started"}, kNow));
    Outcome extended;
    store.extend_run_leases("node_a", {"run_waiting", "run_started"}, kNow + 3 * kTestLeaseMs,
                            extended.completion());
    ASSERT_FALSE(extended.get());
    EXPECT_EQ(store.get_run("run_waiting")->leased_until_ms, kNow + 3 * kTestLeaseMs);
    EXPECT_EQ(store.get_run("run_waiting")->status, RunStatus::queued);
    EXPECT_EQ(store.get_run("run_started")->leased_until_ms, kNow + 3 * kTestLeaseMs);
    EXPECT_FALSE(claim(store, std::nullopt, kNow + 2 * kTestLeaseMs, "node_b"))
        << "a backlog longer than the first lease stays node_a's while it beats";
}

// A submit whose commit answer was lost (the connection broke) leaves a run stored leased to its
// node, which never handed it to a worker: the heartbeat must not keep that run from every claim.
TYPED_TEST(StoreContract, TheHeartbeatRenewsOnlyTheRunsItsNodeNames) {
    Store& store = this->store();
    ASSERT_FALSE(insert(store, held_run("run_in_hand", "node_a", kNow + kTestLeaseMs)));
    ASSERT_FALSE(insert(store, held_run("run_unknown_to_node_a", "node_a", kNow + kTestLeaseMs)));
    Outcome extended;
    store.extend_run_leases("node_a", {"run_in_hand"}, kNow + 3 * kTestLeaseMs,
                            extended.completion());
    ASSERT_FALSE(extended.get());
    EXPECT_EQ(store.get_run("run_unknown_to_node_a")->leased_until_ms, kNow + kTestLeaseMs);
    const auto taken = claim(store, std::nullopt, kNow + 2 * kTestLeaseMs, "node_b");
    ASSERT_TRUE(taken);
    EXPECT_EQ(taken->run.id, "run_unknown_to_node_a");
    EXPECT_FALSE(claim(store, std::nullopt, kNow + 2 * kTestLeaseMs, "node_b"));
}

// A drain gives back what the node holds but never started: claimable at once, by any node,
// as a first attempt. Started runs and other nodes' runs keep their leases.
TYPED_TEST(StoreContract, ReleasingUnstartedRunsMakesThemClaimableAtOnceWithoutAnAttempt) {
    Store& store = this->store();
    const int64_t until = kNow + kTestLeaseMs;
    for (const char* id : {"run_waiting_1", "run_started", "run_waiting_2"})
        ASSERT_FALSE(insert(store, held_run(id, "node_a", until)));
    ASSERT_FALSE(insert(store, held_run("run_other", "node_b", until)));
    ASSERT_FALSE(start(store, "node_a", {"run_started"}, kNow));

    EXPECT_EQ(store.release_unstarted_runs("node_a"), 2);
    const Run released = *store.get_run("run_waiting_1");
    EXPECT_EQ(released.status, RunStatus::queued);
    EXPECT_EQ(released.attempts, 0);
    EXPECT_EQ(released.lease_owner, std::nullopt);
    EXPECT_EQ(released.leased_until_ms, std::nullopt);
    EXPECT_EQ(store.get_run("run_started")->lease_owner, "node_a");
    EXPECT_EQ(store.get_run("run_other")->lease_owner, "node_b");
    EXPECT_EQ(store.release_unstarted_runs("node_a"), 0) << "nothing is released twice";

    for (const char* id : {"run_waiting_1", "run_waiting_2"}) {
        const auto claimed = claim(store, std::nullopt, kNow + 1, "node_c");
        ASSERT_TRUE(claimed);
        EXPECT_EQ(claimed->run.id, id);
        EXPECT_EQ(claimed->run.attempts, 1);
    }
    EXPECT_FALSE(claim(store, std::nullopt, kNow + 1, "node_c"));
    EXPECT_TRUE(holds<LeaseLost>(finish_as(store, "run_waiting_1", "node_a", failed_outcome())));
}

TYPED_TEST(StoreContract, ARunOfAStoredConfigurationIsWrittenWithoutIt) {
    Store& store = this->store();
    const NewRun first = make_run("run_1");
    ASSERT_FALSE(insert(store, first));
    NewRun second = make_run("run_2");
    second.config_json = std::nullopt;
    ASSERT_FALSE(insert(store, second));
    EXPECT_EQ(store.get_run("run_2")->config_hash, first.config_hash);
    EXPECT_EQ(store.config_json(first.config_hash), first.config_json);
}

// The ids of the runs a watch was told of, in order, and of those told with added webhook
// deliveries; waits (a bound against hanging only) for another node's finish, which arrives by
// notification.
class FinishedRuns {
public:
    RunFinished recorder() {
        return [this](const FinishedRun& run) {
            {
                std::lock_guard lock(mutex_);
                told_.emplace_back(run.run_id);
                if (run.added_deliveries) with_deliveries_.emplace_back(run.run_id);
            }
            changed_.notify_all();
        };
    }
    bool reach(std::size_t count, std::chrono::seconds bound = std::chrono::seconds(30)) {
        std::unique_lock lock(mutex_);
        return changed_.wait_for(lock, bound, [&] { return told_.size() >= count; });
    }
    bool reach_run(const std::string& run_id) {
        std::unique_lock lock(mutex_);
        return changed_.wait_for(lock, std::chrono::seconds(30), [&] {
            return std::find(told_.begin(), told_.end(), run_id) != told_.end();
        });
    }
    std::vector<std::string> told() {
        std::lock_guard lock(mutex_);
        return told_;
    }
    std::vector<std::string> told_with_deliveries() {
        std::lock_guard lock(mutex_);
        return with_deliveries_;
    }

private:
    std::mutex mutex_;
    std::condition_variable changed_;
    std::vector<std::string> told_;
    std::vector<std::string> with_deliveries_;
};

// A run's finish is told once its outcome committed, and only then; never after the watch ended.
TYPED_TEST(StoreContract, AFinishIsToldToTheWatchOnceCommitted) {
    Store& store = this->store();
    for (const char* id : {"run_1", "run_2"}) ASSERT_FALSE(insert(store, make_run(id)));
    FinishedRuns finished;
    auto watch = store.watch_finished_runs(finished.recorder());
    ASSERT_TRUE(watch);

    ASSERT_FALSE(finish(store, "run_1", completed_outcome()));
    EXPECT_EQ(finished.told(), std::vector<std::string>{"run_1"}) << "told by its completion";
    EXPECT_TRUE(holds<std::logic_error>(finish(store, "run_1", failed_outcome())));
    EXPECT_EQ(finished.told(), std::vector<std::string>{"run_1"}) << "a refused outcome is not";

    watch.reset();
    ASSERT_FALSE(finish(store, "run_2", completed_outcome()));
    EXPECT_EQ(finished.told(), std::vector<std::string>{"run_1"}) << "the watch ended";
}

// A run its node executed before storing it (an idle node's submit) is inserted terminal in one
// write: told to the watch with the deliveries of its event, its idempotency record kept, and
// nothing of it left when the write is refused. It must be held by its node.
TYPED_TEST(StoreContract, ARunExecutedBeforeItsInsertIsStoredTerminalInOneWrite) {
    Store& store = this->store();
    store.insert_webhook_endpoint(make_endpoint("we_all"), 10);
    FinishedRuns finished;
    auto watch = store.watch_finished_runs(finished.recorder());
    const IdempotencyRecord record{
        "org_a", "test", "key-1", "hash", 202, R"({"run_id":"r"})", "/runs/run_done", kNow};
    NewRun run = held_run("run_done", "node_a", kNow + kTestLeaseMs);
    run.idempotency = record;
    RunOutcome outcome = completed_outcome();
    outcome.started_at_ms = kNow + 1;
    const uint64_t writes_before = store.writer_stats().writes;
    Outcome stored;
    store.insert_finished_run(run, outcome, stored.completion());
    ASSERT_FALSE(stored.get());

    EXPECT_EQ(store.writer_stats().writes - writes_before, 1u);
    const Run read = *store.get_run("run_done");
    EXPECT_EQ(read.status, RunStatus::completed);
    EXPECT_EQ(read.request_json, run.request_json);
    EXPECT_EQ(read.output_json, outcome.output_json);
    EXPECT_EQ(read.results_json, outcome.results_json);
    EXPECT_EQ(read.trace_json, outcome.trace_json);
    EXPECT_EQ(read.fingerprint, outcome.fingerprint);
    EXPECT_EQ(read.attempts, 1);
    EXPECT_EQ(read.started_at_ms, kNow + 1);
    EXPECT_EQ(read.completed_at_ms, outcome.completed_at_ms);
    EXPECT_EQ(store.queue_counts().queued, 0);
    EXPECT_EQ(store.queue_counts().processing, 0);
    EXPECT_FALSE(claim(store, std::nullopt, kNow + 2 * kTestLeaseMs, "node_b"));
    ASSERT_TRUE(finished.reach(1));
    EXPECT_EQ(finished.told(), std::vector<std::string>{"run_done"});
    EXPECT_EQ(finished.told_with_deliveries(), std::vector<std::string>{"run_done"});
    EXPECT_EQ(store.list_deliveries("org_a", "test", "", 10).size(), 1u);
    EXPECT_TRUE(store.find_idempotency("org_a", "test", "key-1", kNow + 1));

    NewRun again = held_run("run_again", "node_a", kNow + kTestLeaseMs);
    again.idempotency = record;
    Outcome refused;
    store.insert_finished_run(again, outcome, refused.completion());
    EXPECT_TRUE(holds<IdempotencyKeyTaken>(refused.get()));
    EXPECT_EQ(store.get_run("run_again"), std::nullopt) << "nothing of the refused write stays";
    EXPECT_EQ(store.list_deliveries("org_a", "test", "", 10).size(), 1u);
    EXPECT_EQ(finished.told(), std::vector<std::string>{"run_done"});

    EXPECT_THROW(
        store.insert_finished_run(make_run("run_unheld"), outcome, [](std::exception_ptr) {}),
        std::invalid_argument);
    EXPECT_EQ(store.get_run("run_unheld"), std::nullopt);
}

// A watch hears whether a finish added webhook deliveries (so that the senders look for them only
// then): not for a run with neither a URL of its own nor an endpoint, yes for a run with its own
// URL, and yes once an endpoint subscribes to its environment's runs. Each case twice: the outcome
// as a worker sends it, with its event's target, and without one (the backend reads the run).
TYPED_TEST(StoreContract, AFinishTellsTheWatchWhetherItAddedWebhookDeliveries) {
    Store& store = this->store();
    std::map<std::string, NewRun> runs;
    for (const char* tag : {"", "_addressed"}) {
        NewRun own_url = make_run(std::string("run_own_url") + tag);
        own_url.webhook_url = "https://hooks.example.com/own";
        for (NewRun run : {make_run(std::string("run_plain") + tag), own_url,
                           make_run(std::string("run_endpoint") + tag)}) {
            ASSERT_FALSE(insert(store, run));
            runs.emplace(run.id, run);
        }
    }
    auto outcome_of = [&runs](const std::string& id, RunOutcome outcome) {
        if (id.ends_with("_addressed")) {
            const NewRun& run = runs.at(id);
            outcome.event_target =
                RunEventTarget{run.organization, run.environment_id, run.webhook_url};
        }
        return outcome;
    };
    FinishedRuns finished;
    auto watch = store.watch_finished_runs(finished.recorder());

    for (const std::string tag : {"", "_addressed"}) {
        ASSERT_FALSE(
            finish(store, "run_plain" + tag, outcome_of("run_plain" + tag, completed_outcome())));
        ASSERT_FALSE(
            finish(store, "run_own_url" + tag, outcome_of("run_own_url" + tag, failed_outcome())));
    }
    store.insert_webhook_endpoint(make_endpoint("we_all"), 10);
    for (const std::string tag : {"", "_addressed"}) {
        ASSERT_FALSE(finish(store, "run_endpoint" + tag,
                            outcome_of("run_endpoint" + tag, completed_outcome())));
    }

    EXPECT_EQ(finished.told(),
              (std::vector<std::string>{"run_plain", "run_own_url", "run_plain_addressed",
                                        "run_own_url_addressed", "run_endpoint",
                                        "run_endpoint_addressed"}));
    EXPECT_EQ(finished.told_with_deliveries(),
              (std::vector<std::string>{"run_own_url", "run_own_url_addressed", "run_endpoint",
                                        "run_endpoint_addressed"}));
    const auto deliveries = store.list_deliveries("org_a", "test", "", 10);
    ASSERT_EQ(deliveries.size(), 4u);
    for (const auto& delivery : deliveries) {
        EXPECT_EQ(delivery.organization, "org_a");
        EXPECT_EQ(delivery.environment_id, "test");
        EXPECT_EQ(delivery.url, delivery.endpoint_id ? make_endpoint("we_all").url
                                                     : "https://hooks.example.com/own")
            << delivery.run_id;
    }
}

// A delivery's id is "dlv_", its event's millisecond in 12 hex digits, then 12 random ones:
// consecutive deliveries sort by time (they go to the last page of the id's index), and the
// deliveries of one event still differ.
TYPED_TEST(StoreContract, ADeliveryIdStartsWithItsEventsMillisecond) {
    Store& store = this->store();
    store.insert_webhook_endpoint(make_endpoint("we_all"), 10);
    std::vector<int64_t> times{0x0123'4567'89ab, 1'700'000'000'500, 1'700'000'000'501};
    for (std::size_t i = 0; i < times.size(); ++i) {
        NewRun run = make_run("run_" + std::to_string(i));
        run.webhook_url = "https://hooks.example.com/own";
        ASSERT_FALSE(insert(store, run));
        RunOutcome outcome = completed_outcome();
        outcome.completed_at_ms = times[i];
        ASSERT_FALSE(finish(store, run.id, outcome));
    }
    const auto deliveries = store.list_deliveries("org_a", "test", "", 10);
    ASSERT_EQ(deliveries.size(), 2 * times.size());
    std::set<std::string> ids;
    const std::regex form("dlv_[0-9a-f]{24}");
    for (const auto& delivery : deliveries) {
        ASSERT_TRUE(std::regex_match(delivery.id, form)) << delivery.id;
        EXPECT_EQ(std::stoll(delivery.id.substr(4, 12), nullptr, 16), delivery.event_created_at_ms)
            << delivery.id;
        ids.insert(delivery.id);
    }
    EXPECT_EQ(ids.size(), deliveries.size()) << "an event's two deliveries share no id";
}

// Two nodes on one database claim at once: every run is claimed by exactly one of them.
TYPED_TEST(StoreContract, ConcurrentClaimersOnTwoNodesNeverShareARun) {
    Store& store = this->store();
    constexpr int kRuns = 60;
    for (int i = 0; i < kRuns; ++i)
        ASSERT_FALSE(insert(store, make_run("run_" + std::to_string(i))));
    std::unique_ptr<Store> other_node = this->backend_.open();
    std::vector<std::vector<std::string>> claimed(4);
    std::vector<std::thread> claimers;
    for (int t = 0; t < 4; ++t) {
        Store& node = t % 2 == 0 ? store : *other_node;
        claimers.emplace_back([&node, &ids = claimed[t], t] {
            while (auto next = claim(node, std::nullopt, kNow, "node_" + std::to_string(t))) {
                ids.push_back(next->run.id);
            }
        });
    }
    for (auto& claimer : claimers) claimer.join();
    std::set<std::string> distinct;
    std::size_t total = 0;
    for (const auto& ids : claimed) {
        total += ids.size();
        distinct.insert(ids.begin(), ids.end());
    }
    EXPECT_EQ(total, static_cast<std::size_t>(kRuns));
    EXPECT_EQ(distinct.size(), static_cast<std::size_t>(kRuns));
    for (int i = 0; i < kRuns; ++i)
        EXPECT_EQ(store.get_run("run_" + std::to_string(i))->attempts, 1);
}

// A write the database refuses, in the middle of a group, is undone alone: the writes before and
// after it in the same transaction commit.
TYPED_TEST(StoreContract, ARefusedWriteInAGroupIsUndoneAlone) {
    Store& store = this->store();
    ASSERT_FALSE(insert(store, make_run("run_taken")));
    constexpr int kWrites = 9;
    std::vector<std::unique_ptr<Outcome>> outcomes;
    for (int i = 0; i < kWrites; ++i) {
        outcomes.push_back(std::make_unique<Outcome>());
        const std::string id = i == kWrites / 2 ? "run_taken" : "run_" + std::to_string(i);
        store.insert_run(make_run(id), outcomes.back()->completion());
    }
    for (int i = 0; i < kWrites; ++i) {
        const std::exception_ptr error = outcomes[i]->get();
        if (i == kWrites / 2) {
            EXPECT_TRUE(holds<std::invalid_argument>(error)) << "the duplicate id is refused";
        } else {
            EXPECT_FALSE(error) << "write " << i;
            EXPECT_TRUE(store.get_run("run_" + std::to_string(i))) << "write " << i;
        }
    }
    EXPECT_EQ(store.queue_counts().queued, kWrites);
}

// Writes of every kind in one group: a refused outcome (another node holds the lease) and a
// duplicate submit are undone alone — the outcome's webhook deliveries with it — and the others
// commit, the deliveries of the accepted outcome included.
TYPED_TEST(StoreContract, ARefusedOutcomeInAGroupIsUndoneAloneWithItsDeliveries) {
    Store& store = this->store();
    store.insert_webhook_endpoint(make_endpoint("we_all"), 10);
    for (const char* id : {"run_mine", "run_theirs"}) {
        NewRun run = make_run(id);
        run.webhook_url = "https://hooks.example.com/own";
        ASSERT_FALSE(insert(store, run));
    }
    ASSERT_TRUE(claim(store, "run_mine", kNow, "node_a"));
    ASSERT_TRUE(claim(store, "run_theirs", kNow, "node_b"));

    std::vector<std::unique_ptr<Outcome>> outcomes;
    const auto next = [&] {
        outcomes.push_back(std::make_unique<Outcome>());
        return outcomes.back()->completion();
    };
    store.insert_run(make_run("run_new_1"), next());
    store.finish_run("run_theirs", "node_a", failed_outcome(), next());
    store.finish_run("run_mine", "node_a", completed_outcome(), next());
    store.insert_run(make_run("run_mine"), next());
    store.insert_run(make_run("run_new_2"), next());

    EXPECT_FALSE(outcomes[0]->get());
    EXPECT_TRUE(holds<LeaseLost>(outcomes[1]->get())) << "node_b holds run_theirs";
    EXPECT_FALSE(outcomes[2]->get());
    EXPECT_TRUE(holds<std::invalid_argument>(outcomes[3]->get())) << "a duplicate id";
    EXPECT_FALSE(outcomes[4]->get());
    EXPECT_EQ(store.get_run("run_new_1")->status, RunStatus::queued);
    EXPECT_EQ(store.get_run("run_new_2")->status, RunStatus::queued);
    EXPECT_EQ(store.get_run("run_theirs")->status, RunStatus::processing);
    EXPECT_EQ(store.get_run("run_mine")->status, RunStatus::completed);
    const auto deliveries = store.list_deliveries("org_a", "test", "", 10);
    ASSERT_EQ(deliveries.size(), 2u) << "the endpoint's and the run's own, for run_mine alone";
    for (const WebhookDelivery& delivery : deliveries) EXPECT_EQ(delivery.run_id, "run_mine");
    EXPECT_EQ(deliveries[0].event_id, deliveries[1].event_id);
}

// --- The audit log. The seal here stands in for core/audit's HMAC: the store only orders the
// chain and hands the seal the record with its position and previous MAC set.
AuditRecord make_audit(const std::string& id, const std::string& organization) {
    AuditRecord record;
    record.id = id;
    record.organization = organization;
    record.actor = "key_" + id;
    record.action = "config.update";
    record.target = "quotes";
    record.before_hash = "before-" + id;
    record.after_hash = "after-" + id;
    record.at_ms = 1'700'000'000'000;
    return record;
}

std::string test_seal(const AuditRecord& record) {
    return sha256_hex(record.id + "|" + std::to_string(record.position) + "|" +
                      record.previous_mac);
}

TYPED_TEST(StoreContract, AuditRecordsFormOneChainPerOrganisation) {
    Store& store = this->store();
    const AuditRecord first = store.append_audit(make_audit("aud_1", "org_a"), test_seal);
    const AuditRecord other = store.append_audit(make_audit("aud_2", "org_b"), test_seal);
    const AuditRecord second = store.append_audit(make_audit("aud_3", "org_a"), test_seal);

    EXPECT_EQ(first.position, 1);
    EXPECT_EQ(first.previous_mac, "");
    EXPECT_EQ(first.mac, test_seal(first));
    EXPECT_EQ(other.position, 1) << "each organisation has a chain of its own";
    EXPECT_EQ(second.position, 2);
    EXPECT_EQ(second.previous_mac, first.mac);
    EXPECT_LT(first.seq, second.seq);

    const std::vector<AuditRecord> chain = store.audit_chain("org_a");
    ASSERT_EQ(chain.size(), 2u);
    EXPECT_EQ(chain[0].id, "aud_1");
    EXPECT_EQ(chain[1].id, "aud_3");
    EXPECT_EQ(chain[1].actor, "key_aud_3");
    EXPECT_EQ(chain[1].action, "config.update");
    EXPECT_EQ(chain[1].target, "quotes");
    EXPECT_EQ(chain[1].before_hash, "before-aud_3");
    EXPECT_EQ(chain[1].after_hash, "after-aud_3");
    EXPECT_EQ(chain[1].at_ms, 1'700'000'000'000);
    EXPECT_EQ(chain[1].mac, second.mac);
    EXPECT_EQ(store.audit_organizations(), (std::vector<std::string>{"org_a", "org_b"}));

    const AuditPage newest = store.list_audit({"org_a", std::nullopt, 1});
    ASSERT_EQ(newest.records.size(), 1u);
    EXPECT_EQ(newest.records[0].id, "aud_3");
    ASSERT_TRUE(newest.next_before_seq);
    const AuditPage rest = store.list_audit({"org_a", newest.next_before_seq, 1});
    ASSERT_EQ(rest.records.size(), 1u);
    EXPECT_EQ(rest.records[0].id, "aud_1");
    EXPECT_FALSE(rest.next_before_seq);
}

// Appends from many threads (on PostgreSQL, many connections, as several nodes would) queue on
// the chain's head: positions 1..N with no gap or twin, each sealed over its predecessor's MAC.
TYPED_TEST(StoreContract, ConcurrentAuditAppendsSerialiseOnTheChainHead) {
    Store& store = this->store();
    constexpr int kThreads = 4;
    constexpr int kEach = 10;
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&store, t] {
            for (int i = 0; i < kEach; ++i) {
                store.append_audit(
                    make_audit("aud_" + std::to_string(t) + "_" + std::to_string(i), "org_a"),
                    test_seal);
            }
        });
    }
    for (std::thread& thread : threads) thread.join();
    const std::vector<AuditRecord> chain = store.audit_chain("org_a");
    ASSERT_EQ(chain.size(), static_cast<std::size_t>(kThreads * kEach));
    std::string previous;
    for (std::size_t i = 0; i < chain.size(); ++i) {
        EXPECT_EQ(chain[i].position, static_cast<int64_t>(i) + 1);
        EXPECT_EQ(chain[i].previous_mac, previous);
        EXPECT_EQ(chain[i].mac, test_seal(chain[i]));
        previous = chain[i].mac;
    }
}

// --- Operator actions carry their audit records into the write that makes the change.

// A seal that fails on the action's last record: the one fault of an append that nothing else
// can cause (the key is in engined's configuration, not in the database).
AuditSeal seal_failing_on(const std::string& record_id) {
    return [record_id](const AuditRecord& record) -> std::string {
        if (record.id == record_id) throw std::runtime_error("sealing failed");
        return test_seal(record);
    };
}

// One kind of operator write, in an organisation of its own: what must exist before it, the
// write itself, and what it changes (compared before and after).
struct AuditedWrite {
    std::string action;
    std::function<void(Store&, const std::string& org)> setup;
    std::function<void(Store&, const std::string& org, AuditAppend*)> write;
    std::function<std::string(const Store&, const std::string& org)> state;
    int records = 1;
};

EngineRecord engine_of(const std::string& org, const std::string& slug, const std::string& config) {
    EngineRecord engine = make_engine(slug, config);
    engine.id = "eng_" + org + "_" + slug;
    engine.organization = org;
    return engine;
}

ReleaseRecord release_of(const std::string& org, int minor, const std::string& config) {
    return {org,
            "quotes",
            1,
            minor,
            sha256_hex(config),
            "content-" + std::to_string(minor),
            "{}",
            "",
            minor == 0 ? "initial" : "minor",
            false,
            "[]",
            "api_key:key_1",
            1};
}

RolloutRecord rollout_of(const std::string& org) {
    RolloutRecord rollout = make_rollout(0, 1, 10);
    rollout.organization = org;
    return rollout;
}

WebhookEndpoint endpoint_of(const std::string& org) {
    WebhookEndpoint endpoint = make_endpoint("we_" + org);
    endpoint.organization = org;
    return endpoint;
}

ApiKey key_of(const std::string& org) {
    ApiKey key = make_key("key_" + org);
    key.organization = org;
    return key;
}

Environment environment_of(const std::string& org) {
    return {"env-" + org, org, "dev", false, std::nullopt, "{}", 1, 1};
}

constexpr const char* kConfig = R"({"version":1})";
constexpr const char* kOtherConfig = R"({"version":2})";

void with_engine(Store& store, const std::string& org) {
    store.insert_engine(engine_of(org, "quotes", kConfig), kConfig);
}

void with_releases(Store& store, const std::string& org) {
    with_engine(store, org);
    store.insert_release(release_of(org, 0, kConfig), kConfig);
    store.insert_release(release_of(org, 1, kConfig), kConfig);
}

void with_open_rollout(Store& store, const std::string& org) {
    with_releases(store, org);
    store.open_rollout(rollout_of(org));
}

std::string engine_state(const Store& store, const std::string& org) {
    const auto engine = store.find_engine(org, "quotes");
    return engine ? engine->status + " " + engine->config_hash : "none";
}

std::string release_state(const Store& store, const std::string& org) {
    std::string state;
    for (const ReleaseRecord& release : store.list_releases(org, "quotes"))
        state += std::to_string(release.minor) + ";";
    for (const RolloutRecord& rollout : store.list_rollouts(org, "quotes"))
        state += rollout.state + " " + std::to_string(rollout.percent) + ";";
    return state;
}

std::string endpoint_state(const Store& store, const std::string& org) {
    const auto endpoint = store.find_webhook_endpoint(org, "test", "we_" + org);
    return endpoint ? endpoint->description + " " + endpoint->secret : "none";
}

std::string environment_state(const Store& store, const std::string& org) {
    const auto environment = store.find_environment(org, "dev");
    return environment ? environment->pinned_engine_version.value_or("unpinned") : "none";
}

std::vector<AuditedWrite> audited_writes() {
    const auto nothing = [](Store&, const std::string&) {};
    return {
        {"engine.create", nothing,
         [](Store& s, const std::string& org, AuditAppend* a) {
             s.insert_engine(engine_of(org, "quotes", kConfig), kConfig, a);
         },
         engine_state},
        {"engine.archive", with_engine,
         [](Store& s, const std::string& org, AuditAppend* a) {
             s.set_engine_status(org, "quotes", "archived", 2, a);
         },
         engine_state},
        {"engine.unarchive",
         [](Store& s, const std::string& org) {
             with_engine(s, org);
             s.set_engine_status(org, "quotes", "archived", 2);
         },
         [](Store& s, const std::string& org, AuditAppend* a) {
             s.set_engine_status(org, "quotes", "active", 3, a);
         },
         engine_state},
        {"config.update", with_engine,
         [](Store& s, const std::string& org, AuditAppend* a) {
             s.update_engine_config(org, "quotes", sha256_hex(kOtherConfig), kOtherConfig,
                                    "api_key:key_1", 2, a);
         },
         engine_state},
        {"version.publish", with_engine,
         [](Store& s, const std::string& org, AuditAppend* a) {
             s.insert_release(release_of(org, 0, kConfig), kConfig, a);
         },
         release_state},
        {"version.publish+version.rollout.open",
         [](Store& s, const std::string& org) {
             with_engine(s, org);
             s.insert_release(release_of(org, 0, kConfig), kConfig);
         },
         [](Store& s, const std::string& org, AuditAppend* a) {
             s.insert_release_in_rollout(release_of(org, 1, kConfig), kConfig, rollout_of(org), a);
         },
         release_state, 2},
        {"version.rollout.open", with_releases,
         [](Store& s, const std::string& org, AuditAppend* a) {
             s.open_rollout(rollout_of(org), a);
         },
         release_state},
        {"version.rollout.percent", with_open_rollout,
         [](Store& s, const std::string& org, AuditAppend* a) {
             s.set_rollout_percent(org, "quotes", 1, 20, 2, a);
         },
         release_state},
        {"version.rollout.promote", with_open_rollout,
         [](Store& s, const std::string& org, AuditAppend* a) {
             s.close_rollout(org, "quotes", 1, "promoted", 2, a);
         },
         release_state},
        {"version.rollout.abort", with_open_rollout,
         [](Store& s, const std::string& org, AuditAppend* a) {
             s.close_rollout(org, "quotes", 1, "aborted", 2, a);
         },
         release_state},
        {"key.create", nothing,
         [](Store& s, const std::string& org, AuditAppend* a) {
             s.insert_api_key(key_of(org), "hash_" + org, a);
         },
         [](const Store& s, const std::string& org) {
             return std::to_string(s.list_api_keys(org).size());
         }},
        {"key.revoke",
         [](Store& s, const std::string& org) { s.insert_api_key(key_of(org), "hash_" + org); },
         [](Store& s, const std::string& org, AuditAppend* a) {
             s.revoke_api_key("key_" + org, 2, a);
         },
         [](const Store& s, const std::string& org) {
             return std::to_string(s.find_api_key("hash_" + org)->revoked_at_ms.value_or(0));
         }},
        {"pool.import", nothing,
         [](Store& s, const std::string& org, AuditAppend* a) {
             s.replace_pool(org, "west", R"([{"id":"a"}])", "west.csv", 2, a);
         },
         [](const Store& s, const std::string& org) {
             const auto pool = s.pool_snapshot(org, "west");
             return pool ? pool->snapshot : "none";
         }},
        {"webhook_endpoint.create", nothing,
         [](Store& s, const std::string& org, AuditAppend* a) {
             s.insert_webhook_endpoint(endpoint_of(org), 5, a);
         },
         endpoint_state},
        {"webhook_endpoint.update",
         [](Store& s, const std::string& org) { s.insert_webhook_endpoint(endpoint_of(org), 5); },
         [](Store& s, const std::string& org, AuditAppend* a) {
             WebhookEndpoint changed = endpoint_of(org);
             changed.description = "changed";
             s.update_webhook_endpoint(changed, 5, a);
         },
         endpoint_state},
        {"webhook_endpoint.rotate_secret",
         [](Store& s, const std::string& org) { s.insert_webhook_endpoint(endpoint_of(org), 5); },
         [](Store& s, const std::string& org, AuditAppend* a) {
             WebhookEndpoint rotated = endpoint_of(org);
             rotated.previous_secret = rotated.secret;
             rotated.previous_secret_expires_at_ms = 10;
             rotated.secret = "whsec_rotated";
             s.update_webhook_endpoint(rotated, 5, a);
         },
         endpoint_state},
        {"webhook_endpoint.delete",
         [](Store& s, const std::string& org) { s.insert_webhook_endpoint(endpoint_of(org), 5); },
         [](Store& s, const std::string& org, AuditAppend* a) {
             s.delete_webhook_endpoint(org, "test", "we_" + org, 2, a);
         },
         endpoint_state},
        {"signing_secret.rotate", nothing,
         [](Store& s, const std::string& org, AuditAppend* a) {
             s.put_signing_secret(org, "test", {"whsec_new", std::nullopt, std::nullopt, 2}, a);
         },
         [](const Store& s, const std::string& org) {
             const auto secret = s.find_signing_secret(org, "test");
             return secret ? secret->secret : "none";
         }},
        {"environment.create", nothing,
         [](Store& s, const std::string& org, AuditAppend* a) {
             s.insert_environment(environment_of(org), 5, a);
         },
         environment_state},
        {"environment.update",
         [](Store& s, const std::string& org) { s.insert_environment(environment_of(org), 5); },
         [](Store& s, const std::string& org, AuditAppend* a) {
             Environment pinned = environment_of(org);
             pinned.pinned_engine_version = "1.x";
             s.update_environment_pins(pinned, a);
         },
         environment_state},
        {"environment.delete",
         [](Store& s, const std::string& org) { s.insert_environment(environment_of(org), 5); },
         [](Store& s, const std::string& org, AuditAppend* a) {
             s.delete_environment(org, "dev", 2, a);
         },
         environment_state},
    };
}

AuditAppend audit_of(const std::string& org, const std::string& action, int records,
                     AuditSeal seal) {
    AuditAppend audit;
    for (int i = 0; i < records; ++i)
        audit.records.push_back(make_audit("aud_" + org + "_" + std::to_string(i), org));
    for (AuditRecord& record : audit.records) record.action = action;
    audit.seal = std::move(seal);
    return audit;
}

// For every kind of operator write: when the audit append fails, neither the change nor any of
// its records is stored; when it succeeds, both are, the records completed in place.
TYPED_TEST(StoreContract, AnOperatorWriteAndItsAuditRecordsCommitTogetherOrNotAtAll) {
    Store& store = this->store();
    int n = 0;
    for (const AuditedWrite& kind : audited_writes()) {
        SCOPED_TRACE(kind.action);
        const std::string org = "org_w" + std::to_string(n++);
        kind.setup(store, org);
        const std::string before = kind.state(store, org);

        AuditAppend failing =
            audit_of(org, kind.action, kind.records,
                     seal_failing_on("aud_" + org + "_" + std::to_string(kind.records - 1)));
        EXPECT_THROW(kind.write(store, org, &failing), std::runtime_error);
        EXPECT_FALSE(failing.appended);
        EXPECT_EQ(kind.state(store, org), before) << "the change was undone with its record";
        EXPECT_TRUE(store.audit_chain(org).empty()) << "no record of a change that did not happen";

        AuditAppend audit = audit_of(org, kind.action, kind.records, test_seal);
        kind.write(store, org, &audit);
        EXPECT_TRUE(audit.appended);
        EXPECT_NE(kind.state(store, org), before) << "the change was stored";
        const std::vector<AuditRecord> chain = store.audit_chain(org);
        ASSERT_EQ(chain.size(), static_cast<std::size_t>(kind.records));
        for (std::size_t i = 0; i < chain.size(); ++i) {
            EXPECT_EQ(chain[i].id, audit.records[i].id);
            EXPECT_EQ(chain[i].position, static_cast<int64_t>(i) + 1);
            EXPECT_EQ(chain[i].mac, test_seal(chain[i]));
            EXPECT_EQ(audit.records[i].mac, chain[i].mac) << "the caller logs the head it got";
            EXPECT_EQ(audit.records[i].seq, chain[i].seq);
        }
    }
}

// A write the store refuses (or that finds nothing to change) appends none of its records.
TYPED_TEST(StoreContract, ARefusedOperatorWriteAppendsNoAuditRecord) {
    Store& store = this->store();
    const std::string org = "org_refused";
    with_open_rollout(store, org);
    store.insert_environment(environment_of(org), 5);
    ApiKey dev_key = key_of(org);
    dev_key.id = "key_refused_dev";
    dev_key.environment_id = "env-" + org;
    store.insert_api_key(dev_key, "hash_refused_dev");
    store.insert_webhook_endpoint(endpoint_of(org), 1);
    const std::vector<std::pair<std::string, std::function<void(AuditAppend*)>>> refusals = {
        {"duplicate engine",
         [&](AuditAppend* a) {
             EXPECT_THROW(store.insert_engine(engine_of(org, "quotes", kConfig), kConfig, a),
                          std::invalid_argument);
         }},
        {"unknown engine's configuration",
         [&](AuditAppend* a) {
             EXPECT_FALSE(store.update_engine_config(org, "absent", sha256_hex(kOtherConfig),
                                                     kOtherConfig, "k", 2, a));
         }},
        {"duplicate release",
         [&](AuditAppend* a) {
             EXPECT_THROW(store.insert_release(release_of(org, 1, kConfig), kConfig, a),
                          std::invalid_argument);
         }},
        {"second open rollout",
         [&](AuditAppend* a) {
             EXPECT_THROW(store.open_rollout(rollout_of(org), a), std::invalid_argument);
         }},
        {"percent of no open rollout",
         [&](AuditAppend* a) {
             EXPECT_FALSE(store.set_rollout_percent(org, "quotes", 2, 20, 2, a));
         }},
        {"closing no open rollout",
         [&](AuditAppend* a) {
             EXPECT_FALSE(store.close_rollout(org, "quotes", 2, "aborted", 2, a));
         }},
        {"revoking an unknown key",
         [&](AuditAppend* a) { EXPECT_FALSE(store.revoke_api_key("key_absent", 2, a)); }},
        {"endpoint past the active limit",
         [&](AuditAppend* a) {
             WebhookEndpoint second = endpoint_of(org);
             second.id = "we_refused_2";
             EXPECT_THROW(store.insert_webhook_endpoint(second, 1, a), TooManyActiveEndpoints);
         }},
        {"deleting an unknown endpoint",
         [&](AuditAppend* a) {
             EXPECT_FALSE(store.delete_webhook_endpoint(org, "test", "we_absent", 2, a));
         }},
        {"duplicate environment",
         [&](AuditAppend* a) {
             Environment twin = environment_of(org);
             twin.id = "env-refused-twin";
             EXPECT_THROW(store.insert_environment(twin, 5, a), std::invalid_argument);
         }},
        {"pinning an unknown environment",
         [&](AuditAppend* a) {
             Environment absent = environment_of(org);
             absent.slug = "absent";
             EXPECT_FALSE(store.update_environment_pins(absent, a));
         }},
        {"deleting an environment with active keys",
         [&](AuditAppend* a) {
             EXPECT_THROW(store.delete_environment(org, "dev", 2, a), EnvironmentHasActiveKeys);
         }},
    };
    for (const auto& [name, refuse] : refusals) {
        SCOPED_TRACE(name);
        AuditAppend audit = audit_of(org, "refused", 1, test_seal);
        refuse(&audit);
        EXPECT_FALSE(audit.appended);
        EXPECT_TRUE(store.audit_chain(org).empty());
    }
}

// A mix of operator writes, a failed one and a refused one among them, leaves one organisation's
// chain that core/audit verifies under the key, up to the head the last append logged.
TYPED_TEST(StoreContract, TheChainOfAMixOfOperatorWritesVerifies) {
    Store& store = this->store();
    const std::string key = "a-test-audit-key-of-32-characters";
    audit::AuditTrail trail(store, key);
    const std::string org = "org_mix";
    std::string head;
    const auto audited = [&](const std::string& action, const auto& write) {
        AuditAppend audit = trail.draft({org, "key_1", action, "quotes"});
        write(&audit);
        if (audit.appended) head = audit.records.back().mac;
    };
    audited("engine.create", [&](AuditAppend* a) {
        store.insert_engine(engine_of(org, "quotes", kConfig), kConfig, a);
    });
    audited("config.update", [&](AuditAppend* a) {
        store.update_engine_config(org, "quotes", sha256_hex(kOtherConfig), kOtherConfig, "k", 2,
                                   a);
    });
    audited("engine.archive", [&](AuditAppend* a) {
        a->seal = seal_failing_on(a->records.front().id);
        EXPECT_THROW(store.set_engine_status(org, "quotes", "archived", 3, a), std::runtime_error);
    });
    audited("version.publish",
            [&](AuditAppend* a) { store.insert_release(release_of(org, 0, kConfig), kConfig, a); });
    {
        AuditAppend both = trail.draft(
            std::vector<audit::Action>{{org, "key_1", "version.publish", "quotes@1.1"},
                                       {org, "key_1", "version.rollout.open", "quotes@1.1"}});
        store.insert_release_in_rollout(release_of(org, 1, kConfig), kConfig, rollout_of(org),
                                        &both);
        head = both.records.back().mac;
    }
    audited("version.rollout.open", [&](AuditAppend* a) {
        EXPECT_THROW(store.open_rollout(rollout_of(org), a), std::invalid_argument);
    });
    audited("version.rollout.percent",
            [&](AuditAppend* a) { store.set_rollout_percent(org, "quotes", 1, 30, 4, a); });
    audited("version.rollout.abort",
            [&](AuditAppend* a) { store.close_rollout(org, "quotes", 1, "aborted", 5, a); });
    store.append_audit(make_audit("aud_elsewhere", "org_elsewhere"), test_seal);
    audited("key.create",
            [&](AuditAppend* a) { store.insert_api_key(key_of(org), "hash_mix", a); });
    audited("environment.create",
            [&](AuditAppend* a) { store.insert_environment(environment_of(org), 5, a); });
    audited("webhook_endpoint.create",
            [&](AuditAppend* a) { store.insert_webhook_endpoint(endpoint_of(org), 5, a); });
    audited("pool.import", [&](AuditAppend* a) {
        store.replace_pool(org, "west", R"([{"id":"a"}])", "west.csv", 6, a);
    });
    head = trail.record({org, "key_1", "signing_secret.rotate", "environment:test"}).mac;

    const std::vector<AuditRecord> chain = store.audit_chain(org);
    ASSERT_EQ(chain.size(), 12u) << "the failed and the refused write left no record";
    const audit::ChainVerdict verdict = audit::verify_chain(key, org, chain, head);
    EXPECT_TRUE(verdict.intact) << verdict.problem;
    EXPECT_EQ(verdict.head_mac, head);
    EXPECT_EQ(chain[2].action, "version.publish");
    EXPECT_EQ(chain[4].action, "version.rollout.open");
    EXPECT_EQ(chain[4].previous_mac, chain[3].mac) << "one write's records chain in order";
}

// --- PostgreSQL only: what the interface does not show.

// A submit on one node wakes the workers of the others: its transaction NOTIFYs, and every node's
// watch LISTENs on a session of its own; a node's own submits do not wake it (it hands them over
// in-process). When the server drops the listening session, the watch reconnects and goes on.
TEST(PostgresSubmitWatch, ASubmitElsewhereWakesThisNodeAlsoAfterItsSessionWasDropped) {
    testing::PostgresTestDatabase database;
    if (database.url().empty()) GTEST_SKIP() << testing::kPostgresSkipReason;
    PostgresStore here(PostgresOptions{database.url()});
    PostgresStore elsewhere(PostgresOptions{database.url()});
    std::mutex mutex;
    std::condition_variable woken;
    int wakes = 0;
    const std::unique_ptr<SubmitWatch> watch = here.watch_submits([&] {
        {
            std::lock_guard lock(mutex);
            ++wakes;
        }
        woken.notify_all();
    });
    // Generous: a bound only against hanging, never a measure of speed.
    const auto reach = [&](int count) {
        std::unique_lock lock(mutex);
        return woken.wait_for(lock, std::chrono::seconds(30), [&] { return wakes >= count; });
    };
    ASSERT_TRUE(reach(1)) << "a watch wakes once it listens (submits may have come before)";

    ASSERT_FALSE(insert(here, make_run("run_here")));
    ASSERT_FALSE(insert(elsewhere, make_run("run_elsewhere")));
    ASSERT_TRUE(reach(2)) << "the submit on the other node woke this one";
    {
        std::lock_guard lock(mutex);
        EXPECT_EQ(wakes, 2) << "this node's own submit woke it too";
    }

    testing::postgres_exec(database.url(),
                           "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                           "WHERE datname = current_database() AND query LIKE 'LISTEN%'");
    ASSERT_TRUE(reach(3)) << "the watch listens again after the server dropped its session";
    ASSERT_FALSE(insert(elsewhere, make_run("run_after_reconnect")));
    EXPECT_TRUE(reach(4)) << "a submit after the reconnect woke this node";
}

// A finish on another node is told to this node's watch by its NOTIFY; this node's own finish is
// told once, at its commit, not again by its own notification.
TEST(PostgresFinishedRunsWatch, AFinishElsewhereIsToldHereAndOwnFinishesOnce) {
    testing::PostgresTestDatabase database;
    if (database.url().empty()) GTEST_SKIP() << testing::kPostgresSkipReason;
    PostgresStore here(PostgresOptions{database.url()});
    PostgresStore elsewhere(PostgresOptions{database.url()});
    FinishedRuns finished;
    const auto watch = here.watch_finished_runs(finished.recorder());
    // Finishes elsewhere until one is told: from then on the watch's session listens.
    const auto finish_elsewhere = [&](const std::string& id) {
        ASSERT_FALSE(insert(elsewhere, make_run(id)));
        ASSERT_FALSE(finish(elsewhere, id, completed_outcome()));
    };
    int sent = 0;
    do {
        finish_elsewhere("run_elsewhere_" + std::to_string(++sent));
    } while (!finished.reach(1, std::chrono::seconds(1)) && sent < 30);
    ASSERT_TRUE(finished.reach(1)) << "no finish on the other node was told here";

    ASSERT_FALSE(insert(here, make_run("run_here")));
    ASSERT_FALSE(finish(here, "run_here", completed_outcome()));
    finish_elsewhere("run_marker");  // notifications arrive in commit order
    ASSERT_TRUE(finished.reach_run("run_marker"));
    const std::vector<std::string> told = finished.told();
    EXPECT_EQ(std::count(told.begin(), told.end(), "run_here"), 1)
        << "this node's finish is told once, at its commit, and not by its own notification";
}

class PostgresSchema : public ::testing::Test {
protected:
    void SetUp() override {
        if (backend_.url.empty()) GTEST_SKIP() << testing::kPostgresSkipReason;
    }
    PostgresBackend backend_;
};

TEST_F(PostgresSchema, ReleasesConfigurationsAndSnapshotsAreImmutableByTrigger) {
    {
        PostgresStore store(PostgresOptions{backend_.url});
        const std::string config = R"({"version":1})";
        store.insert_engine(make_engine("quotes", config), config);
        store.insert_release({"org_a", "quotes", 1, 0, sha256_hex(config), "c", "{}", "", "initial",
                              false, "[]", "k", 1},
                             config);
        store.replace_pool("org_a", "west", R"([{"id":"a"}])", "west.csv", 1);
    }
    for (const char* sql :
         {"UPDATE engine_releases SET changelog = 'x'", "DELETE FROM engine_releases",
          "UPDATE engine_configs SET config_json = '{}'", "DELETE FROM pool_snapshots"}) {
        try {
            testing::postgres_exec(backend_.url, sql);
            ADD_FAILURE() << sql << " was allowed";
        } catch (const std::runtime_error& error) {
            EXPECT_NE(std::string(error.what()).find("immutable"), std::string::npos)
                << error.what();
        }
    }
}

TEST_F(PostgresSchema, TheAuditLogRefusesUpdateDeleteAndTruncate) {
    {
        PostgresStore store(PostgresOptions{backend_.url});
        store.append_audit(make_audit("aud_1", "org_a"), test_seal);
    }
    for (const char* sql : {"UPDATE audit_log SET action = 'engine.archive'",
                            "DELETE FROM audit_log", "TRUNCATE audit_log"}) {
        try {
            testing::postgres_exec(backend_.url, sql);
            ADD_FAILURE() << sql << " was allowed";
        } catch (const std::runtime_error& error) {
            EXPECT_NE(std::string(error.what()).find("append-only"), std::string::npos)
                << error.what();
        }
    }
    PostgresStore store(PostgresOptions{backend_.url});
    ASSERT_EQ(store.audit_chain("org_a").size(), 1u);
    EXPECT_EQ(store.audit_chain("org_a")[0].action, "config.update");
}

TEST_F(PostgresSchema, MigratesOnceAndRefusesANewerSchema) {
    { PostgresStore first(PostgresOptions{backend_.url}); }
    {
        PostgresStore again(PostgresOptions{backend_.url});
        EXPECT_EQ(again.schema_version(), kLatestSchemaVersion) << "a second start applies nothing";
    }
    testing::postgres_exec(backend_.url,
                           "INSERT INTO schema_migrations (version, applied_at_ms) VALUES (" +
                               std::to_string(kLatestSchemaVersion + 1) + ", 0)");
    try {
        PostgresStore newer(PostgresOptions{backend_.url});
        ADD_FAILURE() << "a newer schema was served";
    } catch (const StoreUnavailable& error) {
        EXPECT_NE(std::string(error.what()).find("newer"), std::string::npos) << error.what();
    }
}

// The server ends every session of the store (as a restart does): the writes and reads in flight
// fail StoreUnavailable, nothing of them is half-written, and the next ones reconnect by themselves.
TEST_F(PostgresSchema, ALostConnectionFailsTransientlyAndTheStoreReconnects) {
    PostgresStore store(PostgresOptions{backend_.url});
    ASSERT_FALSE(insert(store, make_run("run_before")));
    ASSERT_TRUE(store.get_run("run_before"));
    testing::postgres_exec(backend_.url,
                           "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                           "WHERE datname = current_database() AND pid <> pg_backend_pid()");

    const std::exception_ptr during = insert(store, make_run("run_during"));
    EXPECT_TRUE(!during || holds<StoreUnavailable>(during))
        << "a lost session is the database's failure";
    ASSERT_FALSE(insert(store, make_run("run_after"))) << "the writer reconnected";

    std::optional<store::Run> read;
    for (int attempt = 0; attempt < 2 && !read; ++attempt) {
        try {
            read = store.get_run("run_after");
        } catch (const StoreUnavailable&) {
            // The pooled connection the read took was one the server ended; it is re-established.
        }
    }
    ASSERT_TRUE(read);
    EXPECT_EQ(read->status, RunStatus::queued);
    EXPECT_TRUE(store.get_run("run_before"));
    if (during) {
        EXPECT_EQ(store.get_run("run_during"), std::nullopt) << "nothing of the failed write stays";
    }
}

// A run's outcome is one statement: its webhook deliveries and the notification of the other
// nodes' waits travel in it, so a finish costs BEGIN, that statement and COMMIT — one statement
// fewer than the group's bookkeeping for each of the two it replaced.
TEST_F(PostgresSchema, ARunsOutcomeWithItsDeliveriesAndNotificationIsOneStatement) {
    std::atomic<uint64_t> statements{0};
    PostgresOptions options{backend_.url};
    options.on_round_trip = [&](std::size_t sent) { statements += sent; };
    PostgresStore store(options);
    store.insert_webhook_endpoint(make_endpoint("we_all"), 10);
    NewRun run = make_run("run_1");
    run.webhook_url = "https://hooks.example.com/own";
    ASSERT_FALSE(insert(store, run));
    ASSERT_TRUE(claim(store, "run_1", kNow));

    const uint64_t before = statements;
    ASSERT_FALSE(finish_as(store, "run_1", kTestNode, completed_outcome()));
    EXPECT_EQ(statements - before, 3u);
    EXPECT_EQ(store.get_run("run_1")->status, RunStatus::completed);
    const auto deliveries = store.list_deliveries("org_a", "test", "", 10);
    ASSERT_EQ(deliveries.size(), 2u) << "the endpoint's and the run's own";
    EXPECT_EQ(deliveries[0].event_id, deliveries[1].event_id);
    EXPECT_EQ(deliveries[0].event_type, "run.completed");
}

// Every statement is counted with the round trip that carried it. A group's bookkeeping (BEGIN,
// the savepoints, COMMIT) rides with its statements instead of costing round trips of its own, and
// a read is one round trip, its first preparation included.
TEST_F(PostgresSchema, AGroupsBookkeepingTravelsWithItsStatements) {
    std::atomic<uint64_t> statements{0};
    std::atomic<uint64_t> round_trips{0};
    PostgresOptions options{backend_.url};
    options.on_round_trip = [&](std::size_t sent) {
        statements += sent;
        ++round_trips;
    };
    PostgresStore store(options);
    const auto counted = [&](auto&& step) {
        const uint64_t statements_before = statements;
        const uint64_t round_trips_before = round_trips;
        step();
        return std::pair{statements - statements_before, round_trips - round_trips_before};
    };

    const auto [write_statements, write_round_trips] =
        counted([&] { ASSERT_FALSE(insert(store, make_run("run_1"))); });
    // BEGIN, the notification, the configuration and the run, COMMIT: nothing is read back.
    EXPECT_EQ(write_statements, 5u);
    EXPECT_EQ(write_round_trips, 1u) << "a submit reads nothing back";
    store.list_api_keys(std::nullopt);  // opens the pooled read connection
    for (int read = 0; read < 3; ++read) {
        const auto [read_statements, read_round_trips] =
            counted([&] { ASSERT_TRUE(store.get_run("run_1")); });
        EXPECT_EQ(read_statements, 1u);
        EXPECT_EQ(read_round_trips, 1u);
    }
}

// A group of submits is one round trip however many runs it holds: no savepoints, the runs'
// inserts sent with the COMMIT, one notification for all of them.
TEST_F(PostgresSchema, AGroupOfSubmitsIsOneRoundTrip) {
    std::atomic<uint64_t> statements{0};
    std::atomic<uint64_t> round_trips{0};
    PostgresOptions options{backend_.url};
    options.on_round_trip = [&](std::size_t sent) {
        statements += sent;
        ++round_trips;
    };
    PostgresStore store(options);
    constexpr int kWrites = 40;
    const uint64_t transactions_before = store.writer_stats().transactions;
    const uint64_t statements_before = statements;
    const uint64_t round_trips_before = round_trips;
    std::vector<std::unique_ptr<Outcome>> outcomes;
    for (int i = 0; i < kWrites; ++i) {
        outcomes.push_back(std::make_unique<Outcome>());
        store.insert_run(make_run("run_" + std::to_string(i)), outcomes.back()->completion());
    }
    for (auto& outcome : outcomes) ASSERT_FALSE(outcome->get());
    const uint64_t groups = store.writer_stats().transactions - transactions_before;
    EXPECT_EQ(round_trips - round_trips_before, groups);
    // Per group BEGIN, one notification and COMMIT; per run its configuration and its insert.
    EXPECT_EQ(statements - statements_before, 2 * kWrites + 3 * groups);
    EXPECT_EQ(store.queue_counts().queued, kWrites);
}

// The database fails under a group (every session ended, as a restart does): each write of the
// failed group fails StoreUnavailable and leaves nothing; the writes after it commit once the
// writer has reconnected.
TEST_F(PostgresSchema, ADatabaseFailureFailsTheWholeGroupAndLeavesNothing) {
    PostgresStore store(PostgresOptions{backend_.url});
    ASSERT_FALSE(insert(store, make_run("run_before")));
    // With a timeout, the call returns once the sessions have ended.
    testing::postgres_exec(backend_.url,
                           "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity "
                           "WHERE datname = current_database() AND pid <> pg_backend_pid()");
    constexpr int kWrites = 20;
    std::vector<std::unique_ptr<Outcome>> outcomes;
    for (int i = 0; i < kWrites; ++i) {
        outcomes.push_back(std::make_unique<Outcome>());
        store.insert_run(make_run("run_" + std::to_string(i)), outcomes.back()->completion());
    }
    int failed = 0;
    for (int i = 0; i < kWrites; ++i) {
        const std::exception_ptr error = outcomes[i]->get();
        const std::string id = "run_" + std::to_string(i);
        std::optional<store::Run> stored;
        for (int attempt = 0; attempt < 2 && !stored; ++attempt) {
            try {
                stored = store.get_run(id);
                break;
            } catch (const StoreUnavailable&) {
                // A pooled read connection the server ended; it is re-established.
            }
        }
        if (error) {
            EXPECT_TRUE(holds<StoreUnavailable>(error)) << id;
            EXPECT_EQ(stored, std::nullopt) << id << ": nothing of a failed write stays";
            EXPECT_EQ(failed, i) << "the writes that fail are the first group's";
            ++failed;
        } else {
            EXPECT_TRUE(stored) << id;
        }
    }
    EXPECT_GE(failed, 1) << "the first group met the ended session";
    EXPECT_EQ(store.queue_counts().queued, 1 + kWrites - failed);
}

TEST(PostgresStoreOpen, AnUnreachableServerIsStoreUnavailable) {
    EXPECT_THROW(
        PostgresStore(PostgresOptions{"postgresql://nobody@/engined?host=/nonexistent-socket-dir"}),
        StoreUnavailable);
}

}  // namespace
}  // namespace engined::store
