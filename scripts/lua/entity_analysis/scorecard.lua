-- Default scorecard of the commercial-lines entity-analysis engine.
--
-- The engine assesses every eligible carrier on six dimensions, each a level from 1 (best) to
-- 4, and ranks carriers by the weighted mean of those levels: a larger weight makes that
-- dimension count for more. It calls weights(input) once per run and tiers() once per run;
-- returning nil from either hands the choice back to the engine configuration
-- (appetite_weight_profiles, parameters.tier_thresholds).
--
-- Rules here must be pure functions of their arguments: no clock, no randomness, so that a
-- replayed run reproduces its result.

-- The default: appetite leads (a carrier that wants the risk places it), coverage fit and
-- financial strength next, then price, ease of placement and service.
local BALANCED = {
  appetite = 0.25,
  coverage = 0.20,
  financial = 0.20,
  pricing = 0.15,
  placement = 0.10,
  service = 0.10,
}

-- A prospect with a claims record needs a carrier that handles claims well more than a cheap
-- one: service takes 0.05 from pricing.
local CLAIMS_HEAVY = {
  appetite = 0.25,
  coverage = 0.20,
  financial = 0.20,
  pricing = 0.10,
  placement = 0.10,
  service = 0.15,
}
local CLAIMS_HEAVY_FROM = 3  -- claims in the last 5 years

local function copy(weights)
  local fresh = {}
  for dimension, weight in pairs(weights) do
    fresh[dimension] = weight
  end
  return fresh
end

-- input: {profile = {state, lines, naics, revenue, employees, years_in_business,
-- claims_last_5_years}, pool = "carriers:all", gap_analysis = true|false}; facts the
-- prospect did not give are absent.
function weights(input)
  local profile = (input and input.profile) or {}
  local claims = profile.claims_last_5_years
  if type(claims) == "number" and claims >= CLAIMS_HEAVY_FROM then
    return copy(CLAIMS_HEAVY)
  end
  return copy(BALANCED)
end

-- The highest aggregate level of each tier; above MODERATE_FIT a carrier is WEAK_FIT.
function tiers()
  return { STRONG_FIT = 1.75, GOOD_FIT = 2.5, MODERATE_FIT = 3.25 }
end

-- Run by engined whenever this scorecard is validated or published: weights non-negative and
-- summing to 1 for every rule, thresholds ascending within the 1-4 level scale.
function self_test()
  local cases = { {}, { profile = { claims_last_5_years = CLAIMS_HEAVY_FROM } } }
  for _, input in ipairs(cases) do
    local total = 0
    for _, weight in pairs(weights(input)) do
      if weight < 0 then return false end
      total = total + weight
    end
    if math.abs(total - 1) > 1e-9 then return false end
  end
  local t = tiers()
  return 1 < t.STRONG_FIT and t.STRONG_FIT < t.GOOD_FIT and t.GOOD_FIT < t.MODERATE_FIT
    and t.MODERATE_FIT <= 4
end
