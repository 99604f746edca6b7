// Files the placement tests read from the source tree: the golden inputs, the preset
// configuration, the default scorecard and the contracts.
#pragma once

#include "source_tree.hpp"

#include <boost/json/object.hpp>

#include <string>
#include <string_view>

namespace engined::placement::test {

using plugin_sdk::test::read_json_object;
using plugin_sdk::test::read_source_file;

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
    "auto_only_ny",
    "brokerage_tx_multicarrier",
    "missing_required_lines_ny",
    "pure_bundle_ca",
    "quotes_only_oh",
    "bundle_by_package_premium_pa",
    "coverage_first_co",
    "umbrella_only_nj",
    "underinsured_dwelling_ga",
};

}  // namespace engined::placement::test
