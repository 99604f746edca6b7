#include "plugin/run_host.hpp"

#include "common/json_text.hpp"
#include "plugin/config_handle.hpp"
#include "lua/sandbox.hpp"

#include <boost/json.hpp>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace engined::plugin {
namespace {

int64_t steady_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

engined_status status_for(lua::FailureKind kind) {
    switch (kind) {
        case lua::FailureKind::budget_exceeded:
            return ENGINED_LUA_BUDGET_EXCEEDED;
        case lua::FailureKind::memory_exceeded:
            return ENGINED_LUA_MEMORY_EXCEEDED;
        case lua::FailureKind::no_such_function:
            return ENGINED_LUA_NO_SUCH_FUNCTION;
        default:
            return ENGINED_LUA_ERROR;
    }
}

// Every string in `value` (not the member names) cut to `max_bytes`: a scorecard's reasons and
// messages reach the run's output through the plugin.
void truncate_strings(boost::json::value& value, std::size_t max_bytes) {
    std::vector<boost::json::value*> pending{&value};
    while (!pending.empty()) {
        boost::json::value* next = pending.back();
        pending.pop_back();
        if (auto* text = next->if_string(); text && text->size() > max_bytes) {
            *text = truncated_text(*text, max_bytes);
        } else if (auto* array = next->if_array()) {
            for (auto& item : *array) pending.push_back(&item);
        } else if (auto* object = next->if_object()) {
            for (auto& member : *object) pending.push_back(&member.value());
        }
    }
}

// The failure as the run will store it: message and details within `limits`.
RunFailure bounded(RunFailure failure, const OutputLimits& limits) {
    failure.message = truncated_text(failure.message, limits.max_error_message_bytes);
    if (failure.details_json.size() > limits.max_error_details_bytes) {
        failure.details_json = boost::json::serialize(boost::json::array{boost::json::object{
            {"message",
             "the details were left out: " + std::to_string(failure.details_json.size()) +
                 " bytes of JSON, more than the " + std::to_string(limits.max_error_details_bytes) +
                 " a run keeps"}}});
    }
    return failure;
}

// A plugin whose arithmetic overflowed (weights near 1e308, sums past the largest double) hands
// back Infinity or NaN: a failure of the run's numbers, not of the plugin.
std::optional<RunFailure> non_finite_failure(std::string_view json_text) {
    const auto offset = non_finite_number_at(json_text);
    if (!offset) return std::nullopt;
    return RunFailure{
        "non_finite_number",
        "the engine computed a number beyond the range of a double (Infinity or NaN, at byte " +
            std::to_string(*offset) +
            " of its answer); the request, configuration or scorecard holds values too large "
            "for the engine's arithmetic",
        "[]"};
}

RunFailure failure_from(std::string_view json_text) {
    boost::system::error_code ec;
    const boost::json::value doc = parse_internal_json(json_text, ec);
    const boost::json::object* object = ec ? nullptr : doc.if_object();
    const boost::json::string* code =
        object ? object->contains("code") ? object->at("code").if_string() : nullptr : nullptr;
    if (code == nullptr) {
        return non_finite_failure(json_text).value_or(
            RunFailure{"plugin_fault",
                       "the engine plugin reported a failure without a well-formed error", "[]"});
    }
    RunFailure failure{std::string(*code), "", "[]"};
    if (const auto* message = object->if_contains("message"); message && message->is_string()) {
        failure.message = std::string(message->get_string());
    }
    if (const auto* details = object->if_contains("details"); details && details->is_array()) {
        failure.details_json = boost::json::serialize(*details);
    }
    return failure;
}

}  // namespace

RunFailure failure_from_plugin(std::string_view json_text, const OutputLimits& limits) {
    return bounded(failure_from(json_text), limits);
}

void fill_buffer(engined_buffer* buffer, std::string_view text) {
    buffer->data = static_cast<char*>(std::malloc(text.size() + 1));
    buffer->size = buffer->data ? text.size() : 0;
    if (buffer->data) {
        std::memcpy(buffer->data, text.data(), text.size());
        buffer->data[text.size()] = '\0';
    }
}

