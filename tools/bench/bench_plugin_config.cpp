// One placement run through the plugin ABI with the shipped `default` 1.0 configuration (about
// 40 KB of JSON): preparing the configuration for every run, as ABI 2 did (the plugin parsed
// config_json on each execute), against a handle prepared once (ABI 3). The run body is the
// contract's example request; the scorecard runs in a real Lua sandbox. See docs/performance.md.
#include "lua/sandbox.hpp"
#include "plugin/config_handle.hpp"
#include "plugin/plugin_registry.hpp"
#include "plugin/run_host.hpp"

#include <benchmark/benchmark.h>
#include <boost/json.hpp>

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <variant>

namespace {

namespace plugin = engined::plugin;

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read " + path);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

struct Fixture {
    plugin::PluginRegistry registry;
    std::string config_json;
    std::string request_json;
    std::string lua_source;

    Fixture() {
        const std::string refusal = registry.load(ENGINED_BINARY_DIR "/plugins/placement.so");
        if (!refusal.empty()) throw std::runtime_error("placement refused: " + refusal);
        const boost::json::value bundle =
            boost::json::parse(read_file(ENGINED_SOURCE_DIR "/versions/default/1.0.json"));
        config_json = boost::json::serialize(bundle.at("config"));
        lua_source = std::string(bundle.at("config").at("lua_source").as_string());
        request_json = read_file(ENGINED_SOURCE_DIR "/contracts/placement/example_request.json");
    }
    const plugin::LoadedPlugin& placement() const { return *registry.find("placement"); }
};

Fixture& fixture() {
    static Fixture shared;
    return shared;
}

plugin::ConfigHandle prepare(const plugin::LoadedPlugin& placement,
                             const std::string& config_json) {
    auto handle = plugin::ConfigHandle::create(placement, config_json);
    if (auto* failure = std::get_if<plugin::RunFailure>(&handle))
        throw std::runtime_error(failure->message);
    return std::move(std::get<plugin::ConfigHandle>(handle));
}

void run_once(benchmark::State& state, engined::lua::Sandbox& sandbox,
              const plugin::ConfigHandle& config) {
    sandbox.begin_run();
    plugin::RunHost host(&sandbox, 0);
    const plugin::PluginOutcome outcome = host.execute(config, fixture().request_json);
    if (!outcome.ok) state.SkipWithError(outcome.failure.message.c_str());
    benchmark::DoNotOptimize(outcome.result_json.data());
}

void BM_ConfigParsedPerRun(benchmark::State& state) {
    Fixture& f = fixture();
    engined::lua::Sandbox sandbox(f.lua_source, "scorecard.lua");
    for (auto _ : state) {
        // The host's own reading of the configuration (its scorecard and debug flag) and the plugin's.
        benchmark::DoNotOptimize(boost::json::parse(f.config_json));
        run_once(state, sandbox, prepare(f.placement(), f.config_json));
    }
    state.counters["config_bytes"] = static_cast<double>(f.config_json.size());
}
BENCHMARK(BM_ConfigParsedPerRun)->Unit(benchmark::kMicrosecond);

void BM_ConfigHandlePreparedOnce(benchmark::State& state) {
    Fixture& f = fixture();
    engined::lua::Sandbox sandbox(f.lua_source, "scorecard.lua");
    const plugin::ConfigHandle config = prepare(f.placement(), f.config_json);
    for (auto _ : state) run_once(state, sandbox, config);
    state.counters["config_bytes"] = static_cast<double>(f.config_json.size());
}
BENCHMARK(BM_ConfigHandlePreparedOnce)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
