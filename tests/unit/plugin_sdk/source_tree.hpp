// Reading the fixtures, configurations, scorecards and contracts an engine's tests take from
// the source tree (ENGINED_SOURCE_DIR, defined for every unit test).
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>

namespace engined::plugin_sdk::test {

inline std::string read_source_file(std::string_view relative_path) {
    const std::string path = std::string(ENGINED_SOURCE_DIR) + "/" + std::string(relative_path);
    std::ifstream file(path, std::ios::binary);
    if (!file) {
        throw std::runtime_error("cannot read " + path);
    }
    std::ostringstream contents;
    contents << file.rdbuf();
    return contents.str();
}

inline boost::json::object read_json_object(std::string_view relative_path) {
    return boost::json::parse(read_source_file(relative_path)).as_object();
}

}  // namespace engined::plugin_sdk::test
