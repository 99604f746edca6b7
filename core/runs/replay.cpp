#include "runs/replay.hpp"

#include "common/crypto.hpp"
#include "common/json_text.hpp"
#include "runs/fingerprint.hpp"
#include "runs/run_view.hpp"

#include <boost/json.hpp>

#include <algorithm>

namespace engined::runs {
namespace {

std::string document(std::string_view engine_type, std::string_view status,
                     const std::string& output_json, const std::string& results_json) {
    return R"({"status":")" + std::string(status) + R"(","output":)" + output_json + R"(,")" +
           results_key(engine_type) + R"(":)" + results_json + "}";
}

std::optional<std::string> difference(const boost::json::value& a, const boost::json::value& b,
                                      const std::string& pointer) {
    if (a.kind() != b.kind()) return pointer;
    if (a.is_object()) {
        const auto& left = a.get_object();
        const auto& right = b.get_object();
        auto l = left.begin();
        auto r = right.begin();
        for (; l != left.end() && r != right.end(); ++l, ++r) {
            if (l->key() != r->key()) return pointer + "/" + json_pointer_token(l->key());
            if (auto found = difference(l->value(), r->value(),
                                        pointer + "/" + json_pointer_token(l->key())))
                return found;
        }
        if (l != left.end()) return pointer + "/" + json_pointer_token(l->key());
        if (r != right.end()) return pointer + "/" + json_pointer_token(r->key());
        return std::nullopt;
    }
    if (a.is_array()) {
        const auto& left = a.get_array();
        const auto& right = b.get_array();
        const std::size_t common = std::min(left.size(), right.size());
        for (std::size_t i = 0; i < common; ++i) {
            if (auto found = difference(left[i], right[i], pointer + "/" + std::to_string(i)))
                return found;
        }
        if (left.size() != right.size()) return pointer + "/" + std::to_string(common);
        return std::nullopt;
    }
    if (a != b) return pointer;
    return std::nullopt;
}

boost::json::value optional_string(const std::optional<std::string>& value) {
    return value ? boost::json::value(*value) : boost::json::value(nullptr);
}

// What an execution was fingerprinted under, read back from its fingerprint components.
struct Provenance {
    std::string plugin_sha256;
    std::string platform_version;
    int format = 1;  // components without "format" are format 1
};

std::optional<Provenance> provenance_of(const std::optional<std::string>& fingerprint_json) {
    if (!fingerprint_json) return std::nullopt;
    boost::system::error_code ec;
    const boost::json::value parsed = parse_internal_json(*fingerprint_json, ec);
    if (ec || !parsed.is_object()) return std::nullopt;
    const auto& components = parsed.get_object();
    const auto text = [&](std::string_view key) {
        const auto* found = components.if_contains(key);
        return found && found->is_string() ? std::string(found->get_string()) : std::string();
    };
    Provenance provenance{text("plugin_sha256"), text("platform_version")};
    if (const auto* format = components.if_contains("format"); format && format->is_int64())
        provenance.format = static_cast<int>(format->get_int64());
    return provenance;
}

// Enough of a SHA-256 to tell two plugin builds apart in a sentence.
std::string short_hash(const std::string& sha256) {
    return sha256.substr(0, 12);
}

}  // namespace

ReplayVerdict replay_verdict(const store::Run& run, const store::RunOutcome& replayed,
                             bool identical) {
    if (identical) return {"identical", std::nullopt};
    const auto recorded = provenance_of(run.fingerprint_json);
    if (!recorded) {
        return {"unverifiable",
                "recorded without a fingerprint: what executed it is not known, so a difference "
                "is not evidence of a change"};
    }
    const Provenance now = provenance_of(replayed.fingerprint_json).value_or(Provenance{});
    if (recorded->plugin_sha256 != now.plugin_sha256) {
        return {"recorded_under_other_plugin",
                "recorded under plugin " + short_hash(recorded->plugin_sha256) +
                    ", replayed under plugin " + short_hash(now.plugin_sha256) +
                    ": another build of the engine may rank differently"};
    }
    if (recorded->format != kFingerprintFormat) {
        return {"recorded_under_other_fingerprint_format",
                "recorded under fingerprint format " + std::to_string(recorded->format) +
                    ", which does not cover everything the output depends on (this server "
                    "fingerprints in format " +
                    std::to_string(kFingerprintFormat) + ")"};
    }
    if (recorded->platform_version != now.platform_version) {
        return {"recorded_under_other_platform", "recorded under engined " +
                                                     recorded->platform_version +
                                                     ", replayed under " + now.platform_version};
    }
    return {"not_reproduced",
            "same plugin build, engined version and fingerprint format, yet a different "
            "outcome: the stored outcome does not match what produced it"};
}

std::string compared_document(const std::string& engine_type, const store::RunOutcome& outcome) {
    return document(engine_type, store::to_string(outcome.status), outcome.output_json,
                    outcome.results_json);
}

std::string compared_document(const store::Run& run) {
    return document(run.engine_type, store::to_string(run.status), run.output_json,
                    run.results_json);
}

std::optional<std::string> first_difference(const std::string& original,
                                            const std::string& replay) {
    if (original == replay) return std::nullopt;
    boost::system::error_code original_error;
    boost::system::error_code replay_error;
    const boost::json::value left = parse_internal_json(original, original_error);
    const boost::json::value right = parse_internal_json(replay, replay_error);
    if (original_error || replay_error) return "";
    return difference(left, right, "").value_or("");
}

boost::json::object replay_report(const store::Run& run, const store::RunOutcome& replayed) {
    const std::string original = compared_document(run);
    const std::string replay = compared_document(run.engine_type, replayed);
    const auto differs_at = first_difference(original, replay);
    const ReplayVerdict verdict = replay_verdict(run, replayed, !differs_at.has_value());
    return {{"run_id", run.id},
            {"identical", !differs_at.has_value()},
            {"verdict", verdict.verdict},
            {"verdict_detail", optional_string(verdict.detail)},
            {"fingerprint", optional_string(run.fingerprint)},
            {"replay_fingerprint", optional_string(replayed.fingerprint)},
            {"output_sha256", {{"original", sha256_hex(original)}, {"replay", sha256_hex(replay)}}},
            {"first_difference", optional_string(differs_at)}};
}

}  // namespace engined::runs
