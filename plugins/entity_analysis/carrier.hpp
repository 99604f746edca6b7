// One carrier of a pool as the engine reads it, and the parsed pool. Optional fields that are
// absent (or of the wrong type) read as unknown: at pool import this plugin's canonicaliser
// (carrier_records.hpp) checks the records, the engine only refuses a pool it cannot read at all.
#pragma once

#include "lines.hpp"

#include <array>
#include <bitset>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace engined::entity_analysis {

enum class Appetite : std::uint8_t { not_written, preferred, acceptable, excluded };

struct Carrier {
    std::string id;
    std::string name;
    std::optional<std::string> am_best_rating;  // "A++" ... as written in the pool
    std::optional<int> rating_rank;  // 0 = A++, 1 = A+, ... (nullopt: not an AM Best grade)
    std::optional<std::string> financial_size;    // "I" ... "XV"
    std::optional<int> size_class;                // 1 ... 15
    bool all_states = false;                      // states holds "*"
    std::bitset<kStateIndexCount> states;         // by state_index
    std::array<Appetite, kLineCount> appetite{};  // by Line
    std::vector<std::string> prohibited_naics;
    std::vector<std::string> avoided_naics;
    std::optional<double> revenue_min, revenue_max;
    std::optional<double> employees_min, employees_max;
    std::optional<double> pricing_index;        // 1.0 = market, lower is cheaper
    std::optional<double> commission;           // fraction
    std::optional<double> claims_satisfaction;  // 0-1
    std::optional<double> quote_turnaround_days;
    bool synthetic = false;

    bool writes_state(std::string_view code) const;
    Appetite appetite_for(Line line) const { return appetite[static_cast<std::size_t>(line)]; }
};

// A parsed pool, immutable once built (shared between runs and threads through PoolCache).
struct Pool {
    std::vector<Carrier> carriers;
    std::size_t synthetic_count = 0;
};

// Parses the JSON array of carrier objects load_dataset returns. Throws
// RunFailure("dataset_invalid") when the text is not an array of objects that each have an id.
Pool parse_pool(std::string_view json_text);

// AM Best grade order ("A++" = 0 ... "D" = 13); nullopt for anything else.
std::optional<int> am_best_rank(std::string_view rating);

// AM Best financial size category "I".."XV" as 1..15; nullopt for anything else.
std::optional<int> financial_size_class(std::string_view roman);

}  // namespace engined::entity_analysis
