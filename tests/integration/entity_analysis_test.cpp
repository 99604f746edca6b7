// The entity-analysis engine over HTTP: the demo pool imported for an organisation, the
// evaluation-era jobs API, pool errors, and what the candidates promise.
#include "test_server.hpp"

#include "common/json_text.hpp"
#include "store/store.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <map>

namespace engined::testing {
namespace {

class EntityAnalysisTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        server_ = new TestServer();
        key_ = server_->create_key("brokerage");
        pool_json_ = demo_pool_json();
        server_->app().store().replace_pool("brokerage", "carriers:all", pool_json_, "demo.json",
                                            1);
        const boost::json::value pool = boost::json::parse(pool_json_);
        for (const auto& carrier : pool.as_array()) {
            carriers_[std::string(carrier.at("id").as_string())] = carrier.as_object();
        }
    }
    static void TearDownTestSuite() {
        delete server_;
        server_ = nullptr;
    }

    ApiResponse submit_job(const boost::json::object& job, const std::string& key = key_) {
        return call(client_, "POST", "/api/v1/jobs", key, boost::json::serialize(job));
    }

    static TestServer* server_;
    static std::string key_;
    static std::string pool_json_;
    static std::map<std::string, boost::json::object> carriers_;
    http::Client client_ = server_->client();
};

TestServer* EntityAnalysisTest::server_ = nullptr;
std::string EntityAnalysisTest::key_;
std::string EntityAnalysisTest::pool_json_;
std::map<std::string, boost::json::object> EntityAnalysisTest::carriers_;

const boost::json::object kProspect{{"entity", "Harbor Design Partners LLP"},
                                    {"state", "CA"},
                                    {"line", "professional_liability"},
                                    {"naics", "541310"},
                                    {"revenue", 12000000},
                                    {"employees", 60},
                                    {"years_in_business", 14}};

bool writes_state(const boost::json::object& carrier, const std::string& state) {
    for (const auto& written : carrier.at("states").as_array()) {
        if (written.as_string() == "*" || written.as_string() == state) return true;
    }
    return false;
}

bool writes_line(const boost::json::object& carrier, const std::string& line) {
    for (const auto& entry : carrier.at("lines").as_array()) {
        if (entry.at("line").as_string() == line)
            return entry.at("appetite").as_string() != "excluded";
    }
    return false;
}

bool prohibits(const boost::json::object& carrier, const std::string& naics) {
    const auto* prohibited = carrier.if_contains("prohibited_naics");
    if (prohibited == nullptr) return false;
    for (const auto& prefix : prohibited->as_array()) {
        if (naics.rfind(std::string(prefix.as_string()), 0) == 0) return true;
    }
    return false;
}

TEST_F(EntityAnalysisTest, ProfessionalLiabilityProspectInCaliforniaAgainstTheDemoPool) {
    const ApiResponse accepted = submit_job({{"profile", kProspect}, {"pool", "carriers:all"}});
    ASSERT_EQ(accepted.status, 202) << accepted.raw.body;
    const std::string eval_id(accepted.body.at("eval_id").as_string());
    EXPECT_EQ(eval_id.rfind("eval_", 0), 0u);
    wait_for_run(client_, key_, eval_id);

    const ApiResponse job = call(client_, "GET", "/api/v1/jobs/" + eval_id, key_);
    ASSERT_EQ(job.status, 200) << job.raw.body;
    EXPECT_EQ(job.body.at("status").as_string(), "completed") << job.raw.body.substr(0, 600);
    EXPECT_EQ(job.body.at("audit").as_string(), server_->origin() + "/traces/" + eval_id);
    const auto pool_size = job.body.at("pool_size").to_number<int64_t>();
    EXPECT_EQ(pool_size, static_cast<int64_t>(carriers_.size()));

    const ApiResponse run = call(client_, "GET", "/api/v1/runs/" + eval_id, key_);
    const auto& output = run.body.at("output").as_object();
    EXPECT_EQ(job.body.at("filtered").to_number<int64_t>() +
                  output.at("eligible_count").to_number<int64_t>(),
              pool_size);

    const auto& candidates = job.body.at("candidates").as_array();
    ASSERT_FALSE(candidates.empty());
    const std::vector<std::string> tier_order{"STRONG_FIT", "GOOD_FIT", "MODERATE_FIT", "WEAK_FIT"};
    std::size_t last_tier = 0;
    std::set<std::string> reasonings;
    for (const auto& entry : candidates) {
        const auto& candidate = entry.as_object();
        const auto& carrier = carriers_.at(std::string(candidate.at("carrier_id").as_string()));
        EXPECT_TRUE(writes_state(carrier, "CA")) << candidate.at("carrier_id");
        EXPECT_TRUE(writes_line(carrier, "professional_liability")) << candidate.at("carrier_id");
        EXPECT_FALSE(prohibits(carrier, "541310")) << candidate.at("carrier_id");
        const auto tier =
            std::find(tier_order.begin(), tier_order.end(), candidate.at("tier").as_string());
        ASSERT_NE(tier, tier_order.end());
        EXPECT_GE(static_cast<std::size_t>(tier - tier_order.begin()), last_tier)
            << "candidates out of tier order";
        last_tier = static_cast<std::size_t>(tier - tier_order.begin());
        const auto& scores = candidate.at("scores").as_object();
        for (const char* dimension :
             {"appetite", "coverage", "financial", "pricing", "placement", "service"}) {
            ASSERT_TRUE(scores.contains(dimension)) << dimension;
            const std::string level(scores.at(dimension).as_string());
            EXPECT_TRUE(level == "L1" || level == "L2" || level == "L3" || level == "L4") << level;
        }
        const std::string reasoning(candidate.at("reasoning").as_string());
        const auto* rating = carrier.if_contains("am_best_rating");
        if (rating != nullptr) {
            EXPECT_NE(reasoning.find(std::string(rating->as_string())), std::string::npos)
                << "the reasoning should cite the carrier's own rating: " << reasoning;
        }
        reasonings.insert(reasoning);
    }
    EXPECT_GT(reasonings.size(), candidates.size() / 2)
        << "reasoning reads the same for most carriers";
}

