#include "common/log.hpp"

#include "common/time.hpp"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <cstdio>

namespace engined::log {

void write(std::string_view level, std::string_view message, std::initializer_list<Field> fields) {
    boost::json::object line;
    line["ts"] = format_rfc3339_ms(now_unix_ms());
    line["level"] = level;
    line["msg"] = message;
    for (const Field& field : fields) line[field.key] = field.value;
    std::string text = boost::json::serialize(line);
    text += '\n';
    // One fwrite per line: stdio locks the stream, so lines from different threads never interleave.
    std::fwrite(text.data(), 1, text.size(), stderr);
}

}  // namespace engined::log
