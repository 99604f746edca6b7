#include "common/crypto.hpp"

#include <gtest/gtest.h>

#include <regex>
#include <set>
#include <thread>
#include <vector>

namespace engined {
namespace {

TEST(Crypto, Sha256MatchesKnownVectors) {
    EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    EXPECT_EQ(sha256_hex("abc"),
              "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

// Each thread reuses one digest context: a hash must not carry anything over from the one before
// it on the same thread, nor from another thread's.
TEST(Crypto, Sha256IsTheSameOnEveryThreadAndAfterEveryOtherHash) {
    const std::string million_a(1'000'000, 'a');
    constexpr const char* kMillionA =
        "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";
    constexpr const char* kAbc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
    std::vector<int> mismatches(4, 0);
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < 50; ++i) {
                if (sha256_hex(million_a) != kMillionA) ++mismatches[t];
                if (sha256_hex("abc") != kAbc) ++mismatches[t];
            }
        });
    }
    for (auto& thread : threads) thread.join();
    EXPECT_EQ(mismatches, std::vector<int>(4, 0));
}

TEST(Crypto, RandomHexHasRequestedLengthAndVaries) {
    const std::string a = random_hex(32);
    EXPECT_EQ(a.size(), 64u);
    EXPECT_NE(a, random_hex(32));
}

TEST(Crypto, UuidV4IsCanonicalAndUnique) {
    const std::regex form("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");
    std::set<std::string> seen;
    for (int i = 0; i < 1000; ++i) {
        const std::string id = uuid_v4();
        ASSERT_TRUE(std::regex_match(id, form)) << id;
        seen.insert(id);
    }
    EXPECT_EQ(seen.size(), 1000u);
}

TEST(Crypto, UuidV7CarriesItsMillisecondInItsFirst48BitsAndRandomnessAfter) {
    const std::regex form("^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");
    const std::uint64_t now = 1'796'000'000'000;  // 2026-11
    for (const std::uint64_t ms :
         {std::uint64_t{0}, std::uint64_t{1}, now, std::uint64_t{0xffff'ffff'ffff}}) {
        const std::string id = uuid_v7(ms);
        ASSERT_TRUE(std::regex_match(id, form)) << id;
        EXPECT_EQ(std::stoull(id.substr(0, 8) + id.substr(9, 4), nullptr, 16), ms) << id;
    }
    std::set<std::string> same_millisecond;
    for (int i = 0; i < 1000; ++i) same_millisecond.insert(uuid_v7(now));
    EXPECT_EQ(same_millisecond.size(), 1000u);
    // Ids of a later millisecond sort after every id of an earlier one, as text too.
    EXPECT_LT(*same_millisecond.rbegin(), uuid_v7(now + 1));
    EXPECT_LT(uuid_v7(0xff'ffff'ffff), uuid_v7(0x100'0000'0000));
}

// Each thread draws its identifiers' random bytes a block at a time: threads never share bytes.
TEST(Crypto, UuidV4IsUniqueAcrossThreads) {
    constexpr int kThreads = 4;
    constexpr int kEach = 2000;
    std::vector<std::vector<std::string>> made(kThreads);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&made, t] {
            for (int i = 0; i < kEach; ++i) made[t].push_back(uuid_v4());
        });
    }
    for (auto& thread : threads) thread.join();
    std::set<std::string> seen;
    for (const auto& ids : made) seen.insert(ids.begin(), ids.end());
    EXPECT_EQ(seen.size(), static_cast<std::size_t>(kThreads * kEach));
}

}  // namespace
}  // namespace engined