TEST_F(EntityAnalysisTest, CarriersProhibitingTheProspectsIndustryNeverAppearAndTheTraceSaysWhy) {
    // Cannabis growers: the demo pool has many carriers prohibiting NAICS 111998.
    boost::json::object prospect = kProspect;
    prospect["naics"] = "111998";
    prospect["line"] = "general_liability";
    const ApiResponse accepted = submit_job({{"profile", prospect}, {"pool", "carriers:all"}});
    ASSERT_EQ(accepted.status, 202) << accepted.raw.body;
    const std::string id(accepted.body.at("eval_id").as_string());
    const auto run = wait_for_run(client_, key_, id);
    ASSERT_EQ(run.at("status").as_string(), "completed");
    std::size_t prohibiting = 0;
    for (const auto& [carrier_id, carrier] : carriers_)
        prohibiting += prohibits(carrier, "111998") ? 1 : 0;
    ASSERT_GT(prohibiting, 0u);
    for (const auto& candidate : run.at("candidates").as_array()) {
        EXPECT_FALSE(
            prohibits(carriers_.at(std::string(candidate.at("carrier_id").as_string())), "111998"));
    }
    EXPECT_GE(run.at("output").at("filter_reasons").at("naics_prohibited").to_number<int64_t>(),
              static_cast<int64_t>(1));
    // The evaluation's `audit` URL explains each exclusion.
    const ApiResponse job = call(client_, "GET", "/api/v1/jobs/" + id, key_);
    const std::string audit(job.body.at("audit").as_string());
    ASSERT_TRUE(audit.starts_with(server_->origin() + "/")) << audit;
    const ApiResponse packet = call(client_, "GET", audit.substr(server_->origin().size()), key_);
    ASSERT_EQ(packet.status, 200) << packet.raw.body;
    std::size_t explained = 0;
    for (const auto& item : packet.body.at("provenance").at("dropped").as_array()) {
        const auto* carrier_id = item.as_object().if_contains("carrier_id");
        if (carrier_id == nullptr || item.at("reason").as_string() != "naics_prohibited") continue;
        EXPECT_TRUE(prohibits(carriers_.at(std::string(carrier_id->as_string())), "111998"));
        ++explained;
    }
    EXPECT_GT(explained, 0u);
}

TEST_F(EntityAnalysisTest, TheEngineShipsRelease1_0AndRunsPinnedToIt) {
    const boost::json::object body{{"input", {{"prospect", kProspect}, {"pool", "carriers:all"}}},
                                   {"engine_version", "1.x"}};
    const ApiResponse accepted = call(client_, "POST", "/api/v1/engines/entity-analysis/runs", key_,
                                      boost::json::serialize(body));
    ASSERT_EQ(accepted.status, 202) << accepted.raw.body;
    const auto run =
        wait_for_run(client_, key_, std::string(accepted.body.at("run_id").as_string()));
    EXPECT_EQ(run.at("engine_version").as_string(), "1.0");
    EXPECT_EQ(run.at("status").as_string(), "completed");
}

