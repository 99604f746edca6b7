#include "evaluate.hpp"

#include "json_fields.hpp"
#include "run_failure.hpp"
#include "scorers.hpp"
#include "script_failures.hpp"

#include <variant>

namespace engined::placement {

namespace json = boost::json;

namespace {

constexpr double kMinLevel = 1.0;
constexpr double kMaxLevel = 4.0;

// What a Lua dimension sees of a package: the offerings as supplied plus the assembled facts.
json::object package_for_script(const Package& package) {
    json::array offerings;
    for (const Offering* offering : package.offerings) {
        offerings.push_back(*offering->source);
    }
    json::array providers;
    for (const std::string& provider : package.providers) {
        providers.push_back(json::string(provider));
    }
    return {
        {"offerings", std::move(offerings)},
        {"providers", std::move(providers)},
        {"provider_count", json_count(package.provider_count)},
        {"est_cost_low", round2(package.est_cost_low)},
        {"est_cost_high", round2(package.est_cost_high)},
        {"is_original_bundle", package.is_original_bundle},
        {"package_id", package.package_id ? json::value(*package.package_id) : json::value(nullptr)},
    };
}

// A Lua scorer that cannot be used; the dimension is left out of the run.
struct UnusableScorer {
    std::string problem;
};

// The {level, reason} a score_<key> call returned, or what is wrong with it.
std::variant<Assessment, UnusableScorer> read_script_assessment(const json::value& returned,
                                                                const std::string& function) {
    const json::object* table = returned.if_object();
    const auto level = table ? find_number(*table, "level") : std::nullopt;
    if (!level || !(*level >= kMinLevel && *level <= kMaxLevel)) {
        return UnusableScorer{function + " must return {level = 1.0..4.0, reason = \"...\"}"};
    }
    return Assessment{*level, std::string(find_string(*table, "reason").value_or(""))};
}

// Scores `dimension` on every package with its Lua scorer; the unusable scorer otherwise.
std::variant<std::vector<Assessment>, UnusableScorer> assess_with_script(
    const ScoringDimension& dimension, const std::vector<Package>& packages, const json::object& context,
    ScoringHost& host) {
    const std::string function = "score_" + dimension.key;
    if (!host.has_function(function)) {
        return UnusableScorer{function + " is not defined in the scorecard"};
    }
    std::vector<Assessment> assessments;
    assessments.reserve(packages.size());
    for (const Package& package : packages) {
        json::value returned;
        try {
            returned = host.call(function, json::array{package_for_script(package), context});
        } catch (const ScriptFailure& failure) {
            fail_run_on_breach(failure, function);
            return UnusableScorer{function + " failed: " + failure.what()};
        }
        auto assessment = read_script_assessment(returned, function);
        if (auto* unusable = std::get_if<UnusableScorer>(&assessment)) {
            return std::move(*unusable);
        }
        assessments.push_back(std::move(std::get<Assessment>(assessment)));
    }
    return assessments;
}

std::vector<Assessment> assess_deterministic(const ScoringDimension& dimension, const std::vector<Package>& packages,
                                             const Market& market) {
    std::vector<Assessment> assessments;
    assessments.reserve(packages.size());
    for (const Package& package : packages) {
        assessments.push_back(assess(dimension.key, package, market));
    }
    return assessments;
}

void record(std::vector<Package>& packages, const ScoringDimension& dimension, double weight,
            std::vector<Assessment>&& assessments) {
    for (std::size_t i = 0; i < packages.size(); ++i) {
        packages[i].scorecard.dimensions.push_back({
            .key = dimension.key,
            .label = dimension.label,
            .level = round2(assessments[i].level),
            .weight = weight,
            .reason = std::move(assessments[i].reason),
        });
    }
}

// The overall level is computed from the rounded dimension levels, so that a reader can
// recompute it from the published scorecard.
void compute_overall_levels(std::vector<Package>& packages, const Evaluation& evaluation,
                            std::string_view bucket) {
    for (Package& package : packages) {
        double weighted_sum = 0.0;
        double weight_sum = 0.0;
        for (const DimensionScore& score : package.scorecard.dimensions) {
            weighted_sum += score.level * score.weight;
            weight_sum += score.weight;
        }
        if (!(weight_sum > 0.0)) {
            throw RunFailure("invalid_weights",
                             "bucket '" + std::string(bucket) +
                                 "' gives weight only to dimensions left out of the run: " +
                                 evaluation.degradation_reason.value_or(""));
        }
        package.scorecard.overall_level = round2(weighted_sum / weight_sum);
    }
}

}  // namespace

Evaluation evaluate_packages(std::vector<Package>& packages, const EvaluationRequest& request,
                             ScoringHost& host) {
    Evaluation evaluation{.weights = resolve_weights(request.bucket, request.input, request.config, host),
                          .dimensions_left_out = {},
                          .degradation_reason = std::nullopt};
    if (packages.empty()) {
        return evaluation;
    }
    const Market market = Market::survey(packages, request.input, request.requested_lines);
    const json::object script_context{{"appetite_bucket", request.bucket}, {"input", request.input}};

    for (const ScoringDimension& dimension : request.config.enabled_dimensions()) {
        const double weight = evaluation.weights.by_dimension.at(dimension.key);
        if (dimension.method == ScoringMethod::deterministic) {
            record(packages, dimension, weight, assess_deterministic(dimension, packages, market));
            continue;
        }
        auto scored = assess_with_script(dimension, packages, script_context, host);
        if (auto* assessments = std::get_if<std::vector<Assessment>>(&scored)) {
            record(packages, dimension, weight, std::move(*assessments));
            continue;
        }
        const std::string note = "dimension '" + dimension.key + "' left out: " +
                                 std::get<UnusableScorer>(scored).problem;
        evaluation.dimensions_left_out.push_back(dimension.key);
        evaluation.degradation_reason =
            evaluation.degradation_reason ? *evaluation.degradation_reason + "; " + note : note;
    }
    compute_overall_levels(packages, evaluation, request.bucket);
    return evaluation;
}

}  // namespace engined::placement
