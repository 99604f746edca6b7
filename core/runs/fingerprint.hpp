// The reproducibility fingerprint of a run: one SHA-256 over everything its output depends on —
// the request, the exact engine version, the plugin binary that executed it, the platform and
// the run's reference time. Two executions with equal fingerprints must give byte-identical
// status, output and results.
#pragma once

#include "store/store.hpp"

#include <boost/json/object.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace engined::runs {

// Format 1 hashed the first four components only, so two runs of one request at different
// reference times (quote expiry is judged against it) could share a fingerprint yet differ.
// Format 2 adds the format number and the reference time. A run keeps the format it was
// fingerprinted with: its replay is fingerprinted the same way.
inline constexpr int kFingerprintFormat = 2;

struct FingerprintComponents {
    std::string input_sha256;  // of the canonical JSON of the stored request
    std::string
        version_content_hash;      // the pinned release's content hash, or "config:<config_hash>"
    std::string plugin_sha256;     // of the plugin library file that executed the run
    std::string platform_version;  // engined's version
    std::int64_t reference_unix_ms = 0;  // the run's reference time (its created_at); format 2 on
    int format = kFingerprintFormat;
};

// Format 1: {"input_sha256", "version_content_hash", "plugin_sha256", "platform_version"};
// format 2 adds "reference_time" (RFC 3339, milliseconds) and "format": 2.
boost::json::object to_json(const FingerprintComponents& components);

struct Fingerprint {
    std::string sha256;           // lower-case hex, of the canonical JSON of to_json(components)
    std::string components_json;  // the compact JSON of to_json(components), as a run stores it
};

// Both from one to_json(components): a run's fingerprint and what it was computed from.
Fingerprint fingerprint_of(const FingerprintComponents& components);

// The fingerprint's version component: the pinned release's content hash, else
// "config:<config_hash>" (a run of an unreleased configuration).
std::string version_content_hash(const std::optional<std::string>& release_content_hash,
                                 const std::string& config_hash);

// The content hash of the release `run` was pinned to; none for a run of an unreleased
// configuration (or when that release is not in the store).
std::optional<std::string> pinned_release_content_hash(const store::Store& store,
                                                       const store::Run& run);

// The fingerprint format of `run`: the one its stored fingerprint was made with (format 1 when
// its components carry no "format"), else kFingerprintFormat.
int fingerprint_format(const store::Run& run);

// The components of `run` executed by the plugin whose file hashes to `plugin_sha256`, in the
// run's fingerprint format: from the inputs the run carries (handed over by its submit), else
// derived from its stored request and the store's release. Throws store::StoreUnavailable.
FingerprintComponents fingerprint_components(const store::Store& store, const store::Run& run,
                                             const std::string& plugin_sha256,
                                             const std::string& platform_version);

}  // namespace engined::runs
