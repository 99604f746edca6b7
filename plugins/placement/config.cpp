#include "config.hpp"

#include "sdk_names.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <iterator>
#include <optional>
#include <set>

namespace engined::placement {

namespace json = boost::json;

namespace {

constexpr std::array kDeterministicDimensions = {kPricingCompetitiveness, kCoverageCompleteness,
                                                 kCarrierQuality, kSimplicity};

// A Lua dimension is scored by the global `score_<key>`, so its key must be a name suffix.
bool is_lua_name_suffix(std::string_view key) {
    return !key.empty() && std::all_of(key.begin(), key.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '_';
    });
}

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

    void read_dimensions() {
        const json::array* dimensions = find_array(source_, "scoring_dimensions");
        if (dimensions == nullptr || dimensions->empty()) {
            problem("/scoring_dimensions",
                    "must be a non-empty array of {key, label, method, enabled}");
            return;
        }
        std::set<std::string, std::less<>> seen_keys;
        for (std::size_t i = 0; i < dimensions->size(); ++i) {
            const std::string path = json_pointer("/scoring_dimensions", i);
            const json::object* entry = (*dimensions)[i].if_object();
            if (entry == nullptr) {
                problem(path, "must be an object");
                continue;
            }
            auto dimension = read_dimension(*entry, path);
            if (dimension && !seen_keys.insert(dimension->key).second) {
                problem(path + "/key", "duplicate dimension key '" + dimension->key + "'");
                continue;
            }
            if (dimension) {
                config_.dimensions.push_back(std::move(*dimension));
            }
        }
        std::copy_if(config_.dimensions.begin(), config_.dimensions.end(),
                     std::back_inserter(config_.enabled_dimensions),
                     [](const ScoringDimension& d) { return d.enabled; });
        if (config_.enabled_dimensions.empty()) {
            problem("/scoring_dimensions", "at least one dimension must be enabled");
        }
    }

    std::optional<ScoringDimension> read_dimension(const json::object& entry,
                                                   const std::string& path) {
        ScoringDimension dimension;
        const auto key = find_string(entry, "key");
        if (!key || key->empty()) {
            problem(path + "/key", "must be a non-empty string");
            return std::nullopt;
        }
        dimension.key = *key;
        dimension.label = find_string(entry, "label").value_or(*key);
        dimension.enabled = find_bool(entry, "enabled").value_or(true);

        const auto method = find_string(entry, "method").value_or("deterministic");
        if (method == "lua") {
            dimension.method = ScoringMethod::lua;
            if (!is_lua_name_suffix(dimension.key)) {
                problem(path + "/key",
                        "a lua dimension key may hold only letters, digits and '_' "
                        "(it is scored by score_<key>)");
                return std::nullopt;
            }
        } else if (method == "deterministic") {
            if (!has_deterministic_scorer(dimension.key)) {
                problem(path + "/method", "no deterministic scorer for '" + dimension.key +
                                              "'; use method \"lua\" and define score_" +
                                              dimension.key + " in the scorecard");
                return std::nullopt;
            }
        } else {
            problem(path + "/method", "must be \"deterministic\" or \"lua\"");
            return std::nullopt;
        }
        return dimension;
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
        WeightProfile profile;
        const auto bucket = find_string(entry, "bucket");
        if (!bucket || bucket->empty()) {
            problem(path + "/bucket", "must be a non-empty string");
            return std::nullopt;
        }
        if (!declared_buckets_.insert(std::string(*bucket)).second) {
            problem(path + "/bucket", "duplicate bucket '" + std::string(*bucket) + "'");
            return std::nullopt;
        }
        profile.bucket = *bucket;
        profile.label = find_string(entry, "label").value_or(*bucket);

        const json::object* weights = find_object(entry, "weights");
        if (weights == nullptr) {
            problem(path + "/weights", "must be an object of {dimension: weight}");
            return std::nullopt;
        }
        const std::size_t problems_before = problems_.size();
        double enabled_sum = 0.0;
        for (const ScoringDimension& dimension : config_.enabled_dimensions) {
            const std::string weight_path = json_pointer(path + "/weights", dimension.key);
            const json::value* weight = weights->if_contains(dimension.key);
            if (weight == nullptr) {
                problem(weight_path,
                        "missing weight for enabled dimension '" + dimension.key + "'");
                continue;
            }
            const auto value = as_number(*weight);
            if (!value || !(*value >= 0.0) || !std::isfinite(*value)) {
                problem(weight_path, "must be a finite number >= 0");
                continue;
            }
            enabled_sum += *value;
            profile.weights.emplace(dimension.key, *value);
        }
        if (problems_.size() == problems_before && !(enabled_sum > 0.0)) {
            problem(path + "/weights", "weights of the enabled dimensions must not all be 0");
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
        // Checked against every declared bucket, so that a profile with bad weights is not
        // reported a second time as a missing default.
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
        if (const json::value* surcharge = parameters->if_contains("unbundling_surcharge")) {
            const auto value = as_number(*surcharge);
            if (value && *value >= 0.0 && *value <= 1.0) {
                out.unbundling_surcharge = *value;
            } else {
                problem("/parameters/unbundling_surcharge", "must be a fraction between 0 and 1");
            }
        }
        if (const json::value* ratio = parameters->if_contains("coverage_first_price_ratio")) {
            const auto value = as_number(*ratio);
            if (value && *value >= 1.0 && *value <= 10.0) {
                out.coverage_first_price_ratio = *value;
            } else {
                problem("/parameters/coverage_first_price_ratio",
                        "must be a number between 1 and 10");
            }
        }
        read_count(*parameters, "max_solutions_default", out.max_solutions_default);
        read_count(*parameters, "max_solutions_limit", out.max_solutions_limit);
        read_count(*parameters, "max_packages_examined", out.max_packages_examined);
        if (const json::value* shape = parameters->if_contains("solution_offerings")) {
            if (*shape == json::value("submitted")) {
                out.solution_offerings = EngineParameters::SolutionOfferings::submitted;
            } else if (*shape != json::value("summary")) {
                problem("/parameters/solution_offerings", "must be \"submitted\" or \"summary\"");
            }
        }
        if (out.max_solutions_default > out.max_solutions_limit) {
            problem("/parameters/max_solutions_default", "must not exceed max_solutions_limit");
        }
    }

    template <typename Count>
    void read_count(const json::object& parameters, std::string_view key, Count& out) {
        const json::value* member = parameters.if_contains(key);
        if (member == nullptr) {
            return;
        }
        if (const auto value = as_positive_integer(*member)) {
            out = static_cast<Count>(*value);
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

bool has_deterministic_scorer(std::string_view dimension_key) {
    return std::find(kDeterministicDimensions.begin(), kDeterministicDimensions.end(),
                     dimension_key) != kDeterministicDimensions.end();
}

const WeightProfile* EngineConfig::weight_profile(std::string_view bucket) const {
    const auto found = std::find_if(weight_profiles.begin(), weight_profiles.end(),
                                    [&](const WeightProfile& p) { return p.bucket == bucket; });
    return found == weight_profiles.end() ? nullptr : &*found;
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

}  // namespace engined::placement