TEST_F(EntityAnalysisTest, ARunOnTheDemoPoolReplaysIdentical) {
    const boost::json::object body{{"input", {{"prospect", kProspect}, {"pool", "carriers:all"}}},
                                   {"engine_version", "1.0"}};
    const ApiResponse accepted = call(client_, "POST", "/api/v1/engines/entity-analysis/runs", key_,
                                      boost::json::serialize(body));
    ASSERT_EQ(accepted.status, 202) << accepted.raw.body;
    const std::string run_id(accepted.body.at("run_id").as_string());
    const auto run = wait_for_run(client_, key_, run_id);
    ASSERT_EQ(run.at("status").as_string(), "completed");
    ASSERT_FALSE(run.at("candidates").as_array().empty());
    const ApiResponse replayed = call(client_, "POST", "/api/v1/runs/" + run_id + "/replay", key_);
    ASSERT_EQ(replayed.status, 200) << replayed.raw.body;
    EXPECT_EQ(replayed.body.at("identical"), true) << replayed.raw.body;
    EXPECT_EQ(replayed.body.at("replay_fingerprint"), run.at("fingerprint"));
    EXPECT_EQ(replayed.body.at("output_sha256").at("original"),
              replayed.body.at("output_sha256").at("replay"));
}

TEST_F(EntityAnalysisTest, UnknownPoolIs422NamingThePool) {
    const ApiResponse response = submit_job({{"profile", kProspect}, {"pool", "carriers:unknown"}});
    EXPECT_EQ(response.status, 422);
    EXPECT_EQ(response.body.at("error").at("code").as_string(), "unknown_pool");
    EXPECT_NE(
        std::string(response.body.at("error").at("message").as_string()).find("carriers:unknown"),
        std::string::npos);
    // Pools belong to their organisation.
    const std::string other = server_->create_key("another-brokerage");
    EXPECT_EQ(submit_job({{"profile", kProspect}, {"pool", "carriers:all"}}, other).status, 422);
}

TEST_F(EntityAnalysisTest, ProfileWithoutEntityIs400NamingIt) {
    boost::json::object prospect = kProspect;
    prospect.erase("entity");
    const ApiResponse response = submit_job({{"profile", prospect}, {"pool", "carriers:all"}});
    EXPECT_EQ(response.status, 400);
    EXPECT_NE(
        std::string(response.body.at("error").at("message").as_string()).find("profile.entity"),
        std::string::npos);
    EXPECT_EQ(response.body.at("error").at("details").at(0).at("pointer").as_string(),
              "/profile/entity");
}

TEST_F(EntityAnalysisTest, PoolsAreListedAndTheRunsApiTakesTheModernShape) {
    const ApiResponse pools = call(client_, "GET", "/api/v1/pools", key_);
    ASSERT_EQ(pools.status, 200);
    ASSERT_EQ(pools.body.at("data").as_array().size(), 1u);
    EXPECT_EQ(pools.body.at("data").at(0).at("name").as_string(), "carriers:all");
    EXPECT_EQ(pools.body.at("data").at(0).at("carrier_count").to_number<std::size_t>(),
              carriers_.size());

    const boost::json::object body{{"input", {{"prospect", kProspect}, {"pool", "carriers:all"}}}};
    const ApiResponse accepted = call(client_, "POST", "/api/v1/engines/entity-analysis/runs", key_,
                                      boost::json::serialize(body));
    ASSERT_EQ(accepted.status, 202) << accepted.raw.body;
    const auto run =
        wait_for_run(client_, key_, std::string(accepted.body.at("run_id").as_string()));
    EXPECT_EQ(run.at("status").as_string(), "completed");
    EXPECT_TRUE(run.at("candidates").is_array());
}

