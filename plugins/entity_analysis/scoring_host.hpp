// The services the entity-analysis logic needs from its host during one run: the SDK's
// scorecard, audit trace and monotonic clock, plus the carrier pools. It reads no wall clock:
// a run is a function of its request, configuration and pool.
#pragma once

#include "script_host.hpp"

#include <stdexcept>
#include <string>
#include <string_view>

namespace engined::entity_analysis {

using plugin_sdk::ScriptFailure;

// The host holds no dataset of that kind and id.
class DatasetMissing : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

class ScoringHost : public plugin_sdk::ScriptHost {
public:
    // The JSON text of the immutable dataset `kind` ("pool") with content hash `id`.
    // Throws DatasetMissing when the host has none.
    virtual std::string load_dataset(std::string_view kind, std::string_view id) = 0;
};

}  // namespace engined::entity_analysis
