// The set of valid packages, described without enumerating it. Every umbrella rule is a
// condition on the umbrella and one underlying offering, so fixing the umbrella leaves an
// independent choice per line: the valid packages are, for each umbrella, the product of the
// offerings of every other line that this umbrella accepts. Counts, rejections, the best quotes
// per line and the cheapest and dearest package all follow from that partition.
#pragma once

#include "assemble.hpp"
#include "filter.hpp"
#include "scorers.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace engined::placement {

// An umbrella rule that excludes one underlying offering under one umbrella, for the trace.
struct RejectedPairing {
    const Offering* umbrella;
    const Offering* underlying;
    std::string_view reason;  // one of umbrella_rejection
};

// The packages under one umbrella offering (or, when no umbrella is requested, all packages).
struct UmbrellaBranch {
    // Per requested line, the positions (indices into the line's eligible offerings) the umbrella
    // accepts, cheapest line premium first; the umbrella's own line holds just the umbrella.
    std::vector<std::vector<std::uint32_t>> candidates;

    bool has_packages() const;
};

class PackageSpace {
public:
    PackageSpace(const std::vector<std::string>& requested_lines, const FilterResult& filtered,
                 const PackagePricer& pricer);

    std::size_t line_count() const { return lines_.size(); }
    std::optional<std::size_t> umbrella_line() const { return umbrella_line_; }
    std::size_t eligible_count(std::size_t line) const {
        return filtered_.eligible_by_line[line].size();
    }
    const std::vector<UmbrellaBranch>& branches() const { return branches_; }
    const Offering& offering(std::size_t line, std::uint32_t position) const {
        return *filtered_.eligible_by_line[line][position];
    }

    std::uint64_t valid_packages() const { return valid_packages_; }
    const std::map<std::string, std::size_t, std::less<>>& umbrella_rejections() const {
        return rejections_;
    }
    const std::vector<RejectedPairing>& traced_rejections() const { return traced_; }

    // Valid packages that take every line of one quoted bundle, as positions per line. There is
    // at most one per package_id, so they are few; the search scores them one by one.
    const std::vector<std::vector<std::uint32_t>>& whole_bundles() const { return whole_bundles_; }

    // Whether the offerings at `position` all come from one bundle quoted for exactly the
    // requested lines (the packages listed by whole_bundles()).
    bool is_whole_bundle(const std::vector<std::uint32_t>& position) const;

    // The package made of the offerings at `position`, priced and described.
    Package package_at(const std::vector<std::uint32_t>& position) const;

    // Fills the package-wide facts of `market`: package_count, cheapest, dearest, best_quoted.
    void survey(Market& market) const;

private:
    void add_branch(const Offering* umbrella, std::uint32_t umbrella_position);
    void count_rejections(const Offering& umbrella);
    void find_whole_bundles();
    void survey_best_quoted(Market& market) const;
    std::optional<double> extreme_cost(const UmbrellaBranch& branch, bool dearest) const;

    const std::vector<std::string>& lines_;
    const FilterResult& filtered_;
    const PackagePricer& pricer_;
    std::optional<std::size_t> umbrella_line_;
    std::vector<std::vector<std::uint32_t>> by_premium_;  // per line, positions cheapest first
    std::vector<std::vector<int>>
        bundle_of_;  // per line and position: index into whole_bundle_ids_, or -1
    std::vector<std::string_view> whole_bundle_ids_;
    std::vector<UmbrellaBranch> branches_;
    std::uint64_t valid_packages_ = 0;
    std::map<std::string, std::size_t, std::less<>> rejections_;
    std::vector<RejectedPairing> traced_;
    std::vector<std::vector<std::uint32_t>> whole_bundles_;
};

}  // namespace engined::placement
