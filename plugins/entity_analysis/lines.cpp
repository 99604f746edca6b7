#include "lines.hpp"

#include <algorithm>

namespace engined::entity_analysis {

namespace {

struct LineNames {
    Line line;
    std::string_view name;
    std::string_view label;
};

constexpr std::array<LineNames, kLineCount> kLines = {{
    {Line::general_liability, "general_liability", "general liability"},
    {Line::professional_liability, "professional_liability", "professional liability"},
    {Line::workers_compensation, "workers_compensation", "workers' compensation"},
    {Line::commercial_property, "commercial_property", "commercial property"},
    {Line::commercial_auto, "commercial_auto", "commercial auto"},
    {Line::cyber, "cyber", "cyber"},
    {Line::directors_officers, "directors_officers", "directors & officers"},
    {Line::umbrella, "umbrella", "umbrella"},
    {Line::bop, "bop", "BOP"},
    {Line::epli, "epli", "EPLI"},
}};

}  // namespace

std::string_view line_name(Line line) {
    return kLines[static_cast<std::size_t>(line)].name;
}

std::string_view line_label(Line line) {
    return kLines[static_cast<std::size_t>(line)].label;
}

std::optional<Line> line_from_name(std::string_view name) {
    const auto found = std::find_if(kLines.begin(), kLines.end(),
                                    [&](const LineNames& l) { return l.name == name; });
    return found == kLines.end() ? std::nullopt : std::optional(found->line);
}

std::string line_vocabulary() {
    std::string joined;
    for (const LineNames& line : kLines) {
        joined += (joined.empty() ? "" : ", ") + std::string(line.name);
    }
    return joined;
}

std::optional<std::size_t> state_index(std::string_view code) {
    const auto capital = [](char c) { return c >= 'A' && c <= 'Z'; };
    if (code.size() != 2 || !capital(code[0]) || !capital(code[1])) {
        return std::nullopt;
    }
    return static_cast<std::size_t>(code[0] - 'A') * 26 + static_cast<std::size_t>(code[1] - 'A');
}

bool naics_matches(std::string_view naics, std::string_view prefix) {
    return !prefix.empty() && naics.starts_with(prefix);
}

bool is_naics_code(std::string_view code) {
    return code.size() >= 2 && code.size() <= 6 &&
           std::all_of(code.begin(), code.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace engined::entity_analysis
