#include "pools/pool_file.hpp"

#include "common/json_text.hpp"
#include "file_text.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <cctype>
#include <set>
#include <unordered_map>
#include <vector>

namespace engined::pools {

namespace {

using plugin_sdk::quoted_value;
using plugin_sdk::trim;

std::string_view without_bom(std::string_view text) {
    constexpr std::string_view kBom = "\xEF\xBB\xBF";
    return text.substr(0, kBom.size()) == kBom ? text.substr(kBom.size()) : text;
}

// --- CSV (RFC 4180, plus bare LF line ends).

struct CsvRow {
    std::size_t line = 0;  // where the row starts
    std::vector<std::string> cells;
};

class CsvReader {
public:
    explicit CsvReader(std::string_view text) : text_(text) {}

    // False at the end of the text. Blank rows (no cell holds anything) are skipped.
    bool next(CsvRow& row) {
        while (pos_ < text_.size()) {
            row.line = line_;
            row.cells.clear();
            read_row(row.cells);
            const bool blank =
                std::all_of(row.cells.begin(), row.cells.end(),
                            [](const std::string& cell) { return trim(cell).empty(); });
            if (!blank) return true;
        }
        return false;
    }

private:
    void read_row(std::vector<std::string>& cells) {
        while (true) {
            cells.push_back(at('"') ? read_quoted() : read_bare());
            if (at(',')) {
                ++pos_;
                continue;
            }
            end_line();
            return;
        }
    }

    bool at(char c) const { return pos_ < text_.size() && text_[pos_] == c; }

    std::string read_bare() {
        const auto end = std::min(text_.find_first_of(",\r\n", pos_), text_.size());
        std::string cell(text_.substr(pos_, end - pos_));
        if (cell.find('"') != std::string::npos) {
            throw PoolFileError(
                line_,
                "a quote inside an unquoted cell; quote the whole cell and double the quote");
        }
        pos_ = end;
        return cell;
    }

    std::string read_quoted() {
        const std::size_t opened_on = line_;
        std::string cell;
        for (++pos_;; ++pos_) {
            if (pos_ >= text_.size())
                throw PoolFileError(opened_on, "a quoted cell is never closed");
            const char c = text_[pos_];
            if (c == '"' && pos_ + 1 < text_.size() && text_[pos_ + 1] == '"') {
                cell += '"';
                ++pos_;
            } else if (c == '"') {
                ++pos_;
                break;
            } else {
                if (c == '\n') ++line_;
                cell += c;
            }
        }
        if (pos_ < text_.size() && text_[pos_] != ',' && text_[pos_] != '\r' &&
            text_[pos_] != '\n') {
            throw PoolFileError(
                line_, "text after a closing quote; a quoted cell ends at a comma or line end");
        }
        return cell;
    }

    void end_line() {
        if (at('\r')) ++pos_;
        if (at('\n')) ++pos_;
        ++line_;
    }

    std::string_view text_;
    std::size_t pos_ = 0;
    std::size_t line_ = 1;
};

// --- JSON.

// 1-based line of a byte offset.
class LineIndex {
public:
    explicit LineIndex(std::string_view text) {
        for (std::size_t i = 0; i < text.size(); ++i) {
            if (text[i] == '\n') newlines_.push_back(i);
        }
    }
    std::size_t line_of(std::size_t offset) const {
        return 1 + static_cast<std::size_t>(
                       std::lower_bound(newlines_.begin(), newlines_.end(), offset) -
                       newlines_.begin());
    }

private:
    std::vector<std::size_t> newlines_;
};

// An object in the text names one key twice; Boost.JSON keeps one of the two silently.
struct RepeatedKey {
    std::size_t offset;
    std::string key;
};

// Walks JSON text that already parsed, for what the parsed value does not keep: where each
// element starts, and repeated keys.
class JsonScanner {
public:
    explicit JsonScanner(std::string_view text) : text_(text) {}

    char peek() {
        skip_whitespace();
        return text_[pos_];
    }
    void consume() { ++pos_; }

