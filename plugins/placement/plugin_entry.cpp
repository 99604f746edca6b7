// The placement plugin's C ABI (core/plugin/engine_plugin.h): the SDK's adapter (plugins/sdk/
// host_abi.hpp) around run_placement, with the placement's own host service, the reference time.
#include "config.hpp"
#include "host_abi.hpp"
#include "placement_engine.hpp"
#include "scoring_host.hpp"

#include <cstddef>
#include <cstdint>

namespace engined::placement {
namespace {

namespace json = boost::json;

class HostServices final : public plugin_sdk::HostServices<ScoringHost> {
public:
    using plugin_sdk::HostServices<ScoringHost>::HostServices;

    std::int64_t now_unix_ms() override { return services_.now_unix_ms(services_.host); }
};

engined_status validate_config(const char* config_json, std::size_t config_len,
                               engined_buffer* out) noexcept {
    return plugin_sdk::validate_config("placement", config_json, config_len, out, &check_config);
}

engined_status config_new(const char* config_json, std::size_t config_len, engined_config** config,
                          engined_buffer* out) noexcept {
    return plugin_sdk::config_new<&parse_config>("placement", config_json, config_len, config, out);
}

engined_status execute(const engined_host_services* services, const engined_config* config,
                       const engined_run_request* request, engined_buffer* out) noexcept {
    return plugin_sdk::execute<&parse_config>(
        "placement", plugin_sdk::services_complete(services), config, request, out,
        [services](const json::object& run_body, const EngineConfig& config) {
            HostServices host(*services);
            return run_placement(run_body, config, host);
        });
}

}  // namespace
}  // namespace engined::placement

namespace {

// Every function in the table is noexcept: nothing thrown inside the plugin reaches the host.
constexpr engined_engine_descriptor kDescriptor{
    .abi_version = ENGINED_PLUGIN_ABI_VERSION,
    .struct_size = sizeof(engined_engine_descriptor),
    .engine_type = "placement",
    .plugin_version = ENGINED_PLACEMENT_VERSION,
    .results_key = "solutions",
    .validate_config = &engined::placement::validate_config,
    .config_new = &engined::placement::config_new,
    .config_free = &engined::plugin_sdk::config_free,
    .execute = &engined::placement::execute,
    .release_buffer = &engined::plugin_sdk::release_buffer,
    .validate_dataset = nullptr,  // placement reads no datasets
    .canonicalize_dataset = nullptr,
};

}  // namespace

extern "C" __attribute__((visibility("default"))) const engined_engine_descriptor*
engined_plugin_entry(uint32_t host_abi_version) {
    return host_abi_version == ENGINED_PLUGIN_ABI_VERSION ? &kDescriptor : nullptr;
}
