// How scorecard failures end a run. A budget or memory breach always fails the run (the host
// makes both sticky, so nothing later in the run could succeed); what a script error costs
// depends on the call, so callers decide that themselves.
#pragma once

#include "run_failure.hpp"
#include "script_host.hpp"

#include <string_view>

namespace engined::plugin_sdk {

// The failed-run body for `failure` raised by the scorecard function `function`:
// lua_budget_exceeded, lua_memory_exceeded, or lua_error for anything else.
RunFailure run_failure_for(const ScriptFailure& failure, std::string_view function);

// Throws run_failure_for(failure) when `failure` is a budget or memory breach.
void fail_run_on_breach(const ScriptFailure& failure, std::string_view function);

}  // namespace engined::plugin_sdk
