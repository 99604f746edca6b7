// Preview of a candidate configuration on recorded runs: how each stored run's ranking would
// change were its stored request executed again under the candidate. Pure comparison of two
// outcomes and their aggregate; the sampling and execution are RunService::preview_config's.
#pragma once

#include "store/store.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <string>
#include <vector>

namespace engined::runs {

// Runs a preview samples by default, and at most.
inline constexpr int kDefaultPreviewRuns = 200;
inline constexpr int kMaxPreviewRuns = 1000;
// Solutions compared by rank displacement (Kendall tau), and runs listed as most changed.
inline constexpr std::size_t kPreviewTopN = 10;
inline constexpr std::size_t kMostChangedRuns = 10;

// One run, stored outcome against the candidate's:
// {run_id, status_before, status_after, top1_changed, kendall_tau, overall_level_before,
//  overall_level_after, overall_level_delta, solutions_gained, solutions_lost, newly_failing,
//  newly_degraded}. A solution is known by what it offers (not its rank or scorecard).
boost::json::object compare_run(const store::Run& stored, const store::RunOutcome& candidate);

// {runs, top1_changed, top1_change_share, newly_failing, newly_degraded, mean_kendall_tau,
//  most_changed: [per-run reports, most changed first]}.
boost::json::object summarize_preview(const std::vector<boost::json::object>& compared);

}  // namespace engined::runs
