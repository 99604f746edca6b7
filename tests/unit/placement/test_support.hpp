// Files the placement tests read from the source tree: the golden inputs, the preset
// configuration, the default scorecard and the contracts.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>

namespace engined::placement::test {

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

inline boost::json::object golden_input(std::string_view name) {
    return read_json_object("tests/golden/placement/" + std::string(name) + ".input.json");
}

inline boost::json::object preset_config() {
    return read_json_object("contracts/placement/engine.json");
}

inline std::string default_scorecard() {
    return read_source_file("scripts/lua/placement/scorecard.lua");
}

inline constexpr std::string_view kGoldenInputs[] = {
    "auto_only_ny", "brokerage_tx_multicarrier", "missing_required_lines_ny", "pure_bundle_ca",
    "quotes_only_oh",
};

}  // namespace engined::placement::test
