// RANK: the weighted aggregate of a carrier's six levels, its tier, the confidence of the
// analysis, and the deterministic order of the eligible carriers.
#pragma once

#include "assess.hpp"
#include "carrier.hpp"
#include "config.hpp"
#include "prospect.hpp"

#include <string_view>
#include <vector>

namespace engined::entity_analysis {

enum class Confidence { high, medium, low };

std::string_view confidence_name(Confidence confidence);

// From the profile's completeness (naics, revenue, employees, state, line, years_in_business):
// HIGH with at least 5 of the 6 present, naics and revenue among them; MEDIUM with at least 3;
// LOW otherwise.
Confidence profile_confidence(const Completeness& completeness);

// A candidate's confidence: the profile's, lowered to what the carrier's own record supports.
// Of am_best_rating, pricing_index, commission, claims_satisfaction and quote_turnaround_days,
// all known keeps it; 3 or 4 known caps it at MEDIUM; fewer caps it at LOW.
Confidence candidate_confidence(Confidence profile, const Carrier& carrier);

// Sum of weight x level over the weights' sum, rounded to 4 decimals (so that summation order
// never decides a tier or a rank): a level on the same 1-4 scale.
double aggregate_level(const Levels& levels, const DimensionWeights& weights);

// STRONG_FIT | GOOD_FIT | MODERATE_FIT | WEAK_FIT.
std::string_view tier_of(double aggregate, const TierThresholds& thresholds);

struct Ranked {
    const Carrier* carrier;
    Levels levels;
    double aggregate;
};

// Puts the best `count` (all, if fewer) at the front, best first: by aggregate level, then
// name, then id. The order of the rest is unspecified.
void sort_ranked(std::vector<Ranked>& ranked, std::size_t count);

}  // namespace engined::entity_analysis
