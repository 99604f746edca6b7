#include "runs/fingerprint.hpp"

#include "common/crypto.hpp"
#include "common/json_text.hpp"
#include "common/time.hpp"
#include "versions/pin.hpp"

#include <boost/json.hpp>

namespace engined::runs {

boost::json::object to_json(const FingerprintComponents& components) {
    boost::json::object json{{"input_sha256", components.input_sha256},
                             {"version_content_hash", components.version_content_hash},
                             {"plugin_sha256", components.plugin_sha256},
                             {"platform_version", components.platform_version}};
    if (components.format >= 2) {
        json["reference_time"] = format_rfc3339_ms(components.reference_unix_ms);
        json["format"] = components.format;
    }
    return json;
}

Fingerprint fingerprint_of(const FingerprintComponents& components) {
    const boost::json::object json = to_json(components);
    return {sha256_hex(canonical_json(json)), compact_json(json)};
}

std::string version_content_hash(const std::optional<std::string>& release_content_hash,
                                 const std::string& config_hash) {
    return release_content_hash.value_or("config:" + config_hash);
}

std::optional<std::string> pinned_release_content_hash(const store::Store& store,
                                                       const store::Run& run) {
    if (!run.engine_version) return std::nullopt;
    const auto version = versions::parse_pin(*run.engine_version);
    const auto engine = store.find_engine(run.organization, run.engine_slug);
    if (!version || !version->minor || !engine) return std::nullopt;
    const auto release =
        store.find_release(engine->organization, run.engine_slug, version->major, *version->minor);
    if (!release) return std::nullopt;
    return release->content_hash;
}

int fingerprint_format(const store::Run& run) {
    if (!run.fingerprint_json) return kFingerprintFormat;
    const boost::json::value stored = parse_internal_json(*run.fingerprint_json);
    const auto* format = stored.is_object() ? stored.get_object().if_contains("format") : nullptr;
    if (format == nullptr) return 1;
    return format->is_int64() ? static_cast<int>(format->get_int64()) : kFingerprintFormat;
}

FingerprintComponents fingerprint_components(const store::Store& store, const store::Run& run,
                                             const std::string& plugin_sha256,
                                             const std::string& platform_version) {
    store::FingerprintInputs inputs =
        run.fingerprint_inputs
            ? *run.fingerprint_inputs
            : store::FingerprintInputs{
                  sha256_hex(canonical_json(parse_internal_json(run.request_json))),
                  version_content_hash(pinned_release_content_hash(store, run), run.config_hash)};
    return {std::move(inputs.input_sha256),
            std::move(inputs.version_content_hash),
            plugin_sha256,
            platform_version,
            run.created_at_ms,
            fingerprint_format(run)};
}

}  // namespace engined::runs
