// Renders a run object as a terminal table: the header line, then one row per solution.
#pragma once

#include <boost/json/object.hpp>

#include <string>

namespace engined::cli {

std::string render_run(const boost::json::object& run);

}  // namespace engined::cli
