#include "common/json_text.hpp"

#include <gtest/gtest.h>

namespace engined {
namespace {

TEST(Utf8Length, CountsCharactersNotBytes) {
    EXPECT_EQ(utf8_length(""), 0u);
    EXPECT_EQ(utf8_length("abc"), 3u);
    EXPECT_EQ(utf8_length("\xC3\xA9t\xC3\xA9"), 3u);             // "été"
    EXPECT_EQ(utf8_length("\xF0\x9F\x99\x82\xE2\x82\xAC"), 2u);  // an emoji and "€"
}

TEST(TruncatedText, KeepsTextAtTheCapAndCutsPastItWithTheMarker) {
    EXPECT_EQ(truncated_text("abcd", 4), "abcd");
    EXPECT_EQ(truncated_text("abcde", 4), "abcd\xE2\x80\xA6[truncated 1 bytes]");
    EXPECT_EQ(truncated_text(std::string("a\0bcd", 5), 3),
              std::string("a\0b", 3) + "\xE2\x80\xA6[truncated 2 bytes]");
}

TEST(TruncatedText, NeverSplitsACharacter) {
    const std::string emoji = "\xF0\x9F\x99\x82";  // 4 bytes
    for (std::size_t cap = 1; cap < 4; ++cap) {
        const std::string cut = truncated_text("x" + emoji, cap);
        EXPECT_EQ(cut, "x\xE2\x80\xA6[truncated 4 bytes]") << cap;
        EXPECT_EQ(valid_utf8(cut), cut);
    }
    EXPECT_EQ(truncated_text("x" + emoji + "y", 5),
              "x" + emoji + "\xE2\x80\xA6[truncated 1 bytes]");
}

TEST(NonFiniteNumberAt, FindsWhatASerialiserWroteForAnInfinityOrNaN) {
    EXPECT_EQ(non_finite_number_at(R"({"a":[1,Infinity]})"), 8u);
    EXPECT_EQ(non_finite_number_at(R"({"a":-Infinity})"), 6u);
    EXPECT_EQ(non_finite_number_at(R"({"a":NaN})"), 5u);
    EXPECT_FALSE(non_finite_number_at(R"({"a":"Infinity"})").has_value());
    EXPECT_FALSE(non_finite_number_at(R"({"a":1e308})").has_value());
    EXPECT_FALSE(non_finite_number_at(R"({"a":nope})").has_value());
}

}  // namespace
}  // namespace engined
