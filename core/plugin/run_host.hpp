// The host side of one plugin call: the services table of engine_plugin.h bound to one run's
// Lua sandbox, trace and clock, and the call itself with every fault contained.
#pragma once

#include "plugin/plugin_registry.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace engined::lua {
class Sandbox;
enum class FailureKind;
}

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
    std::string result_json;  // when ok: the plugin's result document
    RunFailure failure;       // when not ok
};

// Reads an immutable dataset by kind and content id (e.g. "pool", a snapshot hash).
using DatasetLoader = std::function<std::optional<std::string>(std::string_view kind, std::string_view id)>;

class RunHost {
public:
    // `sandbox` may be null when the engine has no Lua scorecard; it must have begun its run.
    // `datasets` may be empty when the run refers to none.
    RunHost(lua::Sandbox* sandbox, int64_t reference_unix_ms, DatasetLoader datasets = {});
    RunHost(const RunHost&) = delete;
    RunHost& operator=(const RunHost&) = delete;

    // Calls the plugin's execute with this host's services. Never throws; a plugin that returns
    // garbage or an unknown status fails the run, not the server.
    PluginOutcome execute(const LoadedPlugin& plugin, std::string_view request_json,
                          std::string_view config_json);

    const std::vector<TraceEvent>& trace() const noexcept { return trace_; }
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
    static engined_status load_dataset(void* host, const char* kind, const char* id, engined_buffer* result);

    lua::Sandbox* sandbox_;
    DatasetLoader datasets_;
    int64_t reference_unix_ms_;
    int64_t started_ns_;
    std::vector<TraceEvent> trace_;
    std::vector<lua::FailureKind> lua_failures_;
};

// Copies `text` into a malloc'ed buffer (the host's release_buffer frees it).
void fill_buffer(engined_buffer* buffer, std::string_view text);

}  // namespace engined::plugin
