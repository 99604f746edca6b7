// What the entity-analysis tests share: files read from the source tree (preset configuration,
// default scorecard, contracts), a deterministic carrier-pool builder and run requests.
#pragma once

#include "source_tree.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <array>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

namespace engined::entity_analysis::test {

using plugin_sdk::test::read_json_object;
using plugin_sdk::test::read_source_file;

inline boost::json::object preset_config() {
    return read_json_object("contracts/entity_analysis/engine.json");
}

inline std::string default_scorecard() {
    return read_source_file("scripts/lua/entity_analysis/scorecard.lua");
}

inline constexpr std::string_view kSnapshot =
    "3f1c9a0e5b7d2468ace13579bdf02468ace13579bdf02468ace13579bdf02468";
inline constexpr std::size_t kPoolSize = 300;

// A fixed-sequence generator (64-bit LCG), so that the pool is the same on every platform.
class Sequence {
public:
    explicit Sequence(std::uint64_t seed) : state_(seed) {}

    int pick(int low, int high) {
        state_ = state_ * 6364136223846793005ULL + 1442695040888963407ULL;
        return low + static_cast<int>((state_ >> 33) % static_cast<std::uint64_t>(high - low + 1));
    }

private:
    std::uint64_t state_;
};

// `count` synthetic carriers. By construction, for the acceptance prospect (CA, professional
// liability, NAICS 541110, $12M revenue, 48 employees): every 11th carrier does not write CA,
// every 13th excludes professional liability, every 19th does not write it, every 7th prohibits
// NAICS 5411, every 17th has a $50M-$500M revenue band and every 23rd takes at most 20
// employees (the first rule broken is the one recorded). Every 9th avoids NAICS 54; every 29th
// has no pricing, claims or turnaround figures.
inline boost::json::array build_pool(std::size_t count, std::uint64_t seed = 7) {
    constexpr std::array<const char*, 8> kRatings = {"A++", "A+", "A", "A-", "B++", "B+", "B", "A"};
    constexpr std::array<const char*, 11> kSizes = {"V",  "VI",  "VII",  "VIII", "IX", "X",
                                                    "XI", "XII", "XIII", "XIV",  "XV"};
    constexpr std::array<const char*, 10> kNames = {
        "Alder", "Birch", "Cedar", "Dogwood", "Elm", "Fir", "Gum", "Hazel", "Ironwood", "Juniper"};
    Sequence random(seed);
    boost::json::array pool;
    for (std::size_t i = 0; i < count; ++i) {
        char id[32];
        std::snprintf(id, sizeof id, "car-%04zu", i);
        boost::json::object carrier{
            {"id", id},
            {"name", std::string(kNames[i % kNames.size()]) + " Mutual " + std::to_string(i)},
            {"am_best_rating",
             kRatings[static_cast<std::size_t>(random.pick(0, kRatings.size() - 1))]},
            {"financial_size", kSizes[static_cast<std::size_t>(random.pick(0, kSizes.size() - 1))]},
            {"synthetic", true},
        };
        if (i % 11 == 0) {
            carrier["states"] = boost::json::array{"NY", "TX", "FL"};
        } else if (i % 3 == 0) {
            carrier["states"] = boost::json::array{"*"};
        } else {
            carrier["states"] = boost::json::array{"CA", "NV", "OR", "WA"};
        }
        boost::json::array lines{
            boost::json::object{{"line", "general_liability"}, {"appetite", "acceptable"}}};
        if (i % 13 == 0) {
            lines.push_back(
                boost::json::object{{"line", "professional_liability"}, {"appetite", "excluded"}});
        } else if (i % 19 != 0) {
            lines.push_back(boost::json::object{
                {"line", "professional_liability"},
                {"appetite", random.pick(0, 1) == 0 ? "preferred" : "acceptable"}});
        }
        if (random.pick(0, 2) == 0) {
            lines.push_back(boost::json::object{{"line", "cyber"}, {"appetite", "preferred"}});
        }
        carrier["lines"] = std::move(lines);
        carrier["prohibited_naics"] =
            i % 7 == 0 ? boost::json::array{"5411"} : boost::json::array{"23"};
        carrier["avoided_naics"] = i % 9 == 0 ? boost::json::array{"54"} : boost::json::array{};
        if (i % 17 == 0) {
            carrier["revenue_min"] = 50'000'000;
            carrier["revenue_max"] = 500'000'000;
        } else if (i % 4 != 0) {
            carrier["revenue_min"] = random.pick(0, 5) * 1'000'000;
            carrier["revenue_max"] = random.pick(20, 100) * 1'000'000;
        }
        if (i % 23 == 0) {
            carrier["employees_max"] = 20;
        }
        if (i % 29 != 0) {
            carrier["pricing_index"] = 0.85 + random.pick(0, 30) / 100.0;
            carrier["claims_satisfaction"] = random.pick(50, 98) / 100.0;
            carrier["quote_turnaround_days"] = random.pick(1, 14);
        }
        carrier["commission"] = random.pick(8, 20) / 100.0;
        pool.push_back(std::move(carrier));
    }
    return pool;
}

// The acceptance prospect: a California law firm shopping for professional liability.
inline boost::json::object law_firm() {
    return {{"entity", "Harbor & Vine Legal LLP"},
            {"state", "CA"},
            {"line", "professional_liability"},
            {"naics", "541110"},
            {"revenue", 12'000'000},
            {"employees", 48},
            {"years_in_business", 14}};
}

// The stored run body: `input` and the pool reference the host adds when it resolves input.pool.
inline boost::json::object run_request(boost::json::object input,
                                       std::string_view snapshot = kSnapshot) {
    if (!input.contains("pool")) {
        input["pool"] = "carriers:all";
    }
    return {{"input", std::move(input)},
            {"pool", boost::json::object{
                         {"name", "carriers:all"}, {"snapshot", snapshot}, {"size", kPoolSize}}}};
}

}  // namespace engined::entity_analysis::test
