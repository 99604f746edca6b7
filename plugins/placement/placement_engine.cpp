#include "placement_engine.hpp"

#include "adjust.hpp"
#include "assemble.hpp"
#include "config.hpp"
#include "coverage_gaps.hpp"
#include "evaluate.hpp"
#include "filter.hpp"
#include "offering.hpp"
#include "package_space.hpp"
#include "quotes.hpp"
#include "rank.hpp"
#include "sdk_names.hpp"
#include "search.hpp"

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
    bool quote_matching = true;                // rank packages of the offerings
    bool coverage_analysis = false;            // report gaps in the current coverage
};

// input.request_config's quote_matching and coverage_analysis, as the reference documents them.
// With neither, a current_portfolio asks for coverage analysis, anything else for quote matching.
// Otherwise quote matching stays on unless turned off explicitly (coverage_analysis: true alone
// is a dual run), and a request that turns both off falls back to quote matching rather than
// asking for nothing.
void read_routing(const json::object& input, RunSpec& spec) {
    const json::object* request_config = find_object(input, "request_config");
    const auto matching =
        request_config ? find_bool(*request_config, "quote_matching") : std::nullopt;
    const auto analysis =
        request_config ? find_bool(*request_config, "coverage_analysis") : std::nullopt;
    if (!matching && !analysis) {
        spec.coverage_analysis = input.contains("current_portfolio");
        spec.quote_matching = !spec.coverage_analysis;
        return;
    }
    spec.coverage_analysis = analysis.value_or(false);
    spec.quote_matching = matching.value_or(true) || !spec.coverage_analysis;
}

std::string_view mode_name(const RunSpec& spec) {
    if (spec.quote_matching && spec.coverage_analysis) {
        return "dual";
    }
    return spec.quote_matching ? "quote_matching" : "coverage_analysis";
}

std::vector<std::string> requested_lines(const json::object& input) {
    const json::array* coverage_types = find_array(input, "coverage_types");
    std::vector<std::string> lines;
    if (coverage_types != nullptr) {
        for (const json::value& type : *coverage_types) {
            if (type.is_string() &&
                std::find(lines.begin(), lines.end(), type.get_string()) == lines.end()) {
                lines.emplace_back(type.get_string());
            }
        }
    }
    if (lines.empty()) {
        throw RunFailure(
            "invalid_request",
            "input.coverage_types must list at least one line, e.g. [\"home\", \"auto\"]");
    }
    return lines;
}

