// The reasoning sentence of a candidate: one or two sentences built from the decisive facts of
// that carrier (its appetite, rating, pricing, line fit and its weakest point), never a template
// that reads the same for every carrier.
#pragma once

#include "assess.hpp"
#include "carrier.hpp"
#include "prospect.hpp"

#include <string>

namespace engined::entity_analysis {

std::string reasoning(const Carrier& carrier, const Prospect& prospect, const Scores& scores);

}  // namespace engined::entity_analysis
