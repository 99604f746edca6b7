#include "package_space.hpp"

#include <algorithm>
#include <limits>
#include <numeric>
#include <queue>
#include <set>
#include <utility>

namespace engined::placement {

namespace {

constexpr std::string_view kUmbrella = "umbrella";
constexpr std::uint64_t kSaturated = std::numeric_limits<std::uint64_t>::max();

std::uint64_t saturating_product(std::uint64_t a, std::uint64_t b) {
    return a != 0 && b > kSaturated / a ? kSaturated : a * b;
}

std::uint64_t saturating_sum(std::uint64_t a, std::uint64_t b) {
    return b > kSaturated - a ? kSaturated : a + b;
}

std::optional<std::size_t> line_index(const std::vector<std::string>& lines,
                                      std::string_view line) {
    const auto found = std::find(lines.begin(), lines.end(), line);
    return found == lines.end() ? std::nullopt
                                : std::optional(static_cast<std::size_t>(found - lines.begin()));
}

void add_count(std::map<std::string, std::size_t, std::less<>>& counts, std::string_view reason,
               std::uint64_t count) {
    if (count > 0) {
        auto& total = counts[std::string(reason)];
        total = saturating_sum(total, count);
    }
}

// How one underlying line fares under an umbrella: all its offerings, those of the umbrella's
// carrier when that is required, and the latter by the first limit rule they break.
struct LineTally {
    std::uint64_t all = 0;
    std::uint64_t right_provider = 0;
    std::uint64_t within_limits = 0;  // right provider and no limit rule broken
    std::map<std::string_view, std::uint64_t> by_limit_violation;
};

LineTally tally_line(const Offering& umbrella, const std::vector<const Offering*>& offerings) {
    LineTally tally;
    for (const Offering* offering : offerings) {
        ++tally.all;
        if (breaks_provider_rule(umbrella, *offering)) {
            continue;
        }
        ++tally.right_provider;
        if (const auto violation = underlying_limit_violation(umbrella, *offering)) {
            ++tally.by_limit_violation[*violation];
        } else {
            ++tally.within_limits;
        }
    }
    return tally;
}

}  // namespace

bool UmbrellaBranch::has_packages() const {
    return std::none_of(candidates.begin(), candidates.end(),
                        [](const auto& c) { return c.empty(); });
}

PackageSpace::PackageSpace(const std::vector<std::string>& requested_lines,
                           const FilterResult& filtered, const PackagePricer& pricer)
    : lines_(requested_lines),
      filtered_(filtered),
      pricer_(pricer),
      umbrella_line_(line_index(requested_lines, kUmbrella)) {
    for (const auto& eligible : filtered.eligible_by_line) {
        std::vector<std::uint32_t> order(eligible.size());
        std::iota(order.begin(), order.end(), 0u);
        std::stable_sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) {
            return *eligible[a]->line_premium < *eligible[b]->line_premium;
        });
        by_premium_.push_back(std::move(order));
    }
    find_whole_bundles();
    if (!umbrella_line_) {
        add_branch(nullptr, 0);
        return;
    }
    const auto& umbrellas = filtered.eligible_by_line[*umbrella_line_];
    for (std::uint32_t position = 0; position < umbrellas.size(); ++position) {
        count_rejections(*umbrellas[position]);
        add_branch(umbrellas[position], position);
    }
}

void PackageSpace::add_branch(const Offering* umbrella, std::uint32_t umbrella_position) {
    UmbrellaBranch branch;
    std::uint64_t packages = 1;
    for (std::size_t line = 0; line < lines_.size(); ++line) {
        std::vector<std::uint32_t> accepted;
        if (umbrella_line_ && line == *umbrella_line_) {
            accepted.push_back(umbrella_position);
        } else {
            for (const std::uint32_t position : by_premium_[line]) {
                const Offering& underlying = offering(line, position);
                const bool wrong_provider =
                    umbrella != nullptr && breaks_provider_rule(*umbrella, underlying);
                const auto violation = umbrella == nullptr || wrong_provider
                                           ? std::nullopt
                                           : underlying_limit_violation(*umbrella, underlying);
                if (!wrong_provider && !violation) {
                    accepted.push_back(position);
                } else if (traced_.size() < kMaxTracedRejections) {
                    traced_.push_back(
                        {umbrella, &underlying,
                         wrong_provider ? umbrella_rejection::kProviderMismatch : *violation});
                }
            }
        }
        packages = saturating_product(packages, accepted.size());
        branch.candidates.push_back(std::move(accepted));
    }
    valid_packages_ = saturating_sum(valid_packages_, packages);
    branches_.push_back(std::move(branch));
}

