// The entity-analysis engine: one evaluation against pools of 2 000 and 20 000 synthetic
// carriers, with the pool already parsed (the steady state: the plugin caches pools by
// snapshot) and with the first-run parse included. See docs/performance.md.
#include "entity_analysis_engine.hpp"

#include "pool_cache.hpp"
#include "scoring_host.hpp"

#include <benchmark/benchmark.h>
#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <array>
#include <cstdint>
#include <stdexcept>
#include <string>

namespace {

namespace json = boost::json;
using namespace engined::entity_analysis;

// No Lua: weights and tiers come from the configuration, so that the benchmark measures the
// engine. The pool is served from memory; the trace is dropped.
class BenchHost final : public ScoringHost {
public:
    explicit BenchHost(const std::string& pool) : pool_(pool) {}
    bool has_function(std::string_view) override { return false; }
    json::value call(std::string_view, const json::array&) override { return nullptr; }
    void trace(std::string_view, json::object) override {}
    std::int64_t monotonic_ns() override { return 0; }
    std::string load_dataset(std::string_view, std::string_view) override { return pool_; }

private:
    const std::string& pool_;
};

// A fixed-sequence generator, so that every run benchmarks the same pool.
class Sequence {
public:
    int pick(int low, int high) {
        state_ = state_ * 6364136223846793005ULL + 1442695040888963407ULL;
        return low + static_cast<int>((state_ >> 33) % static_cast<std::uint64_t>(high - low + 1));
    }

private:
    std::uint64_t state_ = 42;
};

std::string pool_text(int size) {
    constexpr std::array<const char*, 10> kLines = {"general_liability",
                                                    "professional_liability",
                                                    "workers_compensation",
                                                    "commercial_property",
                                                    "commercial_auto",
                                                    "cyber",
                                                    "directors_officers",
                                                    "umbrella",
                                                    "bop",
                                                    "epli"};
    constexpr std::array<const char*, 3> kAppetites = {"preferred", "acceptable", "excluded"};
    constexpr std::array<const char*, 8> kRatings = {"A++", "A+", "A", "A-", "B++", "B+", "B", "A"};
    constexpr std::array<const char*, 8> kStates = {"CA", "NY", "TX", "FL", "IL", "WA", "OR", "NV"};
    Sequence random;
    json::array pool;
    for (int i = 0; i < size; ++i) {
        json::array states;
        if (random.pick(0, 3) == 0) {
            states.push_back("*");
        } else {
            for (int s = 0; s < 4; ++s) {
                states.push_back(
                    json::string(kStates[static_cast<std::size_t>(random.pick(0, 7))]));
            }
        }
        json::array lines;
        for (int l = 0; l < 4; ++l) {
            lines.push_back(json::object{
                {"line", kLines[static_cast<std::size_t>(random.pick(0, 9))]},
                {"appetite", kAppetites[static_cast<std::size_t>(random.pick(0, 2))]}});
        }
        pool.push_back(json::object{
            {"id", "carrier-" + std::to_string(i)},
            {"name", "Carrier " + std::to_string(i)},
            {"am_best_rating", kRatings[static_cast<std::size_t>(random.pick(0, 7))]},
            {"financial_size", random.pick(0, 1) == 0 ? "VIII" : "XII"},
            {"states", std::move(states)},
            {"lines", std::move(lines)},
            {"prohibited_naics", random.pick(0, 9) == 0 ? json::array{"5411"} : json::array{"23"}},
            {"avoided_naics", random.pick(0, 9) == 0 ? json::array{"54"} : json::array{}},
            {"revenue_min", random.pick(0, 5) * 1'000'000},
            {"revenue_max", random.pick(10, 200) * 1'000'000},
            {"pricing_index", 0.85 + random.pick(0, 30) / 100.0},
            {"commission", random.pick(8, 20) / 100.0},
            {"claims_satisfaction", random.pick(50, 98) / 100.0},
            {"quote_turnaround_days", random.pick(1, 14)},
            {"synthetic", true},
        });
    }
    return json::serialize(pool);
}

json::object request() {
    return {{"input",
             json::object{
                 {"profile", json::object{{"entity", "Harbor & Vine Legal LLP"},
                                          {"state", "CA"},
                                          {"lines", json::array{"professional_liability", "cyber"}},
                                          {"naics", "541110"},
                                          {"revenue", 12'000'000},
                                          {"employees", 48}}},
                 {"pool", "carriers:bench"},
                 {"request_config", json::object{{"max_candidates", 25}, {"gap_analysis", true}}}}},
            {"pool", json::object{{"name", "carriers:bench"}, {"snapshot", "bench"}}}};
}

json::object config() {
    return json::parse(R"({
        "schema_version": 1,
        "scoring_dimensions": [{"key": "appetite"}, {"key": "coverage"}, {"key": "financial"},
                               {"key": "pricing"}, {"key": "placement"}, {"key": "service"}],
        "appetite_weight_profiles": [{"bucket": "balanced", "weights": {"appetite": 0.25, "coverage": 0.2,
            "financial": 0.2, "pricing": 0.15, "placement": 0.1, "service": 0.1}}],
        "default_appetite_bucket": "balanced"
    })")
        .as_object();
}

void evaluate(benchmark::State& state, bool parse_every_run) {
    const std::string pool = pool_text(static_cast<int>(state.range(0)));
    const json::object body = request();
    const json::object configuration = config();
    BenchHost host(pool);
    PoolCache cache;
    std::int64_t eligible = 0;
    for (auto _ : state) {
        PoolCache fresh;
        const AnalysisResult result =
            run_entity_analysis(body, configuration, host, parse_every_run ? fresh : cache);
        if (result.failed()) {
            throw std::runtime_error(json::serialize(result.body));
        }
        eligible = result.body.at("output").at("eligible_count").as_int64();
        benchmark::DoNotOptimize(result);
    }
    state.counters["eligible"] = static_cast<double>(eligible);
    state.counters["pool_json_MB"] = static_cast<double>(pool.size()) / 1e6;
}

void BM_EvaluateParsedPool(benchmark::State& state) {
    evaluate(state, false);
}

void BM_EvaluateFirstRun(benchmark::State& state) {
    evaluate(state, true);
}

BENCHMARK(BM_EvaluateParsedPool)->Arg(2'000)->Arg(20'000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_EvaluateFirstRun)->Arg(2'000)->Arg(20'000)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
