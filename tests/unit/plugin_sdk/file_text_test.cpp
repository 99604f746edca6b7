// The data-file text helpers the engines and the host's pool reader share.
#include "file_text.hpp"

#include <gtest/gtest.h>

#include <string>

namespace engined::plugin_sdk {
namespace {

TEST(FileText, TrimDropsSpacesTabsAndLineEndsAroundTheTextOnly) {
    EXPECT_EQ(trim(" \t\r\nSt. Paul \n\t "), "St. Paul");
    EXPECT_EQ(trim("a\n b"), "a\n b");
    EXPECT_EQ(trim(" \r\n\t"), "");
    EXPECT_EQ(trim(""), "");
}

TEST(FileText, AValueUpToTheLimitIsQuotedWhole) {
    EXPECT_EQ(quoted_value(""), "''");
    const std::string at_limit(kQuotedCharacters, 'x');
    EXPECT_EQ(quoted_value(at_limit), "'" + at_limit + "'");
}

TEST(FileText, AValuePastTheLimitIsCutAndItsLengthTold) {
    const std::string past_limit = std::string(kQuotedCharacters, 'x') + "y";
    EXPECT_EQ(quoted_value(past_limit), "'" + std::string(kQuotedCharacters, 'x') + "...' (" +
                                            std::to_string(kQuotedCharacters + 1) + " characters)");
}

}  // namespace
}  // namespace engined::plugin_sdk
