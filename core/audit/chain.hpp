// core/audit/chain — the MAC of an audit record and the verification of an organisation's chain.
// A record's MAC is HMAC-SHA256(key, content ‖ previous record's MAC), its content every field
// but seq, previous_mac and mac, each length-prefixed so no two records' contents read alike.
#pragma once

#include "store/store.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace engined::audit {

// The MAC `record` must carry, given its previous_mac.
std::string seal(std::string_view key, const store::AuditRecord& record);

// What verifying one organisation's chain found: intact, or the first record that fails and why.
struct ChainVerdict {
    std::string organization;
    std::size_t records = 0;
    std::string head_mac;  // the newest record's MAC; empty for an empty chain
    bool intact = true;
    std::string first_bad_record;  // its id; empty when the problem is records missing at the end
    int64_t first_bad_position = 0;
    std::string problem;  // a sentence naming what failed
};

// Recomputes `chain` (one organisation's records, oldest first) under `key`. With `head` (a MAC
// logged when a record was appended), a chain that no longer holds that MAC lost its newest
// records.
ChainVerdict verify_chain(std::string_view key, const std::string& organization,
                          const std::vector<store::AuditRecord>& chain,
                          const std::optional<std::string>& head);

}  // namespace engined::audit
