// core/store: the backend-neutral parts of the record types (status names, a new run as stored).
#include "store/store.hpp"

#include <array>

namespace engined::store {

namespace {

constexpr std::array<std::string_view, 5> kStatusNames{"queued", "processing", "completed",
                                                       "degraded", "failed"};

}  // namespace

std::string_view to_string(RunStatus status) {
    return kStatusNames.at(static_cast<std::size_t>(status));
}

std::optional<RunStatus> parse_run_status(std::string_view text) {
    for (std::size_t i = 0; i < kStatusNames.size(); ++i) {
        if (kStatusNames[i] == text) return static_cast<RunStatus>(i);
    }
    return std::nullopt;
}

bool is_terminal(RunStatus status) {
    return status == RunStatus::completed || status == RunStatus::degraded ||
           status == RunStatus::failed;
}

Run queued_run(const NewRun& run) {
    Run queued;
    queued.id = run.id;
    queued.organization = run.organization;
    queued.environment = run.environment;
    queued.environment_id = run.environment_id;
    queued.engine_slug = run.engine_slug;
    queued.engine_type = run.engine_type;
    queued.engine_version = run.engine_version;
    queued.engine_version_pin = run.engine_version_pin;
    queued.engine_version_pin_source = run.engine_version_pin_source;
    queued.engine_version_rollout = run.engine_version_rollout;
    queued.status = RunStatus::queued;
    queued.stage = "queued";
    queued.request_json = run.request_json;
    queued.config_hash = run.config_hash;
    queued.webhook_url = run.webhook_url;
    queued.api_key_id = run.api_key_id;
    queued.output_json = "null";
    queued.results_json = "null";
    queued.error_details_json = "null";
    queued.trace_json = "null";
    queued.created_at_ms = run.created_at_ms;
    if (run.held_by) {
        queued.attempts = 1;
        queued.lease_owner = run.held_by->owner;
        queued.leased_until_ms = run.held_by->leased_until_ms;
    }
    return queued;
}

std::string_view to_string(DeliveryStatus status) {
    switch (status) {
        case DeliveryStatus::pending:
            return "pending";
        case DeliveryStatus::delivered:
            return "delivered";
        case DeliveryStatus::failed:
            return "failed";
    }
    return "pending";
}

}  // namespace engined::store
