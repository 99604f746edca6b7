#include "run_table.hpp"

#include "table.hpp"

#include <boost/json.hpp>

#include <cstdio>
#include <sstream>

namespace engined::cli {
namespace {

double number_of(const boost::json::value* value) {
    if (value == nullptr) return 0;
    if (value->is_double()) return value->get_double();
    if (value->is_int64()) return static_cast<double>(value->get_int64());
    if (value->is_uint64()) return static_cast<double>(value->get_uint64());
    return 0;
}

std::string money(double amount) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "$%.0f", amount);
    return buf;
}

std::string offerings_summary(const boost::json::value* offerings) {
    if (offerings == nullptr || !offerings->is_array()) return "-";
    std::string out;
    for (const auto& offering : offerings->get_array()) {
        if (!offering.is_object()) continue;
        const auto& o = offering.get_object();
        if (!out.empty()) out += ", ";
        out +=
            cell_text(o.if_contains("category")) + ":" + cell_text(o.if_contains("provider_name"));
    }
    return out;
}

}  // namespace

std::string render_run(const boost::json::object& run) {
    std::ostringstream out;
    out << "run " << cell_text(run.if_contains("run_id")) << "  engine "
        << cell_text(run.if_contains("engine")) << "  status "
        << cell_text(run.if_contains("status")) << "  duration "
        << cell_text(run.if_contains("duration_ms")) << " ms\n";
    if (const auto* error = run.if_contains("error"); error && error->is_object()) {
        out << "error " << cell_text(error->get_object().if_contains("code")) << ": "
            << cell_text(error->get_object().if_contains("message")) << "\n";
    }
    const auto* output = run.if_contains("output");
    if (output && output->is_object()) {
        const auto& o = output->get_object();
        if (const auto* diagnostic = o.if_contains("diagnostic");
            diagnostic && !diagnostic->is_null()) {
            out << "diagnostic: " << cell_text(diagnostic) << "\n";
        }
        out << "bucket " << cell_text(o.if_contains("tolerance_bucket")) << "  solutions "
            << cell_text(o.if_contains("solutions_count")) << "\n";
    }
    const auto* solutions = run.if_contains("solutions");
    if (solutions == nullptr || !solutions->is_array() || solutions->get_array().empty())
        return out.str();
    char line[512];
    std::snprintf(line, sizeof line, "%-4s %-14s %-7s %-21s %-9s %s\n", "RANK", "LABEL", "LEVEL",
                  "EST. COST", "CARRIERS", "OFFERINGS");
    out << line;
    for (const auto& solution : solutions->get_array()) {
        if (!solution.is_object()) continue;
        const auto& s = solution.get_object();
        const auto* scorecard = s.if_contains("scorecard");
        const double level = scorecard && scorecard->is_object()
                                 ? number_of(scorecard->get_object().if_contains("overall_level"))
                                 : 0.0;
        const double low = number_of(s.if_contains("est_cost_low"));
        const double high = number_of(s.if_contains("est_cost_high"));
        const std::string cost = low == high ? money(low) : money(low) + "-" + money(high);
        char level_text[16];
        std::snprintf(level_text, sizeof level_text, "%.2f", level);
        std::snprintf(line, sizeof line, "%-4s %-14s %-7s %-21s %-9s %s\n",
                      cell_text(s.if_contains("rank")).c_str(),
                      cell_text(s.if_contains("cluster_label")).c_str(), level_text, cost.c_str(),
                      cell_text(s.if_contains("provider_count")).c_str(),
                      offerings_summary(s.if_contains("offerings")).c_str());
        out << line;
    }
    return out.str();
}

}  // namespace engined::cli
