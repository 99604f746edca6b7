#include "common/paging.hpp"

#include "common/api_error.hpp"

#include <charconv>

namespace engined {

std::string encode_page_cursor(int64_t seq) {
    return "c" + std::to_string(seq);
}

int64_t decode_page_cursor(const std::string& cursor) {
    int64_t seq = 0;
    if (cursor.size() >= 2 && cursor[0] == 'c') {
        const auto [end, ec] =
            std::from_chars(cursor.data() + 1, cursor.data() + cursor.size(), seq);
        if (ec == std::errc() && end == cursor.data() + cursor.size() && seq > 0) return seq;
    }
    throw ApiError::invalid_request("cursor is not one this API issued; pass next_cursor unchanged",
                                    {{"cursor", "unrecognised"}});
}

int parse_page_limit(const std::optional<std::string>& text, int fallback, int max) {
    if (!text) return fallback;
    int limit = 0;
    const auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), limit);
    if (ec != std::errc() || end != text->data() + text->size() || limit < 1 || limit > max) {
        throw ApiError::invalid_request("limit must be an integer from 1 to " + std::to_string(max),
                                        {{"limit", "got '" + *text + "'"}});
    }
    return limit;
}

}  // namespace engined
