#include "config.hpp"

#include "sdk_names.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <set>

namespace engined::entity_analysis {

namespace json = boost::json;

namespace {

// Reads a configuration in one pass, collecting every problem instead of stopping at the first,
// so that an operator fixes them all in one edit.
class ConfigReader {
public:
    explicit ConfigReader(const json::object& source) : source_(source) {}

    EngineConfig read() {
        read_schema_version();
        read_dimensions();
        read_weight_profiles();
        read_default_bucket();
        read_parameters();
        return std::move(config_);
    }

    std::vector<ConfigProblem> take_problems() { return std::move(problems_); }

private:
    void problem(std::string path, std::string message) {
        problems_.push_back({std::move(path), std::move(message)});
    }

    void read_schema_version() {
        const json::value* version = source_.if_contains("schema_version");
        if (version != nullptr && as_positive_integer(*version) != std::uint64_t{1}) {
            problem("/schema_version", "must be 1, the configuration format this engine reads");
        }
    }

    // The six dimensions, each once, deterministic and enabled: the engine scores all of them.
    void read_dimensions() {
        const json::array* dimensions = find_array(source_, "scoring_dimensions");
        if (dimensions == nullptr) {
            problem("/scoring_dimensions", "must be an array of {key, label, method, enabled}");
            return;
        }
        std::set<std::string_view> seen;
        for (std::size_t i = 0; i < dimensions->size(); ++i) {
            const std::string path = json_pointer("/scoring_dimensions", i);
            const json::object* entry = (*dimensions)[i].if_object();
            const auto key = entry ? find_string(*entry, "key") : std::nullopt;
            const auto dimension = key ? dimension_from_key(*key) : std::nullopt;
            if (!dimension) {
                problem(
                    path + "/key",
                    "must be one of appetite, coverage, financial, pricing, placement, service");
                continue;
            }
            if (!seen.insert(kDimensionKeys[static_cast<std::size_t>(*dimension)]).second) {
                problem(path + "/key", "duplicate dimension key '" + std::string(*key) + "'");
            }
            if (find_string(*entry, "method").value_or("deterministic") != "deterministic") {
                problem(path + "/method",
                        "must be \"deterministic\": the engine scores every dimension itself");
            }
            if (!find_bool(*entry, "enabled").value_or(true)) {
                problem(path + "/enabled",
                        "must be true: every carrier is scored on all six dimensions; give the "
                        "dimension a weight of 0 to leave it out of the aggregate");
            }
        }
        for (const std::string_view key : kDimensionKeys) {
            if (!seen.contains(key)) {
                problem("/scoring_dimensions", "missing dimension '" + std::string(key) + "'");
            }
        }
    }

    void read_weight_profiles() {
        const json::array* profiles = find_array(source_, "appetite_weight_profiles");
        if (profiles == nullptr || profiles->empty()) {
            problem("/appetite_weight_profiles",
                    "must be a non-empty array of {bucket, label, weights}");
            return;
        }
        for (std::size_t i = 0; i < profiles->size(); ++i) {
            const std::string path = json_pointer("/appetite_weight_profiles", i);
            const json::object* entry = (*profiles)[i].if_object();
            if (entry == nullptr) {
                problem(path, "must be an object");
                continue;
            }
            if (auto profile = read_weight_profile(*entry, path)) {
                config_.weight_profiles.push_back(std::move(*profile));
            }
        }
    }

    std::optional<WeightProfile> read_weight_profile(const json::object& entry,
                                                     const std::string& path) {
        const auto bucket = find_string(entry, "bucket");
        if (!bucket || bucket->empty()) {
            problem(path + "/bucket", "must be a non-empty string");
            return std::nullopt;
        }
        if (!declared_buckets_.insert(std::string(*bucket)).second) {
            problem(path + "/bucket", "duplicate bucket '" + std::string(*bucket) + "'");
            return std::nullopt;
        }
        WeightProfile profile{.bucket = std::string(*bucket),
                              .label = std::string(find_string(entry, "label").value_or(*bucket)),
                              .weights = {}};
        const json::object* weights = find_object(entry, "weights");
        if (weights == nullptr) {
            problem(path + "/weights", "must be an object of {dimension: weight}");
            return std::nullopt;
        }
        const std::size_t problems_before = problems_.size();
        double sum = 0.0;
        for (std::size_t d = 0; d < kDimensionCount; ++d) {
            const std::string weight_path = json_pointer(path + "/weights", kDimensionKeys[d]);
            const json::value* weight = weights->if_contains(kDimensionKeys[d]);
            const auto value = weight ? as_number(*weight) : std::nullopt;
            if (weight == nullptr) {
                problem(weight_path,
                        "missing weight for dimension '" + std::string(kDimensionKeys[d]) + "'");
            } else if (!value || !std::isfinite(*value) || *value < 0.0) {
                problem(weight_path, "must be a finite number >= 0");
            } else {
                profile.weights[d] = *value;
                sum += *value;
            }
        }
        if (problems_.size() == problems_before && !(sum > 0.0)) {
            problem(path + "/weights", "the weights must not all be 0");
        }
        return problems_.size() == problems_before ? std::optional(std::move(profile))
                                                   : std::nullopt;
    }

