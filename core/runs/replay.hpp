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

// {run_id, identical, fingerprint, replay_fingerprint, output_sha256: {original, replay},
//  first_difference}
boost::json::object replay_report(const store::Run& run, const store::RunOutcome& replayed);

}  // namespace engined::runs
