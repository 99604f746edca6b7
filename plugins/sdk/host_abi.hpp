// The C ABI side of an engine plugin (core/plugin/engine_plugin.h): the host's service table
// as a ScriptHost, the buffers handed across, the configuration handle (the engine's prepared
// configuration, made once by config_new), and validate_config/config_new/execute bodies that
// turn JSON text into Boost.JSON values and make sure no C++ exception reaches the host. A
// plugin's plugin_entry.cpp supplies only its engine: the config check, the preparation of a
// configuration, the run and the descriptor.
#pragma once

#include "config_problems.hpp"
#include "engine_plugin.h"
#include "run_failure.hpp"
#include "script_host.hpp"

#include <boost/json/array.hpp>
#include <boost/json/monotonic_resource.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>
#include <type_traits>
#include <utility>

// An SDK plugin's configuration handle (engine_plugin.h: config_new): what the engine's `Prepare`
// made of the configuration (config_new below), built once and never changed afterwards. Every
// worker thread's execute reads it at the same time without a lock, so a prepared configuration
// holds only what the configuration alone determines: no per-run state, no lazily filled cache.
struct engined_config {
    std::shared_ptr<const void> prepared;
};

namespace engined::plugin_sdk {

// A buffer the host filled, released with the host's release_buffer however the call ends.
class HostBuffer {
public:
    explicit HostBuffer(const engined_host_services& services) : services_(services) {}
    ~HostBuffer();
    HostBuffer(const HostBuffer&) = delete;
    HostBuffer& operator=(const HostBuffer&) = delete;

    engined_buffer* get() { return &buffer_; }
    std::string_view text() const {
        return {buffer_.data == nullptr ? "" : buffer_.data, buffer_.size};
    }

private:
    const engined_host_services& services_;
    engined_buffer buffer_{nullptr, 0};
};

// Whether `services` speaks this ABI and fills every service ScriptHost and the clocks use.
// An engine that needs more (load_dataset) checks that itself.
bool services_complete(const engined_host_services* services);

// ScriptHost over the host's C service table, as the base of an engine's own host interface
// `Host` (which derives from ScriptHost); the engine's adapter adds the services only it uses.
template <class Host>
class HostServices : public Host {
public:
    explicit HostServices(const engined_host_services& services) : services_(services) {}

