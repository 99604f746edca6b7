// Paged listings (runs, the audit log): the opaque cursor that continues a listing newest first
// below a sequence number, and the page size a client asks for. Bad input is ApiError 400.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace engined {

// Cursors are opaque to clients; they carry the sequence number to continue below.
std::string encode_page_cursor(int64_t seq);
// The sequence number of a cursor this API issued; ApiError 400 (`cursor`) for any other text.
int64_t decode_page_cursor(const std::string& cursor);
// `text` as a page size from 1 to `max`; ApiError 400 (`limit`) otherwise. None: `fallback`.
int parse_page_limit(const std::optional<std::string>& text, int fallback, int max);

}  // namespace engined
