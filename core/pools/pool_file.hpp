// core/pools — carrier pools as operators hand them in (SPEC §7): the CSV and JSON pool files,
// parsed and validated into canonical carrier records. Knows neither the store nor any engine.
// pool_file.hpp: the file formats and every rule a carrier record must satisfy.
#pragma once

#include <boost/json/array.hpp>

#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace engined::pools {

enum class PoolFormat { csv, json };

inline constexpr std::size_t kMaxPoolCarriers = 100'000;
inline constexpr std::size_t kMaxPoolFileBytes = 64u * 1024 * 1024;

// By extension, case-insensitively (".csv", ".json"); std::invalid_argument otherwise.
PoolFormat pool_format_for(const std::string& file_name);

// A carrier id: 1 to 64 characters of A-Z a-z 0-9 _ . -
bool is_carrier_id(std::string_view text);

// A pool name: the same characters plus ':', which namespaces pools ("carriers:all").
bool is_pool_name(std::string_view text);

// A pool file that cannot be accepted. what() is "line N: detail"; line() is 1-based: the CSV
// row's first line, or where the offending carrier (or the syntax error) is in the JSON text.
class PoolFileError : public std::runtime_error {
public:
    PoolFileError(std::size_t line, std::string detail,
                  std::optional<std::size_t> carrier_index = std::nullopt);

    std::size_t line() const { return line_; }
    const std::string& detail() const { return detail_; }
    // 0-based position of the carrier in the JSON carriers array, when one is at fault.
    std::optional<std::size_t> carrier_index() const { return carrier_index_; }

private:
    std::size_t line_;
    std::string detail_;
    std::optional<std::size_t> carrier_index_;
};

// The whole file, validated, as canonical carrier objects: numbers as numbers (whole ones as
// integers), lists as arrays with set-like lists (states, NAICS codes, lines) sorted, absent
// and empty optional fields left out. Carriers come in id order, so that a pool's content hash
// depends on its carriers and not on the order of the rows. Throws PoolFileError.
//
// CSV: a header row naming the columns (any order; id, name, states and lines required), one
// carrier per row, RFC 4180 quoting; list cells separated by ';', `lines` as
// "line:appetite;line:appetite"; an empty cell is an absent field.
// JSON: an array of carrier objects, or {"carriers": [...]}.
boost::json::array parse_pool_file(std::string_view text, PoolFormat format);

}  // namespace engined::pools
