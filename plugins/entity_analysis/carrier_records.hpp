// The carrier vocabulary of pool files: every rule a carrier record must satisfy, and how a CSV
// row's cells read as a carrier's fields. The host reads a pool file's framing (CSV rows, the JSON
// array) and hands the records here through canonicalize_dataset (core/plugin/engine_plugin.h);
// what comes back is what runs read through load_dataset("pool", ...).
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <string_view>

namespace engined::entity_analysis {

// How the host handed the records over: "json" values as the file gave them, or "csv" rows as
// objects of column name to trimmed cell text (every column of the header, "" when empty).
enum class RecordSource { json, csv };

// A carrier id: 1 to 64 characters of A-Z a-z 0-9 _ . -
bool is_carrier_id(std::string_view text);

// {"records": [...], "errors": [{"index", "message"}]} as canonicalize_dataset answers: each
// record as a canonical carrier object (numbers as numbers, whole ones as integers; set-like
// lists (states, NAICS codes, lines) sorted; absent and empty optional fields left out), or one
// error per record that breaks a rule. A CSV header naming an unknown column, or lacking a
// required one, is one error of the whole dataset (index -1) and nothing else is checked.
boost::json::object canonical_carriers(const boost::json::array& records, RecordSource source);

}  // namespace engined::entity_analysis
