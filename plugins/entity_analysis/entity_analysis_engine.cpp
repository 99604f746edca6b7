#include "entity_analysis_engine.hpp"

#include "assess.hpp"
#include "config.hpp"
#include "coverage_gaps.hpp"
#include "filter.hpp"
#include "prospect.hpp"
#include "rank.hpp"
#include "reasoning.hpp"
#include "scorecard.hpp"
#include "sdk_names.hpp"

#include <algorithm>
#include <array>
#include <optional>
#include <string>
#include <vector>

namespace engined::entity_analysis {

namespace json = boost::json;

namespace {

constexpr std::string_view kStageFilter = "FILTER";
constexpr std::string_view kStageAssess = "ASSESS";
constexpr std::string_view kStageRank = "RANK";

// Exclusions are traced as compact {carrier_id, reason} entries, this many per event, so that
// every exclusion is on record and no single event grows with the pool.
constexpr std::size_t kExclusionsPerEvent = 500;

constexpr std::array<std::string_view, 4> kTiers = {kStrongFit, kGoodFit, kModerateFit, kWeakFit};

// What the run asks for beyond the prospect.
struct RunSpec {
    std::string pool_name;           // input.pool (or the host's pool.name)
    std::string snapshot;            // the host's pool.snapshot
    std::size_t max_candidates = 0;  // input.request_config.max_candidates, capped
    bool gap_analysis =
        false;  // request_config.gap_analysis, else whether current_portfolio is given
};

std::size_t max_candidates(const json::object* request_config, const EngineParameters& parameters) {
    const json::value* requested =
        request_config ? request_config->if_contains("max_candidates") : nullptr;
    const auto count = requested ? as_number(*requested) : std::nullopt;
    if (!count || *count < 1) {
        return std::min(parameters.max_candidates_default, parameters.max_candidates_limit);
    }
    return std::min(static_cast<std::size_t>(*count), parameters.max_candidates_limit);
}

RunSpec read_run_spec(const json::object& request, const json::object& input,
                      const EngineConfig& config) {
    RunSpec spec;
    const json::object* request_config = find_object(input, "request_config");
    spec.max_candidates = max_candidates(request_config, config.parameters);
    const auto gap_flag =
        request_config ? find_bool(*request_config, "gap_analysis") : std::nullopt;
    spec.gap_analysis = gap_flag.value_or(input.contains("current_portfolio"));

    const json::object* pool = find_object(request, "pool");
    spec.pool_name = std::string(
        find_string(input, "pool").value_or(pool ? find_string(*pool, "name").value_or("") : ""));
    const auto snapshot = pool ? find_string(*pool, "snapshot") : std::nullopt;
    if (!snapshot || snapshot->empty()) {
        throw RunFailure(
            "dataset_missing",
            spec.pool_name.empty()
                ? "the run names no carrier pool: input.pool is required (e.g. \"carriers:all\")"
                : "the carrier pool '" + spec.pool_name + "' was not resolved to a snapshot",
            json::array{json::object{{"pool", spec.pool_name}}});
    }
    spec.snapshot = *snapshot;
    return spec;
}

json::object weights_json(const DimensionWeights& weights) {
    json::object object;
    for (std::size_t d = 0; d < kDimensionCount; ++d) {
        object[kDimensionKeys[d]] = weights[d];
    }
    return object;
}

json::object thresholds_json(const TierThresholds& thresholds) {
    return {{kStrongFit, thresholds.strong_fit},
            {kGoodFit, thresholds.good_fit},
            {kModerateFit, thresholds.moderate_fit}};
}

json::array names(const std::vector<std::string_view>& items) {
    json::array array;
    for (const std::string_view item : items) {
        array.push_back(json::string(item));
    }
    return array;
}

// What ASSESS produced: every eligible carrier's levels and aggregate, and the tiers they fall in.
struct Assessment {
    Weights weights;
    Tiers tiers;
    std::vector<Ranked> ranked;
    std::array<std::size_t, kTiers.size()> tier_counts{};
};

// One analysis run: the stages in order, each tracing what it decided.
class AnalysisRun {
public:
    AnalysisRun(const json::object& request, const EngineConfig& config, ScoringHost& host,
                PoolCache& pools)
        : request_(request), config_(config), host_(host), pools_(pools) {}

