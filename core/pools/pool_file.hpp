// core/pools — pools as operators hand them in (SPEC §7): the framing of CSV and JSON pool files
// (rows, the carriers array, the line of every record), the limits that protect the host, and
// what every pool needs (records with unique ids, stored in id order). What a record holds is the
// vocabulary of the engine type that reads the pool: its plugin canonicalises the records
// (canonicalize_dataset in engine_plugin.h). Knows neither the store nor the HTTP API.
// pool_file.hpp: the file formats, and reading a file through an engine type's plugin.
#pragma once

#include "plugin/plugin_registry.hpp"

#include <boost/json/array.hpp>

#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace engined::pools {

enum class PoolFormat { csv, json };

inline constexpr std::size_t kMaxPoolRecords = 100'000;
inline constexpr std::size_t kMaxPoolFileBytes = 64u * 1024 * 1024;

// By extension, case-insensitively (".csv", ".json"); std::invalid_argument otherwise.
PoolFormat pool_format_for(const std::string& file_name);

// A pool name: 1 to 64 characters of A-Z a-z 0-9 _ . - and ':', which namespaces pools
// ("carriers:all").
bool is_pool_name(std::string_view text);

// A pool file that cannot be accepted. what() is "line N: detail"; line() is 1-based: the CSV
// row's first line, or where the offending record (or the syntax error) is in the JSON text; the
// header's line for a problem of the whole file.
class PoolFileError : public std::runtime_error {
public:
    PoolFileError(std::size_t line, std::string detail,
                  std::optional<std::size_t> record_index = std::nullopt);

    std::size_t line() const { return line_; }
    const std::string& detail() const { return detail_; }
    // 0-based position of the record in the JSON carriers array, when one is at fault.
    std::optional<std::size_t> record_index() const { return record_index_; }

private:
    std::size_t line_;
    std::string detail_;
    std::optional<std::size_t> record_index_;
};

// The engine type asked to read a pool has no dataset check for pools.
class EngineReadsNoPools : public std::runtime_error {
public:
    explicit EngineReadsNoPools(const std::string& engine_type);
};

// The whole file, as the records `engine`'s plugin canonicalised from it, in id order. Throws
// PoolFileError (the first problem, framing or the plugin's) or EngineReadsNoPools.
//
// CSV: a header row naming the columns (any order, each once), one record per row, RFC 4180
// quoting; the plugin reads each row as column name to trimmed cell text ("" when empty).
// JSON: an array of records, or {"carriers": [...]}; the plugin reads each element as written.
// A plugin of ABI 3.0, which only validates, has the records stored as the file gave them.
boost::json::array parse_pool_file(std::string_view text, PoolFormat format,
                                   const plugin::LoadedPlugin& engine);

}  // namespace engined::pools
