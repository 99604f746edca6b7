// engined::placement — the placement engine for personal lines (home, auto, umbrella):
// FILTER offerings, ASSEMBLE packages of one offering per requested line, EVALUATE a scorecard
// per package and RANK them (SPEC §6). Pure logic over Boost.JSON; every service it needs from
// the host (Lua scorecard, audit trace, clock) comes through ScoringHost.
#pragma once

#include "config.hpp"
#include "scoring_host.hpp"

#include <boost/json/object.hpp>

namespace engined::placement {

struct PlacementResult {
    enum class Outcome { succeeded, failed };

    Outcome outcome = Outcome::failed;
    // Succeeded: {"status": "completed" | "degraded", "stage": "RANK", "output": {...},
    //              "solutions": [...]}.
    // Failed: {"code": "...", "message": "...", "details": [...]}.
    boost::json::object body;

    bool failed() const noexcept { return outcome == Outcome::failed; }
};

// How RANK finds the top packages. Both give the same solutions; `search` scores only the
// packages its bounds cannot rule out, `exhaustive` scores every package (the reference the
// tests compare the search with, and the benchmark's baseline).
enum class RankingStrategy { search, exhaustive };

// Runs one placement. `request` is the run body ({"input": {...}, "offerings": [...]}) and
// `config` the engine configuration parse_config prepared, which concurrent runs share and only
// read. A run that cannot complete (invalid weights, too many packages to examine, a Lua error or
// budget breach) yields a failed result; anything else thrown is a defect and propagates to the
// caller.
PlacementResult run_placement(const boost::json::object& request, const EngineConfig& config,
                              ScoringHost& host,
                              RankingStrategy strategy = RankingStrategy::search);

// One run of a configuration given as JSON: prepared for this run alone, then run as above. An
// invalid configuration yields the invalid_config failure config_new refuses it with.
PlacementResult run_placement(const boost::json::object& request, const boost::json::object& config,
                              ScoringHost& host,
                              RankingStrategy strategy = RankingStrategy::search);

}  // namespace engined::placement
