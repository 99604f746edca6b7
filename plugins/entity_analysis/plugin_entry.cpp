// The entity-analysis plugin's C ABI (core/plugin/engine_plugin.h): the SDK's adapter
// (plugins/sdk/host_abi.hpp) around run_entity_analysis, with the engine's own host service,
// the carrier pools, and the pool cache shared by every run of this module.
#include "config.hpp"
#include "entity_analysis_engine.hpp"
#include "host_abi.hpp"
#include "pool_cache.hpp"
#include "scoring_host.hpp"

#include <cstddef>
#include <string>
#include <string_view>

namespace engined::entity_analysis {
namespace {

namespace json = boost::json;

class HostServices final : public plugin_sdk::HostServices<ScoringHost> {
public:
    using plugin_sdk::HostServices<ScoringHost>::HostServices;

    std::string load_dataset(std::string_view kind, std::string_view id) override {
        const std::string kind_name(kind);
        const std::string dataset_id(id);
        plugin_sdk::HostBuffer result(services_);
        const engined_status status =
            services_.load_dataset(services_.host, kind_name.c_str(), dataset_id.c_str(), result.get());
        if (status != ENGINED_OK) {
            throw DatasetMissing(std::string(result.text()));
        }
        return std::string(result.text());
    }
};

engined_status validate_config(const char* config_json, std::size_t config_len, engined_buffer* out) noexcept {
    return plugin_sdk::validate_config("entity_analysis", config_json, config_len, out, &check_config);
}

engined_status execute(const engined_host_services* services, const engined_run_request* request,
                       engined_buffer* out) noexcept {
    const bool services_ok = plugin_sdk::services_complete(services) && services->load_dataset != nullptr;
    return plugin_sdk::execute("entity_analysis", services_ok, request, out,
                               [services](const json::object& run_body, const json::object& config) {
                                   HostServices host(*services);
                                   return run_entity_analysis(run_body, config, host, shared_pool_cache());
                               });
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
    .release_buffer = &engined::plugin_sdk::release_buffer,
};

}  // namespace

extern "C" __attribute__((visibility("default"))) const engined_engine_descriptor* engined_plugin_entry(
    uint32_t host_abi_version) {
    return host_abi_version == ENGINED_PLUGIN_ABI_VERSION ? &kDescriptor : nullptr;
}
