// Structured logs: one JSON object per line on stderr, written whole even from many threads.
#pragma once

#include <boost/json/value.hpp>

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

void write(std::string_view level, std::string_view message, std::initializer_list<Field> fields = {});

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
