#include "host_abi.hpp"

#include <boost/json/parse.hpp>

#include <cstdlib>
#include <cstring>
#include <utility>

namespace engined::plugin_sdk {

namespace json = boost::json;

namespace {

// The host enforces its own nesting limits on requests and Lua values; Boost.JSON's default
// depth (32) must not refuse them a second time.
json::parse_options host_json_options() {
    json::parse_options options;
    options.max_depth = 1024;
    return options;
}

ScriptFailure::Kind failure_kind(engined_status status) {
    switch (status) {
        case ENGINED_LUA_BUDGET_EXCEEDED:
            return ScriptFailure::Kind::budget_exceeded;
        case ENGINED_LUA_MEMORY_EXCEEDED:
            return ScriptFailure::Kind::memory_exceeded;
        case ENGINED_LUA_NO_SUCH_FUNCTION:
            return ScriptFailure::Kind::no_such_function;
        default:
            return ScriptFailure::Kind::error;
    }
}

}  // namespace

HostBuffer::~HostBuffer() {
    if (buffer_.data != nullptr) {
        services_.release_buffer(services_.host, &buffer_);
    }
}

bool services_complete(const engined_host_services* services) {
    return services != nullptr && services->abi_version == ENGINED_PLUGIN_ABI_VERSION &&
           ENGINED_HAS_FIELD(services, engined_host_services, release_buffer) &&
           services->lua_has_function != nullptr && services->lua_call != nullptr &&
           services->trace_event != nullptr && services->now_unix_ms != nullptr &&
           services->monotonic_ns != nullptr && services->release_buffer != nullptr;
}

bool host_has_function(const engined_host_services& services, std::string_view name) {
    const std::string function(name);
    return services.lua_has_function(services.host, function.c_str()) != 0;
}

json::value host_call(const engined_host_services& services, std::string_view name,
                      const json::array& args) {
    const std::string function(name);
    const std::string args_json = json::serialize(args);
    HostBuffer result(services);
    const engined_status status = services.lua_call(
        services.host, function.c_str(), args_json.data(), args_json.size(), result.get());
    if (status != ENGINED_OK) {
        throw ScriptFailure(failure_kind(status), std::string(result.text()));
    }
    return result.text().empty() ? json::value(nullptr)
                                 : json::parse(result.text(), {}, host_json_options());
}

void host_trace(const engined_host_services& services, std::string_view stage,
                const json::object& event) {
    const std::string stage_name(stage);
    const std::string event_json = json::serialize(event);
    services.trace_event(services.host, stage_name.c_str(), event_json.data(), event_json.size());
}

bool fill(engined_buffer* out, std::string_view text) noexcept {
    out->data = static_cast<char*>(std::malloc(text.empty() ? 1 : text.size()));
    out->size = out->data == nullptr ? 0 : text.size();
    if (out->data != nullptr) {
        std::memcpy(out->data, text.data(), text.size());
    }
    return out->data != nullptr;
}

engined_status fail_run(engined_buffer* out, std::string_view code,
                        std::string_view message) noexcept {
    try {
        fill(out, json::serialize(json::object{
                      {"code", code}, {"message", message}, {"details", json::array{}}}));
    } catch (...) {
        fill(out, R"({"code":"plugin_fault","message":"out of memory","details":[]})");
    }
    return ENGINED_RUN_FAILED;
}

std::optional<json::object> parse_object(const char* text, std::size_t length,
                                         json::storage_ptr storage) {
    boost::system::error_code error;
    json::value parsed =
        json::parse(std::string_view(text == nullptr ? "" : text, text == nullptr ? 0 : length),
                    error, std::move(storage), host_json_options());
    if (error || !parsed.is_object()) {
        return std::nullopt;
    }
    return std::move(parsed.get_object());
}

engined_status prepare_handle(
    std::string_view plugin, const char* config_json, std::size_t config_len,
    engined_config** config, engined_buffer* out,
    const std::function<std::shared_ptr<const void>(const json::object&)>& prepare) noexcept {
    if (config == nullptr || out == nullptr) {
        return ENGINED_RUN_FAILED;
    }
    *config = nullptr;
    *out = engined_buffer{nullptr, 0};
    try {
        const auto parsed = parse_object(config_json, config_len);
        if (!parsed) {
            throw invalid_config({not_an_object()});
        }
        *config = new engined_config{prepare(*parsed)};
        return ENGINED_OK;
    } catch (const RunFailure& failure) {
        if (!fill(out, json::serialize(failure_body(failure)))) {
            return fail_run(out, "plugin_fault", "out of memory");
        }
        return ENGINED_RUN_FAILED;
    } catch (const std::exception& error) {
        return plugin_fault(out, plugin, error.what());
    } catch (...) {
        return plugin_fault(out, plugin, "unknown exception");
    }
}

void config_free(engined_config* config) noexcept {
    delete config;
}

void release_buffer(engined_buffer* buffer) noexcept {
    if (buffer != nullptr) {
        std::free(buffer->data);
        *buffer = engined_buffer{nullptr, 0};
    }
}

void could_not_check(std::string_view plugin, engined_buffer* out) noexcept {
    // Built rather than a literal because it names the plugin; if even that fails, say less.
    try {
        const std::string message =
            "the " + std::string(plugin) + " plugin could not check the configuration";
        fill(out, json::serialize(json::object{
                      {"errors", json::array{json::object{{"path", ""}, {"message", message}}}}}));
    } catch (...) {
        fill(
            out,
            R"({"errors":[{"path":"","message":"the plugin could not check the configuration"}]})");
    }
}

engined_status plugin_fault(engined_buffer* out, std::string_view plugin,
                            std::string_view what) noexcept {
    try {
        return fail_run(out, "plugin_fault",
                        std::string(plugin) + " plugin fault: " + std::string(what));
    } catch (...) {
        return fail_run(out, "plugin_fault", "out of memory");
    }
}

}  // namespace engined::plugin_sdk