std::size_t max_solutions(const json::object& input, const EngineParameters& parameters) {
    const json::object* request_config = find_object(input, "request_config");
    const json::value* requested =
        request_config ? request_config->if_contains("max_solutions") : nullptr;
    if (requested == nullptr || !requested->is_int64() || requested->get_int64() < 1) {
        return std::min(parameters.max_solutions_default, parameters.max_solutions_limit);
    }
    return std::min(static_cast<std::size_t>(requested->get_int64()),
                    parameters.max_solutions_limit);
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
    read_routing(input, spec);
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

// The recommended solution's carriers, for a one-line summary: "Chubb + Progressive".
std::string carriers_of(const Package& package) {
    std::string carriers;
    for (const std::string& provider : package.providers) {
        carriers += (carriers.empty() ? "" : " + ") + provider;
    }
    return carriers;
}

// The offering as it was submitted (or converted from input.quotes): id, provider_*, category,
// coverage{...} and attributes{quote_id, line_premium_annual, ..., passthrough}, so a client reads
// a solution's lines in the shape it sent them. provider_name is filled from provider_id when the
// offering has none, because every solution line names its carrier.
json::object submitted_offering(const Offering& offering) {
    json::object echoed = *offering.source;
    if (!echoed.contains("provider_name")) {
        echoed["provider_name"] = offering.provider_name;
    }
    return echoed;
}

// The line summary of the configurations published before the submitted shape (1.x).
json::object offering_summary(const Offering& offering) {
    return {
        {"id", offering.id},
        {"provider_id", optional_value(offering.provider_id)},
        {"provider_name", offering.provider_name},
        {"category", offering.category},
        {"quote_id", optional_value(offering.quote_id)},
        {"line_premium_annual",
         offering.line_premium ? rounded_number(*offering.line_premium) : json::value(nullptr)},
        {"quality_rating", optional_value(offering.quality_rating)},
    };
}

json::object solution_offering(const Offering& offering,
                               EngineParameters::SolutionOfferings shape) {
    return shape == EngineParameters::SolutionOfferings::submitted ? submitted_offering(offering)
                                                                   : offering_summary(offering);
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
    return {{"overall_level", rounded_number(scorecard.overall_level)},
            {"dimensions", std::move(dimensions)}};
}

json::object solution_json(const RankedSolution& solution,
                           EngineParameters::SolutionOfferings shape) {
    const Package& package = *solution.package;
    json::array providers;
    for (const std::string& provider : package.providers) {
        providers.push_back(json::string(provider));
    }
    json::array offerings;
    for (const Offering* offering : package.offerings) {
        offerings.push_back(solution_offering(*offering, shape));
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

// What quote matching produced: the stages' counts and the ranked packages the solutions
// point into.
struct Matching {
    FilterResult filtered;
    std::optional<std::string> diagnostic;
    std::uint64_t combinations_total = 0;
    std::uint64_t packages_examined = 0;
    std::map<std::string, std::size_t, std::less<>> umbrella_rejections;
    std::vector<Package> ranked;
    std::vector<RankedSolution> solutions;
    std::size_t vetoed_count = 0;
};

// One placement run: the stages in order, each tracing what it decided.
class PlacementRun {
public:
    PlacementRun(const json::object& request, const EngineConfig& config, ScoringHost& host,
                 RankingStrategy strategy)
        : request_(request), config_(config), host_(host), strategy_(strategy) {}

    json::object execute() {
        const json::object& input = run_input();
        const RunSpec spec = read_run_spec(input, config_);
        json::array gaps =
            spec.coverage_analysis ? coverage_gaps(input, spec.requested_lines) : json::array{};
        PackageScorer scorer({.input = input,
                              .requested_lines = spec.requested_lines,
                              .bucket = spec.bucket,
                              .config = config_},
                             host_);
        Matching matching;
        if (spec.quote_matching) {
            match_quotes(input, spec, scorer, matching);
        }
        return result(spec, matching, scorer.evaluation(), std::move(gaps));
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

    void match_quotes(const json::object& input, const RunSpec& spec, PackageScorer& scorer,
                      Matching& matching) {
        offerings_ = read_offerings(offering_source(input));
        const FilterCriteria criteria{
            spec.requested_lines, spec.state, host_.now_unix_ms(),
            current_underlying_policies(find_object(input, "current_coverage"),
                                        spec.requested_lines)};
        matching.filtered = filter(offerings_, criteria);
        matching.diagnostic = filter_diagnostic(offerings_, criteria, matching.filtered);
        if (matching.diagnostic) {
            return;
        }
        const PackagePricer pricer(offerings_, config_.parameters.unbundling_surcharge);
        if (strategy_ == RankingStrategy::search) {
            search_ranking(input, spec, pricer, scorer, matching);
        } else {
            exhaustive_ranking(input, spec, pricer, scorer, matching);
        }
        if (!matching.diagnostic) {
            trace_rank(spec, matching);
        }
    }

    static constexpr std::string_view kCoverageFirstBucket = "coverage_first";

    static constexpr std::string_view kNoValidPackage =
        "every package breaks an umbrella carrier's rules; see output.umbrella_rejections";

    // The bounded search. The adjust veto is opaque to it, so it keeps max_solutions packages,
    // lets adjust pass over the vetoed ones in ranking order and, when too few survive, searches
    // again keeping twice as many.
    void search_ranking(const json::object& input, const RunSpec& spec, const PackagePricer& pricer,
                        PackageScorer& scorer, Matching& matching) {
        const std::int64_t started = host_.monotonic_ns();
        const PackageSpace space(spec.requested_lines, matching.filtered, pricer);
        matching.combinations_total = combination_count(matching.filtered);
        matching.umbrella_rejections = space.umbrella_rejections();
        for (const RejectedPairing& rejected : space.traced_rejections()) {
            host_.trace(kStageAssemble, {{"event", "umbrella_pairing_rejected"},
                                         {"umbrella_id", rejected.umbrella->id},
                                         {"offering_id", rejected.underlying->id},
                                         {"reason", rejected.reason}});
        }
        trace_assemble(matching, space.valid_packages(), started);
        if (space.valid_packages() == 0) {
            matching.diagnostic = std::string(kNoValidPackage);
            return;
        }
        Market market = Market::of_request(input, spec.requested_lines);
        space.survey(market);
        const std::int64_t evaluate_started = host_.monotonic_ns();
        TopPackageSearch search(space, market, scorer, config_.parameters.max_packages_examined);
        PackageAdjuster adjuster(host_, scorer.context());
        std::vector<const Package*> survivors;
        for (std::size_t keep = spec.max_solutions;; keep *= 2) {
            matching.ranked = best_packages(search, keep);
            survivors = adjuster.survivors(matching.ranked, spec.max_solutions);
            if (survivors.size() == spec.max_solutions || matching.ranked.size() < keep) {
                break;
            }
        }
        matching.solutions =
            label_solutions(std::move(survivors), coverage_first_price_cap(spec, market));
        matching.vetoed_count = adjuster.vetoed_count();
        matching.packages_examined = search.packages_examined();
        trace_evaluate(spec, scorer, matching.packages_examined, evaluate_started);
    }

    // Under the coverage_first bucket, how dear the best-covered solution may be and still go first.
    std::optional<double> coverage_first_price_cap(const RunSpec& spec,
                                                   const Market& market) const {
        if (spec.bucket != kCoverageFirstBucket) {
            return std::nullopt;
        }
        return market.cheapest * config_.parameters.coverage_first_price_ratio;
    }

    static std::vector<Package> best_packages(TopPackageSearch& search, std::size_t keep) {
        for (;;) {
            try {
                return search.best(keep);
            } catch (const DimensionLeftOut&) {
                // Search again without the dimension the scorer dropped.
            }
        }
    }

    // The reference: every package assembled, scored and sorted.
    void exhaustive_ranking(const json::object& input, const RunSpec& spec,
                            const PackagePricer& pricer, PackageScorer& scorer,
                            Matching& matching) {
        const std::int64_t started = host_.monotonic_ns();
        AssembleResult assembled =
            assemble_packages(spec.requested_lines, matching.filtered, pricer,
                              config_.parameters.max_packages_examined);
        matching.combinations_total = assembled.combinations_total;
        matching.umbrella_rejections = assembled.umbrella_rejections;
        for (const RejectedPackage& rejected : assembled.traced_rejections) {
            host_.trace(kStageAssemble, {{"event", "package_rejected"},
                                         {"offering_ids", offering_ids(rejected.offerings)},
                                         {"reason", rejected.reason}});
        }
        trace_assemble(matching, assembled.packages.size(), started);
        if (assembled.packages.empty()) {
            matching.diagnostic = std::string(kNoValidPackage);
            return;
        }
        const std::int64_t evaluate_started = host_.monotonic_ns();
        const Market market = Market::survey(assembled.packages, input, spec.requested_lines);
        evaluate_packages(assembled.packages, market, scorer);
        std::sort(assembled.packages.begin(), assembled.packages.end(),
                  [](const Package& a, const Package& b) { return ranks_before(a, b); });
        matching.ranked = std::move(assembled.packages);
        matching.packages_examined = matching.ranked.size();
        PackageAdjuster adjuster(host_, scorer.context());
        matching.solutions =
            label_solutions(adjuster.survivors(matching.ranked, spec.max_solutions),
                            coverage_first_price_cap(spec, market));
        matching.vetoed_count = adjuster.vetoed_count();
        trace_evaluate(spec, scorer, matching.packages_examined, evaluate_started);
    }

    // The run's offerings; converted from input.quotes when the run brings none.
    const json::array& offering_source(const json::object& input) {
        if (const json::array* offerings = find_array(request_, "offerings");
            offerings && !offerings->empty()) {
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
            eligible_by_line[criteria.requested_lines[i]] =
                json_count(filtered.eligible_by_line[i].size());
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

    void trace_assemble(const Matching& matching, std::uint64_t valid_packages,
                        std::int64_t started) {
        host_.trace(kStageAssemble,
                    {{"event", "assemble_summary"},
                     {"combinations_total", json_count(matching.combinations_total)},
                     {"valid_packages", json_count(valid_packages)},
                     {"umbrella_rejections", counts(matching.umbrella_rejections)},
                     {"duration_ms", elapsed_ms(started)}});
    }

    void trace_evaluate(const RunSpec& spec, const PackageScorer& scorer, std::uint64_t examined,
                        std::int64_t started) {
        const Evaluation evaluation = scorer.evaluation();
        json::array left_out;
        for (const std::string& dimension : evaluation.dimensions_left_out) {
            left_out.push_back(json::string(dimension));
        }
        host_.trace(kStageEvaluate,
                    {{"event", "evaluate_summary"},
                     {"appetite_bucket", spec.bucket},
                     {"weights", weights_json(evaluation.weights)},
                     {"weights_source", evaluation.weights.source},
                     {"dimensions_left_out", std::move(left_out)},
                     {"degradation_reason", optional_value(evaluation.degradation_reason)},
                     {"packages_examined", json_count(examined)},
                     {"duration_ms", elapsed_ms(started)}});
    }

    void trace_rank(const RunSpec& spec, const Matching& matching) {
        json::array ranking;
        for (const RankedSolution& solution : matching.solutions) {
            ranking.push_back(json::object{
                {"rank", json_count(solution.rank)},
                {"cluster_label", solution.cluster_label},
                {"overall_level", rounded_number(solution.package->scorecard.overall_level)},
                {"offering_ids", offering_ids(solution.package->offerings)}});
        }
        host_.trace(kStageRank, {{"event", "rank_summary"},
                                 {"max_solutions", json_count(spec.max_solutions)},
                                 {"vetoed_count", json_count(matching.vetoed_count)},
                                 {"solutions", std::move(ranking)}});
    }

    static json::object weights_json(const Weights& weights) {
        json::object object;
        for (const auto& [dimension, weight] : weights.by_dimension) {
            object[dimension] = weight;
        }
        return object;
    }

    json::object result(const RunSpec& spec, const Matching& matching, const Evaluation& evaluation,
                        json::array gaps) const {
        const Package* top =
            matching.solutions.empty() ? nullptr : matching.solutions.front().package;
        json::object output{
            {"diagnostic", optional_value(matching.diagnostic)},
            {"mode", mode_name(spec)},
            {"requirement_count", json_count(spec.requested_lines.size())},
            {"solutions_count", json_count(matching.solutions.size())},
            {"tolerance_bucket", spec.bucket},
            {"top_label",
             top ? json::value(matching.solutions.front().cluster_label) : json::value(nullptr)},
            {"top_carriers", top ? json::value(carriers_of(*top)) : json::value(nullptr)},
            {"top_score",
             top ? rounded_number(top->scorecard.overall_level) : json::value(nullptr)},
            {"filtered_count", json_count(matching.filtered.filtered.size())},
            {"filter_reasons", counts(matching.filtered.reason_counts)},
            {"combinations_total", json_count(matching.combinations_total)},
            {"packages_examined", json_count(matching.packages_examined)},
            {"umbrella_rejections", counts(matching.umbrella_rejections)},
            {"vetoed_count", json_count(matching.vetoed_count)},
            {"weights", weights_json(evaluation.weights)},
            {"weights_source", evaluation.weights.source},
            {"offerings_source", spec.quote_matching ? offerings_source_ : "none"},
        };
        if (spec.coverage_analysis) {
            output["coverage_gaps"] = std::move(gaps);
        }
        if (evaluation.degradation_reason) {
            output["degradation_reason"] = *evaluation.degradation_reason;
        }
        json::array solutions_json;
        for (const RankedSolution& solution : matching.solutions) {
            solutions_json.push_back(
                solution_json(solution, config_.parameters.solution_offerings));
        }
        return {
            {"status", evaluation.degradation_reason ? "degraded" : "completed"},
            {"stage", kStageRank},
            {"output", std::move(output)},
            {"solutions", std::move(solutions_json)},
        };
    }

    const json::object& request_;
    const EngineConfig& config_;
    ScoringHost& host_;
    RankingStrategy strategy_;
    std::string_view offerings_source_ = "none";
    json::array converted_offerings_;
    std::vector<Offering> offerings_;
};

}  // namespace

PlacementResult run_placement(const json::object& request, const EngineConfig& config,
                              ScoringHost& host, RankingStrategy strategy) {
    try {
        PlacementRun run(request, config, host, strategy);
        return {PlacementResult::Outcome::succeeded, run.execute()};
    } catch (const RunFailure& failure) {
        return {PlacementResult::Outcome::failed, plugin_sdk::failure_body(failure)};
    }
}

PlacementResult run_placement(const json::object& request, const json::object& config,
                              ScoringHost& host, RankingStrategy strategy) {
    std::optional<EngineConfig> prepared;
    try {
        prepared = parse_config(config);
    } catch (const RunFailure& failure) {
        return {PlacementResult::Outcome::failed, plugin_sdk::failure_body(failure)};
    }
    return run_placement(request, *prepared, host, strategy);
}

}  // namespace engined::placement