    json::object execute() {
        const json::object& input = run_input();
        const Prospect prospect = read_prospect(input);
        const RunSpec spec = read_run_spec(request_, input, config_);
        const LoadedPool loaded = load(spec);
        const FilterResult filtered = filter(*loaded.pool, prospect);
        const std::vector<CoverageGap> gaps =
            spec.gap_analysis ? coverage_gaps(prospect, find_object(input, "current_portfolio"))
                              : std::vector<CoverageGap>{};
        const AssessContext context{.prospect = prospect, .gap_lines = missing_lines(gaps)};
        const Completeness facts = completeness(prospect);
        const Confidence confidence = profile_confidence(facts);

        Assessment assessment = assess(spec, filtered, context);
        json::array candidates = rank(spec, assessment, confidence, context);

        json::object output{
            {"pool", spec.pool_name},
            {"pool_snapshot", spec.snapshot},
            {"pool_size", json_count(loaded.pool->carriers.size())},
            {"pool_synthetic", json_count(loaded.pool->synthetic_count)},
            {"filtered", json_count(filtered.excluded.size())},
            {"filter_reasons", reason_counts(filtered)},
            {"eligible_count", json_count(assessment.ranked.size())},
            {"candidates_count", json_count(candidates.size())},
            {"confidence", confidence_name(confidence)},
            {"profile_facts",
             json::object{{"present", names(facts.present)}, {"missing", names(facts.missing)}}},
            {"weights", weights_json(assessment.weights.by_dimension)},
            {"weights_source", assessment.weights.source},
            {"tier_thresholds", thresholds_json(assessment.tiers.thresholds)},
            {"tiers_source", assessment.tiers.source},
            {"tier_counts", tier_counts_json(assessment)},
            {"gap_analysis", spec.gap_analysis},
            {"coverage_gaps", gaps_json(gaps)},
            {"diagnostic", assessment.ranked.empty()
                               ? json::value(diagnostic(spec, *loaded.pool, filtered))
                               : json::value(nullptr)},
        };
        return {{"status", "completed"},
                {"stage", kStageRank},
                {"output", std::move(output)},
                {"candidates", std::move(candidates)}};
    }

private:
    json::value elapsed_ms(std::int64_t started_ns) const {
        return rounded_number(static_cast<double>(host_.monotonic_ns() - started_ns) / 1e6);
    }

    const json::object& run_input() const {
        const json::object* input = find_object(request_, "input");
        if (input == nullptr) {
            throw RunFailure("invalid_request", "the run body needs an \"input\" object");
        }
        return *input;
    }

    LoadedPool load(const RunSpec& spec) {
        const std::int64_t started = host_.monotonic_ns();
        LoadedPool loaded = load_pool(spec.snapshot, host_, pools_);
        host_.trace(kStageFilter, {{"event", "pool_loaded"},
                                   {"pool", spec.pool_name},
                                   {"snapshot", spec.snapshot},
                                   {"pool_size", json_count(loaded.pool->carriers.size())},
                                   {"cache", loaded.cache_hit ? "hit" : "miss"},
                                   {"duration_ms", elapsed_ms(started)}});
        return loaded;
    }

    FilterResult filter(const Pool& pool, const Prospect& prospect) {
        const std::int64_t started = host_.monotonic_ns();
        FilterResult filtered = filter_carriers(pool, prospect);
        for (std::size_t first = 0; first < filtered.excluded.size();
             first += kExclusionsPerEvent) {
            const std::size_t last =
                std::min(first + kExclusionsPerEvent, filtered.excluded.size());
            json::array exclusions;
            exclusions.reserve(last - first);
            for (std::size_t i = first; i < last; ++i) {
                exclusions.push_back(
                    json::object{{"carrier_id", filtered.excluded[i].carrier->id},
                                 {"reason", filter_reason_name(filtered.excluded[i].reason)}});
            }
            host_.trace(kStageFilter,
                        {{"event", "carriers_excluded"}, {"exclusions", std::move(exclusions)}});
        }
        host_.trace(kStageFilter, {{"event", "filter_summary"},
                                   {"pool_size", json_count(pool.carriers.size())},
                                   {"filtered", json_count(filtered.excluded.size())},
                                   {"filter_reasons", reason_counts(filtered)},
                                   {"eligible", json_count(filtered.eligible.size())},
                                   {"duration_ms", elapsed_ms(started)}});
        return filtered;
    }

    static json::object reason_counts(const FilterResult& filtered) {
        json::object counts;
        for (std::size_t r = 0; r < kFilterReasonCount; ++r) {
            if (filtered.reason_counts[r] > 0) {
                counts[filter_reason_name(static_cast<FilterReason>(r))] =
                    json_count(filtered.reason_counts[r]);
            }
        }
        return counts;
    }

    static std::string diagnostic(const RunSpec& spec, const Pool& pool,
                                  const FilterResult& filtered) {
        if (pool.carriers.empty()) {
            return "the pool '" + spec.pool_name + "' holds no carriers";
        }
        const auto most =
            std::max_element(filtered.reason_counts.begin(), filtered.reason_counts.end());
        const auto reason = static_cast<FilterReason>(most - filtered.reason_counts.begin());
        return "no carrier of the " + std::to_string(pool.carriers.size()) + " in pool '" +
               spec.pool_name + "' is eligible; the most common reason is " +
               std::string(filter_reason_name(reason)) + " (" + std::to_string(*most) +
               "); see output.filter_reasons";
    }