RunHost::RunHost(lua::Sandbox* sandbox, int64_t reference_unix_ms, DatasetLoader datasets,
                 OutputLimits limits)
    : sandbox_(sandbox),
      datasets_(std::move(datasets)),
      limits_(limits),
      reference_unix_ms_(reference_unix_ms),
      started_ns_(steady_ns()) {}

PluginOutcome RunHost::execute(const ConfigHandle& config, std::string_view request_json) {
    const engined_host_services services{ENGINED_PLUGIN_ABI_VERSION,
                                         sizeof(engined_host_services),
                                         this,
                                         &RunHost::lua_has_function,
                                         &RunHost::lua_call,
                                         &RunHost::trace_event,
                                         &RunHost::now_unix_ms,
                                         &RunHost::monotonic_ns,
                                         &RunHost::release_buffer,
                                         &RunHost::load_dataset};
    const engined_run_request request{request_json.data(), request_json.size()};
    const LoadedPlugin& plugin = config.plugin();
    engined_buffer out{nullptr, 0};
    const engined_status status =
        plugin.descriptor->execute(&services, config.get(), &request, &out);
    std::string text = out.data ? std::string(out.data, out.size) : std::string();
    plugin.descriptor->release_buffer(&out);
    trace_script_log("");
    note_dropped_log_lines();
    note_dropped_trace_events();

    PluginOutcome outcome;
    if (status == ENGINED_OK) {
        // Checked without building the tree: the executor reads the members from the text.
        const std::size_t first = json_whitespace_end(text, 0);
        if (first == text.size() || text[first] != '{' || !is_internal_json(text)) {
            outcome.failure = non_finite_failure(text).value_or(
                RunFailure{"plugin_fault",
                           "the engine plugin returned a result that is not a JSON object", "[]"});
            return outcome;
        }
        return PluginOutcome{.ok = true, .result_json = std::move(text), .failure = {}};
    }
    if (status == ENGINED_RUN_FAILED) {
        outcome.failure = failure_from_plugin(text, limits_);
        return outcome;
    }
    outcome.failure = {"plugin_fault",
                       "the engine plugin returned an unknown status " + std::to_string(status),
                       "[]"};
    return outcome;
}

int RunHost::lua_has_function(void* host, const char* function) {
    auto* self = static_cast<RunHost*>(host);
    try {
        return self->sandbox_ != nullptr && function != nullptr &&
                       self->sandbox_->has_function(function)
                   ? 1
                   : 0;
    } catch (...) {
        return 0;
    }
}

engined_status RunHost::lua_call(void* host, const char* function, const char* args_json,
                                 size_t args_len, engined_buffer* result) {
    auto* self = static_cast<RunHost*>(host);
    *result = {nullptr, 0};
    if (self->sandbox_ == nullptr) {
        fill_buffer(result, "this engine configuration has no Lua scorecard");
        return ENGINED_LUA_NO_SUCH_FUNCTION;
    }
    // Lines the scorecard logged (only a capturing run has any) join the trace in the order they
    // were written: those of the top level or an earlier call first, then the call's own, however
    // it ends.
    self->trace_script_log("");
    struct TraceLogOnExit {
        RunHost& host;
        const char* function;
        ~TraceLogOnExit() { host.trace_script_log(function); }
    } trace_log{*self, function};
    try {
        boost::system::error_code ec;
        const boost::json::value args =
            parse_internal_json(std::string_view(args_json, args_len), ec);
        if (ec || !args.is_array()) {
            fill_buffer(result, "lua_call arguments must be a JSON array");
            return ENGINED_LUA_ERROR;
        }
        boost::json::value value = self->sandbox_->call(function, args.get_array());
        truncate_strings(value, self->limits_.max_script_text_bytes);
        fill_buffer(result, boost::json::serialize(value));
        return ENGINED_OK;
    } catch (const lua::LuaError& error) {
        fill_buffer(result, truncated_text(error.message(), self->limits_.max_script_text_bytes));
        try {
            self->lua_failures_.push_back(error.kind());
        } catch (...) {
            // Only the metrics would miss it; the plugin still hears of the failure.
        }
        return status_for(error.kind());
    } catch (const std::exception& error) {
        fill_buffer(result, error.what());
        return ENGINED_LUA_ERROR;
    }
}

