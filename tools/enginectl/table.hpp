// Plain-text tables for listings: left-aligned columns as wide as their widest cell.
#pragma once

#include <boost/json/value.hpp>

#include <string>
#include <vector>

namespace engined::cli {

using TableRow = std::vector<std::string>;

// The header row, then every row; the last column is not padded.
std::string render_table(const TableRow& header, const std::vector<TableRow>& rows);

// A JSON value as a cell: strings bare, absent or null as "-", anything else as JSON.
std::string cell_text(const boost::json::value* value);

}  // namespace engined::cli
