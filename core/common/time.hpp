// Wall-clock helpers: milliseconds since the Unix epoch and their RFC 3339 UTC form.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace engined {

int64_t now_unix_ms();

// "2026-11-23T14:27:05.123Z"
std::string format_rfc3339_ms(int64_t unix_ms);

// Accepts "YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)"; nullopt when malformed.
std::optional<int64_t> parse_rfc3339_ms(std::string_view text);

}  // namespace engined