    std::string read_string() {
        skip_whitespace();
        const std::size_t start = pos_;
        pos_ = json_string_end(text_, pos_);
        return json_string_value(text_.substr(start, pos_ - start));
    }

    // Throws RepeatedKey when an object within the value repeats a key.
    void skip_value() {
        const char c = peek();
        if (c == '"') {
            read_string();
        } else if (c == '{') {
            std::set<std::string> keys;
            for_each_member([&](std::size_t offset, std::string key) {
                if (!keys.insert(key).second) throw RepeatedKey{offset, std::move(key)};
                skip_value();
            });
        } else if (c == '[') {
            for_each_element([&](std::size_t) { skip_value(); });
        } else {
            while (pos_ < text_.size() &&
                   std::string_view(",]} \t\r\n").find(text_[pos_]) == std::string_view::npos) {
                ++pos_;
            }
        }
    }

    // At '{': calls visit(key offset, key) with the position at the member's value.
    template <typename Visit>
    void for_each_member(Visit visit) {
        consume();
        if (peek() == '}') return consume();
        while (true) {
            skip_whitespace();
            const std::size_t offset = pos_;
            std::string key = read_string();
            peek();
            consume();  // ':'
            visit(offset, std::move(key));
            if (peek() == '}') return consume();
            consume();  // ','
        }
    }

    // At '[': calls visit(element offset) with the position at the element.
    template <typename Visit>
    void for_each_element(Visit visit) {
        consume();
        if (peek() == ']') return consume();
        while (true) {
            skip_whitespace();
            visit(pos_);
            if (peek() == ']') return consume();
            consume();  // ','
        }
    }

private:
    void skip_whitespace() { pos_ = json_whitespace_end(text_, pos_); }