// The reference's webhook payload: "scores": {"appetite": "L1", ...}. The reasons behind the
// levels are kept, beside them in score_reasons; the runs API keeps the engine's own shape.
TEST_F(EntityAnalysisTest, EvaluationScoresAreLevelsWithTheirReasonsApart) {
    const ApiResponse accepted = submit_job({{"profile", kProspect}, {"pool", "carriers:all"}});
    ASSERT_EQ(accepted.status, 202) << accepted.raw.body;
    const std::string eval_id(accepted.body.at("eval_id").as_string());
    const auto run = wait_for_run(client_, key_, eval_id);
    const ApiResponse job = call(client_, "GET", "/api/v1/jobs/" + eval_id, key_);
    ASSERT_EQ(job.status, 200) << job.raw.body;
    const auto& shown = job.body.at("candidates").as_array();
    const auto& engine_candidates = run.at("candidates").as_array();
    ASSERT_FALSE(shown.empty());
    ASSERT_EQ(shown.size(), engine_candidates.size());
    for (std::size_t i = 0; i < shown.size(); ++i) {
        const auto& scores = shown[i].at("scores").as_object();
        const auto& reasons = shown[i].at("score_reasons").as_object();
        const auto& engine_scores = engine_candidates[i].at("scores").as_object();
        EXPECT_EQ(scores.size(), 6u);
        EXPECT_EQ(reasons.size(), 6u);
        for (const auto& [dimension, detail] : engine_scores) {
            EXPECT_EQ(scores.at(dimension), detail.at("level")) << dimension;
            EXPECT_EQ(reasons.at(dimension), detail.at("reason")) << dimension;
            EXPECT_FALSE(reasons.at(dimension).as_string().empty()) << dimension;
        }
        EXPECT_EQ(shown[i].at("tier"), engine_candidates[i].at("tier"));
        EXPECT_EQ(shown[i].at("reasoning"), engine_candidates[i].at("reasoning"));
    }
}

// Reference: 400 for malformed or missing fields, 422 for valid-but-unprocessable (an unknown
// pool); the pointers name the body as sent.
TEST_F(EntityAnalysisTest, AMalformedProfileIs400PointingIntoTheBodyAsSent) {
    const auto error_of = [](const ApiResponse& response) {
        return response.body.at("error").as_object();
    };
    for (const auto& [field, value] :
         std::vector<std::pair<std::string, boost::json::value>>{{"state", "California"},
                                                                 {"naics", "54-13"},
                                                                 {"line", "pet_insurance"},
                                                                 {"revenue", "a lot"}}) {
        SCOPED_TRACE(field);
        boost::json::object prospect = kProspect;
        prospect[field] = value;
        const ApiResponse response = submit_job({{"profile", prospect}, {"pool", "carriers:all"}});
        EXPECT_EQ(response.status, 400) << response.raw.body;
        const auto error = error_of(response);
        EXPECT_EQ(error.at("code"), "invalid_request");
        ASSERT_FALSE(error.at("details").as_array().empty()) << response.raw.body;
        EXPECT_EQ(error.at("details").at(0).at("pointer"), ("/profile/" + field).c_str())
            << response.raw.body;
        EXPECT_EQ(std::string(error.at("message").as_string()).find("/input"), std::string::npos)
            << response.raw.body;
    }
    const ApiResponse not_an_object =
        submit_job({{"profile", "Harbor Design Partners LLP"}, {"pool", "carriers:all"}});
    EXPECT_EQ(not_an_object.status, 400) << not_an_object.raw.body;
    EXPECT_EQ(error_of(not_an_object).at("details").at(0).at("pointer"), "/profile");
    const ApiResponse no_profile = submit_job({{"pool", "carriers:all"}});
    EXPECT_EQ(no_profile.status, 400) << no_profile.raw.body;
    EXPECT_EQ(error_of(no_profile).at("details").at(0).at("pointer"), "/profile");
    const ApiResponse pool_not_a_string = submit_job({{"profile", kProspect}, {"pool", 7}});
    EXPECT_EQ(pool_not_a_string.status, 400) << pool_not_a_string.raw.body;
    EXPECT_EQ(error_of(pool_not_a_string).at("details").at(0).at("pointer"), "/pool");

    // Well-formed but unprocessable stays 422, pointing at /pool.
    const ApiResponse unknown = submit_job({{"profile", kProspect}, {"pool", "carriers:unknown"}});
    EXPECT_EQ(unknown.status, 422) << unknown.raw.body;
    EXPECT_EQ(error_of(unknown).at("code"), "unknown_pool");
    EXPECT_EQ(error_of(unknown).at("details").at(0).at("pointer"), "/pool");

    // The engines API keeps its own answer for the same input: 422 at /input/profile/state.
    boost::json::object prospect = kProspect;
    prospect["state"] = "California";
    const ApiResponse run = call(
        client_, "POST", "/api/v1/engines/entity-analysis/runs", key_,
        boost::json::serialize(
            boost::json::object{{"input", {{"profile", prospect}, {"pool", "carriers:all"}}}}));
    EXPECT_EQ(run.status, 422) << run.raw.body;
    EXPECT_EQ(error_of(run).at("code"), "contract_violation");
    EXPECT_EQ(error_of(run).at("details").at(0).at("pointer"), "/input/profile/state");
    EXPECT_EQ(call(client_, "GET", "/health", "").status, 200);
}

}  // namespace
}  // namespace engined::testing
