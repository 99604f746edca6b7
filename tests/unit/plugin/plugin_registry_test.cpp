#include "plugin/config_handle.hpp"
#include "plugin/plugin_registry.hpp"
#include "plugin/run_host.hpp"

#include "common/shared_lru_cache.hpp"
#include "lua/sandbox.hpp"

#include <boost/json.hpp>
#include <dlfcn.h>
#include <gtest/gtest.h>

#include <variant>

namespace engined::plugin {
namespace {

std::filesystem::path test_plugin(const std::string& name) {
    return std::filesystem::path(TEST_PLUGIN_DIR) / ("test_plugin_" + name + ".so");
}

// The plugin's handle for an empty configuration; the test plugins accept any.
ConfigHandle prepared(const LoadedPlugin& plugin) {
    auto handle = ConfigHandle::create(plugin, "{}");
    if (auto* failure = std::get_if<RunFailure>(&handle))
        throw std::runtime_error(failure->message);
    return std::move(std::get<ConfigHandle>(handle));
}

// How many configuration handles the test plugin at `path` holds (its test_plugin_live_configs).
int live_configs(const std::filesystem::path& path) {
    void* module = dlopen(path.c_str(), RTLD_NOW | RTLD_NOLOAD);
    if (module == nullptr) throw std::runtime_error(path.string() + " is not loaded");
    const auto count = reinterpret_cast<int (*)()>(dlsym(module, "test_plugin_live_configs"));
    const int live = count();
    dlclose(module);
    return live;
}

TEST(PluginRegistry, LoadsTheShippedPluginsWithTheirResultsKeys) {
    PluginRegistry registry;
    const auto folder = std::filesystem::path(ENGINED_BINARY_DIR) / "plugins";
    EXPECT_EQ(registry.load(folder / "placement.so"), "");
    EXPECT_EQ(registry.load(folder / "entity_analysis.so"), "");
    const LoadedPlugin* plugin = registry.find("placement");
    ASSERT_NE(plugin, nullptr);
    EXPECT_EQ(plugin->binary_sha256.size(), 64u);
    EXPECT_EQ(plugin->results_key, "solutions");
    EXPECT_EQ(registry.find("entity_analysis")->results_key, "candidates");
    EXPECT_EQ(results_key_of("entity_analysis"), "candidates");
    EXPECT_EQ(results_key_of("placement"), "solutions");
}

TEST(PluginRegistry, RefusesAnotherMajorVersionNamingBothVersions) {
    PluginRegistry registry;
    const std::string why = registry.load(test_plugin("wrong_abi"));
    EXPECT_NE(why.find("built for plugin ABI " + std::to_string(ENGINED_PLUGIN_ABI_VERSION + 1) +
                       "; this host serves ABI " + std::to_string(ENGINED_PLUGIN_ABI_VERSION)),
              std::string::npos)
        << why;
    EXPECT_EQ(registry.find("test_engine"), nullptr);
}

TEST(PluginRegistry, RefusesAPluginBuiltForAbi2NamingItsVersionAndTheRemedy) {
    PluginRegistry registry;
    const std::string why = registry.load(test_plugin("abi2"));
    EXPECT_EQ(
        why,
        "built for plugin ABI 2; this host serves ABI 3: rebuild it against this engine_plugin.h");
    EXPECT_EQ(registry.find("test_engine"), nullptr);
}

TEST(PluginRegistry, ServesAPluginOfAnEarlierMinorVersionWithoutTheFieldsItLacks) {
    PluginRegistry registry;
    ASSERT_EQ(registry.load(test_plugin("older_minor")), "");
    const LoadedPlugin& plugin = *registry.find("test_engine");
    EXPECT_NE(plugin.validate_dataset, nullptr);
    EXPECT_EQ(plugin.canonicalize_dataset, nullptr);  // past its struct_size: absent
    lua::Sandbox sandbox("function add(a, b) return a + b end", "test.lua");
    sandbox.begin_run();
    RunHost host(&sandbox, 0);
    EXPECT_TRUE(host.execute(prepared(plugin), "{}").ok);
}

TEST(PluginRegistry, ServesAPluginOfALaterMinorVersion) {
    PluginRegistry registry;
    EXPECT_EQ(registry.load(test_plugin("newer_minor")), "");
    EXPECT_NE(registry.find("test_engine"), nullptr);
}

TEST(ConfigHandle, IsFreedOnlyWhenItsLastUserLetsGoEvenIfEvictedDuringARun) {
    PluginRegistry registry;
    ASSERT_EQ(registry.load(test_plugin("good")), "");
    const LoadedPlugin& plugin = *registry.find("test_engine");
    const auto path = test_plugin("good");
    SharedLruCache<ConfigHandle> handles(1);
    auto make = [&] { return std::make_shared<const ConfigHandle>(prepared(plugin)); };
    std::shared_ptr<const ConfigHandle> running = handles.get_or_make("first", make);
    EXPECT_EQ(live_configs(path), 1);
    EXPECT_EQ(handles.get_or_make("first", make), running);  // prepared once, not per run
    EXPECT_EQ(live_configs(path), 1);
    handles.get_or_make("second", make);  // past the capacity: "first" is evicted while in use
    EXPECT_EQ(handles.get("first"), nullptr);
    EXPECT_EQ(live_configs(path), 2);
    lua::Sandbox sandbox("function add(a, b) return a + b end", "test.lua");
    sandbox.begin_run();
    RunHost host(&sandbox, 0);
    EXPECT_TRUE(host.execute(*running, "{}").ok);
    EXPECT_EQ(live_configs(path), 2);
    running.reset();  // the run is over: its evicted handle goes, the cached one stays
    EXPECT_EQ(live_configs(path), 1);
}

TEST(ConfigHandle, AConfigurationThePluginCannotPrepareIsItsFailureAndHoldsNothing) {
    PluginRegistry registry;
    ASSERT_EQ(registry.load(test_plugin("good")), "");
    auto handle = ConfigHandle::create(*registry.find("test_engine"), R"({"refuse":true})");
    const auto* failure = std::get_if<RunFailure>(&handle);
    ASSERT_NE(failure, nullptr);
    EXPECT_EQ(failure->code, "config_refused");
    EXPECT_EQ(failure->message, "this configuration cannot be prepared");
    EXPECT_EQ(live_configs(test_plugin("good")), 0);
}

TEST(PluginRegistry, RefusesAPluginThatDeclinesTheHost) {
    PluginRegistry registry;
    EXPECT_NE(registry.load(test_plugin("declining")).find("declined"), std::string::npos);
}

TEST(PluginRegistry, RefusesALibraryWithoutEntryPointAndAMissingFile) {
    PluginRegistry registry;
    EXPECT_NE(registry.load(test_plugin("no_entry")).find("entry point"), std::string::npos);
    EXPECT_NE(registry.load(test_plugin("does_not_exist")).find("cannot be loaded"),
              std::string::npos);
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
    return host.execute(prepared(*registry.find("test_engine")), "{}");
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

TEST(RunHost, TheScorecardsLogLinesJoinTheTraceWithinTheLogLimits) {
    lua::Limits limits;
    limits.max_log_lines = 2;
    lua::Sandbox sandbox(
        "log('loaded')\nfunction add(a, b) log('adding', a, b) log('again') return a + b end",
        "test.lua", limits);
    sandbox.begin_run(lua::RunOptions{.capture_log = true});
    PluginRegistry registry;
    ASSERT_EQ(registry.load(test_plugin("good")), "");
    RunHost host(&sandbox, 0);
    ASSERT_TRUE(host.execute(prepared(*registry.find("test_engine")), "{}").ok);
    std::vector<std::string> logged;
    for (const TraceEvent& event : host.trace()) {
        if (event.stage == "LUA") logged.push_back(event.event_json);
    }
    EXPECT_EQ(logged, (std::vector<std::string>{
                          R"({"event":"log","message":"loaded"})",
                          R"({"event":"log","message":"adding 2 3","function":"add"})",
                          R"({"event":"log_truncated","dropped_lines":1})",
                      }));
}

TEST(RunHost, ARunThatDoesNotCaptureItsLogTracesNoLines) {
    lua::Sandbox sandbox("function add(a, b) log('adding', a, b) return a + b end", "test.lua");
    sandbox.begin_run();
    PluginRegistry registry;
    ASSERT_EQ(registry.load(test_plugin("good")), "");
    RunHost host(&sandbox, 0);
    ASSERT_TRUE(host.execute(prepared(*registry.find("test_engine")), "{}").ok);
    for (const TraceEvent& event : host.trace()) EXPECT_NE(event.stage, "LUA") << event.event_json;
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

// Runs the "scripted" test plugin with `request` and `limits`; `trace` receives the run's trace.
PluginOutcome run_scripted(const std::string& request, lua::Sandbox* sandbox,
                           const OutputLimits& limits, std::vector<TraceEvent>* trace = nullptr) {
    PluginRegistry registry;
    const std::string refusal = registry.load(test_plugin("scripted"));
    if (!refusal.empty()) throw std::runtime_error("scripted refused: " + refusal);
    RunHost host(sandbox, 0, {}, limits);
    PluginOutcome outcome = host.execute(prepared(*registry.find("test_engine")), request);
    if (trace != nullptr) *trace = host.trace();
    return outcome;
}

// The failure a scorecard's run() raises with `lua_body`, as the run keeps it.
PluginOutcome failing_script(const std::string& lua_body, const OutputLimits& limits) {
    lua::Sandbox sandbox("function run() " + lua_body + " end", "test.lua");
    sandbox.begin_run();
    return run_scripted(R"({"mode":"lua"})", &sandbox, limits);
}

TEST(RunHostOutputs, ALuaErrorMessageIsKeptUpToItsCapAndCutPastItWithAMarker) {
    const OutputLimits limits{.max_script_text_bytes = 100};
    const PluginOutcome at_cap = failing_script(R"(error(string.rep("a", 100), 0))", limits);
    ASSERT_FALSE(at_cap.ok);
    EXPECT_EQ(at_cap.failure.message, std::string(100, 'a'));
    const PluginOutcome past_cap = failing_script(R"(error(string.rep("a", 14000000), 0))", limits);
    EXPECT_EQ(past_cap.failure.message,
              std::string(100, 'a') + "\xE2\x80\xA6[truncated 13999900 bytes]");
}

TEST(RunHostOutputs, ACutNeverSplitsACharacter) {
    // 60 × "é" (2 bytes each): a cut at byte 101 would split the 51st.
    const PluginOutcome outcome =
        failing_script(R"(error(string.rep("\u{e9}", 60), 0))", {.max_script_text_bytes = 101});
    std::string expected;
    for (int i = 0; i < 50; ++i) expected += "\xC3\xA9";
    EXPECT_EQ(outcome.failure.message, expected + "\xE2\x80\xA6[truncated 20 bytes]");
    EXPECT_EQ(valid_utf8(outcome.failure.message), outcome.failure.message);
}

TEST(RunHostOutputs, AnErrorMessageKeepsTheTextAfterAnEmbeddedNul) {
    const PluginOutcome outcome = failing_script(R"(error("before\0after", 0))", {});
    EXPECT_EQ(outcome.failure.message, std::string("before\0after", 12));
}

TEST(RunHostOutputs, StringsAScorecardReturnsAreCutPastTheCap) {
    lua::Sandbox sandbox(
        R"(function run() return {reason = string.rep("r", 101), kept = string.rep("k", 100)} end)",
        "test.lua");
    sandbox.begin_run();
    const PluginOutcome outcome =
        run_scripted(R"({"mode":"lua"})", &sandbox, {.max_script_text_bytes = 100});
    ASSERT_TRUE(outcome.ok) << outcome.failure.message;
    const auto returned = boost::json::parse(outcome.result_json).at("output").at("returned");
    EXPECT_EQ(returned.at("kept").as_string(), std::string(100, 'k'));
    EXPECT_EQ(returned.at("reason").as_string(),
              std::string(100, 'r') + "\xE2\x80\xA6[truncated 1 bytes]");
}

TEST(RunHostOutputs, APluginsErrorMessageIsCutPastItsCap) {
    const OutputLimits limits{.max_error_message_bytes = 50};
    EXPECT_EQ(
        run_scripted(R"({"mode":"failure","message_bytes":50})", nullptr, limits).failure.message,
        std::string(50, 'm'));
    const PluginOutcome past =
        run_scripted(R"({"mode":"failure","message_bytes":51})", nullptr, limits);
    EXPECT_EQ(past.failure.code, "custom");
    EXPECT_EQ(past.failure.message, std::string(50, 'm') + "\xE2\x80\xA6[truncated 1 bytes]");
}

TEST(RunHostOutputs, APluginsErrorDetailsAreReplacedPastTheirCap) {
    const OutputLimits limits{.max_error_details_bytes = 64};
    const PluginOutcome at_cap =
        run_scripted(R"({"mode":"failure","details_bytes":64})", nullptr, limits);
    EXPECT_EQ(at_cap.failure.details_json.size(), 64u);
    const PluginOutcome past =
        run_scripted(R"({"mode":"failure","details_bytes":65})", nullptr, limits);
    const auto details = boost::json::parse(past.failure.details_json).as_array();
    ASSERT_EQ(details.size(), 1u);
    EXPECT_NE(details[0].at("message").as_string().find("65 bytes of JSON, more than the 64"),
              std::string::npos);
}

TEST(RunHostOutputs, TraceEventsPastTheCountCapAreDroppedAndCounted) {
    lua::Sandbox sandbox("function run() return 1 end", "test.lua");
    sandbox.begin_run();
    const OutputLimits limits{.max_trace_events = 3};
    std::vector<TraceEvent> trace;
    ASSERT_TRUE(run_scripted(R"({"mode":"lua","trace_events":3,"event_bytes":20})", &sandbox,
                             limits, &trace)
                    .ok);
    EXPECT_EQ(trace.size(), 3u);
    EXPECT_EQ(trace.back().stage, "TEST");
    sandbox.begin_run();
    ASSERT_TRUE(run_scripted(R"({"mode":"lua","trace_events":5,"event_bytes":20})", &sandbox,
                             limits, &trace)
                    .ok);
    ASSERT_EQ(trace.size(), 4u);
    EXPECT_EQ(trace.back().stage, "TRACE");
    const auto note = boost::json::parse(trace.back().event_json);
    EXPECT_EQ(note.at("event").as_string(), "trace_truncated");
    EXPECT_EQ(note.at("dropped_events").to_number<int>(), 2);
    EXPECT_EQ(note.at("dropped_bytes").to_number<int>(),
              2 * (4 + 20));  // stage "TEST" and the event
}

TEST(RunHostOutputs, TraceEventsPastTheByteCapAreDroppedAndCounted) {
    lua::Sandbox sandbox("function run() return 1 end", "test.lua");
    sandbox.begin_run();
    const OutputLimits limits{.max_trace_bytes =
                                  108};  // two events of stage "TEST" (4) and 50 bytes
    std::vector<TraceEvent> trace;
    ASSERT_TRUE(run_scripted(R"({"mode":"lua","trace_events":2,"event_bytes":50})", &sandbox,
                             limits, &trace)
                    .ok);
    EXPECT_EQ(trace.size(), 2u);
    EXPECT_EQ(trace.back().stage, "TEST");
    sandbox.begin_run();
    ASSERT_TRUE(run_scripted(R"({"mode":"lua","trace_events":3,"event_bytes":50})", &sandbox,
                             limits, &trace)
                    .ok);
    ASSERT_EQ(trace.size(), 3u);
    const auto note = boost::json::parse(trace.back().event_json);
    EXPECT_EQ(note.at("dropped_events").to_number<int>(), 1);
    EXPECT_EQ(note.at("dropped_bytes").to_number<int>(), 54);
}

TEST(RunHostOutputs, ANonFiniteNumberInAnAnswerIsARunErrorOfItsOwn) {
    for (const char* request : {R"({"mode":"non_finite"})", R"({"mode":"non_finite_failure"})"}) {
        const PluginOutcome outcome = run_scripted(request, nullptr, {});
        ASSERT_FALSE(outcome.ok) << request;
        EXPECT_EQ(outcome.failure.code, "non_finite_number") << request;
        EXPECT_NE(outcome.failure.message.find("beyond the range of a double"), std::string::npos);
    }
}

}  // namespace
}  // namespace engined::plugin