    json::object candidate_json(std::size_t rank, const Ranked& entry, std::string_view tier,
                                Confidence profile, const AssessContext& context) const {
        const Carrier& carrier = *entry.carrier;
        const Scores scores = explain_scores(carrier, context);
        json::object scores_json;
        for (std::size_t d = 0; d < kDimensionCount; ++d) {
            scores_json[kDimensionKeys[d]] =
                json::object{{"level", level_name(scores[d].level)}, {"reason", scores[d].reason}};
        }
        const auto optional = [](const std::optional<std::string>& text) {
            return text ? json::value(*text) : json::value(nullptr);
        };
        return {
            {"rank", json_count(rank)},
            {"carrier_id", carrier.id},
            {"name", carrier.name},
            {"tier", tier},
            {"confidence", confidence_name(candidate_confidence(profile, carrier))},
            {"aggregate_level", entry.aggregate},
            {"am_best_rating", optional(carrier.am_best_rating)},
            {"financial_size", optional(carrier.financial_size)},
            {"synthetic", carrier.synthetic},
            {"scores", std::move(scores_json)},
            {"reasoning", reasoning(carrier, context.prospect, scores)},
        };
    }

    // The levels and aggregate of every eligible carrier, under the run's weights and tiers.
    Assessment assess(const RunSpec& spec, const FilterResult& filtered,
                      const AssessContext& context) {
        const std::int64_t started = host_.monotonic_ns();
        Assessment assessment{
            .weights = resolve_weights(json::object{{"profile", prospect_json(context.prospect)},
                                                    {"pool", spec.pool_name},
                                                    {"gap_analysis", spec.gap_analysis}},
                                       config_, host_),
            .tiers = resolve_tiers(config_, host_),
            .ranked = {},
            .tier_counts = {},
        };
        assessment.ranked.reserve(filtered.eligible.size());
        for (const Carrier* carrier : filtered.eligible) {
            const Levels levels = assess_levels(*carrier, context);
            const double aggregate = aggregate_level(levels, assessment.weights.by_dimension);
            assessment.ranked.push_back({carrier, levels, aggregate});
            ++assessment.tier_counts[tier_index(tier_of(aggregate, assessment.tiers.thresholds))];
        }
        host_.trace(kStageAssess,
                    {{"event", "assess_summary"},
                     {"eligible", json_count(assessment.ranked.size())},
                     {"weights", weights_json(assessment.weights.by_dimension)},
                     {"weights_source", assessment.weights.source},
                     {"tier_thresholds", thresholds_json(assessment.tiers.thresholds)},
                     {"tiers_source", assessment.tiers.source},
                     {"gap_lines", json_count(context.gap_lines.size())},
                     {"duration_ms", elapsed_ms(started)}});
        return assessment;
    }

    // The best max_candidates carriers, in order, explained.
    json::array rank(const RunSpec& spec, Assessment& assessment, Confidence confidence,
                     const AssessContext& context) {
        sort_ranked(assessment.ranked, spec.max_candidates);
        const std::size_t shown = std::min(spec.max_candidates, assessment.ranked.size());
        json::array candidates;
        json::array traced;
        for (std::size_t i = 0; i < shown; ++i) {
            const Ranked& entry = assessment.ranked[i];
            const std::string_view tier = tier_of(entry.aggregate, assessment.tiers.thresholds);
            candidates.push_back(candidate_json(i + 1, entry, tier, confidence, context));
            traced.push_back(json::object{{"rank", json_count(i + 1)},
                                          {"carrier_id", entry.carrier->id},
                                          {"aggregate_level", entry.aggregate},
                                          {"tier", tier}});
        }
        host_.trace(kStageRank, {{"event", "rank_summary"},
                                 {"max_candidates", json_count(spec.max_candidates)},
                                 {"tier_counts", tier_counts_json(assessment)},
                                 {"candidates", std::move(traced)}});
        return candidates;
    }

    static std::size_t tier_index(std::string_view tier) {
        return static_cast<std::size_t>(std::find(kTiers.begin(), kTiers.end(), tier) -
                                        kTiers.begin());
    }

    static json::object tier_counts_json(const Assessment& assessment) {
        json::object counts;
        for (std::size_t t = 0; t < kTiers.size(); ++t) {
            counts[kTiers[t]] = json_count(assessment.tier_counts[t]);
        }
        return counts;
    }

    const json::object& request_;
    const EngineConfig& config_;
    ScoringHost& host_;
    PoolCache& pools_;
};

}  // namespace

AnalysisResult run_entity_analysis(const json::object& request, const EngineConfig& config,
                                   ScoringHost& host, PoolCache& pools) {
    try {
        AnalysisRun run(request, config, host, pools);
        return {AnalysisResult::Outcome::succeeded, run.execute()};
    } catch (const RunFailure& failure) {
        return {AnalysisResult::Outcome::failed, plugin_sdk::failure_body(failure)};
    }
}

AnalysisResult run_entity_analysis(const json::object& request, const json::object& config,
                                   ScoringHost& host, PoolCache& pools) {
    std::optional<EngineConfig> prepared;
    try {
        prepared = parse_config(config);
    } catch (const RunFailure& failure) {
        return {AnalysisResult::Outcome::failed, plugin_sdk::failure_body(failure)};
    }
    return run_entity_analysis(request, *prepared, host, pools);
}

}  // namespace engined::entity_analysis
