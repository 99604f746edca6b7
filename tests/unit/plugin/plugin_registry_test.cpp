#include "plugin/plugin_registry.hpp"
#include "plugin/run_host.hpp"

#include "lua/sandbox.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

namespace engined::plugin {
namespace {

std::filesystem::path test_plugin(const std::string& name) {
    return std::filesystem::path(TEST_PLUGIN_DIR) / ("test_plugin_" + name + ".so");
}

TEST(PluginRegistry, LoadsTheShippedPlacementPlugin) {
    PluginRegistry registry;
    const auto path = std::filesystem::path(ENGINED_BINARY_DIR) / "plugins" / "placement.so";
    EXPECT_EQ(registry.load(path), "");
    const LoadedPlugin* plugin = registry.find("placement");
    ASSERT_NE(plugin, nullptr);
    EXPECT_EQ(plugin->binary_sha256.size(), 64u);
}

TEST(PluginRegistry, RefusesAWrongAbiVersionNamingBothVersions) {
    PluginRegistry registry;
    const std::string why = registry.load(test_plugin("wrong_abi"));
    EXPECT_NE(why.find("ABI version " + std::to_string(ENGINED_PLUGIN_ABI_VERSION + 1)), std::string::npos) << why;
    EXPECT_EQ(registry.find("test_engine"), nullptr);
}

TEST(PluginRegistry, RefusesAPluginThatDeclinesTheHost) {
    PluginRegistry registry;
    EXPECT_NE(registry.load(test_plugin("declining")).find("declined"), std::string::npos);
}

TEST(PluginRegistry, RefusesALibraryWithoutEntryPointAndAMissingFile) {
    PluginRegistry registry;
    EXPECT_NE(registry.load(test_plugin("no_entry")).find("entry point"), std::string::npos);
    EXPECT_NE(registry.load(test_plugin("does_not_exist")).find("cannot be loaded"), std::string::npos);
    EXPECT_TRUE(registry.plugins().empty());
}

TEST(PluginRegistry, RefusesASecondPluginOfTheSameEngineType) {
    PluginRegistry registry;
    EXPECT_EQ(registry.load(test_plugin("good")), "");
    EXPECT_NE(registry.load(test_plugin("garbage")).find("duplicates"), std::string::npos);
}

TEST(PluginRegistry, LoadDirectoryKeepsTheGoodAndSkipsTheRefused) {
    PluginRegistry registry;
    registry.load_directory(TEST_PLUGIN_DIR);
    ASSERT_EQ(registry.plugins().size(), 1u);
    EXPECT_EQ(registry.plugins().front().engine_type, "test_engine");
}

// Loads one test plugin and runs it once with `sandbox` (may be null) as its Lua scorecard.
PluginOutcome run_test_plugin(const std::string& name, lua::Sandbox* sandbox) {
    PluginRegistry registry;
    const std::string refusal = registry.load(test_plugin(name));
    if (!refusal.empty()) throw std::runtime_error(name + " refused: " + refusal);
    RunHost host(sandbox, 0);
    return host.execute(*registry.find("test_engine"), "{}", "{}");
}

TEST(RunHost, ServesLuaToThePlugin) {
    lua::Sandbox sandbox("function add(a, b) return a + b end", "test.lua");
    sandbox.begin_run();
    const PluginOutcome outcome = run_test_plugin("good", &sandbox);
    ASSERT_TRUE(outcome.ok) << outcome.failure.message;
    const auto result = boost::json::parse(outcome.result_json);
    EXPECT_EQ(result.at("output").at("sum").to_number<int>(), 5);
    EXPECT_EQ(result.at("output").at("lua_status").to_number<int>(), ENGINED_OK);
}

TEST(RunHost, ReportsAMissingLuaFunctionAsSuchToThePlugin) {
    lua::Sandbox sandbox("function other() end", "test.lua");
    sandbox.begin_run();
    const PluginOutcome outcome = run_test_plugin("good", &sandbox);
    ASSERT_TRUE(outcome.ok) << outcome.failure.message;
    const auto result = boost::json::parse(outcome.result_json);
    EXPECT_EQ(result.at("output").at("lua_status").to_number<int>(), ENGINED_LUA_NO_SUCH_FUNCTION);
}

TEST(RunHost, ReportsABudgetBreachToThePlugin) {
    lua::Limits limits;
    limits.instruction_budget = 10'000;
    lua::Sandbox sandbox("function add(a, b) while true do end end", "test.lua", limits);
    sandbox.begin_run();
    const PluginOutcome outcome = run_test_plugin("good", &sandbox);
    ASSERT_TRUE(outcome.ok) << outcome.failure.message;
    const auto result = boost::json::parse(outcome.result_json);
    EXPECT_EQ(result.at("output").at("lua_status").to_number<int>(), ENGINED_LUA_BUDGET_EXCEEDED);
}

TEST(RunHost, GarbageFromAPluginFailsTheRunNotTheHost) {
    const PluginOutcome outcome = run_test_plugin("garbage", nullptr);
    EXPECT_FALSE(outcome.ok);
    EXPECT_EQ(outcome.failure.code, "plugin_fault");
}

TEST(RunHost, APluginFailureKeepsItsCodeMessageAndDetails) {
    const PluginOutcome outcome = run_test_plugin("failing", nullptr);
    ASSERT_FALSE(outcome.ok);
    EXPECT_EQ(outcome.failure.code, "custom_failure");
    EXPECT_EQ(outcome.failure.message, "the engine refused this input");
    EXPECT_EQ(boost::json::parse(outcome.failure.details_json).as_array().size(), 1u);
}

}  // namespace
}  // namespace engined::plugin
