// The defensibility packet of a run (SPEC §4): what produced a recommendation, from the stored
// run and its audit trace alone — stage timeline, everything dropped and why, the weights and
// their source, and the inputs behind each level of each solution or candidate.
#pragma once

#include "store/store.hpp"

#include <boost/json/object.hpp>

#include <optional>
#include <string>

namespace engined::runs {

inline constexpr int kPacketFormatVersion = 1;

// `release_content_hash`: the content hash of the release the run was pinned to, when it was.
boost::json::object defensibility_packet(const store::Run& run,
                                         const std::optional<std::string>& release_content_hash);

}  // namespace engined::runs
