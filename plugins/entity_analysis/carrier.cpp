#include "carrier.hpp"

#include "sdk_names.hpp"

#include <boost/json/parse.hpp>

#include <algorithm>

namespace engined::entity_analysis {

namespace json = boost::json;

namespace {

constexpr std::array<std::string_view, 14> kAmBestGrades = {
    "A++", "A+", "A", "A-", "B++", "B+", "B", "B-", "C++", "C+", "C", "C-", "D", "E"};

constexpr std::array<std::string_view, 15> kSizeClasses = {
    "I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII", "XIII", "XIV", "XV"};

[[noreturn]] void invalid_pool(const std::string& problem) {
    throw RunFailure("dataset_invalid", "the carrier pool cannot be read: " + problem);
}

std::optional<std::string> optional_string(const json::object& record, std::string_view key) {
    const auto text = find_string(record, key);
    return text && !text->empty() ? std::optional<std::string>(*text) : std::nullopt;
}

std::vector<std::string> string_list(const json::object& record, std::string_view key) {
    std::vector<std::string> items;
    if (const json::array* list = find_array(record, key)) {
        for (const json::value& item : *list) {
            if (item.is_string() && !item.get_string().empty()) {
                items.emplace_back(item.get_string());
            }
        }
    }
    return items;
}

void read_states(const json::object& record, Carrier& carrier) {
    for (const std::string& state : string_list(record, "states")) {
        if (state == "*") {
            carrier.all_states = true;
        } else if (const auto index = state_index(state)) {
            carrier.states.set(*index);
        }
    }
}

std::optional<Appetite> appetite_from_name(std::string_view name) {
    if (name == "preferred") return Appetite::preferred;
    if (name == "acceptable") return Appetite::acceptable;
    if (name == "excluded") return Appetite::excluded;
    return std::nullopt;
}

void read_lines(const json::object& record, Carrier& carrier) {
    const json::array* lines = find_array(record, "lines");
    if (lines == nullptr) {
        return;
    }
    for (const json::value& entry : *lines) {
        const json::object* written = entry.if_object();
        const auto name = written ? find_string(*written, "line") : std::nullopt;
        const auto line = name ? line_from_name(*name) : std::nullopt;
        const auto appetite = written ? find_string(*written, "appetite") : std::nullopt;
        if (line) {
            // A written line without a readable appetite is written, as acceptable.
            carrier.appetite[static_cast<std::size_t>(*line)] =
                appetite ? appetite_from_name(*appetite).value_or(Appetite::acceptable)
                         : Appetite::acceptable;
        }
    }
}

Carrier read_carrier(const json::object& record, std::size_t index) {
    Carrier carrier;
    const auto id = optional_string(record, "id");
    if (!id) {
        invalid_pool("carrier " + std::to_string(index) + " has no id");
    }
    carrier.id = *id;
    carrier.name = optional_string(record, "name").value_or(carrier.id);
    carrier.am_best_rating = optional_string(record, "am_best_rating");
    carrier.rating_rank =
        carrier.am_best_rating ? am_best_rank(*carrier.am_best_rating) : std::nullopt;
    carrier.financial_size = optional_string(record, "financial_size");
    carrier.size_class =
        carrier.financial_size ? financial_size_class(*carrier.financial_size) : std::nullopt;
    read_states(record, carrier);
    read_lines(record, carrier);
    carrier.prohibited_naics = string_list(record, "prohibited_naics");
    carrier.avoided_naics = string_list(record, "avoided_naics");
    carrier.revenue_min = find_number(record, "revenue_min");
    carrier.revenue_max = find_number(record, "revenue_max");
    carrier.employees_min = find_number(record, "employees_min");
    carrier.employees_max = find_number(record, "employees_max");
    carrier.pricing_index = find_number(record, "pricing_index");
    carrier.commission = find_number(record, "commission");
    carrier.claims_satisfaction = find_number(record, "claims_satisfaction");
    carrier.quote_turnaround_days = find_number(record, "quote_turnaround_days");
    carrier.synthetic = find_bool(record, "synthetic").value_or(false);
    return carrier;
}

}  // namespace

bool Carrier::writes_state(std::string_view code) const {
    if (all_states) {
        return true;
    }
    const auto index = state_index(code);
    return index && states.test(*index);
}

std::optional<int> am_best_rank(std::string_view rating) {
    const auto found = std::find(kAmBestGrades.begin(), kAmBestGrades.end(), rating);
    return found == kAmBestGrades.end()
               ? std::nullopt
               : std::optional(static_cast<int>(found - kAmBestGrades.begin()));
}

std::optional<int> financial_size_class(std::string_view roman) {
    const auto found = std::find(kSizeClasses.begin(), kSizeClasses.end(), roman);
    return found == kSizeClasses.end()
               ? std::nullopt
               : std::optional(static_cast<int>(found - kSizeClasses.begin()) + 1);
}

Pool parse_pool(std::string_view json_text) {
    boost::system::error_code error;
    json::parse_options options;
    options.max_depth = 64;
    const json::value parsed = json::parse(json_text, error, {}, options);
    if (error) {
        invalid_pool("not JSON (" + error.message() + ")");
    }
    const json::array* records = parsed.if_array();
    if (records == nullptr) {
        invalid_pool("expected a JSON array of carrier objects");
    }
    Pool pool;
    pool.carriers.reserve(records->size());
    for (std::size_t i = 0; i < records->size(); ++i) {
        const json::object* record = (*records)[i].if_object();
        if (record == nullptr) {
            invalid_pool("carrier " + std::to_string(i) + " is not an object");
        }
        pool.carriers.push_back(read_carrier(*record, i));
        pool.synthetic_count += pool.carriers.back().synthetic ? 1 : 0;
    }
    return pool;
}

}  // namespace engined::entity_analysis
