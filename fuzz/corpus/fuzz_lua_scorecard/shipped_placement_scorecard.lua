-- Default scorecard of the personal-lines placement engine.
--
-- The engine calls weights(bucket, input) once per run and takes the returned table as the
-- weight of each scoring dimension. Levels run from 1.0 (best) to 4.0 (worst) and a package's
-- overall level is the weighted mean of its dimension levels, so a larger weight makes that
-- dimension count for more in the ranking. Returning nil hands the choice back to the
-- configuration's appetite_weight_profiles.
--
-- Rules here must be pure functions of their arguments: no clock, no randomness, so that a
-- replayed run reproduces its result.

local WEIGHTS = {
  -- The client wants the broadest protection and will pay for it.
  coverage_first = {
    pricing_competitiveness = 0.15,
    coverage_completeness = 0.45,
    carrier_quality = 0.25,
    simplicity = 0.15,
  },
  -- The client shops on price; coverage still counts, so a bare-bones quote cannot win on
  -- price alone.
  cost_sensitive = {
    pricing_competitiveness = 0.55,
    coverage_completeness = 0.20,
    carrier_quality = 0.15,
    simplicity = 0.10,
  },
  -- The default: price leads, with coverage, carrier strength and simplicity close behind.
  balanced = {
    pricing_competitiveness = 0.40,
    coverage_completeness = 0.25,
    carrier_quality = 0.20,
    simplicity = 0.15,
  },
  -- The client wants as few carriers and policies as possible.
  simplicity = {
    pricing_competitiveness = 0.20,
    coverage_completeness = 0.20,
    carrier_quality = 0.15,
    simplicity = 0.45,
  },
}

-- bucket: the run's appetite bucket (input.appetite_bucket, or the engine's default).
-- input: the run's input, for rules that weigh by household facts; the defaults do not.
function weights(bucket, input)
  local chosen = WEIGHTS[bucket] or WEIGHTS.balanced
  -- A fresh table per call: the caller may not alter the shared defaults.
  local copy = {}
  for dimension, weight in pairs(chosen) do
    copy[dimension] = weight
  end
  return copy
end

-- Run by engined whenever this scorecard is validated or published: each bucket's weights must
-- be non-negative and sum to 1, so that overall levels stay on the 1.0-4.0 scale.
function self_test()
  for bucket, _ in pairs(WEIGHTS) do
    local total = 0
    for _, weight in pairs(weights(bucket, {})) do
      if weight < 0 then return false end
      total = total + weight
    end
    if math.abs(total - 1) > 1e-9 then return false end
  end
  return true
end
