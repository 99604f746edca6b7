// The SDK's ScriptHost services over a real engined::lua::Sandbox, with a stepping clock and an
// in-memory trace: what the host gives a plugin, without the C ABI in between. `Host` is the
// engine's host interface; the engine's test host adds the services only it uses.
#pragma once

#include "lua/sandbox.hpp"
#include "script_host.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace engined::plugin_sdk::test {

struct TraceEvent {
    std::string stage;
    boost::json::object event;
};

template <class Host>
class LuaTestHost : public Host {
public:
    explicit LuaTestHost(std::string_view scorecard_source, lua::Limits limits = {})
        : sandbox_(scorecard_source, "scorecard.lua", limits) {
        sandbox_.begin_run();
    }

    bool has_function(std::string_view name) override { return sandbox_.has_function(name); }

    boost::json::value call(std::string_view name, const boost::json::array& args) override {
        try {
            return sandbox_.call(name, args);
        } catch (const lua::LuaError& error) {
            throw ScriptFailure(failure_kind(error.kind()), error.what());
        }
    }

    void trace(std::string_view stage, boost::json::object event) override {
        events_.push_back({std::string(stage), std::move(event)});
    }

    // Advances one millisecond per reading, so that durations are deterministic.
    std::int64_t monotonic_ns() override { return monotonic_ns_ += 1'000'000; }

    const std::vector<TraceEvent>& events() const { return events_; }

    std::vector<boost::json::object> events(std::string_view stage, std::string_view kind) const {
        std::vector<boost::json::object> matching;
        for (const TraceEvent& traced : events_) {
            const auto* event_kind = traced.event.if_contains("event");
            if (traced.stage == stage && event_kind != nullptr && event_kind->as_string() == kind) {
                matching.push_back(traced.event);
            }
        }
        return matching;
    }

    // Forgets the trace and starts a fresh Lua run, as the host does between runs.
    void next_run() {
        events_.clear();
        sandbox_.begin_run();
    }

private:
    static ScriptFailure::Kind failure_kind(lua::FailureKind kind) {
        switch (kind) {
            case lua::FailureKind::budget_exceeded:
                return ScriptFailure::Kind::budget_exceeded;
            case lua::FailureKind::memory_exceeded:
                return ScriptFailure::Kind::memory_exceeded;
            case lua::FailureKind::no_such_function:
                return ScriptFailure::Kind::no_such_function;
            case lua::FailureKind::compile_error:
            case lua::FailureKind::script_error:
            case lua::FailureKind::bad_value:
                break;
        }
        return ScriptFailure::Kind::error;
    }

    lua::Sandbox sandbox_;
    std::vector<TraceEvent> events_;
    std::int64_t monotonic_ns_ = 0;
};

}  // namespace engined::plugin_sdk::test
