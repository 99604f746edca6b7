// engined::entity_analysis — the commercial-lines engine (SPEC §7): FILTER the carriers of a pool
// for a prospect, ASSESS each eligible carrier on six dimensions (L1 best ... L4), RANK them
// into fit tiers with a reasoning sentence, and report coverage gaps. Pure logic over
// Boost.JSON; every service it needs from the host (Lua scorecard, trace, clock, the pool)
// comes through ScoringHost.
#pragma once

#include "config.hpp"
#include "pool_cache.hpp"
#include "scoring_host.hpp"

#include <boost/json/object.hpp>

namespace engined::entity_analysis {

struct AnalysisResult {
    enum class Outcome { succeeded, failed };

    Outcome outcome = Outcome::failed;
    // Succeeded: {"status": "completed", "stage": "RANK", "output": {...}, "candidates": [...]}.
    // Failed: {"code": "...", "message": "...", "details": [...]}.
    boost::json::object body;

    bool failed() const noexcept { return outcome == Outcome::failed; }
};

// Runs one analysis. `request` is the stored run body ({"input": {...}, "pool": {"name",
// "snapshot", "size"}}: the host adds `pool` when it resolves input.pool) and `config` the
// engine configuration parse_config prepared, which concurrent runs share and only read; parsed
// pools are kept in `pools`. A run that cannot complete (invalid_request, dataset_missing,
// dataset_invalid, invalid_weights, invalid_tiers, lua_error, lua_budget_exceeded,
// lua_memory_exceeded) yields a failed result; anything else thrown is a defect and propagates
// to the caller.
AnalysisResult run_entity_analysis(const boost::json::object& request, const EngineConfig& config,
                                   ScoringHost& host, PoolCache& pools);

// One run of a configuration given as JSON: prepared for this run alone, then run as above. An
// invalid configuration yields the invalid_config failure config_new refuses it with.
AnalysisResult run_entity_analysis(const boost::json::object& request,
                                   const boost::json::object& config, ScoringHost& host,
                                   PoolCache& pools);

}  // namespace engined::entity_analysis
