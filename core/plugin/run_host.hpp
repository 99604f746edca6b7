// The host side of one plugin call: the services table of engine_plugin.h bound to one run's
// Lua sandbox, trace and clock, and the call itself with every fault contained.
#pragma once

#include "common/json_text.hpp"
#include "plugin/plugin_registry.hpp"

#include <boost/json/value.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace engined::lua {
class Sandbox;
enum class FailureKind;
}  // namespace engined::lua

namespace engined::plugin {

struct TraceEvent {
    std::string stage;
    std::string event_json;
    int64_t at_ns = 0;  // monotonic, relative to the start of the run
};

// Why a run failed, as the run's `error` and `error_details` will show it.
struct RunFailure {
    std::string code;
    std::string message;
    std::string details_json = "[]";
};

struct PluginOutcome {
    bool ok = false;
    std::string result_json;  // when ok: the plugin's result document, JSON and an object
    RunFailure failure;       // when not ok
};

// How much one run may hand back, so that a script or plugin cannot make a run's stored answer
// (and every page that lists it) arbitrarily large. Text past a cap is cut at a character
// boundary with the marker "…[truncated N bytes]"; trace events past a cap are dropped and
// counted in a last event.
struct OutputLimits {
    // A Lua error message, and each string a scorecard returns, as the plugin receives them.
    std::size_t max_script_text_bytes = 4096;
    // The run's error message, which a plugin may build around a script's message.
    std::size_t max_error_message_bytes = kMaxErrorMessageBytes;
    // The run's error details (a JSON array); past it they are replaced by one entry saying so.
    std::size_t max_error_details_bytes = 65'536;
    // Events in a run's trace, and the bytes of their stage names and JSON.
    std::size_t max_trace_events = 10'000;
    std::size_t max_trace_bytes = 8u * 1024u * 1024u;
};

// Reads an immutable dataset by kind and content id (e.g. "pool", a snapshot hash).
using DatasetLoader =
    std::function<std::optional<std::string>(std::string_view kind, std::string_view id)>;

class ConfigHandle;

class RunHost {
public:
    // `sandbox` may be null when the engine has no Lua scorecard; it must have begun its run.
    // `datasets` may be empty when the run refers to none.
    RunHost(lua::Sandbox* sandbox, int64_t reference_unix_ms, DatasetLoader datasets = {},
            OutputLimits limits = {});
    RunHost(const RunHost&) = delete;
    RunHost& operator=(const RunHost&) = delete;

    // Calls the execute of the handle's plugin with this host's services and the handle. Never
    // throws; a plugin that returns garbage or an unknown status fails the run, not the server.
    PluginOutcome execute(const ConfigHandle& config, std::string_view request_json);

    // The events recorded within OutputLimits; dropped_trace_events() more did not fit.
    const std::vector<TraceEvent>& trace() const noexcept { return trace_; }
    std::size_t dropped_trace_events() const noexcept { return dropped_trace_events_; }
    std::size_t dropped_trace_bytes() const noexcept { return dropped_trace_bytes_; }
    // The failures the plugin's Lua calls raised, in order (whatever the plugin made of them).
    const std::vector<lua::FailureKind>& lua_failures() const noexcept { return lua_failures_; }

private:
    static int lua_has_function(void* host, const char* function);
    static engined_status lua_call(void* host, const char* function, const char* args_json,
                                   size_t args_len, engined_buffer* result);
    static void trace_event(void* host, const char* stage, const char* event_json, size_t len);
    static int64_t now_unix_ms(void* host);
    static int64_t monotonic_ns(void* host);
    static void release_buffer(void* host, engined_buffer* buffer);
    static engined_status load_dataset(void* host, const char* kind, const char* id,
                                       engined_buffer* result);
    // Adds the log(...) lines the scorecard wrote since the last time to the trace (stage "LUA",
    // "event": "log", naming `function` unless it is "": the top level, or between calls).
    void trace_script_log(std::string_view function) noexcept;
    // One "log_truncated" event counting the lines the run's log limits dropped, if any.
    void note_dropped_log_lines() noexcept;
    // Closes the trace with one "trace_truncated" event when events were dropped.
    void note_dropped_trace_events() noexcept;

    lua::Sandbox* sandbox_;
    DatasetLoader datasets_;
    OutputLimits limits_;
    int64_t reference_unix_ms_;
    int64_t started_ns_;
    std::vector<TraceEvent> trace_;
    std::size_t trace_bytes_ = 0;
    std::size_t dropped_trace_events_ = 0;
    std::size_t dropped_trace_bytes_ = 0;
    std::size_t traced_log_lines_ = 0;
    std::vector<lua::FailureKind> lua_failures_;
};

// A plugin's failure body {"code","message","details"} as the run keeps it, within `limits`.
RunFailure failure_from_plugin(std::string_view json_text, const OutputLimits& limits = {});

// Copies `text` into a malloc'ed buffer (the host's release_buffer frees it).
void fill_buffer(engined_buffer* buffer, std::string_view text);

}  // namespace engined::plugin
