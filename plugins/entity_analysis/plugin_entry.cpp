// The entity-analysis plugin's C ABI (core/plugin/engine_plugin.h): a thin shim that turns JSON
// text into Boost.JSON values, adapts the host's service table to ScoringHost and makes sure no
// C++ exception crosses the boundary.
#include "engine_plugin.h"

#include "config.hpp"
#include "entity_analysis_engine.hpp"
#include "pool_cache.hpp"
#include "scoring_host.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <cstdlib>
#include <cstring>
#include <exception>
#include <optional>
#include <string>
#include <string_view>

namespace engined::entity_analysis {
namespace {

namespace json = boost::json;

// A buffer the host filled, released with the host's release_buffer however the call ends.
class HostBuffer {
public:
    explicit HostBuffer(const engined_host_services& services) : services_(services) {}
    ~HostBuffer() {
        if (buffer_.data != nullptr) {
            services_.release_buffer(services_.host, &buffer_);
        }
    }
    HostBuffer(const HostBuffer&) = delete;
    HostBuffer& operator=(const HostBuffer&) = delete;

    engined_buffer* get() { return &buffer_; }
    std::string_view text() const { return {buffer_.data == nullptr ? "" : buffer_.data, buffer_.size}; }

private:
    const engined_host_services& services_;
    engined_buffer buffer_{nullptr, 0};
};

// The host enforces its own nesting limits on requests and Lua values; Boost.JSON's default
// depth (32) must not refuse them a second time.
json::parse_options host_json_options() {
    json::parse_options options;
    options.max_depth = 1024;
    return options;
}

ScriptFailure::Kind failure_kind(engined_status status) {
    switch (status) {
        case ENGINED_LUA_BUDGET_EXCEEDED: return ScriptFailure::Kind::budget_exceeded;
        case ENGINED_LUA_MEMORY_EXCEEDED: return ScriptFailure::Kind::memory_exceeded;
        case ENGINED_LUA_NO_SUCH_FUNCTION: return ScriptFailure::Kind::no_such_function;
        default: return ScriptFailure::Kind::error;
    }
}

// ScoringHost over the host's C service table.
class HostServices final : public ScoringHost {
public:
    explicit HostServices(const engined_host_services& services) : services_(services) {}

    bool has_function(std::string_view name) override {
        const std::string function(name);
        return services_.lua_has_function(services_.host, function.c_str()) != 0;
    }

    json::value call(std::string_view name, const json::array& args) override {
        const std::string function(name);
        const std::string args_json = json::serialize(args);
        HostBuffer result(services_);
        const engined_status status =
            services_.lua_call(services_.host, function.c_str(), args_json.data(), args_json.size(), result.get());
        if (status != ENGINED_OK) {
            throw ScriptFailure(failure_kind(status), std::string(result.text()));
        }
        return result.text().empty() ? json::value(nullptr) : json::parse(result.text(), {}, host_json_options());
    }

    void trace(std::string_view stage, json::object event) override {
        const std::string stage_name(stage);
        const std::string event_json = json::serialize(event);
        services_.trace_event(services_.host, stage_name.c_str(), event_json.data(), event_json.size());
    }

    std::int64_t monotonic_ns() override { return services_.monotonic_ns(services_.host); }

