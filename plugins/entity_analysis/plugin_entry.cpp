// The entity-analysis plugin's C ABI (core/plugin/engine_plugin.h): the SDK's adapter
// (plugins/sdk/host_abi.hpp) around run_entity_analysis, with the engine's own host service,
// the carrier pools (their vocabulary: carrier_records.hpp), and the pool cache shared by every run of this module.
#include "carrier_records.hpp"
#include "config.hpp"
#include "entity_analysis_engine.hpp"
#include "host_abi.hpp"
#include "pool_cache.hpp"
#include "run_failure.hpp"
#include "scoring_host.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

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
        const engined_status status = services_.load_dataset(services_.host, kind_name.c_str(),
                                                             dataset_id.c_str(), result.get());
        if (status != ENGINED_OK) {
            throw DatasetMissing(std::string(result.text()));
        }
        return std::string(result.text());
    }
};

engined_status validate_config(const char* config_json, std::size_t config_len,
                               engined_buffer* out) noexcept {
    return plugin_sdk::validate_config("entity_analysis", config_json, config_len, out,
                                       &check_config);
}

engined_status config_new(const char* config_json, std::size_t config_len, engined_config** config,
                          engined_buffer* out) noexcept {
    return plugin_sdk::config_new<&parse_config>("entity_analysis", config_json, config_len, config,
                                                 out);
}

engined_status execute(const engined_host_services* services, const engined_config* config,
                       const engined_run_request* request, engined_buffer* out) noexcept {
    const bool services_ok = plugin_sdk::services_complete(services) &&
                             ENGINED_HAS_FIELD(services, engined_host_services, load_dataset) &&
                             services->load_dataset != nullptr;
    return plugin_sdk::execute<&parse_config>(
        "entity_analysis", services_ok, config, request, out,
        [services](const json::object& run_body, const EngineConfig& config) {
            HostServices host(*services);
            return run_entity_analysis(run_body, config, host, shared_pool_cache());
        });
}

// The carrier pools this engine reads, as the host framed a pool file's records: {"records",
// "errors"} of canonical_carriers; ENGINED_DATASET_NOT_FOUND for any other dataset family.
engined_status carrier_pool(const char* kind, RecordSource source, const char* records_json,
                            std::size_t records_len, engined_buffer* out,
                            bool with_records) noexcept {
    if (out == nullptr) {
        return ENGINED_RUN_FAILED;
    }
    *out = engined_buffer{nullptr, 0};
    if (kind == nullptr || std::string_view(kind) != "pool") {
        return ENGINED_DATASET_NOT_FOUND;
    }
    try {
        boost::system::error_code ec;
        const json::value records = json::parse(
            std::string_view(records_json == nullptr ? "" : records_json, records_len), ec);
        json::object answer;
        if (ec || !records.is_array()) {
            answer["errors"] = json::array{
                json::object{{"index", -1}, {"message", "the records are not a JSON array"}}};
        } else {
            answer = canonical_carriers(records.get_array(), source);
        }
        if (!with_records) answer.erase("records");
        return plugin_sdk::fill(out, json::serialize(answer)) ? ENGINED_OK : ENGINED_RUN_FAILED;
    } catch (...) {
        return ENGINED_RUN_FAILED;
    }
}

engined_status canonicalize_dataset(const char* kind, const char* format, const char* records_json,
                                    std::size_t records_len, engined_buffer* out) noexcept {
    const bool csv = format != nullptr && std::string_view(format) == "csv";
    return carrier_pool(kind, csv ? RecordSource::csv : RecordSource::json, records_json,
                        records_len, out, true);
}

// For hosts of ABI 3.0, which store the records as given: the same rules, without the records.
engined_status validate_dataset(const char* kind, const char* records_json, std::size_t records_len,
                                engined_buffer* out) noexcept {
    return carrier_pool(kind, RecordSource::json, records_json, records_len, out, false);
}

}  // namespace
}  // namespace engined::entity_analysis

namespace {

// Every function in the table is noexcept: nothing thrown inside the plugin reaches the host.
constexpr engined_engine_descriptor kDescriptor{
    .abi_version = ENGINED_PLUGIN_ABI_VERSION,
    .struct_size = sizeof(engined_engine_descriptor),
    .engine_type = "entity_analysis",
    .plugin_version = ENGINED_ENTITY_ANALYSIS_VERSION,
    .results_key = "candidates",
    .validate_config = &engined::entity_analysis::validate_config,
    .config_new = &engined::entity_analysis::config_new,
    .config_free = &engined::plugin_sdk::config_free,
    .execute = &engined::entity_analysis::execute,
    .release_buffer = &engined::plugin_sdk::release_buffer,
    .validate_dataset = &engined::entity_analysis::validate_dataset,
    .canonicalize_dataset = &engined::entity_analysis::canonicalize_dataset,
};

}  // namespace

extern "C" __attribute__((visibility("default"))) const engined_engine_descriptor*
engined_plugin_entry(uint32_t host_abi_version) {
    return host_abi_version == ENGINED_PLUGIN_ABI_VERSION ? &kDescriptor : nullptr;
}
