// EngineService's per-configuration caches (text, request contract, effective weights) are bounded
// and least-recently-used, on both stores: at their capacity every configuration's contract is
// the one built first; past it the least recently used one is read and built again, and answers
// as it did. Its resolution cache for runs (engine, releases, rollouts) sees a change made through
// the service at once and one made elsewhere (the test server's own service, i.e. another node)
// once its time-to-live passed, and holds at most its capacity.
#include "test_server.hpp"

#include "audit/audit_trail.hpp"
#include "common/api_error.hpp"
#include "engines/engine_service.hpp"
#include "plugin/plugin_registry.hpp"
#include "store/store.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>

namespace engined::testing {
namespace {

namespace json = boost::json;

constexpr std::size_t kCapacity = 2;

class EngineConfigCacheTest : public ::testing::Test {
protected:
    void SetUp() override {
        plugins_.load_directory(std::filesystem::path(ENGINED_BINARY_DIR) / "plugins");
        service_ = std::make_unique<engines::EngineService>(
            server_.app().store(), plugins_, ENGINED_SOURCE_DIR, lua::Limits{}, audit_, kCapacity);
        admin_ = server_.create_key("acme", "live", {"runs:read", "engines:admin"});
        caller_.organization = "acme";
        caller_.environment = "live";
        caller_.scopes = {"runs:read", "engines:admin"};
    }

    // A placement engine `slug` whose configuration differs from every other one's (its request
    // schema's description names it), so that each has a hash of its own.
    void create_engine(const std::string& slug) {
        http::Client client = server_.client();
        const ApiResponse created =
            call(client, "POST", "/api/v1/engines", admin_,
                 json::serialize(
                     json::object{{"slug", slug}, {"label", slug}, {"engine_type", "placement"}}));
        ASSERT_EQ(created.status, 201) << created.raw.body;
        describe_elsewhere(slug, "the request of " + slug);
    }

    // The configuration of `slug` with its request schema described as `description`.
    json::object described_config(const std::string& slug, const std::string& description) {
        http::Client client = server_.client();
        const ApiResponse current =
            call(client, "GET", "/api/v1/engines/" + slug + "/config", admin_);
        EXPECT_EQ(current.status, 200) << current.raw.body;
        json::object config = current.body.at("config").as_object();
        config["request_schema"].as_object()["description"] = description;
        return config;
    }

    // Changes the configuration through the test server's API, not through service_.
    void describe_elsewhere(const std::string& slug, const std::string& description) {
        http::Client client = server_.client();
        const ApiResponse put =
            call(client, "PUT", "/api/v1/engines/" + slug + "/config", admin_,
                 json::serialize(json::object{{"config", described_config(slug, description)}}));
        ASSERT_EQ(put.status, 200) << put.raw.body;
    }

    engines::ResolvedEngine resolve(const std::string& slug) {
        return service_->resolve(caller_, slug, std::nullopt);
    }

    json::object contract(const std::string& slug) {
        return service_->contract(caller_, slug, std::nullopt);
    }

    engines::ResolvedEngine resolve_for_run(const std::string& slug,
                                            const std::optional<std::string>& pin = std::nullopt) {
        return service_->resolve_for_run(caller_, slug, pin, "run_1");
    }

    TestServer server_;
    plugin::PluginRegistry plugins_;
    audit::AuditTrail audit_{server_.app().store(), std::string(64, '0')};
    std::unique_ptr<engines::EngineService> service_;
    std::string admin_;
    auth::Principal caller_;
};

// A request the placement contract refuses, so that a contract's answer has something to say.
const json::value kIncompleteRequest = json::parse(R"({"input": {}})");

TEST_F(EngineConfigCacheTest, AtItsCapacityEveryConfigurationIsKept) {
    create_engine("first");
    create_engine("second");
    const auto first = resolve("first");
    const auto second = resolve("second");
    ASSERT_NE(first.config_hash, second.config_hash);
    const json::object first_contract = contract("first");

    EXPECT_EQ(resolve("first").request_contract, first.request_contract);
    EXPECT_EQ(resolve("second").request_contract, second.request_contract);
    EXPECT_EQ(contract("first"), first_contract);
}

TEST_F(EngineConfigCacheTest, PastItsCapacityTheLeastRecentlyUsedIsReadAgainAndAnswersAsBefore) {
    create_engine("first");
    create_engine("second");
    create_engine("third");
    const auto first = resolve("first");
    const json::object first_contract = contract("first");
    const auto first_answer = first.request_contract->validate(kIncompleteRequest);
    ASSERT_FALSE(first_answer.empty());
    resolve("second");
    const auto third = resolve("third");  // the first is now the least recently used: evicted

    const auto first_again = resolve("first");
    EXPECT_NE(first_again.request_contract, first.request_contract) << "its contract built again";
    const auto again_answer = first_again.request_contract->validate(kIncompleteRequest);
    ASSERT_EQ(again_answer.size(), first_answer.size());
    for (std::size_t i = 0; i < first_answer.size(); ++i) {
        EXPECT_EQ(again_answer[i].pointer, first_answer[i].pointer);
        EXPECT_EQ(again_answer[i].message, first_answer[i].message);
    }
    EXPECT_EQ(contract("first"), first_contract);
    // The third was used after the first and is kept.
    EXPECT_EQ(resolve("third").request_contract, third.request_contract);
}

// The service under test resolves runs through a resolution cache of kCapacity engines, on a
// clock the test moves by hand.
class RunResolutionCacheTest : public EngineConfigCacheTest {
protected:
    static constexpr std::chrono::milliseconds kTtl{1000};

