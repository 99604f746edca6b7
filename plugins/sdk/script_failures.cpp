#include "script_failures.hpp"

#include <string>

namespace engined::plugin_sdk {

RunFailure run_failure_for(const ScriptFailure& failure, std::string_view function) {
    const std::string where = "scorecard function " + std::string(function) + ": ";
    boost::json::array details{boost::json::object{{"function", function}}};
    switch (failure.kind()) {
        case ScriptFailure::Kind::budget_exceeded:
            return RunFailure("lua_budget_exceeded", where + failure.message(), std::move(details));
        case ScriptFailure::Kind::memory_exceeded:
            return RunFailure("lua_memory_exceeded", where + failure.message(), std::move(details));
        case ScriptFailure::Kind::error:
        case ScriptFailure::Kind::no_such_function:
            break;
    }
    return RunFailure("lua_error", where + failure.message(), std::move(details));
}

void fail_run_on_breach(const ScriptFailure& failure, std::string_view function) {
    if (failure.kind() == ScriptFailure::Kind::budget_exceeded ||
        failure.kind() == ScriptFailure::Kind::memory_exceeded) {
        throw run_failure_for(failure, function);
    }
}

}  // namespace engined::plugin_sdk
