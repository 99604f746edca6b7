// RFC 3339 date-times (quote expiry dates). Parsed here rather than through a JSON Schema
// "format" check, which is costly in the validator and silent about what it accepted.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace engined::placement {

// Milliseconds since the Unix epoch of an RFC 3339 date-time ("2027-01-15T00:00:00Z",
// "2027-01-15T09:30:00.250+02:00"); nullopt when `text` is not one.
std::optional<std::int64_t> parse_rfc3339_ms(std::string_view text);

}  // namespace engined::placement
