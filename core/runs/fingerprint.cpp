#include "runs/fingerprint.hpp"

#include "common/crypto.hpp"
#include "common/json_text.hpp"
#include "versions/pin.hpp"

#include <boost/json.hpp>

namespace engined::runs {

boost::json::object to_json(const FingerprintComponents& components) {
    return {{"input_sha256", components.input_sha256},
            {"version_content_hash", components.version_content_hash},
            {"plugin_sha256", components.plugin_sha256},
            {"platform_version", components.platform_version}};
}

std::string fingerprint_of(const FingerprintComponents& components) {
    return sha256_hex(canonical_json(to_json(components)));
}

std::optional<std::string> pinned_release_content_hash(const store::Store& store, const store::Run& run) {
    if (!run.engine_version) return std::nullopt;
    const auto version = versions::parse_pin(*run.engine_version);
    const auto engine = store.find_engine(run.organization, run.engine_slug);
    if (!version || !version->minor || !engine) return std::nullopt;
    const auto release = store.find_release(engine->organization, run.engine_slug, version->major, *version->minor);
    if (!release) return std::nullopt;
    return release->content_hash;
}

FingerprintComponents fingerprint_components(const store::Store& store, const store::Run& run,
                                             const std::string& plugin_sha256, const std::string& platform_version) {
    return {sha256_hex(canonical_json(parse_internal_json(run.request_json))),
            pinned_release_content_hash(store, run).value_or("config:" + run.config_hash), plugin_sha256,
            platform_version};
}

}  // namespace engined::runs
