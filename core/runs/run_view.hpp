// The run object of the API (SPEC §4), rendered from a stored run.
#pragma once

#include "store/store.hpp"

#include <boost/json/object.hpp>

namespace engined::runs {

boost::json::object run_to_json(const store::Run& run);

}  // namespace engined::runs
