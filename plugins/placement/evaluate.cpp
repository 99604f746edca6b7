#include "evaluate.hpp"

#include "sdk_names.hpp"

#include <algorithm>

namespace engined::placement {

namespace json = boost::json;

namespace {

constexpr double kMinLevel = 1.0;
constexpr double kMaxLevel = 4.0;
// Floating-point sums taken in another order may differ in the last bits: a lower bound gives
// that much away before rounding, so that it never rounds above the level it bounds.
constexpr double kBoundSlack = 1e-7;

double deterministic_level(std::string_view key, const DeterministicLevels& levels) {
    if (key == kPricingCompetitiveness) {
        return levels.pricing;
    }
    if (key == kCoverageCompleteness) {
        return levels.coverage;
    }
    if (key == kCarrierQuality) {
        return levels.carrier;
    }
    return levels.simplicity;
}

void copy_member(json::object& to, const json::object& from, std::string_view key) {
    if (const json::value* value = from.if_contains(key)) {
        to[key] = *value;
    }
}

}  // namespace

json::object script_context(const json::object& input, std::string_view bucket) {
    json::object context{{"bucket", bucket}};
    if (const json::object* address = find_object(input, "address")) {
        copy_member(context, *address, "state");
    }
    for (const std::string_view key : {"coverage_types", "current_coverage", "residence"}) {
        copy_member(context, input, key);
    }
    return context;
}

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
        {"package_id",
         package.package_id ? json::value(*package.package_id) : json::value(nullptr)},
    };
}

PackageScorer::PackageScorer(const EvaluationRequest& request, ScoringHost& host)
    : host_(host),
      bucket_(request.bucket),
      weights_(resolve_weights(request.bucket, request.input, request.config, host)),
      context_(script_context(request.input, request.bucket)) {
    for (const ScoringDimension& dimension : request.config.enabled_dimensions) {
        active_.push_back({dimension, weights_.by_dimension.at(dimension.key)});
        configured_order_.push_back(dimension.key);
    }
}

bool PackageScorer::has_script_dimensions() const {
    return std::any_of(active_.begin(), active_.end(), [](const ActiveDimension& a) {
        return a.dimension.method == ScoringMethod::lua;
    });
}

// The weighted mean of the active dimensions' levels in configured order. Every overall level
// and every bound goes through this one loop, so equal inputs give bit-equal results.
template <typename LevelOf>
double PackageScorer::weighted_level(LevelOf&& level_of) const {
    double weighted_sum = 0.0;
    double weight_sum = 0.0;
    for (const ActiveDimension& active : active_) {
        weighted_sum += level_of(active.dimension) * active.weight;
        weight_sum += active.weight;
    }
    return round2(weighted_sum / weight_sum);
}

double PackageScorer::overall_level(const DeterministicLevels& levels) const {
    return weighted_level(
        [&](const ScoringDimension& d) { return round2(deterministic_level(d.key, levels)); });
}

double PackageScorer::overall_lower_bound(const DeterministicLevels& lower) const {
    return weighted_level([&](const ScoringDimension& d) {
        const double level =
            d.method == ScoringMethod::lua ? kMinLevel : deterministic_level(d.key, lower);
        return round2(level - kBoundSlack);
    });
}

void PackageScorer::score(Package& package, const Market& market) {
    package.scorecard = {};
    for (const ActiveDimension& active : active_) {
        const ScoringDimension& dimension = active.dimension;
        Assessment assessment = dimension.method == ScoringMethod::deterministic
                                    ? assess(dimension.key, package, market)
                                    : assess_with_script(dimension, package);
        package.scorecard.dimensions.push_back({
            .key = dimension.key,
            .label = dimension.label,
            .level = round2(assessment.level),
            .weight = active.weight,
            .reason = std::move(assessment.reason),
        });
    }
    // The overall level is computed from the rounded dimension levels, so that a reader can
    // recompute it from the published scorecard.
    std::size_t next = 0;
    const auto& dimensions = package.scorecard.dimensions;
    package.scorecard.overall_level =
        weighted_level([&](const ScoringDimension&) { return dimensions[next++].level; });
}

Assessment PackageScorer::assess_with_script(const ScoringDimension& dimension,
                                             const Package& package) {
    const std::string function = "score_" + dimension.key;
    if (!host_.has_function(function)) {
        leave_out(dimension, function + " is not defined in the scorecard");
    }
    json::value returned;
    try {
        returned = host_.call(function, json::array{package_for_script(package), context_});
    } catch (const ScriptFailure& failure) {
        fail_run_on_breach(failure, function);
        leave_out(dimension, function + " failed: " + failure.message());
    }
    const json::object* table = returned.if_object();
    const auto level = table ? find_number(*table, "level") : std::nullopt;
    if (!level || !(*level >= kMinLevel && *level <= kMaxLevel)) {
        leave_out(dimension, function + " must return {level = 1.0..4.0, reason = \"...\"}");
    }
    return {*level, std::string(find_string(*table, "reason").value_or(""))};
}

void PackageScorer::leave_out(const ScoringDimension& dimension, const std::string& problem) {
    left_out_.emplace(dimension.key, problem);
    std::erase_if(active_,
                  [&](const ActiveDimension& a) { return a.dimension.key == dimension.key; });
    const bool any_weight = std::any_of(active_.begin(), active_.end(),
                                        [](const ActiveDimension& a) { return a.weight > 0.0; });
    if (!any_weight) {
        throw RunFailure("invalid_weights",
                         "bucket '" + bucket_ +
                             "' gives weight only to dimensions left out of the run: " +
                             *evaluation().degradation_reason);
    }
    throw DimensionLeftOut();
}

Evaluation PackageScorer::evaluation() const {
    Evaluation evaluation{
        .weights = weights_, .dimensions_left_out = {}, .degradation_reason = std::nullopt};
    for (const std::string& key : configured_order_) {
        const auto found = left_out_.find(key);
        if (found == left_out_.end()) {
            continue;
        }
        const std::string note = "dimension '" + key + "' left out: " + found->second;
        evaluation.dimensions_left_out.push_back(key);
        evaluation.degradation_reason =
            evaluation.degradation_reason ? *evaluation.degradation_reason + "; " + note : note;
    }
    return evaluation;
}

void evaluate_packages(std::vector<Package>& packages, const Market& market,
                       PackageScorer& scorer) {
    for (;;) {
        try {
            for (Package& package : packages) {
                scorer.score(package, market);
            }
            return;
        } catch (const DimensionLeftOut&) {
            // Score every package again without the dimension.
        }
    }
}

}  // namespace engined::placement
