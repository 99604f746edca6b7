// What a "<major>.x" pin means while canary rollouts exist: the newest minor of the major that no
// rollout holds back, except for the share of run ids an open rollout gives its new minor. A
// release's newest rollout decides: open or aborted holds it back from range pins, promoted (or
// none) lets it through. Pure functions over the store's records, so the share is testable alone.
#pragma once

#include "store/store.hpp"

#include <optional>
#include <string_view>
#include <vector>

namespace engined::engines {

// 0..99, the same for a run id on every node and after every restart (from its SHA-256).
int rollout_bucket(std::string_view run_id);

// The open rollout of `major`, if any.
const store::RolloutRecord* open_rollout_of(const std::vector<store::RolloutRecord>& rollouts,
                                            int major);
// The newest rollout of release major.minor, if any.
const store::RolloutRecord* newest_rollout_of(const std::vector<store::RolloutRecord>& rollouts,
                                              int major, int minor);

struct RangeChoice {
    const store::ReleaseRecord* release = nullptr;  // none: no release of the major is eligible
    std::optional<std::string_view> rollout_share;  // "new" | "previous" under an open rollout
};

// The release "<major>.x" means for `run_id` (oldest-first `releases`). Without a run id (the
// contract, an environment's pin check), what it means for runs outside an open rollout's share.
RangeChoice choose_in_range(const std::vector<store::ReleaseRecord>& releases,
                            const std::vector<store::RolloutRecord>& rollouts, int major,
                            std::optional<std::string_view> run_id);

}  // namespace engined::engines