// Counts the packages under `umbrella` by the first rule they break, in umbrella_violation's
// order: any line from another carrier, then the auto limits, then the home limits.
void PackageSpace::count_rejections(const Offering& umbrella) {
    const auto auto_line = line_index(lines_, "auto");
    const auto home_line = line_index(lines_, "home");
    std::uint64_t all = 1;
    std::uint64_t right_provider = 1;
    std::uint64_t other_lines = 1;   // right-provider choices on lines without limit rules
    std::vector<LineTally> limited;  // auto, then home, when requested
    for (std::size_t line = 0; line < lines_.size(); ++line) {
        if (line == *umbrella_line_) {
            continue;
        }
        LineTally tally = tally_line(umbrella, filtered_.eligible_by_line[line]);
        all = saturating_product(all, tally.all);
        right_provider = saturating_product(right_provider, tally.right_provider);
        if (line != auto_line && line != home_line) {
            other_lines = saturating_product(other_lines, tally.right_provider);
        }
        if (line == auto_line || line == home_line) {
            limited.push_back(std::move(tally));
        }
    }
    if (auto_line && home_line && *home_line < *auto_line) {
        std::swap(limited[0], limited[1]);
    }
    add_count(rejections_, umbrella_rejection::kProviderMismatch, all - right_provider);
    // A limit violation on one line counts the packages whose earlier limited lines pass.
    for (std::size_t i = 0; i < limited.size(); ++i) {
        std::uint64_t rest = other_lines;
        for (std::size_t j = 0; j < limited.size(); ++j) {
            if (j != i) {
                rest = saturating_product(
                    rest, j < i ? limited[j].within_limits : limited[j].right_provider);
            }
        }
        for (const auto& [reason, count] : limited[i].by_limit_violation) {
            add_count(rejections_, reason, saturating_product(count, rest));
        }
    }
}

void PackageSpace::find_whole_bundles() {
    std::map<std::string_view, std::vector<std::pair<std::size_t, std::uint32_t>>> members;
    for (std::size_t line = 0; line < lines_.size(); ++line) {
        bundle_of_.emplace_back(filtered_.eligible_by_line[line].size(), -1);
        for (std::uint32_t position = 0; position < filtered_.eligible_by_line[line].size();
             ++position) {
            const Offering& candidate = offering(line, position);
            if (candidate.bundle_key &&
                pricer_.lines_in_bundle(*candidate.bundle_key) == lines_.size()) {
                members[*candidate.bundle_key].emplace_back(line, position);
            }
        }
    }
    for (const auto& [bundle_key, offerings] : members) {
        const int bundle = static_cast<int>(whole_bundle_ids_.size());
        whole_bundle_ids_.push_back(bundle_key);
        std::vector<std::uint32_t> position(lines_.size());
        std::vector<bool> covered(lines_.size(), false);
        for (const auto& [line, at] : offerings) {
            bundle_of_[line][at] = bundle;
            position[line] = at;
            covered[line] = true;
        }
        const bool one_per_line =
            offerings.size() == lines_.size() &&
            std::all_of(covered.begin(), covered.end(), [](bool c) { return c; });
        if (one_per_line && !umbrella_violation(package_at(position).offerings)) {
            whole_bundles_.push_back(std::move(position));
        }
    }
}

bool PackageSpace::is_whole_bundle(const std::vector<std::uint32_t>& position) const {
    const int bundle = bundle_of_[0][position[0]];
    for (std::size_t line = 1; line < position.size(); ++line) {
        if (bundle_of_[line][position[line]] != bundle) {
            return false;
        }
    }
    return bundle >= 0;
}

