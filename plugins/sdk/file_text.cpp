#include "file_text.hpp"

namespace engined::plugin_sdk {

std::string_view trim(std::string_view text) {
    constexpr std::string_view kSpace = " \t\r\n";
    const auto first = text.find_first_not_of(kSpace);
    if (first == std::string_view::npos) return {};
    return text.substr(first, text.find_last_not_of(kSpace) - first + 1);
}

std::string quoted_value(std::string_view text) {
    if (text.size() <= kQuotedCharacters) return "'" + std::string(text) + "'";
    return "'" + std::string(text.substr(0, kQuotedCharacters)) + "...' (" +
           std::to_string(text.size()) + " characters)";
}

}  // namespace engined::plugin_sdk
