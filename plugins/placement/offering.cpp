#include "offering.hpp"

#include "sdk_names.hpp"

#include <charconv>

namespace engined::placement {

namespace json = boost::json;

namespace {

std::optional<std::string> optional_string(const json::object& parent, std::string_view key) {
    const auto value = find_string(parent, key);
    return value ? std::optional<std::string>(*value) : std::nullopt;
}

// Keys of quoted bundles: a package_id as given, or the carrier and the package premium joined by
// a separator no provider key or number contains.
std::optional<std::string> bundle_key_of(const Offering& offering) {
    if (offering.package_id) {
        return "id:" + *offering.package_id;
    }
    if (!offering.package_premium || !(*offering.package_premium > 0.0)) {
        return std::nullopt;
    }
    char premium[32];
    const auto written =
        std::to_chars(premium, premium + sizeof premium, *offering.package_premium);
    return "carrier:" + offering.provider_key + '\x1f' + std::string(premium, written.ptr);
}

UmbrellaRequirements read_umbrella_requirements(const json::object& constraints) {
    return {
        .min_auto_bi_per_person = find_number(constraints, "min_underlying_auto_bi_per_person"),
        .min_auto_bi_per_accident = find_number(constraints, "min_underlying_auto_bi_per_accident"),
        .min_auto_combined_single = find_number(constraints, "min_underlying_auto_csl"),
        .min_home_liability = find_number(constraints, "min_underlying_home_liability"),
        .same_provider =
            find_bool(constraints, "requires_underlying_same_provider").value_or(false),
    };
}

std::vector<std::string> read_excluded_states(const json::object& constraints) {
    std::vector<std::string> states;
    if (const json::array* excluded = find_array(constraints, "excluded_states")) {
        for (const json::value& state : *excluded) {
            if (state.is_string()) {
                states.emplace_back(state.get_string());
            }
        }
    }
    return states;
}

Offering read_offering(const json::object& source, std::size_t index) {
    const auto id = find_string(source, "id");
    const auto category = find_string(source, "category");
    if (!id || !category) {
        throw RunFailure("invalid_request",
                         "offerings[" + std::to_string(index) + "] needs a string id and category");
    }
    Offering offering;
    offering.source = &source;
    offering.id = *id;
    offering.category = *category;
    offering.provider_id = optional_string(source, "provider_id");
    offering.provider_name =
        find_string(source, "provider_name").value_or(offering.provider_id.value_or(""));
    offering.provider_key = offering.provider_id.value_or(offering.provider_name);
    offering.quality_rating = optional_string(source, "quality_rating");

    if (const json::object* attributes = find_object(source, "attributes")) {
        offering.quote_id = optional_string(*attributes, "quote_id");
        offering.package_id = optional_string(*attributes, "package_id");
        offering.line_premium = find_number(*attributes, "line_premium_annual");
        offering.package_premium = find_number(*attributes, "package_premium_annual");
        offering.quote_expires_at = attributes->if_contains("quote_expires_at");
    }
    offering.bundle_key = bundle_key_of(offering);
    if (const json::object* coverage = find_object(source, "coverage")) {
        offering.limits = read_coverage_limits(*coverage);
    }
    if (const json::object* constraints = find_object(source, "constraints")) {
        offering.umbrella_requirements = read_umbrella_requirements(*constraints);
        offering.excluded_states = read_excluded_states(*constraints);
    }
    return offering;
}

}  // namespace

std::optional<double> CoverageLimits::auto_per_accident() const {
    return auto_combined_single ? auto_combined_single : auto_bi_per_accident;
}

CoverageLimits read_coverage_limits(const json::object& fields) {
    return {
        .dwelling = find_number(fields, "dwelling_limit"),
        .personal_liability = find_number(fields, "personal_liability_limit"),
        .auto_combined_single = find_number(fields, "limit_combined_single"),
        .auto_bi_per_person = find_number(fields, "limit_bodily_injury_per_person"),
        .auto_bi_per_accident = find_number(fields, "limit_bodily_injury_per_accident"),
        .umbrella = find_number(fields, "limit"),
        .deductible = find_number(fields, "deductible_default"),
    };
}

std::vector<Offering> read_offerings(const json::array& offerings) {
    std::vector<Offering> read;
    read.reserve(offerings.size());
    for (std::size_t i = 0; i < offerings.size(); ++i) {
        const json::object* source = offerings[i].if_object();
        if (source == nullptr) {
            throw RunFailure("invalid_request",
                             "offerings[" + std::to_string(i) + "] must be an object");
        }
        read.push_back(read_offering(*source, i));
    }
    return read;
}

}  // namespace engined::placement
