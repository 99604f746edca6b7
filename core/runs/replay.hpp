// Replaying a stored run: its outcome executed again compared byte for byte with the stored one.
// Compared are the status, the output and the solutions (or candidates); the trace is not, as
// it carries timings.
#pragma once

#include "store/store.hpp"

#include <boost/json/object.hpp>

#include <optional>
#include <string>

namespace engined::runs {

// The bytes compared: {"status":…,"output":…,"solutions"|"candidates":…} with the stored JSON
// texts copied verbatim.
std::string compared_document(const std::string& engine_type, const store::RunOutcome& outcome);
std::string compared_document(const store::Run& run);

// The JSON Pointer of the first member or element where `original` and `replay` (two JSON
// texts) differ, in document order (for members in a different order: the original's member
// at that position); "" when only their bytes differ; none when they are equal.
std::optional<std::string> first_difference(const std::string& original, const std::string& replay);

// Why a replay matched or not. "identical"; else whether the run was recorded under something
// other than what replayed it — "recorded_under_other_plugin" (plugin file hash),
// "recorded_under_other_fingerprint_format", "recorded_under_other_platform" (engined version),
// checked in that order — "unverifiable" (no fingerprint recorded), or "not_reproduced" (same
// build, different outcome). `detail` says it in a sentence, e.g. "recorded under plugin
// 77b0c1d2e3f4, replayed under plugin 9a1c…"; none when identical.
struct ReplayVerdict {
    std::string verdict;
    std::optional<std::string> detail;
};

ReplayVerdict replay_verdict(const store::Run& run, const store::RunOutcome& replayed,
                             bool identical);

// {run_id, identical, verdict, verdict_detail, fingerprint, replay_fingerprint,
//  output_sha256: {original, replay}, first_difference}
boost::json::object replay_report(const store::Run& run, const store::RunOutcome& replayed);

}  // namespace engined::runs