    std::string load_dataset(std::string_view kind, std::string_view id) override {
        const std::string kind_name(kind);
        const std::string dataset_id(id);
        HostBuffer result(services_);
        const engined_status status =
            services_.load_dataset(services_.host, kind_name.c_str(), dataset_id.c_str(), result.get());
        if (status != ENGINED_OK) {
            throw DatasetMissing(std::string(result.text()));
        }
        return std::string(result.text());
    }

private:
    const engined_host_services& services_;
};

bool services_complete(const engined_host_services* services) {
    return services != nullptr && services->abi_version == ENGINED_PLUGIN_ABI_VERSION &&
           services->lua_has_function != nullptr && services->lua_call != nullptr &&
           services->trace_event != nullptr && services->now_unix_ms != nullptr &&
           services->monotonic_ns != nullptr && services->release_buffer != nullptr &&
           services->load_dataset != nullptr;
}

// Copies `text` into a malloc'd buffer the host releases through release_buffer.
bool fill(engined_buffer* out, std::string_view text) noexcept {
    out->data = static_cast<char*>(std::malloc(text.empty() ? 1 : text.size()));
    out->size = out->data == nullptr ? 0 : text.size();
    if (out->data != nullptr) {
        std::memcpy(out->data, text.data(), text.size());
    }
    return out->data != nullptr;
}

engined_status fail_run(engined_buffer* out, std::string_view code, std::string_view message) noexcept {
    try {
        fill(out, json::serialize(json::object{{"code", code}, {"message", message}, {"details", json::array{}}}));
    } catch (...) {
        fill(out, R"({"code":"plugin_fault","message":"out of memory","details":[]})");
    }
    return ENGINED_RUN_FAILED;
}

// The JSON object in `text`, or nullopt when `text` is not one.
std::optional<json::object> parse_object(const char* text, std::size_t length) {
    boost::system::error_code error;
    json::value parsed = json::parse(std::string_view(text == nullptr ? "" : text, text == nullptr ? 0 : length),
                                     error, {}, host_json_options());
    if (error || !parsed.is_object()) {
        return std::nullopt;
    }
    return std::move(parsed.get_object());
}

json::object config_problems(const char* config_json, std::size_t config_len) {
    json::array errors;
    if (const auto config = parse_object(config_json, config_len)) {
        for (const ConfigProblem& problem : check_config(*config)) {
            errors.push_back(json::object{{"path", problem.path}, {"message", problem.message}});
        }
    } else {
        errors.push_back(json::object{{"path", ""}, {"message", "the configuration must be a JSON object"}});
    }
    return {{"errors", std::move(errors)}};
}

engined_status validate_config(const char* config_json, std::size_t config_len, engined_buffer* out) noexcept {
    if (out == nullptr) {
        return ENGINED_RUN_FAILED;
    }
    try {
        return fill(out, json::serialize(config_problems(config_json, config_len))) ? ENGINED_OK : ENGINED_RUN_FAILED;
    } catch (...) {
        fill(out, R"({"errors":[{"path":"","message":"the entity_analysis plugin could not check the configuration"}]})");
        return ENGINED_RUN_FAILED;
    }
}

engined_status execute(const engined_host_services* services, const engined_run_request* request,
                       engined_buffer* out) noexcept {
    if (out == nullptr) {
        return ENGINED_RUN_FAILED;
    }
    *out = engined_buffer{nullptr, 0};
    try {
        if (!services_complete(services) || request == nullptr) {
            return fail_run(out, "plugin_fault", "the host passed no request or an incomplete service table");
        }
        const auto run_body = parse_object(request->request_json, request->request_len);
        if (!run_body) {
            return fail_run(out, "invalid_request", "the run body is not a JSON object");
        }
        const auto config = parse_object(request->config_json, request->config_len);
        if (!config) {
            return fail_run(out, "invalid_config", "the engine configuration is not a JSON object");
        }
        HostServices host(*services);
        const AnalysisResult result = run_entity_analysis(*run_body, *config, host, shared_pool_cache());
        if (!fill(out, json::serialize(result.body))) {
            return fail_run(out, "plugin_fault", "out of memory");
        }
        return result.failed() ? ENGINED_RUN_FAILED : ENGINED_OK;
    } catch (const std::exception& error) {
        return fail_run(out, "plugin_fault", std::string("entity_analysis plugin fault: ") + error.what());
    } catch (...) {
        return fail_run(out, "plugin_fault", "entity_analysis plugin fault: unknown exception");
    }
}

void release_buffer(engined_buffer* buffer) noexcept {
    if (buffer != nullptr) {
        std::free(buffer->data);
        *buffer = engined_buffer{nullptr, 0};
    }
}

}  // namespace
}  // namespace engined::entity_analysis

namespace {

// Every function in the table is noexcept: nothing thrown inside the plugin reaches the host.
constexpr engined_engine_descriptor kDescriptor{
    .abi_version = ENGINED_PLUGIN_ABI_VERSION,
    .engine_type = "entity_analysis",
    .plugin_version = ENGINED_ENTITY_ANALYSIS_VERSION,
    .validate_config = &engined::entity_analysis::validate_config,
    .execute = &engined::entity_analysis::execute,
    .release_buffer = &engined::entity_analysis::release_buffer,
};

}  // namespace

extern "C" __attribute__((visibility("default"))) const engined_engine_descriptor* engined_plugin_entry(
    uint32_t host_abi_version) {
    return host_abi_version == ENGINED_PLUGIN_ABI_VERSION ? &kDescriptor : nullptr;
}
