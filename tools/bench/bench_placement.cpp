// The placement ranking: the bounded top-N search against the exhaustive reference on
// home x auto x umbrella with N offerings per line, top 10. See docs/performance.md.
#include "placement_engine.hpp"

#include "scoring_host.hpp"

// The unit tests' ScoringHost over a real engined::lua::Sandbox (needs engined_lua).
#include "../../tests/unit/placement/lua_scoring_host.hpp"

#include <benchmark/benchmark.h>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <cmath>
#include <cstdint>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>

namespace {

namespace json = boost::json;
using namespace engined::placement;

// No Lua: weights come from the configuration; the optional Lua dimension is a fixed formula
// computed here, so that the benchmark measures the engine and the call overhead it adds.
class BenchHost final : public ScoringHost {
public:
    explicit BenchHost(bool lua_dimension) : lua_dimension_(lua_dimension) {}
    bool has_function(std::string_view name) override {
        return lua_dimension_ && name == "score_household_fit";
    }
    json::value call(std::string_view, const json::array& args) override {
        const double cost = args.at(0).at("est_cost_low").to_number<double>();
        return json::object{
            {"level", 1.0 + static_cast<double>(static_cast<std::int64_t>(cost) % 7) / 2.0},
            {"reason", "household fit"}};
    }
    void trace(std::string_view, json::object) override {}
    std::int64_t now_unix_ms() override { return 0; }
    std::int64_t monotonic_ns() override { return 0; }

private:
    bool lua_dimension_;
};

json::object offering(std::mt19937& random, const std::string& line, int index) {
    const auto pick = [&](int low, int high) {
        return std::uniform_int_distribution<int>(low, high)(random);
    };
    const int provider = pick(0, 19);
    json::object coverage;
    json::object constraints;
    if (line == "home") {
        coverage = {{"dwelling_limit", pick(40, 70) * 10'000},
                    {"personal_liability_limit", pick(1, 5) * 100'000},
                    {"deductible_default", pick(1, 10) * 500}};
    } else if (line == "auto") {
        coverage = {{"limit_bodily_injury_per_person", pick(1, 5) * 50'000},
                    {"limit_bodily_injury_per_accident", pick(2, 10) * 100'000},
                    {"deductible_default", pick(1, 4) * 250}};
    } else {
        coverage = {{"limit", pick(1, 3) * 1'000'000}};
        constraints = {{"min_underlying_auto_bi_per_person", 100'000},
                       {"min_underlying_home_liability", 200'000}};
    }
    const char* ratings[] = {"A++", "A+", "A", "A-", "B++", "B+"};
    return {{"id", line + "_" + std::to_string(index)},
            {"provider_name", "Carrier " + std::to_string(provider)},
            {"category", line},
            {"quality_rating", ratings[pick(0, 5)]},
            {"coverage", std::move(coverage)},
            {"constraints", std::move(constraints)},
            {"attributes", json::object{{"line_premium_annual",
                                         line == "umbrella" ? pick(200, 900) : pick(1500, 4500)}}}};
}

json::object request(int per_line) {
    std::mt19937 random(42);
    json::array offerings;
    for (const std::string line : {"home", "auto", "umbrella"}) {
        for (int i = 0; i < per_line; ++i) {
            offerings.push_back(offering(random, line, i));
        }
    }
    return {{"input", json::object{{"coverage_types", json::array{"home", "auto", "umbrella"}},
                                   {"residence", json::object{{"replacement_cost", 600'000}}},
                                   {"request_config", json::object{{"max_solutions", 10}}}}},
            {"offerings", std::move(offerings)}};
}

json::object config(bool lua_dimension) {
    json::object config = json::parse(R"({
      "scoring_dimensions": [
        {"key": "pricing_competitiveness", "label": "Pricing", "method": "deterministic", "enabled": true},
        {"key": "coverage_completeness", "label": "Coverage", "method": "deterministic", "enabled": true},
        {"key": "carrier_quality", "label": "Carrier", "method": "deterministic", "enabled": true},
        {"key": "simplicity", "label": "Simplicity", "method": "deterministic", "enabled": true}],
      "appetite_weight_profiles": [{"bucket": "balanced", "label": "Balanced", "weights": {
        "pricing_competitiveness": 0.4, "coverage_completeness": 0.25, "carrier_quality": 0.2, "simplicity": 0.15}}],
      "default_appetite_bucket": "balanced",
      "parameters": {"max_packages_examined": 2000000000}})")
                              .as_object();
    if (lua_dimension) {
        config["scoring_dimensions"].as_array().push_back(json::object{
            {"key", "household_fit"}, {"label", "Fit"}, {"method", "lua"}, {"enabled", true}});
        config["appetite_weight_profiles"]
            .as_array()[0]
            .at("weights")
            .as_object()["household_fit"] = 0.2;
    }
    return config;
}

void run_ranking(benchmark::State& state, RankingStrategy strategy, bool lua_dimension) {
    const json::object body = request(static_cast<int>(state.range(0)));
    const json::object engine_config = config(lua_dimension);
    double examined = 0;
    for (auto _ : state) {
        BenchHost host(lua_dimension);
        const PlacementResult result = run_placement(body, engine_config, host, strategy);
        if (result.failed()) {
            throw std::runtime_error("placement run failed");
        }
        examined = result.body.at("output").at("packages_examined").to_number<double>();
    }
    state.counters["packages_examined"] = examined;
    state.counters["packages_total"] = std::pow(static_cast<double>(state.range(0)), 3);
}

// A real Lua scorecard: weights() for the four default dimensions plus household_fit (the same
// weights as the configuration), and a household_fit level from the number of providers.
// scored() reports how many packages the run handed to score_household_fit.
constexpr std::string_view kScorecard = R"(
local calls = 0

function scored() return calls end

function weights(bucket, input)
  return {pricing_competitiveness = 0.4, coverage_completeness = 0.25, carrier_quality = 0.2,
          simplicity = 0.15, household_fit = 0.2}
end

function score_household_fit(package, ctx)
  calls = calls + 1
  local providers = package.provider_count
  local level = math.max(1.0, 4.0 - (providers - 1))
  return {level = level, reason = providers .. " provider(s) for " .. #package.offerings .. " lines"}
end
)";

// The search with the scorecard run by the Lua interpreter. With the dimension off, the
// configuration has only the four default dimensions, so the same scorecard is asked for its
// weights and nothing else; with it on, score_household_fit is called for each package scored.
// The host is built per run, as the worker's sandbox is re-entered per run (begin_run).
void run_with_lua_scorecard(benchmark::State& state, bool lua_dimension) {
    const json::object body = request(static_cast<int>(state.range(0)));
    const json::object engine_config = config(lua_dimension);
    double examined = 0;
    double scored = 0;
    for (auto _ : state) {
        test::LuaScoringHost host(kScorecard);
        const PlacementResult result =
            run_placement(body, engine_config, host, RankingStrategy::search);
        if (result.failed()) {
            throw std::runtime_error("placement run failed: " + json::serialize(result.body));
        }
        const json::object& output = result.body.at("output").as_object();
        if (output.at("weights_source") != "lua") {
            throw std::runtime_error("the scorecard's weights were not used");
        }
        examined = output.at("packages_examined").to_number<double>();
        scored = host.call("scored", json::array{}).to_number<double>();
    }
    state.counters["packages_examined"] = examined;
    state.counters["lua_calls"] = scored;
    state.counters["packages_total"] = std::pow(static_cast<double>(state.range(0)), 3);
}

void BM_Search(benchmark::State& state) {
    run_ranking(state, RankingStrategy::search, false);
}
void BM_SearchWithLuaDimension(benchmark::State& state) {
    run_ranking(state, RankingStrategy::search, true);
}
void BM_Exhaustive(benchmark::State& state) {
    run_ranking(state, RankingStrategy::exhaustive, false);
}
void BM_ExhaustiveWithLuaDimension(benchmark::State& state) {
    run_ranking(state, RankingStrategy::exhaustive, true);
}

BENCHMARK(BM_Search)->Arg(10)->Arg(100)->Arg(1000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SearchWithLuaDimension)->Arg(10)->Arg(100)->Arg(1000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Exhaustive)->Arg(10)->Arg(100)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ExhaustiveWithLuaDimension)->Arg(10)->Unit(benchmark::kMillisecond);

void BM_SearchLuaScorecardDimensionOff(benchmark::State& state) {
    run_with_lua_scorecard(state, false);
}
void BM_SearchLuaScorecardDimensionOn(benchmark::State& state) {
    run_with_lua_scorecard(state, true);
}

BENCHMARK(BM_SearchLuaScorecardDimensionOff)->Arg(10)->Arg(100)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SearchLuaScorecardDimensionOn)->Arg(10)->Arg(100)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
