#include "engines/rollout_policy.hpp"

#include "common/crypto.hpp"

#include <charconv>
#include <cstdint>

namespace engined::engines {
namespace {

const store::ReleaseRecord* release_of(const std::vector<store::ReleaseRecord>& releases, int major,
                                       int minor) {
    for (const auto& release : releases) {
        if (release.major == major && release.minor == minor) return &release;
    }
    return nullptr;
}

bool held_back(const std::vector<store::RolloutRecord>& rollouts, int major, int minor) {
    const store::RolloutRecord* newest = newest_rollout_of(rollouts, major, minor);
    return newest != nullptr && newest->state != "promoted";
}

}  // namespace

int rollout_bucket(std::string_view run_id) {
    // The first 32 bits of the digest are uniform enough that 2^32 mod 100 skews no share.
    const std::string digest = sha256_hex(run_id);
    uint32_t value = 0;
    std::from_chars(digest.data(), digest.data() + 8, value, 16);
    return static_cast<int>(value % 100);
}

const store::RolloutRecord* open_rollout_of(const std::vector<store::RolloutRecord>& rollouts,
                                            int major) {
    for (const auto& rollout : rollouts) {
        if (rollout.major == major && rollout.state == "open") return &rollout;
    }
    return nullptr;
}

const store::RolloutRecord* newest_rollout_of(const std::vector<store::RolloutRecord>& rollouts,
                                              int major, int minor) {
    const store::RolloutRecord* newest = nullptr;
    for (const auto& rollout : rollouts) {  // oldest first: the last match is the newest
        if (rollout.major == major && rollout.to_minor == minor) newest = &rollout;
    }
    return newest;
}

RangeChoice choose_in_range(const std::vector<store::ReleaseRecord>& releases,
                            const std::vector<store::RolloutRecord>& rollouts, int major,
                            std::optional<std::string_view> run_id) {
    RangeChoice choice;
    for (const auto& release : releases) {
        if (release.major != major || held_back(rollouts, major, release.minor)) continue;
        if (!choice.release || release.minor > choice.release->minor) choice.release = &release;
    }
    const store::RolloutRecord* open = open_rollout_of(rollouts, major);
    if (open == nullptr || !run_id) return choice;
    if (rollout_bucket(*run_id) < open->percent) {
        if (const auto* canary = release_of(releases, major, open->to_minor)) {
            return {canary, "new"};
        }
    }
    choice.rollout_share = "previous";
    return choice;
}

}  // namespace engined::engines
