// The commercial lines of business a carrier pool speaks of, and how a prospect's state and
// NAICS code are compared with a carrier's.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace engined::entity_analysis {

enum class Line : std::uint8_t {
    general_liability,
    professional_liability,
    workers_compensation,
    commercial_property,
    commercial_auto,
    cyber,
    directors_officers,
    umbrella,
    bop,
    epli,
};

inline constexpr std::size_t kLineCount = 10;

// The line's name in pools and requests ("professional_liability"), and nullopt for a name
// outside the vocabulary.
std::string_view line_name(Line line);
std::optional<Line> line_from_name(std::string_view name);

// The line as a sentence reads it ("professional liability", "BOP").
std::string_view line_label(Line line);

// The vocabulary, comma-separated, for messages.
std::string line_vocabulary();

// A two-letter state code as an index 0..675 ("AA" = 0), or nullopt when `code` is not two
// capital letters.
std::optional<std::size_t> state_index(std::string_view code);
inline constexpr std::size_t kStateIndexCount = 26 * 26;

// Whether `naics` (a 2-6 digit code) falls under `prefix`: a prefix matches every code that
// starts with it.
bool naics_matches(std::string_view naics, std::string_view prefix);

// Whether `code` is 2 to 6 decimal digits.
bool is_naics_code(std::string_view code);

}  // namespace engined::entity_analysis