Package PackageSpace::package_at(const std::vector<std::uint32_t>& position) const {
    std::vector<const Offering*> offerings;
    offerings.reserve(position.size());
    for (std::size_t line = 0; line < position.size(); ++line) {
        offerings.push_back(&offering(line, position[line]));
    }
    return make_package(std::move(offerings), position, pricer_);
}

// The lowest (or highest) est_cost_low among the branch's packages that are not whole bundles:
// their cost is the plain sum of line premiums, so the packages are visited in order of that
// sum, cheapest (dearest) first, until one is not a whole bundle. Whole bundles are few, so
// this stops after a handful of packages. The sum is taken in requested-line order, exactly
// as the pricer takes it.
std::optional<double> PackageSpace::extreme_cost(const UmbrellaBranch& branch, bool dearest) const {
    const std::size_t line_count = lines_.size();
    const auto position_of = [&](const std::vector<std::uint32_t>& rank) {
        std::vector<std::uint32_t> position(line_count);
        for (std::size_t line = 0; line < line_count; ++line) {
            const auto& candidates = branch.candidates[line];
            position[line] = candidates[dearest ? candidates.size() - 1 - rank[line] : rank[line]];
        }
        return position;
    };
    const auto cost_of = [&](const std::vector<std::uint32_t>& position) {
        double sum = 0.0;
        for (std::size_t line = 0; line < line_count; ++line) {
            sum += *offering(line, position[line]).line_premium;
        }
        return sum;
    };
    using Entry = std::pair<double, std::vector<std::uint32_t>>;
    const auto later = [&](const Entry& a, const Entry& b) {
        return dearest ? a.first < b.first : a.first > b.first;
    };
    std::priority_queue<Entry, std::vector<Entry>, decltype(later)> frontier(later);
    std::set<std::vector<std::uint32_t>> seen;
    const std::vector<std::uint32_t> first(line_count, 0);
    frontier.emplace(cost_of(position_of(first)), first);
    seen.insert(first);
    while (!frontier.empty()) {
        const auto [cost, rank] = frontier.top();
        frontier.pop();
        if (!is_whole_bundle(position_of(rank))) {
            return cost;
        }
        for (std::size_t line = 0; line < line_count; ++line) {
            std::vector<std::uint32_t> next = rank;
            if (++next[line] < branch.candidates[line].size() && seen.insert(next).second) {
                frontier.emplace(cost_of(position_of(next)), std::move(next));
            }
        }
    }
    return std::nullopt;
}

void PackageSpace::survey(Market& market) const {
    market.package_count = valid_packages_;
    std::optional<double> cheapest;
    std::optional<double> dearest;
    const auto include = [&](std::optional<double> cost) {
        if (cost) {
            cheapest = cheapest ? std::min(*cheapest, *cost) : *cost;
            dearest = dearest ? std::max(*dearest, *cost) : *cost;
        }
    };
    for (const UmbrellaBranch& branch : branches_) {
        if (branch.has_packages()) {
            include(extreme_cost(branch, false));
            include(extreme_cost(branch, true));
        }
    }
    for (const auto& position : whole_bundles_) {
        include(package_at(position).est_cost_low);
    }
    market.cheapest = cheapest.value_or(0.0);
    market.dearest = dearest.value_or(0.0);
    survey_best_quoted(market);
}

// The best terms per line come from the offerings that take part in at least one valid package.
void PackageSpace::survey_best_quoted(Market& market) const {
    std::vector<std::vector<bool>> quoted;
    for (const auto& eligible : filtered_.eligible_by_line) {
        quoted.emplace_back(eligible.size(), false);
    }
    for (const UmbrellaBranch& branch : branches_) {
        if (!branch.has_packages()) {
            continue;
        }
        for (std::size_t line = 0; line < lines_.size(); ++line) {
            for (const std::uint32_t position : branch.candidates[line]) {
                quoted[line][position] = true;
            }
        }
    }
    for (std::size_t line = 0; line < lines_.size(); ++line) {
        for (std::uint32_t position = 0; position < quoted[line].size(); ++position) {
            if (quoted[line][position]) {
                market.note_quoted(offering(line, position));
            }
        }
    }
}

}  // namespace engined::placement
