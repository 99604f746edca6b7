#include "table.hpp"

#include <boost/json/serialize.hpp>

#include <algorithm>

namespace engined::cli {

std::string render_table(const TableRow& header, const std::vector<TableRow>& rows) {
    std::vector<std::size_t> widths(header.size(), 0);
    auto widen = [&](const TableRow& row) {
        for (std::size_t column = 0; column < widths.size() && column < row.size(); ++column) {
            widths[column] = std::max(widths[column], row[column].size());
        }
    };
    widen(header);
    for (const auto& row : rows) widen(row);

    std::string out;
    auto append = [&](const TableRow& row) {
        for (std::size_t column = 0; column < row.size(); ++column) {
            out += row[column];
            const bool padded = column + 1 < row.size() && column < widths.size();
            if (padded) out += std::string(widths[column] - row[column].size() + 2, ' ');
        }
        out += "\n";
    };
    append(header);
    for (const auto& row : rows) append(row);
    return out;
}

std::string cell_text(const boost::json::value* value) {
    if (value == nullptr || value->is_null()) return "-";
    if (value->is_string()) return std::string(value->get_string());
    return boost::json::serialize(*value);
}

}  // namespace engined::cli
