// The plugin SDK helpers the placement logic calls by their short names.
#pragma once

#include "json_fields.hpp"
#include "run_failure.hpp"
#include "script_failures.hpp"

namespace engined::placement {

using plugin_sdk::find_object, plugin_sdk::find_array, plugin_sdk::find_string,
    plugin_sdk::find_bool, plugin_sdk::as_number, plugin_sdk::find_number,
    plugin_sdk::rounded_number, plugin_sdk::json_count, plugin_sdk::as_positive_integer,
    plugin_sdk::json_pointer, plugin_sdk::round2;
using plugin_sdk::RunFailure, plugin_sdk::run_failure_for, plugin_sdk::fail_run_on_breach;

}  // namespace engined::placement
