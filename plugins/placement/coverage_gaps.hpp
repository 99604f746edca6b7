// Coverage analysis: what the insured's current policies leave exposed, ranked by severity,
// each gap with a recommendation a broker can act on.
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <string>
#include <vector>

namespace engined::placement {

// The gaps in the current coverage: input.current_coverage, else input.current_portfolio (an
// object by line, or an array of policies naming their `line` or `category`). Each gap is
// {line, severity: high|medium|low, gap, detail, recommendation}; high first, then medium, then
// low, in line order within a severity.
boost::json::array coverage_gaps(const boost::json::object& input,
                                 const std::vector<std::string>& requested_lines);

}  // namespace engined::placement
