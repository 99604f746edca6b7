// The services every engine needs from its host during one run: the Lua scorecard, the audit
// trace and a monotonic clock. An engine extends ScriptHost with what else it needs (a wall
// clock, datasets) and is written against that interface rather than the C ABI, so that it can
// be unit-tested with a real Lua sandbox and no plugin loading.
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace engined::plugin_sdk {

// A scorecard call that did not return a value.
class ScriptFailure : public std::runtime_error {
public:
    enum class Kind {
        error,             // the script raised an error (or returned something unusable)
        budget_exceeded,   // the run's instruction budget or wall-clock ceiling is spent
        memory_exceeded,   // the run's Lua memory cap was reached
        no_such_function,  // the scorecard defines no such global function
    };

    ScriptFailure(Kind kind, const std::string& message)
        : std::runtime_error(message), kind_(kind), message_(message) {}

    Kind kind() const noexcept { return kind_; }
    // The whole message: what() is a C string and stops at the first NUL a script put in it.
    const std::string& message() const noexcept { return message_; }

private:
    Kind kind_;
    std::string message_;
};

class ScriptHost {
public:
    virtual ~ScriptHost() = default;

    // Whether the run's scorecard defines a global function `name`.
    virtual bool has_function(std::string_view name) = 0;

    // Calls the scorecard's global `name` with `args` (one element per argument) and returns
    // its first result (null when none). Throws ScriptFailure.
    virtual boost::json::value call(std::string_view name, const boost::json::array& args) = 0;

    // Records an audit event for `stage` (the engine's stage names, e.g. "FILTER", "RANK").
    virtual void trace(std::string_view stage, boost::json::object event) = 0;

    // A monotonic clock in nanoseconds, for stage durations.
    virtual std::int64_t monotonic_ns() = 0;
};

}  // namespace engined::plugin_sdk
