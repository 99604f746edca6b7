#include "prospect.hpp"

#include "sdk_names.hpp"

#include <algorithm>

namespace engined::entity_analysis {

namespace json = boost::json;

namespace {

[[noreturn]] void invalid(const std::string& field, const std::string& problem) {
    throw RunFailure("invalid_request", "input." + field + " " + problem,
                     json::array{json::object{{"path", "input." + field}}});
}

void add_line(Prospect& prospect, const std::string& where, const json::value& value) {
    const auto line = value.is_string() ? line_from_name(value.get_string()) : std::nullopt;
    if (!line) {
        invalid(where, "must be one of " + line_vocabulary());
    }
    if (std::find(prospect.lines.begin(), prospect.lines.end(), *line) == prospect.lines.end()) {
        prospect.lines.push_back(*line);
    }
}

void read_lines(const json::object& profile, const std::string& name, Prospect& prospect) {
    if (const json::value* line = profile.if_contains("line")) {
        add_line(prospect, name + ".line", *line);
    }
    if (const json::value* lines = profile.if_contains("lines")) {
        if (!lines->is_array()) {
            invalid(name + ".lines", "must be an array of line names");
        }
        for (std::size_t i = 0; i < lines->get_array().size(); ++i) {
            add_line(prospect, name + ".lines[" + std::to_string(i) + "]", lines->get_array()[i]);
        }
    }
}

void read_state(const json::object& profile, const std::string& name, Prospect& prospect) {
    std::string where = name + ".state";
    auto state = find_string(profile, "state");
    if (!state) {
        if (const json::object* address = find_object(profile, "primary_address")) {
            state = find_string(*address, "state");
            where = name + ".primary_address.state";
        }
    }
    if (!state) {
        return;
    }
    std::string code(*state);
    std::transform(code.begin(), code.end(), code.begin(), [](char c) {
        return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c;
    });
    if (!state_index(code)) {
        invalid(where, "must be a two-letter state code");
    }
    prospect.state = std::move(code);
}

}  // namespace

Prospect read_prospect(const json::object& input) {
    std::string name = "profile";
    const json::object* profile = find_object(input, "profile");
    if (profile == nullptr) {
        name = "prospect";
        profile = find_object(input, "prospect");
    }
    if (profile == nullptr) {
        invalid(
            "profile",
            "is required: the prospect to analyse ({entity, state, line, naics, revenue, ...}); "
            "input.prospect is accepted too");
    }
    Prospect prospect;
    const auto entity = find_string(*profile, "entity");
    if (!entity || entity->empty()) {
        invalid(name + ".entity", "is required: the prospect's legal or trading name");
    }
    prospect.entity = *entity;
    read_state(*profile, name, prospect);
    read_lines(*profile, name, prospect);
    if (const json::value* naics = profile->if_contains("naics")) {
        if (!naics->is_string() || !is_naics_code(naics->get_string())) {
            invalid(name + ".naics", "must be a NAICS code of 2 to 6 digits, as a string");
        }
        prospect.naics = std::string(naics->get_string());
    }
    prospect.revenue = find_number(*profile, "revenue");
    prospect.employees = find_number(*profile, "employees");
    prospect.years_in_business = find_number(*profile, "years_in_business");
    prospect.claims_last_5_years = find_number(*profile, "claims_last_5_years");
    return prospect;
}

json::object prospect_json(const Prospect& prospect) {
    json::object out;
    const auto put = [&out](std::string_view key, const auto& value) {
        if (value) {
            out[key] = *value;
        }
    };
    put("state", prospect.state);
    put("naics", prospect.naics);
    put("revenue", prospect.revenue);
    put("employees", prospect.employees);
    put("years_in_business", prospect.years_in_business);
    put("claims_last_5_years", prospect.claims_last_5_years);
    json::array lines;
    for (const Line line : prospect.lines) {
        lines.push_back(json::string(line_name(line)));
    }
    out["lines"] = std::move(lines);
    return out;
}

Completeness completeness(const Prospect& prospect) {
    Completeness result;
    const auto note = [&result](std::string_view fact, bool present) {
        (present ? result.present : result.missing).push_back(fact);
    };
    note("naics", prospect.naics.has_value());
    note("revenue", prospect.revenue.has_value());
    note("employees", prospect.employees.has_value());
    note("state", prospect.state.has_value());
    note("line", !prospect.lines.empty());
    note("years_in_business", prospect.years_in_business.has_value());
    return result;
}

}  // namespace engined::entity_analysis
