#include "runs/replay.hpp"

#include "common/crypto.hpp"
#include "common/json_text.hpp"
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

}  // namespace

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
    return {{"run_id", run.id},
            {"identical", !differs_at.has_value()},
            {"fingerprint", optional_string(run.fingerprint)},
            {"replay_fingerprint", optional_string(replayed.fingerprint)},
            {"output_sha256", {{"original", sha256_hex(original)}, {"replay", sha256_hex(replay)}}},
            {"first_difference", optional_string(differs_at)}};
}

}  // namespace engined::runs