    std::string_view text_;
    std::size_t pos_ = 0;
};

boost::json::value parse_json_text(std::string_view text, const LineIndex& lines) {
    boost::json::stream_parser parser;
    boost::system::error_code ec;
    const std::size_t used = parser.write_some(text.data(), text.size(), ec);
    if (ec) throw PoolFileError(lines.line_of(used), "JSON syntax error: " + ec.message());
    if (used < text.size())
        throw PoolFileError(lines.line_of(used), "text after the end of the JSON value");
    parser.finish(ec);
    if (ec) throw PoolFileError(lines.line_of(text.size()), "JSON syntax error: " + ec.message());
    return parser.release();
}

constexpr const char* kJsonShape = "expected an array of carriers, or {\"carriers\": [...]}";

const boost::json::array& carriers_of(const boost::json::value& document) {
    if (document.is_array()) return document.get_array();
    if (document.is_object()) {
        for (const auto& member : document.get_object()) {
            if (member.key() != "carriers") {
                throw PoolFileError(
                    1, "unknown top-level field " + quoted_value(member.key()) + "; " + kJsonShape);
            }
        }
        const auto* carriers = document.get_object().if_contains("carriers");
        if (carriers != nullptr && carriers->is_array()) return carriers->get_array();
    }
    throw PoolFileError(1, kJsonShape);
}

// The byte offset of each carrier in the text, in array order.
std::vector<std::size_t> carrier_offsets(std::string_view text, const LineIndex& lines) {
    JsonScanner scanner(text);
    std::vector<std::size_t> offsets;
    const auto scan_carriers = [&] {
        scanner.for_each_element([&](std::size_t offset) {
            offsets.push_back(offset);
            try {
                scanner.skip_value();
            } catch (const RepeatedKey& repeated) {
                const std::size_t index = offsets.size() - 1;
                const std::string where = "carriers[" + std::to_string(index) + "]: ";
                throw PoolFileError(
                    lines.line_of(repeated.offset),
                    where + "field " + quoted_value(repeated.key) + " appears twice", index);
            }
        });
    };
    if (scanner.peek() == '[') {
        scan_carriers();
        return offsets;
    }
    bool seen = false;
    scanner.for_each_member([&](std::size_t offset, const std::string&) {
        if (seen) throw PoolFileError(lines.line_of(offset), "\"carriers\" appears twice");
        if (scanner.peek() != '[') throw PoolFileError(lines.line_of(offset), kJsonShape);
        seen = true;
        scan_carriers();
    });
    return offsets;
}

// --- The records of a file, framed; the engine type's plugin reads them.

// A pool file's records as its framing gave them, with where each one is.
struct FramedRecords {
    std::string format;  // "csv" or "json", as canonicalize_dataset names them
    boost::json::array records;
    std::vector<std::size_t> lines;  // the line of each record
    std::size_t header_line = 1;     // where a problem of the whole file is reported
};

bool numbered(const FramedRecords& framed) {
    return framed.format == "json";
}

// How a message names the record: JSON records by position ("carriers[3]: "), CSV rows by line.
std::string where(const FramedRecords& framed, std::size_t index) {
    return numbered(framed) ? "carriers[" + std::to_string(index) + "]: " : "";
}

[[noreturn]] void refuse(const FramedRecords& framed, long long index, const std::string& why) {
    if (index < 0 || static_cast<std::size_t>(index) >= framed.lines.size())
        throw PoolFileError(framed.header_line, why);
    const auto at = static_cast<std::size_t>(index);
    throw PoolFileError(framed.lines[at], where(framed, at) + why,
                        numbered(framed) ? std::optional<std::size_t>(at) : std::nullopt);
}

// Refuses the record that would take the file past the limit, before the engine reads any.
void make_room(const FramedRecords& framed, std::size_t line) {
    if (framed.records.size() >= kMaxPoolRecords) {
        const std::size_t index = framed.records.size();
        throw PoolFileError(line, where(framed, index) + "a pool holds at most 100000 records",
                            numbered(framed) ? std::optional<std::size_t>(index) : std::nullopt);
    }
}

// The header's column names, each once.
std::vector<std::string> csv_columns(const CsvRow& header) {
    std::vector<std::string> columns;
    for (const auto& cell : header.cells) {
        std::string name(trim(cell));
        if (invalid_utf8_offset(name) != std::string::npos)
            throw PoolFileError(header.line, "the header is not valid UTF-8");
        if (std::find(columns.begin(), columns.end(), name) != columns.end()) {
            throw PoolFileError(header.line, "column " + quoted_value(name) + " appears twice");
        }
        columns.push_back(std::move(name));
    }
    return columns;
}

// Each data row as an object of every column to its trimmed cell ("" when empty).
FramedRecords frame_csv(std::string_view text) {
    CsvReader reader(text);
    CsvRow row;
    if (!reader.next(row))
        throw PoolFileError(1, "the file is empty; expected a header row naming the columns");
    FramedRecords framed{"csv", {}, {}, row.line};
    const auto columns = csv_columns(row);
    while (reader.next(row)) {
        make_room(framed, row.line);
        if (row.cells.size() != columns.size()) {
            throw PoolFileError(row.line, "the row has " + std::to_string(row.cells.size()) +
                                              " cells, the header names " +
                                              std::to_string(columns.size()) + " columns");
        }
        boost::json::object record;
        for (std::size_t i = 0; i < columns.size(); ++i) {
            const auto cell = trim(row.cells[i]);
            // JSON text, which carries the cell to the plugin, is UTF-8.
            if (invalid_utf8_offset(cell) != std::string_view::npos)
                throw PoolFileError(row.line, columns[i] + " is not valid UTF-8");
            record[columns[i]] = cell;
        }
        framed.records.emplace_back(std::move(record));
        framed.lines.push_back(row.line);
    }
    return framed;
}

// The elements of the carriers array, each as the file wrote it.
FramedRecords frame_json(std::string_view text) {
    const LineIndex lines(text);
    const boost::json::value document = parse_json_text(text, lines);
    const auto& carriers = carriers_of(document);
    const auto offsets = carrier_offsets(text, lines);
    FramedRecords framed{"json", {}, {}, 1};
    for (std::size_t i = 0; i < carriers.size(); ++i) {
        const std::size_t line = lines.line_of(offsets[i]);
        make_room(framed, line);
        framed.records.push_back(carriers[i]);
        framed.lines.push_back(line);
    }
    return framed;
}

// The engine's records, checked for what every pool needs: one per record given, each an object
// with a string id, no id twice. Sorted by id, so that a pool's content hash depends on its
// records and not on the order of the rows.
boost::json::array stored_records(const FramedRecords& framed, boost::json::array records,
                                  const std::string& engine_type) {
    if (records.size() != framed.records.size()) {
        throw PoolFileError(framed.header_line, "the " + engine_type + " plugin answered " +
                                                    std::to_string(records.size()) +
                                                    " records for " +
                                                    std::to_string(framed.records.size()));
    }
    std::unordered_map<std::string, std::size_t> line_of_id;
    for (std::size_t i = 0; i < records.size(); ++i) {
        const auto* record = records[i].if_object();
        const auto* id = record ? record->if_contains("id") : nullptr;
        if (id == nullptr || !id->is_string()) {
            refuse(framed, static_cast<long long>(i), "a record needs a string \"id\"");
        }
        const auto [seen, inserted] =
            line_of_id.emplace(std::string(id->get_string()), framed.lines[i]);
        if (!inserted) {
            refuse(framed, static_cast<long long>(i),
                   "id " + quoted_value(id->get_string()) + " repeats line " +
                       std::to_string(seen->second));
        }
    }
    std::sort(records.begin(), records.end(), [](const auto& a, const auto& b) {
        return a.as_object().at("id").get_string() < b.as_object().at("id").get_string();
    });
    return records;
}

boost::json::array canonical_records(FramedRecords framed, const plugin::LoadedPlugin& engine) {
    if (framed.records.empty()) throw PoolFileError(1, "the pool has no records");
    const auto answer = plugin::canonical_dataset(engine, "pool", framed.format,
                                                  boost::json::serialize(framed.records));
    if (!answer) throw EngineReadsNoPools(engine.engine_type);
    if (!answer->problems.empty()) {
        const plugin::DatasetProblem& first = answer->problems.front();
        refuse(framed, first.index, first.message);
    }
    auto records = answer->records_json
                       ? std::move(parse_internal_json(*answer->records_json).as_array())
                       : framed.records;
    return stored_records(framed, std::move(records), engine.engine_type);
}

}  // namespace

PoolFileError::PoolFileError(std::size_t line, std::string detail,
                             std::optional<std::size_t> record_index)
    : std::runtime_error("line " + std::to_string(line) + ": " + detail),
      line_(line),
      detail_(std::move(detail)),
      record_index_(record_index) {}

EngineReadsNoPools::EngineReadsNoPools(const std::string& engine_type)
    : std::runtime_error("engine type '" + engine_type + "' reads no pools") {}

PoolFormat pool_format_for(const std::string& file_name) {
    const auto dot = file_name.rfind('.');
    std::string extension = dot == std::string::npos ? "" : file_name.substr(dot + 1);
    std::transform(extension.begin(), extension.end(), extension.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    if (extension == "csv") return PoolFormat::csv;
    if (extension == "json") return PoolFormat::json;
    throw std::invalid_argument(file_name + ": a pool file ends in .csv or .json");
}

bool is_pool_name(std::string_view text) {
    const auto allowed = [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
               c == '_' || c == '.' || c == '-' || c == ':';
    };
    return !text.empty() && text.size() <= 64 && std::all_of(text.begin(), text.end(), allowed);
}

boost::json::array parse_pool_file(std::string_view text, PoolFormat format,
                                   const plugin::LoadedPlugin& engine) {
    if (text.size() > kMaxPoolFileBytes) {
        throw PoolFileError(1, "the file is " + std::to_string(text.size()) +
                                   " bytes; a pool file holds at most 64 MiB (67108864 bytes)");
    }
    text = without_bom(text);
    return canonical_records(format == PoolFormat::csv ? frame_csv(text) : frame_json(text),
                             engine);
}

}  // namespace engined::pools