    void read_default_bucket() {
        const auto bucket = find_string(source_, "default_appetite_bucket");
        if (!bucket) {
            problem("/default_appetite_bucket", "must name one of the appetite_weight_profiles");
            return;
        }
        config_.default_appetite_bucket = *bucket;
        if (!declared_buckets_.contains(*bucket)) {
            problem("/default_appetite_bucket",
                    "no appetite_weight_profiles entry has bucket '" + std::string(*bucket) + "'");
        }
    }

    void read_parameters() {
        const json::value* member = source_.if_contains("parameters");
        if (member == nullptr) {
            return;
        }
        const json::object* parameters = member->if_object();
        if (parameters == nullptr) {
            problem("/parameters", "must be an object");
            return;
        }
        EngineParameters& out = config_.parameters;
        read_thresholds(*parameters, out.tier_thresholds);
        read_count(*parameters, "max_candidates_default", out.max_candidates_default);
        read_count(*parameters, "max_candidates_limit", out.max_candidates_limit);
        if (out.max_candidates_default > out.max_candidates_limit) {
            problem("/parameters/max_candidates_default", "must not exceed max_candidates_limit");
        }
    }

    void read_thresholds(const json::object& parameters, TierThresholds& out) {
        const json::value* member = parameters.if_contains("tier_thresholds");
        if (member == nullptr) {
            return;
        }
        const json::object* thresholds = member->if_object();
        if (thresholds == nullptr) {
            problem("/parameters/tier_thresholds",
                    "must be an object {STRONG_FIT, GOOD_FIT, MODERATE_FIT}");
            return;
        }
        const std::size_t problems_before = problems_.size();
        for (const auto& [key, target] :
             {std::pair{kStrongFit, &out.strong_fit}, std::pair{kGoodFit, &out.good_fit},
              std::pair{kModerateFit, &out.moderate_fit}}) {
            const json::value* value = thresholds->if_contains(key);
            const auto number = value ? as_number(*value) : std::nullopt;
            if (!number) {
                problem(json_pointer("/parameters/tier_thresholds", key),
                        "must be a number (an aggregate level)");
            } else {
                *target = *number;
            }
        }
        if (problems_.size() == problems_before) {
            for (std::string& message : threshold_problems(out)) {
                problem("/parameters/tier_thresholds", std::move(message));
            }
        }
    }

    void read_count(const json::object& parameters, std::string_view key, std::size_t& out) {
        const json::value* member = parameters.if_contains(key);
        if (member == nullptr) {
            return;
        }
        if (const auto value = as_positive_integer(*member)) {
            out = static_cast<std::size_t>(*value);
        } else {
            problem(json_pointer("/parameters", key), "must be an integer >= 1");
        }
    }

    const json::object& source_;
    EngineConfig config_;
    std::set<std::string, std::less<>> declared_buckets_;
    std::vector<ConfigProblem> problems_;
};

}  // namespace

std::optional<Dimension> dimension_from_key(std::string_view key) {
    const auto found = std::find(kDimensionKeys.begin(), kDimensionKeys.end(), key);
    return found == kDimensionKeys.end()
               ? std::nullopt
               : std::optional(static_cast<Dimension>(found - kDimensionKeys.begin()));
}

const WeightProfile* EngineConfig::weight_profile(std::string_view bucket) const {
    const auto found = std::find_if(weight_profiles.begin(), weight_profiles.end(),
                                    [&](const WeightProfile& p) { return p.bucket == bucket; });
    return found == weight_profiles.end() ? nullptr : &*found;
}

std::vector<std::string> threshold_problems(const TierThresholds& thresholds) {
    std::vector<std::string> problems;
    for (const double threshold :
         {thresholds.strong_fit, thresholds.good_fit, thresholds.moderate_fit}) {
        if (!std::isfinite(threshold) || threshold <= 1.0 || threshold > 4.0) {
            problems.emplace_back(
                "every threshold must be an aggregate level above 1 and at most 4");
            break;
        }
    }
    if (!(thresholds.strong_fit < thresholds.good_fit &&
          thresholds.good_fit < thresholds.moderate_fit)) {
        problems.emplace_back("thresholds must ascend: STRONG_FIT < GOOD_FIT < MODERATE_FIT");
    }
    return problems;
}

std::vector<ConfigProblem> check_config(const json::object& config) {
    ConfigReader reader(config);
    reader.read();
    return reader.take_problems();
}

EngineConfig parse_config(const json::object& config) {
    ConfigReader reader(config);
    EngineConfig parsed = reader.read();
    const std::vector<ConfigProblem> problems = reader.take_problems();
    if (!problems.empty()) {
        throw plugin_sdk::invalid_config(problems);
    }
    return parsed;
}

}  // namespace engined::entity_analysis
