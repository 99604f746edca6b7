#include "assemble.hpp"

#include "sdk_names.hpp"

#include <algorithm>
#include <limits>

namespace engined::placement {

namespace {

constexpr std::string_view kAuto = "auto";
constexpr std::string_view kHome = "home";
constexpr std::string_view kUmbrella = "umbrella";

const Offering* offering_for(const std::vector<const Offering*>& offerings,
                             std::string_view category) {
    const auto found = std::find_if(offerings.begin(), offerings.end(),
                                    [&](const Offering* o) { return o->category == category; });
    return found == offerings.end() ? nullptr : *found;
}

bool at_least(const std::optional<double>& limit, double minimum) {
    return limit && *limit >= minimum;
}

// Auto bodily-injury minima: a combined single limit satisfies them when it reaches the larger
// minimum (it pays up to that amount for any one person or accident); split limits must meet
// each minimum separately.
std::optional<std::string_view> auto_bi_violation(const UmbrellaRequirements& required,
                                                  const CoverageLimits& underlying) {
    if (!required.min_auto_bi_per_person && !required.min_auto_bi_per_accident) {
        return std::nullopt;
    }
    const double per_person = required.min_auto_bi_per_person.value_or(0.0);
    const double per_accident = required.min_auto_bi_per_accident.value_or(0.0);
    if (underlying.auto_combined_single) {
        return at_least(underlying.auto_combined_single, std::max(per_person, per_accident))
                   ? std::nullopt
                   : std::optional(umbrella_rejection::kAutoBodilyInjuryBelowMinimum);
    }
    const bool person_known = !required.min_auto_bi_per_person || underlying.auto_bi_per_person;
    const bool accident_known =
        !required.min_auto_bi_per_accident || underlying.auto_bi_per_accident;
    if (!person_known || !accident_known) {
        return umbrella_rejection::kUnderlyingLimitsUnknown;
    }
    const bool person_ok =
        !required.min_auto_bi_per_person || *underlying.auto_bi_per_person >= per_person;
    const bool accident_ok =
        !required.min_auto_bi_per_accident || *underlying.auto_bi_per_accident >= per_accident;
    return person_ok && accident_ok
               ? std::nullopt
               : std::optional(umbrella_rejection::kAutoBodilyInjuryBelowMinimum);
}

// A CSL minimum is met by a CSL, or by split limits paying as much per accident.
std::optional<std::string_view> auto_csl_violation(const UmbrellaRequirements& required,
                                                   const CoverageLimits& underlying) {
    if (!required.min_auto_combined_single) {
        return std::nullopt;
    }
    const auto per_accident = underlying.auto_per_accident();
    if (!per_accident) {
        return umbrella_rejection::kUnderlyingLimitsUnknown;
    }
    return *per_accident >= *required.min_auto_combined_single
               ? std::nullopt
               : std::optional(umbrella_rejection::kAutoCombinedSingleBelowMinimum);
}

std::optional<std::string_view> home_liability_violation(const UmbrellaRequirements& required,
                                                         const CoverageLimits& underlying) {
    if (!required.min_home_liability) {
        return std::nullopt;
    }
    if (!underlying.personal_liability) {
        return umbrella_rejection::kUnderlyingLimitsUnknown;
    }
    return *underlying.personal_liability >= *required.min_home_liability
               ? std::nullopt
               : std::optional(umbrella_rejection::kHomeLiabilityBelowMinimum);
}

// The bundle premium when the package is one whole quoted bundle with a consistent, positive
// package premium.
std::optional<double> whole_bundle_premium(
    const Package& package, const std::map<std::string_view, std::size_t>& taken_from_bundle,
    bool splits_a_bundle) {
    if (splits_a_bundle || taken_from_bundle.size() != 1 ||
        taken_from_bundle.begin()->second != package.offerings.size()) {
        return std::nullopt;
    }
    const auto premium = package.offerings.front()->package_premium;
    const bool consistent =
        std::all_of(package.offerings.begin(), package.offerings.end(),
                    [&](const Offering* o) { return o->package_premium == premium; });
    return premium && *premium > 0.0 && consistent ? premium : std::nullopt;
}

// Steps `cursor` to the next combination (the last line varies fastest); false after the last.
bool advance(std::vector<std::size_t>& cursor, const FilterResult& filtered) {
    for (std::size_t i = cursor.size(); i-- > 0;) {
        if (++cursor[i] < filtered.eligible_by_line[i].size()) {
            return true;
        }
        cursor[i] = 0;
    }
    return false;
}

void describe_providers(Package& package) {
    std::vector<std::string_view> keys;
    for (const Offering* offering : package.offerings) {
        if (std::find(keys.begin(), keys.end(), offering->provider_key) == keys.end()) {
            keys.push_back(offering->provider_key);
            package.providers.push_back(offering->provider_name);
        }
    }
    package.provider_count = keys.size();
}

}  // namespace

std::uint64_t combination_count(const FilterResult& filtered) {
    constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();
    std::uint64_t product = 1;
    for (const auto& eligible : filtered.eligible_by_line) {
        const std::uint64_t count = eligible.size();
        if (count != 0 && product > kMax / count) {
            return kMax;
        }
        product *= count;
    }
    return product;
}

void refuse_too_many_packages(std::uint64_t packages, std::uint64_t cap) {
    if (packages <= cap) {
        return;
    }
    throw RunFailure("too_many_packages_examined",
                     "ranking would examine more than " + std::to_string(cap) +
                         " packages (parameters.max_packages_examined); narrow the offerings",
                     boost::json::array{boost::json::object{{"max_packages_examined", cap}}});
}

bool breaks_provider_rule(const Offering& umbrella, const Offering& underlying) {
    return umbrella.umbrella_requirements.same_provider &&
           underlying.provider_key != umbrella.provider_key;
}

std::optional<std::string_view> underlying_limit_violation(const Offering& umbrella,
                                                           const Offering& underlying) {
    const UmbrellaRequirements& required = umbrella.umbrella_requirements;
    if (underlying.category == kAuto) {
        if (auto violation = auto_bi_violation(required, underlying.limits)) {
            return violation;
        }
        return auto_csl_violation(required, underlying.limits);
    }
    if (underlying.category == kHome) {
        return home_liability_violation(required, underlying.limits);
    }
    return std::nullopt;
}

// Minimum limits apply to the underlying lines the package contains; a line the insured did not
// ask to place is insured elsewhere and not seen.
std::optional<std::string_view> umbrella_violation(const std::vector<const Offering*>& offerings) {
    const Offering* umbrella = offering_for(offerings, kUmbrella);
    if (umbrella == nullptr) {
        return std::nullopt;
    }
    if (std::any_of(offerings.begin(), offerings.end(),
                    [&](const Offering* o) { return breaks_provider_rule(*umbrella, *o); })) {
        return umbrella_rejection::kProviderMismatch;
    }
    for (const std::string_view line : {kAuto, kHome}) {
        if (const Offering* underlying = offering_for(offerings, line)) {
            if (auto violation = underlying_limit_violation(*umbrella, *underlying)) {
                return violation;
            }
        }
    }
    return std::nullopt;
}

PackagePricer::PackagePricer(const std::vector<Offering>& all_offerings,
                             double unbundling_surcharge)
    : unbundling_surcharge_(unbundling_surcharge) {
    for (const Offering& offering : all_offerings) {
        if (offering.bundle_key) {
            ++lines_in_bundle_[*offering.bundle_key];
        }
    }
}

std::size_t PackagePricer::lines_in_bundle(std::string_view bundle_key) const {
    const auto found = lines_in_bundle_.find(bundle_key);
    return found == lines_in_bundle_.end() ? 0 : found->second;
}

void PackagePricer::price(Package& package) const {
    std::map<std::string_view, std::size_t> taken_from_bundle;
    double line_sum = 0.0;
    for (const Offering* offering : package.offerings) {
        line_sum += offering->line_premium.value_or(0.0);
        if (offering->bundle_key) {
            ++taken_from_bundle[*offering->bundle_key];
        }
    }
    const auto is_split = [&](std::string_view bundle_key) {
        const auto taken = taken_from_bundle.find(bundle_key);
        return taken != taken_from_bundle.end() && taken->second < lines_in_bundle(bundle_key);
    };
    // Only the lines taken from a bundle the package splits lose its multi-policy discount; a
    // bundle the package takes whole keeps it.
    double split_lines = 0.0;
    for (const Offering* offering : package.offerings) {
        if (offering->bundle_key && is_split(*offering->bundle_key)) {
            split_lines += offering->line_premium.value_or(0.0);
        }
    }
    const bool splits_a_bundle = split_lines > 0.0;
    if (const auto bundle_premium =
            whole_bundle_premium(package, taken_from_bundle, splits_a_bundle)) {
        package.is_original_bundle = true;
        package.package_id = package.offerings.front()->package_id;
        package.est_cost_low = package.est_cost_high = *bundle_premium;
        return;
    }
    package.est_cost_low = line_sum;
    package.est_cost_high = line_sum + split_lines * unbundling_surcharge_;
}

Package make_package(std::vector<const Offering*> offerings, std::vector<std::uint32_t> position,
                     const PackagePricer& pricer) {
    Package package;
    package.offerings = std::move(offerings);
    package.position = std::move(position);
    pricer.price(package);
    describe_providers(package);
    return package;
}

AssembleResult assemble_packages(const std::vector<std::string>& requested_lines,
                                 const FilterResult& filtered, const PackagePricer& pricer,
                                 std::uint64_t max_packages) {
    AssembleResult result;
    const std::uint64_t combinations = combination_count(filtered);
    if (requested_lines.empty() || combinations == 0) {
        return result;
    }
    refuse_too_many_packages(combinations, max_packages);
    result.combinations_total = combinations;

    std::vector<std::size_t> cursor(requested_lines.size(), 0);
    do {
        std::vector<const Offering*> offerings;
        std::vector<std::uint32_t> position;
        for (std::size_t line = 0; line < cursor.size(); ++line) {
            offerings.push_back(filtered.eligible_by_line[line][cursor[line]]);
            position.push_back(static_cast<std::uint32_t>(cursor[line]));
        }
        if (const auto violation = umbrella_violation(offerings)) {
            ++result.umbrella_rejections[std::string(*violation)];
            if (result.traced_rejections.size() < kMaxTracedRejections) {
                result.traced_rejections.push_back({std::move(offerings), *violation});
            }
            continue;
        }
        result.packages.push_back(make_package(std::move(offerings), std::move(position), pricer));
    } while (advance(cursor, filtered));
    return result;
}

}  // namespace engined::placement
