// The golden entity-analysis evaluations: every tests/golden/entity_analysis/<case>.input.json
// is an evaluation-era job ({profile, pool, ...}) submitted to a real engined whose organisation
// holds the demo pool (engined-demo-pool, seeded); the evaluation as GET /api/v1/jobs/{eval_id}
// answers it and the run's full `output` must equal <case>.expected.json byte for byte (keys
// sorted, indented). What differs on every run — ids, the audit URL, timestamps — is replaced by
// placeholders. ENGINED_UPDATE_GOLDEN=1 rewrites the expected files instead of comparing.
#include "test_server.hpp"

#include "common/json_text.hpp"
#include "golden_files.hpp"
#include "store/store.hpp"

#include <gtest/gtest.h>

#include <set>

namespace engined::testing {
namespace {

constexpr std::string_view kUpdateCommand =
    "ENGINED_UPDATE_GOLDEN=1 ctest -L entity_analysis_golden_test";

std::filesystem::path golden_directory() {
    return std::filesystem::path(ENGINED_SOURCE_DIR) / "tests" / "golden" / "entity_analysis";
}

// Members whose value is new on every run, by name, at any depth.
const std::set<std::string, std::less<>> kVolatileMembers = {
    "eval_id", "run_id", "audit", "created_at", "started_at", "completed_at", "duration_ms"};

boost::json::value without_volatile_values(const boost::json::value& value) {
    if (const auto* items = value.if_array()) {
        boost::json::array out;
        for (const auto& item : *items) out.push_back(without_volatile_values(item));
        return out;
    }
    if (const auto* members = value.if_object()) {
        boost::json::object out;
        for (const auto& [key, member] : *members) {
            const bool is_volatile =
                kVolatileMembers.contains(std::string_view(key)) && !member.is_null();
            out[key] = is_volatile ? boost::json::value("<" + std::string(key) + ">")
                                   : without_volatile_values(member);
        }
        return out;
    }
    return value;
}

class EntityAnalysisGolden : public ::testing::Test {
protected:
    EntityAnalysisGolden() {
        server_.app().store().replace_pool("brokerage", "carriers:all", demo_pool_json(),
                                           "demo.json", 1);
    }

    // The case's evaluation and run output, as the expected file holds them.
    std::string golden_output(const std::string& name) {
        const std::string job =
            read_text(golden_directory() / (name + std::string(golden::kInputSuffix)));
        const ApiResponse accepted = call(client_, "POST", "/api/v1/jobs", key_, job);
        EXPECT_EQ(accepted.status, 202) << accepted.raw.body;
        if (accepted.status != 202) return accepted.raw.body;
        const std::string eval_id(accepted.body.at("eval_id").as_string());
        wait_for_run(client_, key_, eval_id);
        const ApiResponse evaluation = call(client_, "GET", "/api/v1/jobs/" + eval_id, key_);
        const ApiResponse run = call(client_, "GET", "/api/v1/runs/" + eval_id, key_);
        EXPECT_EQ(evaluation.status, 200) << evaluation.raw.body;
        EXPECT_EQ(run.status, 200) << run.raw.body;
        const boost::json::object golden{{"evaluation", evaluation.body},
                                         {"output", run.body.at("output")}};
        return pretty_json(without_volatile_values(golden)) + "\n";
    }

    TestServer server_;
    const std::string key_ = server_.create_key("brokerage");
    http::Client client_ = server_.client();
};

// One test over the cases found when it runs, so that a new input file needs no rebuild.
TEST_F(EntityAnalysisGolden, EveryEvaluationMatchesItsExpectedOutput) {
    const std::vector<std::string> cases = golden::cases(golden_directory());
    ASSERT_FALSE(cases.empty()) << "no *" << golden::kInputSuffix << " in " << golden_directory();
    for (const std::string& name : cases) {
        SCOPED_TRACE("golden case " + name);
        golden::check(golden_directory(), name, golden_output(name), kUpdateCommand);
    }
}

}  // namespace
}  // namespace engined::testing
