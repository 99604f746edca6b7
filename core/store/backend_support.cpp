// core/store: the column encodings the backends share (see backend_support.hpp).
#include "store/backend_support.hpp"

#include <boost/json.hpp>

namespace engined::store {

std::string events_to_json(const std::vector<std::string>& events) {
    boost::json::array array;
    for (const std::string& event : events) array.emplace_back(event);
    return boost::json::serialize(array);
}

std::vector<std::string> events_from_json(const std::string& text) {
    std::vector<std::string> events;
    boost::system::error_code ec;
    const boost::json::value parsed = boost::json::parse(text, ec);
    if (ec || !parsed.is_array())
        throw StoreUnavailable("read webhook endpoint: events are not a JSON array");
    for (const auto& event : parsed.get_array()) {
        if (event.is_string()) events.emplace_back(event.get_string());
    }
    return events;
}

DeliveryStatus parse_delivery_status(const std::string& text) {
    if (text == "pending") return DeliveryStatus::pending;
    if (text == "delivered") return DeliveryStatus::delivered;
    if (text == "failed") return DeliveryStatus::failed;
    throw StoreUnavailable("read webhook delivery: unknown status '" + text + "'");
}

int64_t count_array_elements(std::string_view json_array) {
    boost::system::error_code ec;
    const boost::json::value parsed = boost::json::parse(json_array, ec);
    if (ec || !parsed.is_array() || parsed.get_array().empty()) {
        throw std::invalid_argument("replace_pool: carriers must be a non-empty JSON array");
    }
    return static_cast<int64_t>(parsed.get_array().size());
}

void require_terminal(const RunOutcome& outcome) {
    if (!is_terminal(outcome.status)) {
        throw std::invalid_argument("finish_run: '" + std::string(to_string(outcome.status)) +
                                    "' is not a terminal status");
    }
}

void throw_outcome_refusal(const std::string& run_id, const std::string& status,
                           const std::optional<std::string>& lease_owner) {
    // An unfinished run, started or not, is finished only by its holder.
    if (status == "processing" || status == "queued") {
        throw LeaseLost("finish_run: run '" + run_id + "' is leased to " +
                        lease_owner.value_or("no node") + " now; this outcome was dropped");
    }
    throw std::logic_error("finish_run: run '" + run_id + "' is already " + status);
}

void append_audit_chain(
    AuditAppend* audit,
    const std::function<std::optional<AuditChainHead>(const std::string& organization)>& read_head,
    const std::function<int64_t(const AuditRecord& record)>& insert) {
    if (audit == nullptr) return;
    for (AuditRecord& record : audit->records) {
        const std::optional<AuditChainHead> head = read_head(record.organization);
        record.position = head ? head->position + 1 : 1;
        record.previous_mac = head ? head->mac : std::string();
        record.mac = audit->seal(record);
        record.seq = insert(record);
    }
    audit->appended = true;
}

}  // namespace engined::store
