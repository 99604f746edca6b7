#include "timestamp.hpp"

#include <array>
#include <utility>

namespace engined::placement {

namespace {

// Reads exactly `digits` decimal digits at `pos`, advancing it.
std::optional<int> read_digits(std::string_view text, std::size_t& pos, std::size_t digits) {
    if (pos + digits > text.size()) {
        return std::nullopt;
    }
    int value = 0;
    for (std::size_t i = 0; i < digits; ++i) {
        const char c = text[pos + i];
        if (c < '0' || c > '9') {
            return std::nullopt;
        }
        value = value * 10 + (c - '0');
    }
    pos += digits;
    return value;
}

bool expect(std::string_view text, std::size_t& pos, std::string_view accepted) {
    if (pos < text.size() && accepted.find(text[pos]) != std::string_view::npos) {
        ++pos;
        return true;
    }
    return false;
}

bool is_leap_year(int year) {
    return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

int days_in_month(int year, int month) {
    constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return month == 2 && is_leap_year(year) ? 29 : kDays[month - 1];
}

// Days from 1970-01-01 to the given civil date (H. Hinnant's days_from_civil).
std::int64_t days_from_civil(int year, int month, int day) {
    year -= month <= 2 ? 1 : 0;
    const int era = (year >= 0 ? year : year - 399) / 400;
    const int year_of_era = year - era * 400;
    const int day_of_year = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
    const int day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    return static_cast<std::int64_t>(era) * 146097 + day_of_era - 719468;
}

// Milliseconds of a ".fff..." fraction (digits beyond the millisecond are dropped).
std::optional<int> read_fraction_ms(std::string_view text, std::size_t& pos) {
    const std::size_t start = pos;
    int ms = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
        if (pos - start < 3) {
            ms = ms * 10 + (text[pos] - '0');
        }
        ++pos;
    }
    if (pos == start) {
        return std::nullopt;
    }
    for (std::size_t scaled = pos - start; scaled < 3; ++scaled) {
        ms *= 10;
    }
    return ms;
}

// The zone offset in minutes east of UTC: "Z" or "+HH:MM" / "-HH:MM".
std::optional<int> read_offset_minutes(std::string_view text, std::size_t& pos) {
    if (expect(text, pos, "Zz")) {
        return 0;
    }
    if (pos >= text.size() || (text[pos] != '+' && text[pos] != '-')) {
        return std::nullopt;
    }
    const int sign = text[pos++] == '-' ? -1 : 1;
    const auto hours = read_digits(text, pos, 2);
    if (!hours || !expect(text, pos, ":")) {
        return std::nullopt;
    }
    const auto minutes = read_digits(text, pos, 2);
    if (!minutes || *hours > 23 || *minutes > 59) {
        return std::nullopt;
    }
    return sign * (*hours * 60 + *minutes);
}

constexpr std::int64_t kMsPerDay = 86'400'000;

struct StateZone {
    std::string_view state;
    int standard_offset_minutes;  // east of UTC
    bool daylight_saving;         // observes US daylight saving time
};

// Each state's most populous zone (a state spanning two zones reads a date as its larger part does).
constexpr std::array kStateZones{
    StateZone{"AK", -540, true},  StateZone{"AL", -360, true},  StateZone{"AR", -360, true},
    StateZone{"AS", -660, false}, StateZone{"AZ", -420, false}, StateZone{"CA", -480, true},
    StateZone{"CO", -420, true},  StateZone{"CT", -300, true},  StateZone{"DC", -300, true},
    StateZone{"DE", -300, true},  StateZone{"FL", -300, true},  StateZone{"GA", -300, true},
    StateZone{"GU", 600, false},  StateZone{"HI", -600, false}, StateZone{"IA", -360, true},
    StateZone{"ID", -420, true},  StateZone{"IL", -360, true},  StateZone{"IN", -300, true},
    StateZone{"KS", -360, true},  StateZone{"KY", -300, true},  StateZone{"LA", -360, true},
    StateZone{"MA", -300, true},  StateZone{"MD", -300, true},  StateZone{"ME", -300, true},
    StateZone{"MI", -300, true},  StateZone{"MN", -360, true},  StateZone{"MO", -360, true},
    StateZone{"MP", 600, false},  StateZone{"MS", -360, true},  StateZone{"MT", -420, true},
    StateZone{"NC", -300, true},  StateZone{"ND", -360, true},  StateZone{"NE", -360, true},
    StateZone{"NH", -300, true},  StateZone{"NJ", -300, true},  StateZone{"NM", -420, true},
    StateZone{"NV", -480, true},  StateZone{"NY", -300, true},  StateZone{"OH", -300, true},
    StateZone{"OK", -360, true},  StateZone{"OR", -480, true},  StateZone{"PA", -300, true},
    StateZone{"PR", -240, false}, StateZone{"RI", -300, true},  StateZone{"SC", -300, true},
    StateZone{"SD", -360, true},  StateZone{"TN", -360, true},  StateZone{"TX", -360, true},
    StateZone{"UT", -420, true},  StateZone{"VA", -300, true},  StateZone{"VI", -240, false},
    StateZone{"VT", -300, true},  StateZone{"WA", -480, true},  StateZone{"WI", -360, true},
    StateZone{"WV", -300, true},  StateZone{"WY", -420, true},
};

// 0 = Sunday.
int weekday(std::int64_t days_since_epoch) {
    return static_cast<int>(((days_since_epoch + 4) % 7 + 7) % 7);  // 1970-01-01 was a Thursday
}

// The day of the `nth` Sunday of `month` (1-based), in days since the epoch.
std::int64_t nth_sunday(int year, int month, int nth) {
    const std::int64_t first = days_from_civil(year, month, 1);
    return first + (7 - weekday(first)) % 7 + 7 * (nth - 1);
}

// At the end of a day, US daylight saving time (since 2007) is in force from the second Sunday
// of March up to, not including, the first Sunday of November (it ends at 02:00 that morning).
bool daylight_saving_at_end_of(int year, std::int64_t day) {
    return day >= nth_sunday(year, 3, 2) && day < nth_sunday(year, 11, 1);
}

// The zone offset in minutes east of UTC in force at the end of `day` in `state`.
int offset_at_end_of_day(const std::optional<std::string>& state, int year, std::int64_t day) {
    if (!state) return 0;
    for (const StateZone& zone : kStateZones) {
        if (zone.state == *state) {
            const bool summer = zone.daylight_saving && daylight_saving_at_end_of(year, day);
            return zone.standard_offset_minutes + (summer ? 60 : 0);
        }
    }
    return 0;
}

struct CivilDate {
    int year;
    int month;
    int day;
};

// "YYYY-MM-DD" at `pos`, a day the calendar has; `pos` moves past it.
std::optional<CivilDate> read_date(std::string_view text, std::size_t& pos) {
    const auto year = read_digits(text, pos, 4);
    if (!year || !expect(text, pos, "-")) return std::nullopt;
    const auto month = read_digits(text, pos, 2);
    if (!month || !expect(text, pos, "-")) return std::nullopt;
    const auto day = read_digits(text, pos, 2);
    if (!day || *month < 1 || *month > 12 || *day < 1 || *day > days_in_month(*year, *month))
        return std::nullopt;
    return CivilDate{*year, *month, *day};
}

// "YYYY-MM-DD" alone: the year and days since the epoch.
std::optional<std::pair<int, std::int64_t>> parse_date_only(std::string_view text) {
    std::size_t pos = 0;
    const auto date = read_date(text, pos);
    if (!date || pos != text.size()) return std::nullopt;
    return std::pair{date->year, days_from_civil(date->year, date->month, date->day)};
}

}  // namespace

std::optional<std::int64_t> parse_quote_expiry_ms(std::string_view text,
                                                  const std::optional<std::string>& state) {
    const auto date = parse_date_only(text);
    if (!date) return parse_rfc3339_ms(text);
    const auto [year, day] = *date;
    const std::int64_t local_end_ms = (day + 1) * kMsPerDay - 1;
    return local_end_ms - std::int64_t{offset_at_end_of_day(state, year, day)} * 60'000;
}

std::optional<std::int64_t> parse_rfc3339_ms(std::string_view text) {
    std::size_t pos = 0;
    const auto date = read_date(text, pos);
    // RFC 3339 §5.6 allows a space or lower-case "t" between date and time.
    if (!date || !expect(text, pos, "Tt ")) return std::nullopt;
    const auto hour = read_digits(text, pos, 2);
    if (!hour || !expect(text, pos, ":")) return std::nullopt;
    const auto minute = read_digits(text, pos, 2);
    if (!minute || !expect(text, pos, ":")) return std::nullopt;
    const auto second = read_digits(text, pos, 2);
    if (!second) return std::nullopt;

    std::optional<int> millisecond = 0;
    if (expect(text, pos, ".")) {
        millisecond = read_fraction_ms(text, pos);
    }
    const auto offset = read_offset_minutes(text, pos);
    if (!millisecond || !offset || pos != text.size()) return std::nullopt;

    // A leap second (":60") is legal; it counts as the next second's start.
    if (*hour > 23 || *minute > 59 || *second > 60) return std::nullopt;
    const std::int64_t seconds = days_from_civil(date->year, date->month, date->day) * 86400 +
                                 *hour * 3600 + *minute * 60 + *second - std::int64_t{*offset} * 60;
    return seconds * 1000 + *millisecond;
}

}  // namespace engined::placement