    void SetUp() override {
        EngineConfigCacheTest::SetUp();
        service_ = std::make_unique<engines::EngineService>(
            server_.app().store(), plugins_, ENGINED_SOURCE_DIR, lua::Limits{}, audit_, kCapacity,
            engines::RunResolutionCache{kTtl, kCapacity, [this] { return now_; }});
    }

    std::chrono::steady_clock::time_point now_{};
};

TEST_F(RunResolutionCacheTest, AChangeThroughTheServiceAppliesToItsNextRun) {
    create_engine("first");
    const auto before = resolve_for_run("first");
    service_->put_config(caller_, "first",
                         json::object{{"config", described_config("first", "changed here")}},
                         std::nullopt);
    const auto changed = resolve_for_run("first");
    EXPECT_NE(changed.config_hash, before.config_hash);

    EXPECT_THROW(resolve_for_run("first", "1.x"), ApiError) << "nothing released yet";
    bool created = false;
    service_->publish(caller_, "first", json::object{}, created);
    ASSERT_TRUE(created);
    const auto released = resolve_for_run("first", "1.x");
    ASSERT_TRUE(released.version.has_value());
    EXPECT_EQ(released.config_hash, changed.config_hash);

    service_->archive(caller_, "first");
    try {
        resolve_for_run("first");
        ADD_FAILURE() << "an archived engine takes no run";
    } catch (const ApiError& refused) {
        EXPECT_EQ(refused.http_status(), 409);
    }
}

TEST_F(RunResolutionCacheTest, AChangeMadeElsewhereAppliesOnceTheTimeToLivePassed) {
    create_engine("first");
    const auto before = resolve_for_run("first");
    describe_elsewhere("first", "changed on another node");
    EXPECT_EQ(resolve_for_run("first").config_hash, before.config_hash);
    now_ += kTtl - std::chrono::milliseconds(1);
    EXPECT_EQ(resolve_for_run("first").config_hash, before.config_hash) << "within the TTL";
    now_ += std::chrono::milliseconds(1);
    const auto after = resolve_for_run("first");
    EXPECT_NE(after.config_hash, before.config_hash) << "read again at the TTL";
    EXPECT_EQ(after.config_hash, resolve("first").config_hash) << "as the store says";

    EXPECT_THROW(resolve_for_run("second"), ApiError);
    create_engine("second");
    EXPECT_NO_THROW(resolve_for_run("second")) << "an unknown engine is not remembered";
}

TEST_F(RunResolutionCacheTest, AtItsCapacityEveryEngineIsKeptAndPastItTheyAreReadAgain) {
    create_engine("first");
    create_engine("second");
    create_engine("third");
    const auto first = resolve_for_run("first");
    const auto second = resolve_for_run("second");
    describe_elsewhere("first", "first, changed elsewhere");
    describe_elsewhere("second", "second, changed elsewhere");
    EXPECT_EQ(resolve_for_run("first").config_hash, first.config_hash) << "kept at the capacity";
    EXPECT_EQ(resolve_for_run("second").config_hash, second.config_hash);

    resolve_for_run("third");  // past the capacity: the entries go, none having expired
    EXPECT_NE(resolve_for_run("first").config_hash, first.config_hash) << "read again";
    EXPECT_NE(resolve_for_run("second").config_hash, second.config_hash);
}

}  // namespace
}  // namespace engined::testing
