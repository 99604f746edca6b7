// The bounded top-N search against the exhaustive reference: on thousands of random instances
// both must return the same solutions and the same output, but for the packages examined.
#include "placement_engine.hpp"

#include "lua_scoring_host.hpp"
#include "test_support.hpp"

#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

namespace engined::placement {
namespace {

namespace json = boost::json;
using test::LuaScoringHost;

class RandomInstance {
public:
    explicit RandomInstance(unsigned seed) : random_(seed) {}

    json::object request() {
        const std::vector<std::string> all_lines = {"home", "auto", "umbrella", "flood"};
        std::vector<std::string> lines = all_lines;
        std::shuffle(lines.begin(), lines.end(), random_);
        lines.resize(pick(1, 4));
        json::array coverage_types;
        json::array offerings;
        for (const std::string& line : lines) {
            coverage_types.push_back(json::string(line));
            const int count = pick(1, 8);
            for (int i = 0; i < count; ++i) {
                offerings.push_back(offering(line, i));
            }
        }
        const char* buckets[] = {"coverage_first", "cost_sensitive", "balanced", "simplicity"};
        json::object input{{"coverage_types", std::move(coverage_types)},
                           {"appetite_bucket", buckets[pick(0, 3)]},
                           {"request_config", json::object{{"max_solutions", pick(1, 50)}}}};
        if (chance(0.5)) {
            input["residence"] = json::object{{"replacement_cost", pick(400, 700) * 1000}};
        }
        if (chance(0.5)) {
            input["current_coverage"] = current_coverage();
        }
        return {{"input", std::move(input)}, {"offerings", std::move(offerings)}};
    }

private:
    int pick(int low, int high) { return std::uniform_int_distribution<int>(low, high)(random_); }
    bool chance(double p) { return std::bernoulli_distribution(p)(random_); }

    json::object offering(const std::string& line, int index) {
        const int provider = pick(0, 3);
        const std::string provider_name = "Carrier " + std::to_string(provider);
        json::object attributes{{"line_premium_annual", pick(1, 12) * 100}};
        if (chance(0.6)) {
            // Bundles per carrier and bundle number, so lines of one carrier often share one;
            // half of them known by their package premium alone (no package_id).
            const std::string bundle =
                "pkg_" + std::to_string(provider) + "_" + std::to_string(pick(0, 1));
            if (chance(0.5)) {
                attributes["package_id"] = bundle;
            }
            attributes["package_premium_annual"] =
                500 + (std::hash<std::string>{}(bundle) % 20) * 100;
        }
        json::object coverage;
        json::object constraints;
        if (line == "home") {
            if (chance(0.8)) coverage["dwelling_limit"] = pick(4, 7) * 100'000;
            if (chance(0.8)) coverage["personal_liability_limit"] = pick(1, 5) * 100'000;
        } else if (line == "auto") {
            if (chance(0.3)) {
                coverage["limit_combined_single"] = pick(3, 10) * 100'000;
            } else if (chance(0.9)) {
                coverage["limit_bodily_injury_per_person"] = pick(1, 5) * 50'000;
                coverage["limit_bodily_injury_per_accident"] = pick(2, 10) * 100'000;
            }
        } else if (line == "umbrella") {
            coverage["limit"] = pick(1, 3) * 1'000'000;
            if (chance(0.5)) constraints["min_underlying_auto_bi_per_person"] = 250'000;
            if (chance(0.5)) constraints["min_underlying_auto_bi_per_accident"] = 500'000;
            if (chance(0.2)) constraints["min_underlying_auto_csl"] = 500'000;
            if (chance(0.5)) constraints["min_underlying_home_liability"] = 300'000;
            if (chance(0.3)) constraints["requires_underlying_same_provider"] = true;
        }
        if (chance(0.7)) coverage["deductible_default"] = pick(1, 10) * 500;
        const char* ratings[] = {"A++", "A+", "A", "A-", "B++", "B", "C"};
        json::object result{{"id", line + "_" + std::to_string(index)},
                            {"provider_name", provider_name},
                            {"category", line},
                            {"coverage", std::move(coverage)},
                            {"constraints", std::move(constraints)},
                            {"attributes", std::move(attributes)}};
        if (chance(0.85)) {
            result["quality_rating"] = ratings[pick(0, 6)];
        }
        return result;
    }

