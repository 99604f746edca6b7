// core/store/backend_support — the few column encodings and rules every backend shares, so that
// each is written once: an endpoint's event list (a JSON array in a text column), a delivery's
// status, a pool's carrier count, the run outcome's rules (terminal only, lease-guarded) and how
// an audit record joins its organisation's chain. Included only by the backends.
#pragma once

#include "store/store.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace engined::store {

std::string events_to_json(const std::vector<std::string>& events);
// Throws StoreUnavailable when the stored text is not a JSON array.
std::vector<std::string> events_from_json(const std::string& text);

// Throws StoreUnavailable for a status no backend writes.
DeliveryStatus parse_delivery_status(const std::string& text);

// The store keeps JSON opaque, but a pool's size is part of its summary: counts the array's
// elements without interpreting them. Throws std::invalid_argument unless a non-empty array.
int64_t count_array_elements(std::string_view json_array);

// Throws std::invalid_argument unless the outcome's status is terminal.
void require_terminal(const RunOutcome& outcome);
// Why a lease-guarded outcome stored nothing, given the run's stored status and lease holder:
// throws LeaseLost while it is unfinished (another node, or none, holds it), std::logic_error
// once it is terminal.
[[noreturn]] void throw_outcome_refusal(const std::string& run_id, const std::string& status,
                                        const std::optional<std::string>& lease_owner);

// Where an organisation's audit chain ends: its newest record's position and MAC.
struct AuditChainHead {
    int64_t position = 0;
    std::string mac;
};
// Appends `audit`'s records (nothing when null) in the backend's write: each record takes the
// place after its chain's head (`read_head`; none for an empty chain), is sealed, and is stored
// by `insert`, which returns its seq. The backend serialises appends to one chain until its
// write commits (`read_head` may take a lock for it), so no two records take one place.
void append_audit_chain(
    AuditAppend* audit,
    const std::function<std::optional<AuditChainHead>(const std::string& organization)>& read_head,
    const std::function<int64_t(const AuditRecord& record)>& insert);

}  // namespace engined::store
