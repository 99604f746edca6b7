#include "runs/run_executor.hpp"

#include "common/crypto.hpp"
#include "common/json_text.hpp"
#include "common/log.hpp"
#include "common/time.hpp"
#include "plugin/config_handle.hpp"
#include "plugin/run_host.hpp"
#include "runs/fingerprint.hpp"
#include "runs/run_view.hpp"

#include <boost/json.hpp>

#include <functional>
#include <optional>
#include <variant>

namespace engined::runs {
namespace {

store::RunOutcome failed(std::string stage, std::string code, std::string message,
                         std::string details_json = "[]") {
    store::RunOutcome outcome;
    outcome.status = store::RunStatus::failed;
    outcome.stage = std::move(stage);
    outcome.output_json = "null";
    outcome.results_json = "null";
    outcome.error_code = std::move(code);
    outcome.error_message = std::move(message);
    outcome.error_details_json = std::move(details_json);
    return outcome;
}

store::RunOutcome no_plugin(const store::Run& run) {
    return failed("VALIDATE", "engine_unavailable",
                  "no plugin for engine type '" + run.engine_type + "' is loaded on this server");
}

std::string lua_failure_code(lua::FailureKind kind) {
    switch (kind) {
        case lua::FailureKind::budget_exceeded:
            return "lua_budget_exceeded";
        case lua::FailureKind::memory_exceeded:
            return "lua_memory_exceeded";
        case lua::FailureKind::compile_error:
            return "lua_compile_error";
        default:
            return "lua_error";
    }
}

// What a JSON string value says; nullopt for any other value.
std::optional<std::string> string_of(std::string_view value_text) {
    if (!value_text.starts_with('"')) return std::nullopt;
    return json_string_value(value_text);
}

}  // namespace

// The members are read from the text as it stands, so `output` and the results are stored as
// the plugin wrote them; an object with an escaped or repeated key is read by Boost.JSON
// instead, each value written again.
store::RunOutcome outcome_from_result(std::string_view result_json,
                                      const std::string& results_key) {
    std::optional<std::vector<MemberText>> members = object_member_texts(result_json);
    boost::json::value parsed;
    std::vector<std::string> rewritten;
    if (!members) {
        parsed = parse_internal_json(result_json);
        members.emplace();
        rewritten.reserve(parsed.as_object().size());
        for (const auto& member : parsed.as_object()) {
            rewritten.push_back(boost::json::serialize(member.value()));
            members->push_back({member.key(), rewritten.back()});
        }
    }
    auto member = [&members](std::string_view key) -> std::optional<std::string_view> {
        for (const MemberText& each : *members) {
            if (each.key == key) return each.value;
        }
        return std::nullopt;
    };
    store::RunOutcome outcome;
    const auto status = member("status");
    const bool degraded = status && string_of(*status) == "degraded";
    outcome.status = degraded ? store::RunStatus::degraded : store::RunStatus::completed;
    const auto stage = member("stage");
    outcome.stage = (stage ? string_of(*stage) : std::nullopt).value_or("RANK");
    outcome.output_json = std::string(member("output").value_or("{}"));
    outcome.results_json = std::string(member(results_key).value_or("[]"));
    outcome.error_details_json = "null";
    return outcome;
}

// Written as text: no tree is built only to be written again.
std::string trace_json(const std::vector<plugin::TraceEvent>& events) {
    std::size_t bytes = 2;
    for (const plugin::TraceEvent& event : events) {
        bytes += event.stage.size() + event.event_json.size() + 48;
    }
    std::string out;
    out.reserve(bytes);
    out += '[';
    for (const plugin::TraceEvent& event : events) {
        if (out.size() > 1) out += ',';
        out += R"({"stage":)";
        out += boost::json::serialize(boost::json::string_view(event.stage));
        out += R"(,"at_ms":)";
        out += boost::json::serialize(boost::json::value(static_cast<double>(event.at_ns) / 1e6));
        out += R"(,"event":)";
        out += is_internal_json(event.event_json)
                   ? event.event_json
                   : boost::json::serialize(boost::json::string_view(event.event_json));
        out += '}';
    }
    out += ']';
    return out;
}

struct RunExecutor::PreparedConfig {
    // The plugin's handle, or why the plugin refused the configuration (every run of it fails so).
    std::variant<plugin::ConfigHandle, plugin::RunFailure> handle;
    // The host's part of the configuration: the scorecard (with its SHA-256, the key of the
    // workers' compiled chunks) and whether its log joins the trace.
    std::optional<std::string> lua_source;
    std::string lua_source_sha256;
    bool capture_log = false;
};

RunExecutor::RunExecutor(const store::Store& store, const plugin::PluginRegistry& plugins,
                         lua::Limits limits, std::string platform_version, RunMetrics& metrics,
                         std::size_t prepared_configs)
    : store_(store),
      plugins_(plugins),
      limits_(limits),
      platform_version_(std::move(platform_version)),
      metrics_(metrics),
      prepared_(prepared_configs) {}

template <typename Stages>
store::RunOutcome RunExecutor::guarded(const store::Run& run, Stages&& stages) const {
    store::RunOutcome outcome;
    try {
        outcome = stages();
    } catch (const std::exception& error) {
        log::error("run execution fault", {{"run_id", run.id}, {"detail", error.what()}});
        outcome =
            failed("EVALUATE", "internal",
                   truncated_text("the run could not be executed: " + std::string(error.what()),
                                  kMaxErrorMessageBytes));
    }
    outcome.completed_at_ms = now_unix_ms();
    return outcome;
}

store::RunOutcome RunExecutor::execute(const store::Run& run) const {
    return guarded(run, [&] { return execute_stages(run); });
}

store::RunOutcome RunExecutor::execute_with_config(const store::Run& run,
                                                   const std::string& config_json) const {
    return guarded(run, [&] {
        const plugin::LoadedPlugin* plugin = plugins_.find(run.engine_type);
        if (plugin == nullptr) {
            return no_plugin(run);
        }
        // A candidate is prepared once for all the runs a preview executes under it.
        return execute_plugin(run, *plugin,
                              prepared_config(*plugin, "candidate:" + sha256_hex(config_json), [&] {
                                  return std::optional<std::string>(config_json);
                              }));
    });
}

store::RunOutcome RunExecutor::execute_stages(const store::Run& run) const {
    const plugin::LoadedPlugin* plugin = plugins_.find(run.engine_type);
    if (plugin == nullptr) {
        return no_plugin(run);
    }
    const FingerprintComponents components =
        fingerprint_components(store_, run, plugin->binary_sha256, platform_version_);
    store::RunOutcome outcome =
        execute_plugin(run, *plugin, prepared_config(*plugin, run.config_hash, [&] {
                           return store_.config_json(run.config_hash);
                       }));
    Fingerprint fingerprint = fingerprint_of(components);
    outcome.fingerprint = std::move(fingerprint.sha256);
    outcome.fingerprint_json = std::move(fingerprint.components_json);
    return outcome;
}

std::shared_ptr<const RunExecutor::PreparedConfig> RunExecutor::prepared_config(
    const plugin::LoadedPlugin& plugin, const std::string& config_key,
    const std::function<std::optional<std::string>()>& read_config) const {
    return prepared_.get_or_make(
        plugin.engine_type + '/' + config_key, [&]() -> std::shared_ptr<const PreparedConfig> {
            const auto config_json = read_config();
            if (!config_json) return nullptr;
            const boost::json::value config = parse_internal_json(*config_json);
            const auto* source = config.as_object().if_contains("lua_source");
            const auto* debug = config.as_object().if_contains("debug");
            const bool has_source = source && source->is_string();
            return std::make_shared<const PreparedConfig>(PreparedConfig{
                plugin::ConfigHandle::create(plugin, *config_json),
                has_source ? std::optional<std::string>(source->get_string()) : std::nullopt,
                has_source ? sha256_hex(source->get_string()) : std::string(),
                debug != nullptr && debug->is_bool() && debug->get_bool()});
        });
}

// `config` is held for the whole run: an eviction meanwhile frees the plugin's handle only after it.
store::RunOutcome RunExecutor::execute_plugin(
    const store::Run& run, const plugin::LoadedPlugin& plugin,
    const std::shared_ptr<const PreparedConfig>& config) const {
    if (!config) {
        return failed("VALIDATE", "internal",
                      "the run's engine configuration is missing from the store");
    }
    if (const auto* refused = std::get_if<plugin::RunFailure>(&config->handle)) {
        return failed("EVALUATE", refused->code, refused->message, refused->details_json);
    }
    lua::Sandbox* sandbox = nullptr;
    if (config->lua_source) {
        // One cache per worker thread: a compiled scorecard is reused by every run of its version.
        thread_local lua::ScriptCache cache(limits_);
        try {
            sandbox = &cache.get(config->lua_source_sha256, *config->lua_source, "scorecard.lua");
            // The engine's debug flag: the scorecard's log(...) lines join the run's trace.
            sandbox->begin_run(lua::RunOptions{.capture_log = config->capture_log});
        } catch (const lua::LuaError& error) {
            metrics_.lua_error(error.kind());
            return failed("EVALUATE", lua_failure_code(error.kind()),
                          truncated_text(error.message(), kMaxErrorMessageBytes));
        }
    }
    plugin::RunHost host(sandbox, run.created_at_ms,
                         [this](std::string_view kind, std::string_view id) {
                             return kind == "pool" ? store_.pool_carriers(id) : std::nullopt;
                         });
    plugin::PluginOutcome result =
        host.execute(std::get<plugin::ConfigHandle>(config->handle), run.request_json);
    if (sandbox != nullptr) metrics_.lua_instructions(sandbox->instructions_used());
    for (const lua::FailureKind kind : host.lua_failures()) metrics_.lua_error(kind);
    if (!result.ok) {
        store::RunOutcome failure = failed("EVALUATE", result.failure.code, result.failure.message,
                                           result.failure.details_json);
        failure.trace_json = trace_json(host.trace());
        return failure;
    }
    store::RunOutcome success = outcome_from_result(result.result_json, plugin.results_key);
    success.trace_json = trace_json(host.trace());
    return success;
}

}  // namespace engined::runs
