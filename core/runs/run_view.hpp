// The run object of the API (SPEC §4), rendered from a stored run.
#pragma once

#include "store/store.hpp"

#include <boost/json/object.hpp>

#include <string_view>

namespace engined::runs {

// `fingerprint` is null until the run is terminal (see runs/fingerprint.hpp).
boost::json::object run_to_json(const store::Run& run);

// Where an engine type's ranked results go: "candidates" for entity analysis, else "solutions".
const char* results_key(std::string_view engine_type);

}  // namespace engined::runs
