// Structured logs: one JSON object per line on stderr, written whole even from many threads.
#pragma once

#include <boost/json/value.hpp>

#include <functional>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace engined::log {

struct Field {
    Field(std::string_view k, boost::json::value v) : key(k), value(std::move(v)) {}
    Field(std::string_view k, const std::string& v) : key(k), value(std::string_view(v)) {}
    Field(std::string_view k, const char* v) : key(k), value(std::string_view(v)) {}

    std::string_view key;
    boost::json::value value;
};

void write(std::string_view level, std::string_view message,
           std::initializer_list<Field> fields = {});

// Writes one line already formatted as a JSON object (no trailing newline), now.
void write_line(std::string_view json_object);
// The same, for a line per request (the access log): the line reaches stderr within 50 ms, in
// one write with the lines around it, and in order with every other line. Lines still waiting
// when the process is killed are lost; a normal exit writes them.
void write_line_batched(std::string_view json_object);

// Where lines go instead of stderr (each without its newline), e.g. a test capturing them;
// an empty sink restores stderr. Safe to switch while other threads log.
using Sink = std::function<void(std::string_view line)>;
void set_sink(Sink sink);

// "2026-11-23T14:47:11.769Z" for the current time, as every line's `ts` carries it.
std::string timestamp_now();
void append_timestamp_now(std::string& out);

inline void info(std::string_view message, std::initializer_list<Field> fields = {}) {
    write("info", message, fields);
}
inline void warn(std::string_view message, std::initializer_list<Field> fields = {}) {
    write("warn", message, fields);
}
inline void error(std::string_view message, std::initializer_list<Field> fields = {}) {
    write("error", message, fields);
}

}  // namespace engined::log