    json::object current_coverage() {
        return {{"home", json::object{{"annual_premium", pick(5, 30) * 100},
                                      {"dwelling_limit", pick(4, 6) * 100'000}}},
                {"auto", json::object{{"annual_premium", pick(5, 30) * 100},
                                      {"limit_bodily_injury_per_person", 100'000},
                                      {"limit_bodily_injury_per_accident", 300'000}}}};
    }

    std::mt19937 random_;
};

// The result body without the one field the strategies may differ in.
std::string comparable(PlacementResult result) {
    if (!result.failed()) {
        result.body["output"].as_object().erase("packages_examined");
    }
    return json::serialize(result.body);
}

PlacementResult run_with(const json::object& request, std::string_view scorecard,
                         RankingStrategy strategy, const json::object& config) {
    LuaScoringHost host(scorecard);
    return run_placement(request, config, host, strategy);
}

// How many instances exercised each feature, so that a generator gone bland fails the test.
struct Exercised {
    unsigned with_solutions = 0;
    unsigned with_umbrella_rejections = 0;
    unsigned with_original_bundle = 0;
    unsigned with_vetoes = 0;
    unsigned pruned = 0;  // the search examined fewer packages than the exhaustive path
};

void count_features(const PlacementResult& searched, const PlacementResult& exhaustive,
                    Exercised& exercised) {
    if (searched.failed()) {
        return;
    }
    const json::object& output = searched.body.at("output").as_object();
    const json::array& solutions = searched.body.at("solutions").as_array();
    exercised.with_solutions += !solutions.empty();
    exercised.with_umbrella_rejections += !output.at("umbrella_rejections").as_object().empty();
    exercised.with_vetoes += output.at("vetoed_count") != 0;
    exercised.with_original_bundle +=
        std::any_of(solutions.begin(), solutions.end(),
                    [](const json::value& s) { return s.at("is_original_bundle") == true; });
    exercised.pruned +=
        output.at("packages_examined").to_number<std::int64_t>() <
        exhaustive.body.at("output").at("packages_examined").to_number<std::int64_t>();
}

Exercised expect_same_ranking(unsigned first_seed, unsigned instances, std::string_view scorecard,
                              const json::object& config) {
    Exercised exercised;
    for (unsigned seed = first_seed; seed < first_seed + instances; ++seed) {
        const json::object request = RandomInstance(seed).request();
        const PlacementResult searched =
            run_with(request, scorecard, RankingStrategy::search, config);
        const PlacementResult exhaustive =
            run_with(request, scorecard, RankingStrategy::exhaustive, config);
        count_features(searched, exhaustive, exercised);
        EXPECT_EQ(comparable(searched), comparable(exhaustive))
            << "seed " << seed << "\nrequest " << json::serialize(request);
        if (::testing::Test::HasFailure()) {
            break;
        }
    }
    return exercised;
}

TEST(TopPackageSearch, MatchesTheExhaustiveRankingOnRandomInstances) {
    const Exercised exercised =
        expect_same_ranking(1, 3000, test::default_scorecard(), test::preset_config());
    EXPECT_GT(exercised.with_solutions, 2500u);
    EXPECT_GT(exercised.with_umbrella_rejections, 500u);
    EXPECT_GT(exercised.with_original_bundle, 100u);
    EXPECT_GT(exercised.pruned, 500u);
}

// A Lua dimension (bounded by its best level) and an adjust veto (applied in ranking order).
constexpr std::string_view kScorecardWithLua = R"(
    function score_household_fit(package, ctx)
      local level = 1 + (package.est_cost_low % 7) / 2
      return {level = level, reason = "fit " .. level}
    end
    function adjust(package, ctx)
      if package.provider_count == 2 and package.est_cost_low % 300 == 0 then
        return {veto = true, reason = "two carriers at a round price"}
      end
      return nil
    end)";

json::object config_with_lua_dimension() {
    json::object config = test::preset_config();
    config["scoring_dimensions"].as_array().push_back(json::object{{"key", "household_fit"},
                                                                   {"label", "Household fit"},
                                                                   {"method", "lua"},
                                                                   {"enabled", true}});
    for (json::value& profile : config["appetite_weight_profiles"].as_array()) {
        profile.at("weights").as_object()["household_fit"] = 0.3;
    }
    return config;
}

TEST(TopPackageSearch, MatchesTheExhaustiveRankingWithALuaDimensionAndVetoes) {
    const Exercised exercised =
        expect_same_ranking(100'000, 600, kScorecardWithLua, config_with_lua_dimension());
    EXPECT_GT(exercised.with_vetoes, 50u);
    EXPECT_GT(exercised.pruned, 20u);
}

TEST(TopPackageSearch, MatchesTheExhaustiveRankingOnTheGoldenInputs) {
    for (const std::string_view name : test::kGoldenInputs) {
        const json::object request = test::golden_input(name);
        EXPECT_EQ(comparable(run_with(request, test::default_scorecard(), RankingStrategy::search,
                                      test::preset_config())),
                  comparable(run_with(request, test::default_scorecard(),
                                      RankingStrategy::exhaustive, test::preset_config())))
            << name;
    }
}

}  // namespace
}  // namespace engined::placement