void RunHost::trace_event(void* host, const char* stage, const char* event_json, size_t len) {
    auto* self = static_cast<RunHost*>(host);
    try {
        const std::string_view stage_name = stage ? stage : "";
        const std::size_t bytes = stage_name.size() + len;
        if (self->trace_.size() >= self->limits_.max_trace_events ||
            bytes > self->limits_.max_trace_bytes - self->trace_bytes_) {
            ++self->dropped_trace_events_;
            self->dropped_trace_bytes_ += bytes;
            return;
        }
        self->trace_.push_back({std::string(stage_name), std::string(event_json, len),
                                steady_ns() - self->started_ns_});
        self->trace_bytes_ += bytes;
    } catch (...) {
        // Losing one audit event must not take down the run's host; the run itself still reports.
    }
}

void RunHost::trace_script_log(std::string_view function) noexcept {
    if (sandbox_ == nullptr) return;
    const lua::RunLog& log = sandbox_->run_log();
    try {
        for (; traced_log_lines_ < log.lines.size(); ++traced_log_lines_) {
            boost::json::object event{{"event", "log"}, {"message", log.lines[traced_log_lines_]}};
            if (!function.empty()) event["function"] = function;
            const std::string text = boost::json::serialize(event);
            trace_event(this, "LUA", text.data(), text.size());
        }
    } catch (...) {
        // As for any trace event: a lost log line must not take down the run's host.
    }
}

void RunHost::note_dropped_log_lines() noexcept {
    if (sandbox_ == nullptr || sandbox_->run_log().dropped_lines == 0) return;
    try {
        const std::string text = boost::json::serialize(boost::json::object{
            {"event", "log_truncated"}, {"dropped_lines", sandbox_->run_log().dropped_lines}});
        trace_event(this, "LUA", text.data(), text.size());
    } catch (...) {
        // Only the count of the dropped lines is lost.
    }
}

void RunHost::note_dropped_trace_events() noexcept {
    if (dropped_trace_events_ == 0) return;
    try {
        const boost::json::object note{{"event", "trace_truncated"},
                                       {"dropped_events", dropped_trace_events_},
                                       {"dropped_bytes", dropped_trace_bytes_},
                                       {"max_events", limits_.max_trace_events},
                                       {"max_bytes", limits_.max_trace_bytes}};
        trace_.push_back({"TRACE", boost::json::serialize(note), steady_ns() - started_ns_});
    } catch (...) {
        // Out of memory for the note: the trace is still bounded, only the count of what it lacks is lost.
    }
}

int64_t RunHost::now_unix_ms(void* host) {
    return static_cast<RunHost*>(host)->reference_unix_ms_;
}

int64_t RunHost::monotonic_ns(void*) {
    return steady_ns();
}

void RunHost::release_buffer(void*, engined_buffer* buffer) {
    std::free(buffer->data);
    *buffer = {nullptr, 0};
}

engined_status RunHost::load_dataset(void* host, const char* kind, const char* id,
                                     engined_buffer* result) {
    auto* self = static_cast<RunHost*>(host);
    *result = {nullptr, 0};
    try {
        const auto text = self->datasets_ && kind && id ? self->datasets_(kind, id) : std::nullopt;
        if (!text) {
            fill_buffer(result, std::string("no ") + (kind ? kind : "dataset") + " with id " +
                                    (id ? id : "(null)"));
            return ENGINED_DATASET_NOT_FOUND;
        }
        fill_buffer(result, *text);
        return ENGINED_OK;
    } catch (const std::exception& error) {
        fill_buffer(result, error.what());
        return ENGINED_DATASET_NOT_FOUND;
    }
}

}  // namespace engined::plugin
