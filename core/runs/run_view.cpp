#include "runs/run_view.hpp"

#include "common/json_text.hpp"
#include "common/time.hpp"
#include "plugin/plugin_registry.hpp"

#include <boost/json.hpp>

namespace engined::runs {
namespace {

boost::json::value optional_string(const std::optional<std::string>& value) {
    return value ? boost::json::value(*value) : boost::json::value(nullptr);
}

boost::json::value optional_time(const std::optional<int64_t>& unix_ms) {
    return unix_ms ? boost::json::value(format_rfc3339_ms(*unix_ms)) : boost::json::value(nullptr);
}

boost::json::value stored_json(const std::string& text) {
    if (text.empty()) return nullptr;
    boost::system::error_code ec;
    boost::json::value value = parse_internal_json(text, ec);
    return ec ? boost::json::value(nullptr) : value;
}

}  // namespace

boost::json::object run_to_json(const store::Run& run) {
    boost::json::object out;
    out["run_id"] = run.id;
    out["engine"] = run.engine_slug;
    out["engine_type"] = run.engine_type;
    out["engine_version"] = optional_string(run.engine_version);
    out["engine_version_pin"] = optional_string(run.engine_version_pin);
    out["engine_version_pin_source"] = optional_string(run.engine_version_pin_source);
    out["engine_version_rollout"] = optional_string(run.engine_version_rollout);
    out["status"] = store::to_string(run.status);
    out["stage"] = run.stage;
    out["environment"] = run.environment;
    out["environment_id"] = run.environment_id;
    out["output"] = stored_json(run.output_json);
    out[results_key(run.engine_type)] = stored_json(run.results_json);
    if (run.error_code) {
        out["error"] = {{"code", *run.error_code}, {"message", run.error_message.value_or("")}};
        out["error_details"] = stored_json(run.error_details_json);
    } else {
        out["error"] = nullptr;
        out["error_details"] = nullptr;
    }
    out["webhook_url"] = optional_string(run.webhook_url);
    out["created_at"] = format_rfc3339_ms(run.created_at_ms);
    out["started_at"] = optional_time(run.started_at_ms);
    out["completed_at"] = optional_time(run.completed_at_ms);
    if (run.started_at_ms && run.completed_at_ms) {
        out["duration_ms"] = *run.completed_at_ms - *run.started_at_ms;
    } else {
        out["duration_ms"] = nullptr;
    }
    out["fingerprint"] = optional_string(run.fingerprint);
    return out;
}

std::string results_key(std::string_view engine_type) {
    return plugin::results_key_of(engine_type);
}

}  // namespace engined::runs
