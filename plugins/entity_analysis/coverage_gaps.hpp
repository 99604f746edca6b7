// Gap analysis: for the prospect's NAICS sector and size, the lines a business of its kind
// usually carries but its cover lacks, and limits below a size-based minimum. Each gap is
// severity-ranked with a recommendation; docs/entity-analysis.md holds the tables.
#pragma once

#include "lines.hpp"
#include "prospect.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <vector>

namespace engined::entity_analysis {

enum class Severity { high, medium, low };

struct CoverageGap {
    Line line;
    Severity severity;
    std::string gap;  // missing_line | limit_below_minimum
    std::string detail;
    std::string recommendation;
};

// The gaps of the prospect's cover: the lines of input.current_portfolio ({lines: [{line,
// limit, carrier}]}) together with the lines it is shopping for now. High first, then medium,
// then low; table order within a severity.
std::vector<CoverageGap> coverage_gaps(const Prospect& prospect,
                                       const boost::json::object* current_portfolio);

// The lines the gaps find missing, in gap order.
std::vector<Line> missing_lines(const std::vector<CoverageGap>& gaps);

boost::json::array gaps_json(const std::vector<CoverageGap>& gaps);

}  // namespace engined::entity_analysis
