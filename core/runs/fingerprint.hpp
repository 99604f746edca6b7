// The reproducibility fingerprint of a run: one SHA-256 over everything its output depends on —
// the request, the exact engine version, the plugin binary that executed it and the platform.
// Two executions with equal fingerprints must give byte-identical status, output and results.
#pragma once

#include "store/store.hpp"

#include <boost/json/object.hpp>

#include <optional>
#include <string>

namespace engined::runs {

struct FingerprintComponents {
    std::string input_sha256;          // of the canonical JSON of the stored request
    std::string version_content_hash;  // the pinned release's content hash, or "config:<config_hash>"
    std::string plugin_sha256;         // of the plugin library file that executed the run
    std::string platform_version;      // engined's version
};

// {"input_sha256", "version_content_hash", "plugin_sha256", "platform_version"}
boost::json::object to_json(const FingerprintComponents& components);

// SHA-256 (lower-case hex) of the canonical JSON of to_json(components).
std::string fingerprint_of(const FingerprintComponents& components);

// The content hash of the release `run` was pinned to; none for a run of an unreleased
// configuration (or when that release is not in the store).
std::optional<std::string> pinned_release_content_hash(const store::Store& store, const store::Run& run);

// The components of `run` executed by the plugin whose file hashes to `plugin_sha256`.
// Throws store::StoreUnavailable.
FingerprintComponents fingerprint_components(const store::Store& store, const store::Run& run,
                                             const std::string& plugin_sha256, const std::string& platform_version);

}  // namespace engined::runs
