#include "placement_engine.hpp"

#include "assemble.hpp"
#include "config.hpp"
#include "evaluate.hpp"
#include "filter.hpp"
#include "json_fields.hpp"
#include "offering.hpp"
#include "quotes.hpp"
#include "rank.hpp"
#include "run_failure.hpp"

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

namespace engined::placement {

namespace json = boost::json;

namespace {

constexpr std::string_view kStageFilter = "FILTER";
constexpr std::string_view kStageAssemble = "ASSEMBLE";
constexpr std::string_view kStageEvaluate = "EVALUATE";
constexpr std::string_view kStageRank = "RANK";

// What the run asks for, read from `input` with the configuration's defaults applied.
struct RunSpec {
    std::vector<std::string> requested_lines;  // input.coverage_types, first occurrence of each
    std::optional<std::string> state;          // input.address.state
    std::string bucket;                        // input.appetite_bucket, else the configured default
    std::size_t max_solutions = 0;             // input.request_config.max_solutions, capped
};

std::vector<std::string> requested_lines(const json::object& input) {
    const json::array* coverage_types = find_array(input, "coverage_types");
    std::vector<std::string> lines;
    if (coverage_types != nullptr) {
        for (const json::value& type : *coverage_types) {
            if (type.is_string() && std::find(lines.begin(), lines.end(), type.get_string()) == lines.end()) {
                lines.emplace_back(type.get_string());
            }
        }
    }
    if (lines.empty()) {
        throw RunFailure("invalid_request", "input.coverage_types must list at least one line, e.g. [\"home\", \"auto\"]");
    }
    return lines;
}

std::size_t max_solutions(const json::object& input, const EngineParameters& parameters) {
    const json::object* request_config = find_object(input, "request_config");
    const json::value* requested = request_config ? request_config->if_contains("max_solutions") : nullptr;
    if (requested == nullptr || !requested->is_int64() || requested->get_int64() < 1) {
        return std::min(parameters.max_solutions_default, parameters.max_solutions_limit);
    }
    return std::min(static_cast<std::size_t>(requested->get_int64()), parameters.max_solutions_limit);
}

RunSpec read_run_spec(const json::object& input, const EngineConfig& config) {
    RunSpec spec;
    spec.requested_lines = requested_lines(input);
    if (const json::object* address = find_object(input, "address")) {
        if (const auto state = find_string(*address, "state")) {
            spec.state = std::string(*state);
        }
    }
    spec.bucket = find_string(input, "appetite_bucket").value_or(config.default_appetite_bucket);
    spec.max_solutions = max_solutions(input, config.parameters);
    return spec;
}

json::value optional_value(const std::optional<std::string>& value) {
    return value ? json::value(*value) : json::value(nullptr);
}

json::object counts(const std::map<std::string, std::size_t, std::less<>>& by_reason) {
    json::object object;
    for (const auto& [reason, count] : by_reason) {
        object[reason] = json_count(count);
    }
    return object;
}

json::array offering_ids(const std::vector<const Offering*>& offerings) {
    json::array ids;
    for (const Offering* offering : offerings) {
        ids.push_back(json::string(offering->id));
    }
    return ids;
}

// A short name for the recommended solution: its providers, and whether it is a quoted bundle.
std::string solution_title(const Package& package) {
    std::string title;
    for (const std::string& provider : package.providers) {
        title += (title.empty() ? "" : " + ") + provider;
    }
    return package.is_original_bundle ? title + " (original bundle)" : title;
}

json::object solution_offering(const Offering& offering) {
    return {
        {"id", offering.id},
        {"provider_id", optional_value(offering.provider_id)},
        {"provider_name", offering.provider_name},
        {"category", offering.category},
        {"quote_id", optional_value(offering.quote_id)},
        {"line_premium_annual", offering.line_premium ? rounded_number(*offering.line_premium) : json::value(nullptr)},
        {"quality_rating", optional_value(offering.quality_rating)},
    };
}

json::object scorecard_json(const Scorecard& scorecard) {
    json::object dimensions;
    for (const DimensionScore& score : scorecard.dimensions) {
        dimensions[score.key] = json::object{
            {"label", score.label},
            {"level", rounded_number(score.level)},
            {"weight", score.weight},
            {"reason", score.reason},
        };
    }
    return {{"overall_level", rounded_number(scorecard.overall_level)}, {"dimensions", std::move(dimensions)}};
}

json::object solution_json(const RankedSolution& solution) {
    const Package& package = *solution.package;
    json::array providers;
    for (const std::string& provider : package.providers) {
        providers.push_back(json::string(provider));
    }
    json::array offerings;
    for (const Offering* offering : package.offerings) {
        offerings.push_back(solution_offering(*offering));
    }
    return {
        {"rank", json_count(solution.rank)},
        {"cluster_label", solution.cluster_label},
        {"provider_count", json_count(package.provider_count)},
        {"providers", std::move(providers)},
        {"est_cost_low", rounded_number(package.est_cost_low)},
        {"est_cost_high", rounded_number(package.est_cost_high)},
        {"is_original_bundle", package.is_original_bundle},
        {"package_id", optional_value(package.package_id)},
        {"scorecard", scorecard_json(package.scorecard)},
        {"offerings", std::move(offerings)},
    };
}

// One placement run: the stages in order, each tracing what it decided.
class PlacementRun {
public:
    PlacementRun(const json::object& request, const json::object& config, ScoringHost& host)
        : request_(request), config_(parse_config(config)), host_(host) {}

