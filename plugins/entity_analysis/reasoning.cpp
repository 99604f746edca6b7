#include "reasoning.hpp"

#include "config.hpp"

#include <algorithm>
#include <array>

namespace engined::entity_analysis {

namespace {

std::string capitalised(std::string text) {
    if (!text.empty() && text[0] >= 'a' && text[0] <= 'z') {
        text[0] = static_cast<char>(text[0] - 'a' + 'A');
    }
    return text;
}

std::string joined_labels(const std::vector<Line>& lines) {
    std::string joined;
    for (std::size_t i = 0; i < lines.size(); ++i) {
        joined += i == 0 ? "" : (i + 1 == lines.size() ? " and " : ", ");
        joined += line_label(lines[i]);
    }
    return joined;
}

// "Preferred appetite for professional liability in CA, though it avoids NAICS 5411"
std::string appetite_clause(const Carrier& carrier, const Prospect& prospect) {
    const std::vector<Line> lines = written_requested_lines(carrier, prospect);
    std::string clause =
        requested_appetite(carrier, prospect) == Appetite::preferred ? "Preferred" : "Acceptable";
    clause += " appetite";
    if (!lines.empty()) {
        clause += " for " + joined_labels(lines);
    }
    if (prospect.state) {
        clause += " in " + *prospect.state;
    }
    if (const std::string avoided = avoided_prefix(carrier, prospect); !avoided.empty()) {
        clause += ", though it avoids NAICS " + avoided;
    }
    return clause;
}

// The second sentence: the line fit when several lines are requested; otherwise the weakest of
// placement and service when it is L3 or worse, else what makes it easy to place.
std::string second_sentence(const Prospect& prospect, const Scores& scores) {
    if (prospect.lines.size() > 1) {
        return capitalised(scores[static_cast<std::size_t>(Dimension::coverage)].reason) + ".";
    }
    constexpr std::array kSupporting = {Dimension::placement, Dimension::service};
    const auto weakest =
        *std::max_element(kSupporting.begin(), kSupporting.end(), [&](Dimension a, Dimension b) {
            return scores[static_cast<std::size_t>(a)].level <
                   scores[static_cast<std::size_t>(b)].level;
        });
    const Score& weak = scores[static_cast<std::size_t>(weakest)];
    if (weak.level >= 3) {
        return "Held back on " + std::string(kDimensionKeys[static_cast<std::size_t>(weakest)]) +
               ": " + weak.reason + ".";
    }
    return capitalised(scores[static_cast<std::size_t>(Dimension::service)].reason) + "; " +
           scores[static_cast<std::size_t>(Dimension::placement)].reason + ".";
}

}  // namespace

std::string reasoning(const Carrier& carrier, const Prospect& prospect, const Scores& scores) {
    return appetite_clause(carrier, prospect) + "; " + rating_phrase(carrier) + " with " +
           pricing_phrase(carrier) + ". " + second_sentence(prospect, scores);
}

}  // namespace engined::entity_analysis
