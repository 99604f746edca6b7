// The services the placement logic needs from its host during one run: the SDK's scorecard,
// audit trace and monotonic clock, plus the run's reference time.
#pragma once

#include "script_host.hpp"

#include <cstdint>

namespace engined::placement {

using plugin_sdk::ScriptFailure;

class ScoringHost : public plugin_sdk::ScriptHost {
public:
    // The run's reference time in milliseconds since the Unix epoch; fixed for the whole run.
    virtual std::int64_t now_unix_ms() = 0;
};

}  // namespace engined::placement