    json::object execute() {
        const json::object& input = run_input();
        const RunSpec spec = read_run_spec(input, config_);
        const std::vector<Offering> offerings = read_offerings(offering_source(input));

        const FilterCriteria criteria{spec.requested_lines, spec.state, host_.now_unix_ms()};
        const FilterResult filtered = filter(offerings, criteria);
        std::optional<std::string> diagnostic = filter_diagnostic(offerings, criteria, filtered);

        AssembleResult assembled;
        if (!diagnostic) {
            assembled = assemble(spec, filtered, offerings);
            if (assembled.packages.empty()) {
                diagnostic = "every package breaks an umbrella carrier's rules; see output.umbrella_rejections";
            }
        }
        const Evaluation evaluation = evaluate(input, spec, assembled.packages);
        const std::vector<RankedSolution> solutions = rank(spec, assembled.packages);
        return result(spec, filtered, assembled, evaluation, solutions, diagnostic);
    }

private:
    // Milliseconds since `started_ns` on the host's monotonic clock, for stage summaries.
    json::value elapsed_ms(std::int64_t started_ns) const {
        return rounded_number(static_cast<double>(host_.monotonic_ns() - started_ns) / 1e6);
    }

    const json::object& run_input() const {
        const json::value* input = request_.if_contains("input");
        if (input == nullptr || !input->is_object()) {
            throw RunFailure("invalid_request", "the run body needs an \"input\" object");
        }
        return input->get_object();
    }

    // The run's offerings; converted from input.quotes when the run brings none.
    const json::array& offering_source(const json::object& input) {
        if (const json::array* offerings = find_array(request_, "offerings"); offerings && !offerings->empty()) {
            offerings_source_ = "offerings";
            return *offerings;
        }
        if (const json::array* quotes = find_array(input, "quotes")) {
            offerings_source_ = "input.quotes";
            converted_offerings_ = offerings_from_quotes(*quotes);
            return converted_offerings_;
        }
        offerings_source_ = "none";
        return converted_offerings_;
    }

    FilterResult filter(const std::vector<Offering>& offerings, const FilterCriteria& criteria) {
        const std::int64_t started = host_.monotonic_ns();
        FilterResult filtered = filter_offerings(offerings, criteria);
        for (const FilteredOffering& dropped : filtered.filtered) {
            host_.trace(kStageFilter, {{"event", "offering_filtered"},
                                       {"offering_id", dropped.offering->id},
                                       {"provider_name", dropped.offering->provider_name},
                                       {"category", dropped.offering->category},
                                       {"reason", dropped.reason}});
        }
        json::object eligible_by_line;
        for (std::size_t i = 0; i < criteria.requested_lines.size(); ++i) {
            eligible_by_line[criteria.requested_lines[i]] = json_count(filtered.eligible_by_line[i].size());
        }
        host_.trace(kStageFilter, {{"event", "filter_summary"},
                                   {"offerings_source", offerings_source_},
                                   {"offerings", json_count(offerings.size())},
                                   {"filtered", json_count(filtered.filtered.size())},
                                   {"filter_reasons", counts(filtered.reason_counts)},
                                   {"eligible_by_line", std::move(eligible_by_line)},
                                   {"duration_ms", elapsed_ms(started)}});
        return filtered;
    }

    AssembleResult assemble(const RunSpec& spec, const FilterResult& filtered, const std::vector<Offering>& offerings) {
        const std::int64_t started = host_.monotonic_ns();
        AssembleResult assembled = assemble_packages(
            spec.requested_lines, filtered, offerings,
            {.unbundling_surcharge = config_.parameters.unbundling_surcharge,
             .max_combinations = config_.parameters.max_combinations});
        for (const RejectedPackage& rejected : assembled.traced_rejections) {
            host_.trace(kStageAssemble, {{"event", "package_rejected"},
                                         {"offering_ids", offering_ids(rejected.offerings)},
                                         {"reason", rejected.reason}});
        }
        host_.trace(kStageAssemble, {{"event", "assemble_summary"},
                                     {"combinations_considered", json_count(assembled.combinations_considered)},
                                     {"packages", json_count(assembled.packages.size())},
                                     {"umbrella_rejections", counts(assembled.umbrella_rejections)},
                                     {"rejections_traced", json_count(assembled.traced_rejections.size())},
                                     {"duration_ms", elapsed_ms(started)}});
        return assembled;
    }

