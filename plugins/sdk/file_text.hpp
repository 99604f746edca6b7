// What an engine's data-file reader and the host's pool reader both do with a file's text: trim a
// cell, and quote a value of the file for a message.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace engined::plugin_sdk {

// `text` without the spaces, tabs and line ends around it (a quoted CSV cell may span lines).
std::string_view trim(std::string_view text);

// How many characters of a value a message shows.
inline constexpr std::size_t kQuotedCharacters = 60;
// `text` in single quotes, cut after kQuotedCharacters and its length told, so that one runaway
// cell (a missing quote swallowing the rest of a file) cannot flood the terminal.
std::string quoted_value(std::string_view text);

}  // namespace engined::plugin_sdk
