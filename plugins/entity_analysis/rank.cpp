#include "rank.hpp"

#include <algorithm>
#include <cmath>
#include <tuple>

namespace engined::entity_analysis {

std::string_view confidence_name(Confidence confidence) {
    switch (confidence) {
        case Confidence::high:
            return "HIGH";
        case Confidence::medium:
            return "MEDIUM";
        case Confidence::low:
            return "LOW";
    }
    return "LOW";
}

Confidence profile_confidence(const Completeness& completeness) {
    const auto has = [&](std::string_view fact) {
        return std::find(completeness.present.begin(), completeness.present.end(), fact) !=
               completeness.present.end();
    };
    const std::size_t present = completeness.present.size();
    if (present >= 5 && has("naics") && has("revenue")) {
        return Confidence::high;
    }
    return present >= 3 ? Confidence::medium : Confidence::low;
}

Confidence candidate_confidence(Confidence profile, const Carrier& carrier) {
    const int known = (carrier.rating_rank ? 1 : 0) + (carrier.pricing_index ? 1 : 0) +
                      (carrier.commission ? 1 : 0) + (carrier.claims_satisfaction ? 1 : 0) +
                      (carrier.quote_turnaround_days ? 1 : 0);
    const Confidence record = known == 5   ? Confidence::high
                              : known >= 3 ? Confidence::medium
                                           : Confidence::low;
    return std::max(profile, record);
}

double aggregate_level(const Levels& levels, const DimensionWeights& weights) {
    double weighted = 0.0;
    double total = 0.0;
    for (std::size_t d = 0; d < kDimensionCount; ++d) {
        weighted += weights[d] * levels[d];
        total += weights[d];
    }
    return std::round(weighted / total * 10'000.0) / 10'000.0;
}

std::string_view tier_of(double aggregate, const TierThresholds& thresholds) {
    if (aggregate <= thresholds.strong_fit) return kStrongFit;
    if (aggregate <= thresholds.good_fit) return kGoodFit;
    if (aggregate <= thresholds.moderate_fit) return kModerateFit;
    return kWeakFit;
}

void sort_ranked(std::vector<Ranked>& ranked, std::size_t count) {
    const auto key = [](const Ranked& r) {
        return std::tuple(r.aggregate, std::string_view(r.carrier->name),
                          std::string_view(r.carrier->id));
    };
    const auto middle =
        ranked.begin() + static_cast<std::ptrdiff_t>(std::min(count, ranked.size()));
    std::partial_sort(ranked.begin(), middle, ranked.end(),
                      [&](const Ranked& a, const Ranked& b) { return key(a) < key(b); });
}

}  // namespace engined::entity_analysis