    Evaluation evaluate(const json::object& input, const RunSpec& spec, std::vector<Package>& packages) {
        const std::int64_t started = host_.monotonic_ns();
        Evaluation evaluation = evaluate_packages(
            packages, {.input = input, .requested_lines = spec.requested_lines, .bucket = spec.bucket, .config = config_},
            host_);
        json::array left_out;
        for (const std::string& dimension : evaluation.dimensions_left_out) {
            left_out.push_back(json::string(dimension));
        }
        host_.trace(kStageEvaluate, {{"event", "evaluate_summary"},
                                     {"appetite_bucket", spec.bucket},
                                     {"weights", weights_json(evaluation.weights)},
                                     {"weights_source", evaluation.weights.source},
                                     {"dimensions_left_out", std::move(left_out)},
                                     {"degradation_reason", optional_value(evaluation.degradation_reason)},
                                     {"packages_scored", json_count(packages.size())},
                                     {"duration_ms", elapsed_ms(started)}});
        return evaluation;
    }

    std::vector<RankedSolution> rank(const RunSpec& spec, const std::vector<Package>& packages) {
        const std::int64_t started = host_.monotonic_ns();
        std::vector<RankedSolution> solutions = rank_packages(packages, spec.max_solutions);
        json::array ranking;
        for (const RankedSolution& solution : solutions) {
            ranking.push_back(json::object{{"rank", json_count(solution.rank)},
                                           {"cluster_label", solution.cluster_label},
                                           {"overall_level", rounded_number(solution.package->scorecard.overall_level)},
                                           {"offering_ids", offering_ids(solution.package->offerings)}});
        }
        host_.trace(kStageRank, {{"event", "rank_summary"},
                                 {"packages_ranked", json_count(packages.size())},
                                 {"max_solutions", json_count(spec.max_solutions)},
                                 {"solutions", std::move(ranking)},
                                 {"duration_ms", elapsed_ms(started)}});
        return solutions;
    }

    static json::object weights_json(const Weights& weights) {
        json::object object;
        for (const auto& [dimension, weight] : weights.by_dimension) {
            object[dimension] = weight;
        }
        return object;
    }

    json::object result(const RunSpec& spec, const FilterResult& filtered, const AssembleResult& assembled,
                        const Evaluation& evaluation, const std::vector<RankedSolution>& solutions,
                        const std::optional<std::string>& diagnostic) const {
        const Package* top = solutions.empty() ? nullptr : solutions.front().package;
        json::object output{
            {"diagnostic", optional_value(diagnostic)},
            {"requirement_count", json_count(spec.requested_lines.size())},
            {"solutions_count", json_count(solutions.size())},
            {"tolerance_bucket", spec.bucket},
            {"top_label", top ? json::value(solution_title(*top)) : json::value(nullptr)},
            {"top_score", top ? rounded_number(top->scorecard.overall_level) : json::value(nullptr)},
            {"filtered_count", json_count(filtered.filtered.size())},
            {"filter_reasons", counts(filtered.reason_counts)},
            {"combinations_considered", json_count(assembled.combinations_considered)},
            {"umbrella_rejections", counts(assembled.umbrella_rejections)},
            {"weights", weights_json(evaluation.weights)},
            {"weights_source", evaluation.weights.source},
            {"offerings_source", offerings_source_},
        };
        if (evaluation.degradation_reason) {
            output["degradation_reason"] = *evaluation.degradation_reason;
        }
        json::array solutions_json;
        for (const RankedSolution& solution : solutions) {
            solutions_json.push_back(solution_json(solution));
        }
        return {
            {"status", evaluation.degradation_reason ? "degraded" : "completed"},
            {"stage", kStageRank},
            {"output", std::move(output)},
            {"solutions", std::move(solutions_json)},
        };
    }

    const json::object& request_;
    const EngineConfig config_;
    ScoringHost& host_;
    std::string_view offerings_source_;
    json::array converted_offerings_;
};

}  // namespace

PlacementResult run_placement(const json::object& request, const json::object& config, ScoringHost& host) {
    try {
        PlacementRun run(request, config, host);
        return {PlacementResult::Outcome::succeeded, run.execute()};
    } catch (const RunFailure& failure) {
        return {PlacementResult::Outcome::failed,
                json::object{{"code", failure.code()}, {"message", failure.what()}, {"details", failure.details()}}};
    }
}

}  // namespace engined::placement
