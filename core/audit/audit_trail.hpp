// core/audit/audit_trail — drafts the record of each operator action for the organisation's
// chain, sealed with the audit key by the store write that makes the change (in its transaction),
// and logs the chain's new head MAC after the commit (one structured log line per record), so
// records deleted from the end of the chain are found against the last logged head.
#pragma once

#include "store/store.hpp"

#include <string>
#include <string_view>
#include <utility>
#include <vector>

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

    // The sealed-to-be record(s) of an action, to hand to the store write that makes the change:
    // the write appends them in its own transaction (store::AuditAppend). After the write
    // returned, call logged().
    store::AuditAppend draft(const Action& action) const;
    store::AuditAppend draft(const std::vector<Action>& actions) const;
    // Logs the chain's new head for each record the write appended (nothing when it appended
    // none). Written after the commit: a crash in between loses only this log line, so the
    // newest logged head may then lag the chain by that record (verify --head still passes).
    void logged(const store::AuditAppend& audit) const;

    // Appends the record in a transaction of its own (store::Store::append_audit) and logs the
    // head; for a record that goes with no store write. Returns it as stored.
    store::AuditRecord record(const Action& action);

private:
    store::Store& store_;
    const std::string key_;
};

}  // namespace engined::audit
