#include "carrier_records.hpp"

#include "file_text.hpp"
#include "lines.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace engined::entity_analysis {

namespace {

using plugin_sdk::quoted_value;
using plugin_sdk::trim;

// A carrier record that breaks a rule; the caller adds which record it is.
class FieldError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

enum class FieldKind { text, list, lines, number, flag };

struct FieldSpec {
    std::string_view name;
    FieldKind kind;
};

constexpr std::array<FieldSpec, 17> kFields{{
    {"id", FieldKind::text},
    {"name", FieldKind::text},
    {"am_best_rating", FieldKind::text},
    {"financial_size", FieldKind::text},
    {"states", FieldKind::list},
    {"lines", FieldKind::lines},
    {"prohibited_naics", FieldKind::list},
    {"avoided_naics", FieldKind::list},
    {"revenue_min", FieldKind::number},
    {"revenue_max", FieldKind::number},
    {"employees_min", FieldKind::number},
    {"employees_max", FieldKind::number},
    {"pricing_index", FieldKind::number},
    {"commission", FieldKind::number},
    {"claims_satisfaction", FieldKind::number},
    {"quote_turnaround_days", FieldKind::number},
    {"synthetic", FieldKind::flag},
}};

constexpr std::array<std::string_view, 17> kRatings{"A++", "A+", "A",   "A-", "B++", "B+",
                                                    "B",   "B-", "C++", "C+", "C",   "C-",
                                                    "D",   "E",  "F",   "S",  "NR"};
constexpr std::array<std::string_view, 15> kFinancialSizes{
    "I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII", "XIII", "XIV", "XV"};
constexpr std::array<std::string_view, 51> kStates{
    "AK", "AL", "AR", "AZ", "CA", "CO", "CT", "DC", "DE", "FL", "GA", "HI", "IA",
    "ID", "IL", "IN", "KS", "KY", "LA", "MA", "MD", "ME", "MI", "MN", "MO", "MS",
    "MT", "NC", "ND", "NE", "NH", "NJ", "NM", "NV", "NY", "OH", "OK", "OR", "PA",
    "RI", "SC", "SD", "TN", "TX", "UT", "VA", "VT", "WA", "WI", "WV", "WY"};
constexpr std::array<std::string_view, 3> kAppetites{"preferred", "acceptable", "excluded"};

struct Range {
    std::string_view field;
    double min;
    double max;
    std::string_view text;  // as people write the range, "0.5 to 2.0"
};

constexpr std::array<Range, 4> kRanges{{
    {"pricing_index", 0.5, 2.0, "0.5 to 2.0"},
    {"commission", 0.0, 0.5, "0 to 0.5"},
    {"claims_satisfaction", 0.0, 1.0, "0 to 1"},
    {"quote_turnaround_days", 0.0, 60.0, "0 to 60"},
}};

constexpr std::size_t kMaxNameCodePoints = 200;

template <std::size_t N>
bool is_one_of(const std::array<std::string_view, N>& values, std::string_view text) {
    return std::find(values.begin(), values.end(), text) != values.end();
}

template <std::size_t N>
std::string list_text(const std::array<std::string_view, N>& values) {
    std::string out;
    for (const auto value : values) out += (out.empty() ? "" : ", ") + std::string(value);
    return out;
}

// 1000, not 1e+03: the way the number was most likely written.
std::string number_text(double number) {
    char buffer[32];
    const bool whole = std::fabs(number) < 1e15 && number == std::floor(number);
    const auto result =
        whole ? std::to_chars(buffer, buffer + sizeof buffer, static_cast<int64_t>(number))
              : std::to_chars(buffer, buffer + sizeof buffer, number);
    return std::string(buffer, result.ptr);
}

// Whole numbers become integers so that "5000" in a CSV cell and 5000.0 in JSON are one value.
boost::json::value canonical_number(double number) {
    constexpr double kExactIntegers = 9007199254740992.0;  // 2^53
    if (number == std::floor(number) && std::fabs(number) <= kExactIntegers) {
        return static_cast<int64_t>(number);
    }
    return number;
}

std::string kind_name(const boost::json::value& value) {
    switch (value.kind()) {
        case boost::json::kind::string:
            return "a string";
        case boost::json::kind::bool_:
            return "a boolean";
        case boost::json::kind::array:
            return "an array";
        case boost::json::kind::object:
            return "an object";
        case boost::json::kind::null:
            return "null";
        default:
            return "a number";
    }
}

// Absent and null are the same: "not given".
const boost::json::value* given(const boost::json::object& record, std::string_view field) {
    const auto* value = record.if_contains(field);
    return value == nullptr || value->is_null() ? nullptr : value;
}

const boost::json::value& required(const boost::json::object& record, std::string_view field) {
    const auto* value = given(record, field);
    if (value == nullptr) throw FieldError(std::string(field) + " is required");
    return *value;
}

std::string string_field(const boost::json::value& value, std::string_view field) {
    if (!value.is_string())
        throw FieldError(std::string(field) + ": expected a string, got " + kind_name(value));
    return std::string(value.get_string());
}

const boost::json::array& array_field(const boost::json::value& value, std::string_view field) {
    if (!value.is_array())
        throw FieldError(std::string(field) + ": expected an array, got " + kind_name(value));
    return value.get_array();
}

double number_field(const boost::json::value& value, std::string_view field) {
    if (!value.is_number())
        throw FieldError(std::string(field) + ": expected a number, got " + kind_name(value));
    return value.to_number<double>();
}

// Code points in `text`, or nullopt when it is not UTF-8 (JSON text is, but this engine does not
// rely on every host having checked).
std::optional<std::size_t> utf8_length(std::string_view text) {
    std::size_t count = 0;
    for (std::size_t i = 0; i < text.size(); ++count) {
        const auto lead = static_cast<unsigned char>(text[i]);
        std::size_t extra = 0;
        unsigned char low = 0x80, high = 0xBF;  // the range of the second byte
        if (lead < 0x80) {
            extra = 0;
        } else if (lead >= 0xC2 && lead <= 0xDF) {
            extra = 1;
        } else if (lead >= 0xE0 && lead <= 0xEF) {
            extra = 2;
            if (lead == 0xE0) low = 0xA0;   // overlong
            if (lead == 0xED) high = 0x9F;  // surrogates
        } else if (lead >= 0xF0 && lead <= 0xF4) {
            extra = 3;
            if (lead == 0xF0) low = 0x90;   // overlong
            if (lead == 0xF4) high = 0x8F;  // past U+10FFFF
        } else {
            return std::nullopt;
        }
        if (i + extra >= text.size()) return std::nullopt;  // cut short
        for (std::size_t k = 1; k <= extra; ++k) {
            const auto byte = static_cast<unsigned char>(text[i + k]);
            const unsigned char min = k == 1 ? low : 0x80, max = k == 1 ? high : 0xBF;
            if (byte < min || byte > max) return std::nullopt;
        }
        i += extra + 1;
    }
    return count;
}

// --- One carrier record: raw object in, canonical object out, FieldError on any broken rule.

std::string canonical_id(const boost::json::object& record) {
    const std::string id = string_field(required(record, "id"), "id");
    if (!is_carrier_id(id)) {
        throw FieldError("id " + quoted_value(id) +
                         " is not 1 to 64 characters of A-Z a-z 0-9 _ . -");
    }
    return id;
}

std::string canonical_name(const boost::json::object& record) {
    const std::string raw = string_field(required(record, "name"), "name");
    const std::string name(trim(raw));
    const auto length = utf8_length(name);
    if (!length) throw FieldError("name is not valid UTF-8");
    if (*length == 0) throw FieldError("name is empty");
    if (*length > kMaxNameCodePoints) {
        throw FieldError("name is " + std::to_string(*length) +
                         " characters long, at most 200 allowed");
    }
    const bool has_control = std::any_of(name.begin(), name.end(), [](char c) {
        return static_cast<unsigned char>(c) < 0x20 || c == 0x7F;
    });
    if (has_control) throw FieldError("name contains a control character (a line break or tab)");
    return name;
}

template <std::size_t N>
void copy_choice(const boost::json::object& record, std::string_view field,
                 const std::array<std::string_view, N>& choices, boost::json::object& out) {
    const auto* value = given(record, field);
    if (value == nullptr) return;
    const std::string text = string_field(*value, field);
    if (!is_one_of(choices, text)) {
        throw FieldError(std::string(field) + " " + quoted_value(text) + " is not one of " +
                         list_text(choices));
    }
    out[field] = text;
}

// Each entry a string, none repeated; sorted, since the order carries no meaning.
std::vector<std::string> string_set(const boost::json::array& items, std::string_view field) {
    std::vector<std::string> values;
    for (const auto& item : items) {
        std::string text = string_field(item, field);
        if (std::find(values.begin(), values.end(), text) != values.end()) {
            throw FieldError(std::string(field) + " lists " + quoted_value(text) + " twice");
        }
        values.push_back(std::move(text));
    }
    std::sort(values.begin(), values.end());
    return values;
}

boost::json::array to_array(const std::vector<std::string>& values) {
    boost::json::array out;
    for (const auto& value : values) out.emplace_back(value);
    return out;
}

boost::json::array canonical_states(const boost::json::object& record) {
    const auto states = string_set(array_field(required(record, "states"), "states"), "states");
    if (states.empty())
        throw FieldError("states is empty; expected state codes, or [\"*\"] for all states");
    const bool all = std::find(states.begin(), states.end(), "*") != states.end();
    if (all && states.size() > 1)
        throw FieldError("states: '*' (all states) cannot be combined with state codes");
    for (const auto& state : states) {
        if (state != "*" && !is_one_of(kStates, state)) {
            throw FieldError("states: " + quoted_value(state) +
                             " is not a US state code (two capital letters, DC included) or '*'");
        }
    }
    return to_array(states);
}

boost::json::object canonical_line(const boost::json::value& item) {
    if (!item.is_object())
        throw FieldError("lines: expected {\"line\", \"appetite\"} objects, got " +
                         kind_name(item));
    const auto& entry = item.get_object();
    for (const auto& member : entry) {
        if (member.key() != "line" && member.key() != "appetite") {
            throw FieldError("lines: unknown field " + quoted_value(member.key()) +
                             " (expected line and appetite)");
        }
    }
    const std::string line = string_field(required(entry, "line"), "lines.line");
    if (!line_from_name(line))
        throw FieldError("lines: " + quoted_value(line) + " is not one of " + line_vocabulary());
    const std::string appetite = string_field(required(entry, "appetite"), "lines.appetite");
    if (!is_one_of(kAppetites, appetite)) {
        throw FieldError("lines: appetite " + quoted_value(appetite) + " for " + line +
                         " is not one of " + list_text(kAppetites));
    }
    return {{"line", line}, {"appetite", appetite}};
}

boost::json::array canonical_lines(const boost::json::object& record) {
    const auto& items = array_field(required(record, "lines"), "lines");
    if (items.empty())
        throw FieldError("lines is empty; expected at least one line with its appetite");
    std::vector<boost::json::object> lines;
    for (const auto& item : items) {
        auto line = canonical_line(item);
        const auto same = [&](const boost::json::object& other) {
            return other.at("line") == line.at("line");
        };
        if (std::any_of(lines.begin(), lines.end(), same)) {
            throw FieldError("lines names " + std::string(line.at("line").get_string()) + " twice");
        }
        lines.push_back(std::move(line));
    }
    std::sort(lines.begin(), lines.end(), [](const auto& a, const auto& b) {
        return a.at("line").get_string() < b.at("line").get_string();
    });
    return boost::json::array(lines.begin(), lines.end());
}

std::vector<std::string> naics_set(const boost::json::object& record, std::string_view field) {
    const auto* value = given(record, field);
    if (value == nullptr) return {};
    auto codes = string_set(array_field(*value, field), field);
    for (const auto& code : codes) {
        if (!is_naics_code(code)) {
            throw FieldError(std::string(field) + ": " + quoted_value(code) +
                             " is not a NAICS code (2 to 6 digits)");
        }
    }
    return codes;
}

void copy_naics(const boost::json::object& record, boost::json::object& out) {
    const auto prohibited = naics_set(record, "prohibited_naics");
    const auto avoided = naics_set(record, "avoided_naics");
    for (const auto& code : prohibited) {
        if (std::binary_search(avoided.begin(), avoided.end(), code)) {
            throw FieldError("NAICS '" + code + "' is in both prohibited_naics and avoided_naics");
        }
    }
    if (!prohibited.empty()) out["prohibited_naics"] = to_array(prohibited);
    if (!avoided.empty()) out["avoided_naics"] = to_array(avoided);
}

std::optional<double> bound(const boost::json::object& record, std::string_view field) {
    const auto* value = given(record, field);
    if (value == nullptr) return std::nullopt;
    const double number = number_field(*value, field);
    if (number < 0)
        throw FieldError(std::string(field) + " (" + number_text(number) + ") is negative");
    return number;
}

// A band [min, max]; either end absent is unbounded.
void copy_band(const boost::json::object& record, const std::string& prefix,
               boost::json::object& out) {
    const auto min = bound(record, prefix + "_min");
    const auto max = bound(record, prefix + "_max");
    if (min && max && *max < *min) {
        throw FieldError(prefix + "_max (" + number_text(*max) + ") is below " + prefix + "_min (" +
                         number_text(*min) + ")");
    }
    if (min) out[prefix + "_min"] = canonical_number(*min);
    if (max) out[prefix + "_max"] = canonical_number(*max);
}

void copy_ranged(const boost::json::object& record, const Range& range, boost::json::object& out) {
    const auto* value = given(record, range.field);
    if (value == nullptr) return;
    const double number = number_field(*value, range.field);
    if (number < range.min || number > range.max) {
        throw FieldError(std::string(range.field) + " (" + number_text(number) + ") is outside " +
                         std::string(range.text));
    }
    out[range.field] = canonical_number(number);
}

void refuse_unknown_fields(const boost::json::object& record) {
    for (const auto& member : record) {
        const auto known = std::any_of(kFields.begin(), kFields.end(), [&](const FieldSpec& field) {
            return field.name == member.key();
        });
        if (!known) throw FieldError("unknown field " + quoted_value(member.key()));
    }
}

boost::json::object canonical_carrier(const boost::json::object& record) {
    refuse_unknown_fields(record);
    boost::json::object out;
    out["id"] = canonical_id(record);
    out["name"] = canonical_name(record);
    copy_choice(record, "am_best_rating", kRatings, out);
    copy_choice(record, "financial_size", kFinancialSizes, out);
    out["states"] = canonical_states(record);
    out["lines"] = canonical_lines(record);
    copy_naics(record, out);
    copy_band(record, "revenue", out);
    copy_band(record, "employees", out);
    for (const auto& range : kRanges) copy_ranged(record, range, out);
    if (const auto* synthetic = given(record, "synthetic")) {
        if (!synthetic->is_bool())
            throw FieldError("synthetic: expected true or false, got " + kind_name(*synthetic));
        out["synthetic"] = synthetic->get_bool();
    }
    return out;
}

std::vector<std::string> split_list(std::string_view cell) {
    std::vector<std::string> items;
    std::size_t start = 0;
    while (start <= cell.size()) {
        const auto end = std::min(cell.find(';', start), cell.size());
        const auto item = trim(cell.substr(start, end - start));
        if (!item.empty()) items.emplace_back(item);  // "NY;CA;" is a harmless trailing separator
        start = end + 1;
    }
    return items;
}

boost::json::value csv_lines(std::string_view cell) {
    boost::json::array lines;
    for (const auto& item : split_list(cell)) {
        const auto colon = item.find(':');
        if (colon == std::string::npos) {
            throw FieldError("lines: " + quoted_value(item) +
                             " is not line:appetite (e.g. cyber:preferred)");
        }
        lines.push_back(
            boost::json::object{{"line", trim(std::string_view(item).substr(0, colon))},
                                {"appetite", trim(std::string_view(item).substr(colon + 1))}});
    }
    return lines;
}

boost::json::value csv_number(std::string_view cell, std::string_view field) {
    double number = 0;
    const auto result = std::from_chars(cell.data(), cell.data() + cell.size(), number);
    if (result.ec != std::errc() || result.ptr != cell.data() + cell.size() ||
        !std::isfinite(number)) {
        throw FieldError(std::string(field) + ": expected a number, got " + quoted_value(cell));
    }
    return number;
}

boost::json::value csv_flag(std::string_view cell, std::string_view field) {
    std::string lower(cell);
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    if (lower == "true") return true;
    if (lower == "false") return false;
    throw FieldError(std::string(field) + ": expected true or false, got " + quoted_value(cell));
}

boost::json::value csv_value(std::string_view cell, const FieldSpec& field) {
    switch (field.kind) {
        case FieldKind::list:
            return to_array(split_list(cell));
        case FieldKind::lines:
            return csv_lines(cell);
        case FieldKind::number:
            return csv_number(cell, field.name);
        case FieldKind::flag:
            return csv_flag(cell, field.name);
        case FieldKind::text:
            break;
    }
    return boost::json::string(cell);
}

std::string column_names() {
    std::string out;
    for (const auto& field : kFields) out += (out.empty() ? "" : ", ") + std::string(field.name);
    return out;
}

const FieldSpec* field_spec(std::string_view name) {
    const auto* spec = std::find_if(kFields.begin(), kFields.end(),
                                    [&](const FieldSpec& field) { return field.name == name; });
    return spec == kFields.end() ? nullptr : spec;
}

// Why a CSV header (the columns of a row as the host handed it) cannot describe carriers; empty
// when it can.
std::string header_problem(const boost::json::object& row) {
    for (const auto& cell : row) {
        if (field_spec(cell.key()) == nullptr)
            return "unknown column " + quoted_value(cell.key()) + "; columns are " + column_names();
    }
    for (const std::string_view needed : {"id", "name", "states", "lines"}) {
        if (!row.contains(needed)) return "the header has no '" + std::string(needed) + "' column";
    }
    return {};
}

// A CSV row's cells as the fields they stand for; an empty cell is an absent field.
boost::json::object typed_row(const boost::json::object& row) {
    boost::json::object record;
    for (const auto& cell : row) {
        const auto* text = cell.value().if_string();
        if (text == nullptr) throw FieldError(std::string(cell.key()) + ": expected cell text");
        if (!text->empty()) record[cell.key()] = csv_value(*text, *field_spec(cell.key()));
    }
    return record;
}

boost::json::object canonical_record(const boost::json::value& record, RecordSource source) {
    if (!record.is_object()) throw FieldError("expected a carrier object");
    return canonical_carrier(source == RecordSource::csv ? typed_row(record.get_object())
                                                         : record.get_object());
}

}  // namespace

bool is_carrier_id(std::string_view text) {
    const auto allowed = [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
               c == '_' || c == '.' || c == '-';
    };
    return !text.empty() && text.size() <= 64 && std::all_of(text.begin(), text.end(), allowed);
}

boost::json::object canonical_carriers(const boost::json::array& records, RecordSource source) {
    boost::json::array canonical;
    boost::json::array errors;
    if (source == RecordSource::csv && !records.empty() && records.front().is_object()) {
        const std::string problem = header_problem(records.front().get_object());
        if (!problem.empty()) {
            errors.push_back(boost::json::object{{"index", -1}, {"message", problem}});
            return {{"records", std::move(canonical)}, {"errors", std::move(errors)}};
        }
    }
    for (std::size_t i = 0; i < records.size(); ++i) {
        try {
            canonical.push_back(canonical_record(records[i], source));
        } catch (const FieldError& error) {
            errors.push_back(boost::json::object{{"index", i}, {"message", error.what()}});
        }
    }
    return {{"records", std::move(canonical)}, {"errors", std::move(errors)}};
}

}  // namespace engined::entity_analysis
