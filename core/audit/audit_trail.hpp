// core/audit/audit_trail — appends a record per operator action to the organisation's chain,
// sealed with the audit key, and logs the chain's new head MAC (one structured log line per
// append), so records deleted from the end of the chain are found against the last logged head.
#pragma once

#include "store/store.hpp"

#include <string>
#include <string_view>
#include <utility>

namespace engined::audit {

// What an operator did. `before_hash`/`after_hash`: the hashes of what changed (a configuration
// hash, a key's state…), empty where the action has no before or no after.
struct Action {
    std::string organization;
    std::string actor;  // an API key id, or cli_actor()
    std::string action;
    std::string target;
    std::string before_hash = {};
    std::string after_hash = {};
};

// "cli:<OS user>": enginectl writing to the store directly.
std::string cli_actor();

// SHA-256 of a short text that stands for a state (a key's scopes, an endpoint's settings…).
std::string state_hash(std::string_view state);

class AuditTrail {
public:
    AuditTrail(store::Store& store, std::string key) : store_(store), key_(std::move(key)) {}

    // Appends the record (store::Store::append_audit) and logs the head. Returns it as stored.
    store::AuditRecord record(const Action& action);

private:
    store::Store& store_;
    const std::string key_;
};

}  // namespace engined::audit
