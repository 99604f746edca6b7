#include "audit/chain.hpp"

#include "common/crypto.hpp"

#include <gtest/gtest.h>

namespace engined::audit {
namespace {

const std::string kKey(64, 'a');

// A chain of `count` records sealed with `key`, as the store and the trail would write it.
std::vector<store::AuditRecord> sealed_chain(int count, const std::string& key = kKey) {
    std::vector<store::AuditRecord> chain;
    for (int i = 0; i < count; ++i) {
        store::AuditRecord record;
        record.id = "aud_" + std::to_string(i + 1);
        record.organization = "acme";
        record.position = i + 1;
        record.actor = "key_1";
        record.action = "config.update";
        record.target = "quotes";
        record.before_hash = "b" + std::to_string(i);
        record.after_hash = "a" + std::to_string(i);
        record.at_ms = 1'700'000'000'000 + i;
        record.previous_mac = chain.empty() ? "" : chain.back().mac;
        record.mac = seal(key, record);
        chain.push_back(record);
    }
    return chain;
}

TEST(AuditChain, TheMacIsTheHmacOfTheContentAndThePreviousMac) {
    const auto chain = sealed_chain(2);
    store::AuditRecord moved = chain[1];
    moved.previous_mac = "";
    EXPECT_NE(seal(kKey, moved), chain[1].mac) << "the previous MAC is sealed in";
    EXPECT_NE(seal(std::string(64, 'b'), chain[1]), chain[1].mac) << "so is the key";
    // Length-prefixed fields: moving text from one field to its neighbour changes the MAC.
    store::AuditRecord shifted = chain[1];
    shifted.actor = "key_1c";
    shifted.action = "onfig.update";
    EXPECT_NE(seal(kKey, shifted), chain[1].mac);
}

TEST(AuditChain, EveryFieldOfTheContentIsCovered) {
    const auto chain = sealed_chain(1);
    const auto edits = std::vector<void (*)(store::AuditRecord&)>{
        [](store::AuditRecord& r) { r.id = "aud_x"; },
        [](store::AuditRecord& r) { r.organization = "other"; },
        [](store::AuditRecord& r) { r.position = 9; },
        [](store::AuditRecord& r) { r.actor = "cli:root"; },
        [](store::AuditRecord& r) { r.action = "engine.archive"; },
        [](store::AuditRecord& r) { r.target = "other"; },
        [](store::AuditRecord& r) { r.before_hash = "x"; },
        [](store::AuditRecord& r) { r.after_hash = "x"; },
        [](store::AuditRecord& r) { r.at_ms += 1; },
    };
    for (std::size_t i = 0; i < edits.size(); ++i) {
        store::AuditRecord edited = chain[0];
        edits[i](edited);
        EXPECT_NE(seal(kKey, edited), chain[0].mac) << "edit " << i;
    }
}

TEST(AuditChain, AnIntactChainVerifiesAndAnEditedPreviousMacIsNamed) {
    auto chain = sealed_chain(3);
    const ChainVerdict intact = verify_chain(kKey, "acme", chain, chain.back().mac);
    EXPECT_TRUE(intact.intact) << intact.problem;
    EXPECT_EQ(intact.records, 3u);
    EXPECT_EQ(intact.head_mac, chain.back().mac);
    EXPECT_TRUE(verify_chain(kKey, "acme", {}, std::nullopt).intact) << "no records, no head";
    EXPECT_FALSE(verify_chain(kKey, "acme", {}, chain.back().mac).intact)
        << "every record after a logged head was deleted";

    chain[1].previous_mac = "forged";
    const ChainVerdict edited = verify_chain(kKey, "acme", chain, std::nullopt);
    EXPECT_FALSE(edited.intact);
    EXPECT_EQ(edited.first_bad_record, "aud_2");
    EXPECT_EQ(edited.first_bad_position, 2);
    EXPECT_NE(edited.problem.find("previous_mac"), std::string::npos) << edited.problem;
}

}  // namespace
}  // namespace engined::audit
