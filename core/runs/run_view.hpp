// The run object of the API (SPEC §4), rendered from a stored run.
#pragma once

#include "store/store.hpp"

#include <boost/json/object.hpp>

#include <string>
#include <string_view>

namespace engined::runs {

// `fingerprint` is null until the run is terminal (see runs/fingerprint.hpp).
boost::json::object run_to_json(const store::Run& run);

// Runs submitted through the evaluation shape of POST /api/v1/jobs carry this id prefix; the
// legacy API answers them, and POSTs them to their own webhook_url, as evaluation results.
inline constexpr std::string_view kEvaluationIdPrefix = "eval_";
inline bool is_evaluation(std::string_view run_id) {
    return run_id.starts_with(kEvaluationIdPrefix);
}

// Where an engine type's ranked results go: the results key its plugin declares
// (plugin::results_key_of).
std::string results_key(std::string_view engine_type);

}  // namespace engined::runs
