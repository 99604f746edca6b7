#include "common/json_text.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

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

namespace engined {
namespace {

// Every byte value in a string, in a member name and as a value: the escapes Boost.JSON writes.
std::string every_byte() {
    std::string text;
    for (int byte = 0; byte < 256; ++byte) text += static_cast<char>(byte);
    return text;
}

// compact_json writes what boost::json::serialize writes for everything but doubles (written in
// their shortest form): stored texts and content hashes written before stay byte-identical.
// is_internal_json answers what parse_internal_json does, on texts around each way to fail:
// grammar, trailing data, UTF-8, the nesting bound (1,024).
TEST(IsInternalJson, AcceptsExactlyWhatParseInternalJsonReads) {
    std::vector<std::string> texts{"{}",
                                   " [1, 2.5, -3e2, true, null] ",
                                   R"({"a":{"b":["c"]}})",
                                   "\"\\u00e9\\ud83d\\ude00\"",
                                   "0",
                                   "",
                                   " ",
                                   "{",
                                   "}",
                                   "[1,]",
                                   R"({"a":1,})",
                                   "{} {}",
                                   "{}x",
                                   "nul",
                                   "01",
                                   "1.",
                                   "\"\x01\"",
                                   "\"\xc3\x28\"",
                                   "\"\xe9\"",
                                   "NaN",
                                   "Infinity",
                                   "/* c */ {}",
                                   "\"\\x\""};
    for (const int depth : {1023, 1024, 1025}) {
        texts.push_back(std::string(depth, '[') + std::string(depth, ']'));
    }
    for (const std::string& text : texts) {
        boost::system::error_code ec;
        parse_internal_json(text, ec);
        EXPECT_EQ(is_internal_json(text), !ec) << text.substr(0, 40);
    }
    EXPECT_TRUE(is_internal_json(std::string(1024, '[') + std::string(1024, ']')));
    EXPECT_FALSE(is_internal_json(std::string(1025, '[') + std::string(1025, ']')));
}

// object_member_texts reads each member of an object as Boost.JSON does, value text included
// (nested containers, strings holding brackets, quotes and escapes, numbers, literals, any
// whitespace), and gives up on what it does not read: escaped or repeated keys, non-objects.
TEST(ObjectMemberTexts, ReadsEachMemberAsBoostJsonDoesOrGivesUp) {
    for (const std::string& text :
         {std::string(R"({})"), std::string(" { } "),
          std::string(R"({"status":"degraded","stage":"RANK","output":{"a":[1,{"b":"}]"}]},)"
                      R"("solutions":[{"x":"q\"uote\\","y":-1.5e3}],"n":null,"t":true,"z":0})"),
          std::string("{\n  \"a\" : [ 1 , 2 ] ,\n\t\"b\":\"[{\\u0041\"\r\n}"),
          std::string(R"({"e":"","f":[],"g":{},"h":[[[]]],"i":12345678901234567890})")}) {
        const auto members = object_member_texts(text);
        ASSERT_TRUE(members) << text;
        const boost::json::object expected = boost::json::parse(text).as_object();
        ASSERT_EQ(members->size(), expected.size()) << text;
        std::size_t i = 0;
        for (const auto& member : expected) {
            EXPECT_EQ((*members)[i].key, std::string_view(member.key())) << text;
            EXPECT_EQ(boost::json::parse((*members)[i].value), member.value())
                << text << " at " << (*members)[i].value;
            ++i;
        }
    }
    EXPECT_EQ(object_member_texts(R"({"a":1,"b":{"c":[2]}})")->at(1).value, R"({"c":[2]})");
    EXPECT_EQ(object_member_texts(R"({ "a" : "x" , "b" : 2 })")->at(0).value, R"("x")");
    for (const char* refused : {R"({"st\u0061tus":"x"})", R"({"a\"b":1})", R"({"a":1,"a":2})",
                                "[1,2]", R"("text")", "3", "null"}) {
        EXPECT_FALSE(object_member_texts(refused)) << refused;
    }
}

TEST(CompactJson, WritesStringsIntegersAndLiteralsAsBoostJsonDoes) {
    const boost::json::value document{
        {"plain", "text"},
        {every_byte(), every_byte()},
        {"escapes",
         {"\"quoted\"", "back\\slash", "\b\f\n\r\t", std::string("nul\0byte", 8), "\x1f\x7f",
          "caf\xc3\xa9 \xf0\x9f\x9a\x97", "", "/"}},
        {"integers", {0, -1, 42, INT64_MIN, INT64_MAX, UINT64_MAX}},
        {"literals", {true, false, nullptr}},
        {"nested",
         {{"empty_object", boost::json::object{}}, {"empty_array", boost::json::array{}}}},
    };
    EXPECT_EQ(compact_json(document), boost::json::serialize(document));
}

// An object given as it is writes exactly what the same object as a value writes: members in
// order, nested containers, shortest-decimal numbers.
TEST(CompactJson, WritesAnObjectAsItWritesTheSameObjectAsAValue) {
    const boost::json::object document{
        {"b", 1.5},
        {"a", {{"z", 0.1}, {"y", boost::json::array{1, 2.25e-7, "x"}}}},
        {"empty", boost::json::object{}},
        {"n", nullptr},
    };
    EXPECT_EQ(compact_json(document), compact_json(boost::json::value(document)));
    EXPECT_EQ(compact_json(document),
              R"({"b":1.5,"a":{"z":0.1,"y":[1,2.25e-07,"x"]},"empty":{},"n":null})");
    EXPECT_EQ(compact_json(boost::json::object{}), "{}");
}

TEST(CanonicalJson, SortsMembersAtEveryLevelAndEscapesAsCompactJsonDoes) {
    const boost::json::value document{{"b", {{"z", 1}, {"a\n", "x\ty"}}},
                                      {"a", {{{"d", nullptr}, {"c", false}}}}};
    EXPECT_EQ(canonical_json(document), R"({"a":[{"c":false,"d":null}],"b":{"a\n":"x\ty","z":1}})");
    // More members than fit on the stack are sorted alike.
    boost::json::object wide;
    std::string expected = "{";
    for (int i = 40; i-- > 0;) wide[std::to_string(100 + i)] = i;
    for (int i = 0; i < 40; ++i) {
        expected += (i > 0 ? ",\"" : "\"") + std::to_string(100 + i) + "\":" + std::to_string(i);
    }
    EXPECT_EQ(canonical_json(wide), expected + "}");
}

}  // namespace
}  // namespace engined
