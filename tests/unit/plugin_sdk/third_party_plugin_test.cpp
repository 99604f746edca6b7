// A third-party engine type built from engine_plugin.h alone (third_party_plugin.c), served by
// the host like a shipped one: its configuration handle, its results key, its dataset check.
#include "plugin/config_handle.hpp"
#include "plugin/plugin_registry.hpp"
#include "plugin/run_host.hpp"
#include "runs/run_view.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <variant>
#include <vector>

namespace engined::plugin {
namespace {

const LoadedPlugin& shortlist(PluginRegistry& registry) {
    const std::string refusal = registry.load(THIRD_PARTY_PLUGIN);
    if (!refusal.empty()) throw std::runtime_error("shortlist refused: " + refusal);
    return *registry.find("shortlist");
}

TEST(ThirdPartyPlugin, DeclaresCandidatesAsItsResultsKey) {
    PluginRegistry registry;
    EXPECT_EQ(shortlist(registry).results_key, "candidates");
}

TEST(ThirdPartyPlugin, RunsWithAHandlePreparedOnceAndAnswersCandidates) {
    PluginRegistry registry;
    auto handle = ConfigHandle::create(shortlist(registry), R"({"top":3})");
    ASSERT_TRUE(std::holds_alternative<ConfigHandle>(handle));
    for (int run = 0; run < 2; ++run) {  // one handle, any number of runs
        RunHost host(nullptr, 0);
        const PluginOutcome outcome = host.execute(std::get<ConfigHandle>(handle), "{}");
        ASSERT_TRUE(outcome.ok) << outcome.failure.message;
        const auto result = boost::json::parse(outcome.result_json).as_object();
        EXPECT_EQ(result.at("candidates").as_array().size(), 3u);
        EXPECT_FALSE(result.contains("solutions"));
    }
}

TEST(ThirdPartyPlugin, TheApiRunObjectCarriesItsResultsUnderCandidates) {
    PluginRegistry registry;
    shortlist(registry);
    store::Run run;
    run.engine_type = "shortlist";
    run.results_json = R"([{"rank":1}])";
    const boost::json::object view = runs::run_to_json(run);
    EXPECT_EQ(view.at("candidates"), boost::json::parse(R"([{"rank":1}])"));
    EXPECT_FALSE(view.contains("solutions"));
}

TEST(ThirdPartyPlugin, ChecksTheRecordsOfItsDatasets) {
    PluginRegistry registry;
    const LoadedPlugin& plugin = shortlist(registry);
    const auto accepted = dataset_problems(plugin, "roster", R"([{"id":"a"},{"id":"b"}])");
    ASSERT_TRUE(accepted.has_value());
    EXPECT_TRUE(accepted->empty());
    const auto refused =
        dataset_problems(plugin, "roster", R"([{"id":"a"},{"name":"b"},{"name":"c"}])");
    ASSERT_TRUE(refused.has_value());
    ASSERT_EQ(refused->size(), 1u);
    EXPECT_EQ(refused->front().message, "2 of 3 roster records have no id");
    EXPECT_FALSE(dataset_problems(plugin, "pool", "[]").has_value());  // not a dataset it reads
}

TEST(ShippedPlugins, EntityAnalysisChecksCarrierPoolsAndPlacementReadsNone) {
    PluginRegistry registry;
    const auto folder = std::filesystem::path(ENGINED_BINARY_DIR) / "plugins";
    ASSERT_EQ(registry.load(folder / "entity_analysis.so"), "");
    ASSERT_EQ(registry.load(folder / "placement.so"), "");
    const LoadedPlugin& entity_analysis = *registry.find("entity_analysis");
    const auto good = dataset_problems(
        entity_analysis, "pool",
        R"([{"id":"c1","name":"One","states":["CA"],"lines":[{"line":"cyber","appetite":"preferred"}]}])");
    ASSERT_TRUE(good.has_value());
    EXPECT_TRUE(good->empty());
    const auto bad = dataset_problems(entity_analysis, "pool", R"([{"name":"no id"}])");
    ASSERT_TRUE(bad.has_value());
    ASSERT_EQ(bad->size(), 1u);
    EXPECT_EQ(bad->front().index, 0);
    EXPECT_EQ(bad->front().message, "id is required");
    EXPECT_FALSE(dataset_problems(*registry.find("placement"), "pool", "[]").has_value());
    EXPECT_FALSE(canonical_dataset(*registry.find("placement"), "pool", "csv", "[]").has_value());
}

// The engine configuration of a shipped release bundle (versions/<slug>/<version>.json).
boost::json::object released_config(const std::string& bundle) {
    std::ifstream in(std::string(ENGINED_SOURCE_DIR) + "/versions/" + bundle);
    std::ostringstream text;
    text << in.rdbuf();
    return boost::json::parse(text.str()).at("config").as_object();
}

// validate_config's errors for `config_json`, as [{path, message}].
boost::json::array validation_errors(const LoadedPlugin& plugin, const std::string& config_json) {
    engined_buffer out{nullptr, 0};
    plugin.descriptor->validate_config(config_json.data(), config_json.size(), &out);
    const std::string answer(out.data, out.size);
    plugin.descriptor->release_buffer(&out);
    return boost::json::parse(answer).at("errors").as_array();
}

TEST(ShippedPlugins, PrepareAHandleForWhatTheirCheckPassesAndRefuseTheRestWithItsProblems) {
    PluginRegistry registry;
    const auto folder = std::filesystem::path(ENGINED_BINARY_DIR) / "plugins";
    ASSERT_EQ(registry.load(folder / "placement.so"), "");
    ASSERT_EQ(registry.load(folder / "entity_analysis.so"), "");
    for (const auto& [engine_type, bundle] : {std::pair{"placement", "default/1.0.json"},
                                              {"entity_analysis", "entity-analysis/1.0.json"}}) {
        const LoadedPlugin& plugin = *registry.find(engine_type);
        const boost::json::object valid = released_config(bundle);
        boost::json::object unknown_bucket = valid;
        unknown_bucket["default_appetite_bucket"] = "nowhere";
        boost::json::object several = unknown_bucket;
        several["appetite_weight_profiles"] = boost::json::array{};
        several["parameters"] = 7;

        ASSERT_TRUE(validation_errors(plugin, boost::json::serialize(valid)).empty())
            << engine_type;
        EXPECT_TRUE(std::holds_alternative<ConfigHandle>(
            ConfigHandle::create(plugin, boost::json::serialize(valid))))
            << engine_type;

        for (const std::string& refused :
             {std::string("[1]"), std::string("not json"), std::string("{}"),
              boost::json::serialize(unknown_bucket), boost::json::serialize(several)}) {
            const boost::json::array errors = validation_errors(plugin, refused);
            ASSERT_FALSE(errors.empty()) << engine_type << " " << refused;
            auto handle = ConfigHandle::create(plugin, refused);
            const auto* failure = std::get_if<RunFailure>(&handle);
            ASSERT_NE(failure, nullptr) << engine_type << " " << refused;
            EXPECT_EQ(failure->code, "invalid_config");
            EXPECT_EQ(boost::json::parse(failure->details_json), errors) << refused;
            const std::string path(errors.front().at("path").as_string());
            EXPECT_EQ(failure->message,
                      "the engine configuration is invalid: " + (path.empty() ? "" : path + " ") +
                          std::string(errors.front().at("message").as_string()))
                << refused;
        }
    }
}

TEST(ShippedPlugins, EntityAnalysisCanonicalisesTheCellsOfACsvPool) {
    PluginRegistry registry;
    ASSERT_EQ(
        registry.load(std::filesystem::path(ENGINED_BINARY_DIR) / "plugins" / "entity_analysis.so"),
        "");
    const auto answer =
        canonical_dataset(*registry.find("entity_analysis"), "pool", "csv",
                          R"([{"id":"c1","name":"One","states":"NY;CA","lines":"cyber:preferred",)"
                          R"("revenue_min":"5000","synthetic":""}])");
    ASSERT_TRUE(answer.has_value());
    EXPECT_TRUE(answer->problems.empty());
    ASSERT_TRUE(answer->records_json.has_value());
    EXPECT_EQ(*answer->records_json,
              R"([{"id":"c1","name":"One","states":["CA","NY"],)"
              R"("lines":[{"line":"cyber","appetite":"preferred"}],"revenue_min":5000}])");
}

TEST(ThirdPartyPlugin, CanonicalisesAPoolOfItsOwnRecordsAndNamesTheBadOne) {
    PluginRegistry registry;
    const LoadedPlugin& plugin = shortlist(registry);
    const auto answer =
        canonical_dataset(plugin, "pool", "json",
                          R"([{"id":"B2","weight":2.5},{"id":"c","weight":"x"},{"weight":1}])");
    ASSERT_TRUE(answer.has_value());
    ASSERT_EQ(answer->problems.size(), 2u);
    EXPECT_EQ(answer->problems[0].index, 1);
    EXPECT_EQ(answer->problems[0].message, "weight: expected a number of at least 0");
    EXPECT_EQ(answer->problems[1].index, 2);
    EXPECT_EQ(answer->problems[1].message, "an entry needs a string id");
    const auto good = canonical_dataset(plugin, "pool", "json", R"([{"id":"B2","weight":2.5}])");
    ASSERT_TRUE(good.has_value() && good->records_json.has_value());
    EXPECT_EQ(*good->records_json, R"([{"id":"b2","weight":2.5E0}])");
}

}  // namespace
}  // namespace engined::plugin
