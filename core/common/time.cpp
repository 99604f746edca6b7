#include "common/time.hpp"

#include <chrono>
#include <string>

namespace engined {
namespace {

// Days since 1970-01-01 for a civil date (Howard Hinnant's algorithm).
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

bool read_digits(std::string_view text, std::size_t pos, std::size_t count, int& out) {
    if (pos + count > text.size()) return false;
    out = 0;
    for (std::size_t i = pos; i < pos + count; ++i) {
        if (text[i] < '0' || text[i] > '9') return false;
        out = out * 10 + (text[i] - '0');
    }
    return true;
}

// `value` in exactly `width` decimal digits, zero-padded (value < 10^width).
void append_digits(std::string& text, unsigned value, int width) {
    char digits[4];
    for (int i = width - 1; i >= 0; --i) {
        digits[i] = static_cast<char>('0' + value % 10);
        value /= 10;
    }
    text.append(digits, static_cast<std::size_t>(width));
}

}  // namespace

int64_t now_unix_ms() {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::string format_rfc3339_ms(int64_t unix_ms) {
    using namespace std::chrono;
    const sys_days day{days{unix_ms >= 0 ? unix_ms / 86400000 : (unix_ms - 86399999) / 86400000}};
    const year_month_day ymd{day};
    const auto ms_of_day = static_cast<unsigned>(
        unix_ms - static_cast<int64_t>(day.time_since_epoch().count()) * 86400000);
    // Digit by digit rather than snprintf: every run's fingerprint and answer carries a few.
    std::string text;
    text.reserve(24);
    const int year = int(ymd.year());
    if (year >= 0 && year <= 9999) {
        append_digits(text, static_cast<unsigned>(year), 4);
    } else {
        text += std::to_string(year);
    }
    text += '-';
    append_digits(text, unsigned(ymd.month()), 2);
    text += '-';
    append_digits(text, unsigned(ymd.day()), 2);
    text += 'T';
    append_digits(text, ms_of_day / 3600000, 2);
    text += ':';
    append_digits(text, ms_of_day / 60000 % 60, 2);
    text += ':';
    append_digits(text, ms_of_day / 1000 % 60, 2);
    text += '.';
    append_digits(text, ms_of_day % 1000, 3);
    text += 'Z';
    return text;
}

std::optional<int64_t> parse_rfc3339_ms(std::string_view t) {
    int year, month, day, hour, minute, second;
    if (!read_digits(t, 0, 4, year) || t.size() < 20 || t[4] != '-' ||
        !read_digits(t, 5, 2, month) || t[7] != '-' || !read_digits(t, 8, 2, day) ||
        (t[10] != 'T' && t[10] != 't') || !read_digits(t, 11, 2, hour) || t[13] != ':' ||
        !read_digits(t, 14, 2, minute) || t[16] != ':' || !read_digits(t, 17, 2, second)) {
        return std::nullopt;
    }
    if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) {
        return std::nullopt;
    }
    std::size_t pos = 19;
    int64_t millis = 0;
    if (pos < t.size() && t[pos] == '.') {
        ++pos;
        int scale = 100;
        const std::size_t start = pos;
        while (pos < t.size() && t[pos] >= '0' && t[pos] <= '9') {
            millis += (t[pos] - '0') * scale;
            scale /= 10;
            ++pos;
        }
        if (pos == start) return std::nullopt;
    }
    int64_t offset_minutes = 0;
    if (pos < t.size() && (t[pos] == 'Z' || t[pos] == 'z')) {
        ++pos;
    } else if (pos < t.size() && (t[pos] == '+' || t[pos] == '-')) {
        int oh, om;
        if (!read_digits(t, pos + 1, 2, oh) || pos + 3 >= t.size() || t[pos + 3] != ':' ||
            !read_digits(t, pos + 4, 2, om)) {
            return std::nullopt;
        }
        offset_minutes = (oh * 60 + om) * (t[pos] == '+' ? 1 : -1);
        pos += 6;
    } else {
        return std::nullopt;
    }
    if (pos != t.size()) return std::nullopt;
    const int64_t days =
        days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
    const int64_t seconds = days * 86400 + hour * 3600 + minute * 60 + second - offset_minutes * 60;
    return seconds * 1000 + millis;
}

}  // namespace engined
