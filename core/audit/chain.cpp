#include "audit/chain.hpp"

#include "common/crypto.hpp"

namespace engined::audit {
namespace {

void append_field(std::string& content, std::string_view field) {
    content += std::to_string(field.size());
    content += ':';
    content += field;
    content += '\n';
}

std::string content_of(const store::AuditRecord& record) {
    std::string content;
    append_field(content, record.id);
    append_field(content, record.organization);
    append_field(content, std::to_string(record.position));
    append_field(content, record.actor);
    append_field(content, record.action);
    append_field(content, record.target);
    append_field(content, record.before_hash);
    append_field(content, record.after_hash);
    append_field(content, std::to_string(record.at_ms));
    return content;
}

// The records from `from` on whose MACs fail: one edited record fails alone (the next one was
// sealed over its unchanged MAC), a chain recomputed without the key fails from there to the end.
std::size_t failing_from(std::string_view key, const std::vector<store::AuditRecord>& chain,
                         std::size_t from) {
    std::size_t failing = 0;
    for (std::size_t i = from; i < chain.size(); ++i) {
        store::AuditRecord linked = chain[i];
        linked.previous_mac = i == 0 ? std::string() : chain[i - 1].mac;
        if (seal(key, linked) != chain[i].mac) ++failing;
    }
    return failing;
}

}  // namespace

std::string seal(std::string_view key, const store::AuditRecord& record) {
    return hmac_sha256_hex(key, content_of(record) + record.previous_mac);
}

ChainVerdict verify_chain(std::string_view key, const std::string& organization,
                          const std::vector<store::AuditRecord>& chain,
                          const std::optional<std::string>& head) {
    ChainVerdict verdict;
    verdict.organization = organization;
    verdict.records = chain.size();
    if (!chain.empty()) verdict.head_mac = chain.back().mac;
    const auto fail = [&verdict](const store::AuditRecord& record, std::string problem) {
        verdict.intact = false;
        verdict.first_bad_record = record.id;
        verdict.first_bad_position = record.position;
        verdict.problem = std::move(problem);
    };
    std::string previous_mac;
    for (std::size_t i = 0; i < chain.size(); ++i) {
        const store::AuditRecord& record = chain[i];
        const auto expected_position = static_cast<int64_t>(i) + 1;
        if (record.position != expected_position) {
            fail(record, "record " + record.id + " is at position " +
                             std::to_string(record.position) + " where " +
                             std::to_string(expected_position) +
                             " was expected: the record(s) before it were deleted");
            return verdict;
        }
        store::AuditRecord linked = record;
        linked.previous_mac = previous_mac;
        if (seal(key, linked) != record.mac) {
            const std::size_t failing = failing_from(key, chain, i);
            fail(record,
                 failing == 1 && i + 1 < chain.size()
                     ? "record " + record.id + " (position " + std::to_string(record.position) +
                           ", " + record.action + ") was edited: its MAC does not match its content"
                 : failing == 1
                     ? "record " + record.id + " (position " + std::to_string(record.position) +
                           ", " + record.action +
                           ") does not verify: it was edited, or sealed without the audit key"
                     : "record " + record.id + " (position " + std::to_string(record.position) +
                           ", " + record.action + ") and the " + std::to_string(failing - 1) +
                           " after it do not verify with this key: the chain was edited and "
                           "recomputed without the audit key (or the key is not this chain's)");
            return verdict;
        }
        if (record.previous_mac != previous_mac) {
            fail(record, "record " + record.id + " (position " + std::to_string(record.position) +
                             ") was edited: its previous_mac is not the MAC of the record before");
            return verdict;
        }
        previous_mac = record.mac;
    }
    if (head && !head->empty()) {
        bool found = false;
        for (const store::AuditRecord& record : chain) found = found || record.mac == *head;
        if (!found) {
            verdict.intact = false;
            verdict.problem =
                "the given head MAC is not in the chain, which ends at position " +
                std::to_string(chain.size()) +
                ": records were deleted from its end (the head and what came after it)";
        }
    }
    return verdict;
}

}  // namespace engined::audit
