// RFC 3339 date-times and quote expiry dates (a date-time, or a date-only day read in the
// insured state's civil time). Parsed here rather than through a JSON Schema "format" check,
// which is costly in the validator and silent about what it accepted.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace engined::placement {

// Milliseconds since the Unix epoch of an RFC 3339 date-time ("2027-01-15T00:00:00Z",
// "2027-01-15T09:30:00.250+02:00"); nullopt when `text` is not one.
std::optional<std::int64_t> parse_rfc3339_ms(std::string_view text);

// The last millisecond a quote is valid: an RFC 3339 date-time as written, or a date-only
// "2026-12-31" as the end of that day (23:59:59.999) in the civil time of `state` (a US state or
// territory code: its most populous zone, with US daylight saving where the state observes it;
// UTC when the state is absent or unknown). nullopt when `text` is neither.
std::optional<std::int64_t> parse_quote_expiry_ms(std::string_view text,
                                                  const std::optional<std::string>& state);

}  // namespace engined::placement
