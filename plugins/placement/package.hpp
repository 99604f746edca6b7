// A package: one offering per requested line, as ASSEMBLE builds it and EVALUATE scores it.
#pragma once

#include "offering.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace engined::placement {

struct DimensionScore {
    std::string key;
    std::string label;
    double level = 0.0;  // 1.0 best .. 4.0 worst, rounded to two decimals
    double weight = 0.0;
    std::string reason;
};

struct Scorecard {
    double overall_level = 0.0;  // weighted mean of the dimension levels, rounded to two decimals
    std::vector<DimensionScore> dimensions;  // enabled dimensions, in configured order

    const DimensionScore* dimension(std::string_view key) const {
        for (const DimensionScore& score : dimensions) {
            if (score.key == key) {
                return &score;
            }
        }
        return nullptr;
    }
};

struct Package {
    std::vector<const Offering*> offerings;  // one per requested line, in requested-line order
    // Each offering's index among its line's eligible offerings: the package's place in the
    // enumeration order (first line slowest), the ranking's last tie-break.
    std::vector<std::uint32_t> position;
    double est_cost_low = 0.0;
    double est_cost_high = 0.0;
    bool is_original_bundle = false;
    std::optional<std::string> package_id;  // the quoted bundle, when is_original_bundle
    std::vector<std::string> providers;     // provider names in line order, each once
    std::size_t provider_count = 0;
    Scorecard scorecard;
};

}  // namespace engined::placement