    bool has_function(std::string_view name) override;
    boost::json::value call(std::string_view name, const boost::json::array& args) override;
    void trace(std::string_view stage, boost::json::object event) override;
    std::int64_t monotonic_ns() override { return services_.monotonic_ns(services_.host); }

protected:
    const engined_host_services& services_;
};

// The three calls behind HostServices, kept out of the template.
bool host_has_function(const engined_host_services& services, std::string_view name);
boost::json::value host_call(const engined_host_services& services, std::string_view name,
                             const boost::json::array& args);
void host_trace(const engined_host_services& services, std::string_view stage,
                const boost::json::object& event);

template <class Host>
bool HostServices<Host>::has_function(std::string_view name) {
    return host_has_function(services_, name);
}

template <class Host>
boost::json::value HostServices<Host>::call(std::string_view name, const boost::json::array& args) {
    return host_call(services_, name, args);
}

template <class Host>
void HostServices<Host>::trace(std::string_view stage, boost::json::object event) {
    host_trace(services_, stage, event);
}

// Copies `text` into a malloc'd buffer the host releases through release_buffer.
bool fill(engined_buffer* out, std::string_view text) noexcept;

// Fills `out` with the failed-run body {code, message, details: []}; returns ENGINED_RUN_FAILED.
engined_status fail_run(engined_buffer* out, std::string_view code,
                        std::string_view message) noexcept;

// The JSON object in `text`, or nullopt when `text` is not one; its values are allocated from
// `storage` (default: the heap).
std::optional<boost::json::object> parse_object(const char* text, std::size_t length,
                                                boost::json::storage_ptr storage = {});

// The descriptor's release_buffer: frees what fill allocated.
void release_buffer(engined_buffer* buffer) noexcept;

// Fills `out` with the validate_config answer for a check that threw: one error naming `plugin`.
void could_not_check(std::string_view plugin, engined_buffer* out) noexcept;

// Fills `out` with the plugin_fault body "<plugin> plugin fault: <what>"; returns ENGINED_RUN_FAILED.
engined_status plugin_fault(engined_buffer* out, std::string_view plugin,
                            std::string_view what) noexcept;

// The descriptor's validate_config for the engine `plugin`: `check(config)` returns the
// engine's problems, each with a JSON Pointer `path` and a `message`.
template <class Check>
engined_status validate_config(std::string_view plugin, const char* config_json,
                               std::size_t config_len, engined_buffer* out, Check check) noexcept {
    if (out == nullptr) {
        return ENGINED_RUN_FAILED;
    }
    try {
        boost::json::array errors;
        if (const auto config = parse_object(config_json, config_len)) {
            for (const auto& problem : check(*config)) {
                errors.push_back(
                    boost::json::object{{"path", problem.path}, {"message", problem.message}});
            }
        } else {
            const ConfigProblem problem = not_an_object();
            errors.push_back(
                boost::json::object{{"path", problem.path}, {"message", problem.message}});
        }
        const boost::json::object problems{{"errors", std::move(errors)}};
        return fill(out, boost::json::serialize(problems)) ? ENGINED_OK : ENGINED_RUN_FAILED;
    } catch (...) {
        could_not_check(plugin, out);
        return ENGINED_RUN_FAILED;
    }
}

// What an engine's `Prepare` (`const boost::json::object&` -> a movable type) makes of a
// configuration: the type its handle holds and its runs read.
template <auto Prepare>
using PreparedOf =
    std::remove_cvref_t<std::invoke_result_t<decltype(Prepare), const boost::json::object&>>;

// config_new's body: `prepare` applied to the configuration parsed as a JSON object. A
// configuration that is not one fails with invalid_config (the problem validate_config names); a
// RunFailure `prepare` throws fails with its own code, message and details (an engine throws
// invalid_config(problems) with the problems its check_config reports, so that config_new and
// validate_config refuse the same configurations with the same messages); anything else is a
// plugin_fault naming `plugin`.
engined_status prepare_handle(
    std::string_view plugin, const char* config_json, std::size_t config_len,
    engined_config** config, engined_buffer* out,
    const std::function<std::shared_ptr<const void>(const boost::json::object&)>& prepare) noexcept;

// The descriptor's config_new for the engine `plugin`, whose configurations `Prepare` prepares.
template <auto Prepare>
engined_status config_new(std::string_view plugin, const char* config_json, std::size_t config_len,
                          engined_config** config, engined_buffer* out) noexcept {
    return prepare_handle(plugin, config_json, config_len, config, out,
                          [](const boost::json::object& object) -> std::shared_ptr<const void> {
                              return std::make_shared<const PreparedOf<Prepare>>(Prepare(object));
                          });
}

// The descriptor's config_free.
void config_free(engined_config* config) noexcept;

// The stack block a run body is parsed into first (a larger body continues on the heap).
inline constexpr std::size_t kRunBodyFirstBlock = 16 * 1024;

// The descriptor's execute for the engine `plugin`, whose handles config_new<Prepare> made:
// refuses an incomplete service table (`services_ok`), a missing handle or request, parses the
// run body, and fills `out` with `run(run_body, prepared).body` (a failed run when its
// failed()). Whatever `run` throws becomes a plugin_fault.
template <auto Prepare, class Run>
engined_status execute(std::string_view plugin, bool services_ok, const engined_config* config,
                       const engined_run_request* request, engined_buffer* out, Run run) noexcept {
    if (out == nullptr) {
        return ENGINED_RUN_FAILED;
    }
    *out = engined_buffer{nullptr, 0};
    try {
        if (!services_ok || config == nullptr || config->prepared == nullptr ||
            request == nullptr) {
            return fail_run(
                out, "plugin_fault",
                "the host passed no request, no configuration or an incomplete service table");
        }
        // The run body lives no longer than the run: its values come from one bump allocator,
        // its first block on this thread's stack, instead of a malloc and a free each.
        alignas(std::max_align_t) unsigned char first_block[kRunBodyFirstBlock];
        boost::json::monotonic_resource body_arena(first_block, sizeof first_block);
        const auto run_body = parse_object(request->request_json, request->request_len,
                                           boost::json::storage_ptr(&body_arena));
        if (!run_body) {
            return fail_run(out, "invalid_request", "the run body is not a JSON object");
        }
        const auto result =
            run(*run_body, *static_cast<const PreparedOf<Prepare>*>(config->prepared.get()));
        if (!fill(out, boost::json::serialize(result.body))) {
            return fail_run(out, "plugin_fault", "out of memory");
        }
        return result.failed() ? ENGINED_RUN_FAILED : ENGINED_OK;
    } catch (const std::exception& error) {
        return plugin_fault(out, plugin, error.what());
    } catch (...) {
        return plugin_fault(out, plugin, "unknown exception");
    }
}

}  // namespace engined::plugin_sdk
