#include "runs/config_preview.hpp"

#include "common/json_text.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <optional>
#include <set>
#include <unordered_map>

namespace engined::runs {
namespace {

namespace json = boost::json;

// What a solution is, whatever rank or score it gets: everything but its ranking fields.
std::string identity(const json::value& solution) {
    if (!solution.is_object()) return compact_json(solution);
    json::object offered = solution.get_object();
    for (const char* ranking : {"rank", "scorecard", "cluster_label", "overall_level", "score"})
        offered.erase(ranking);
    return canonical_json(offered);
}

std::optional<double> overall_level(const json::value& solution) {
    const auto* fields = solution.if_object();
    if (fields == nullptr) return std::nullopt;
    const json::value* level = fields->if_contains("overall_level");
    if (const auto* scorecard = fields->if_contains("scorecard");
        level == nullptr && scorecard && scorecard->is_object()) {
        level = scorecard->get_object().if_contains("overall_level");
    }
    if (level == nullptr) return std::nullopt;
    if (level->is_double()) return level->get_double();
    if (level->is_int64()) return static_cast<double>(level->get_int64());
    return std::nullopt;
}

std::vector<std::string> ranked(const std::string& results_json, json::array& solutions) {
    boost::system::error_code ec;
    json::value parsed = parse_internal_json(results_json, ec);
    solutions = !ec && parsed.is_array() ? std::move(parsed.get_array()) : json::array{};
    std::vector<std::string> identities;
    identities.reserve(solutions.size());
    for (const auto& solution : solutions) identities.push_back(identity(solution));
    return identities;
}

// Kendall tau-a of the stored top N against the candidate's order; a solution the candidate
// no longer has ranks after all it has. 1 when fewer than two solutions were ranked.
double kendall_tau(const std::vector<std::string>& before, const std::vector<std::string>& after) {
    const std::size_t n = std::min(before.size(), kPreviewTopN);
    if (n < 2) return 1.0;
    std::unordered_map<std::string, std::size_t> position;
    for (std::size_t i = 0; i < after.size(); ++i) position.emplace(after[i], i);
    std::vector<std::size_t> moved(n);
    for (std::size_t i = 0; i < n; ++i) {
        const auto found = position.find(before[i]);
        moved[i] = found == position.end() ? after.size() : found->second;
    }
    long balance = 0;
    long pairs = 0;
    for (std::size_t i = 0; i < n; ++i) {
        for (std::size_t j = i + 1; j < n; ++j) {
            ++pairs;
            if (moved[i] < moved[j])
                ++balance;
            else if (moved[i] > moved[j])
                --balance;
        }
    }
    return static_cast<double>(balance) / static_cast<double>(pairs);
}

json::value level_or_null(const std::optional<double>& level) {
    return level ? json::value(*level) : json::value(nullptr);
}

// Most changed first: newly failing, then a changed top 1, then the lowest tau.
bool more_changed(const json::object& a, const json::object& b) {
    const auto key = [](const json::object& run) {
        return std::tuple(!run.at("newly_failing").as_bool(), !run.at("top1_changed").as_bool(),
                          run.at("kendall_tau").to_number<double>());
    };
    return key(a) < key(b);
}

}  // namespace

json::object compare_run(const store::Run& stored, const store::RunOutcome& candidate) {
    json::array before_solutions;
    json::array after_solutions;
    const std::vector<std::string> before = ranked(stored.results_json, before_solutions);
    const std::vector<std::string> after = ranked(candidate.results_json, after_solutions);
    const std::set<std::string> before_set(before.begin(), before.end());
    const std::set<std::string> after_set(after.begin(), after.end());
    long gained = 0;
    long lost = 0;
    for (const auto& solution : after_set) gained += before_set.contains(solution) ? 0 : 1;
    for (const auto& solution : before_set) lost += after_set.contains(solution) ? 0 : 1;
    const auto level_before =
        before_solutions.empty() ? std::nullopt : overall_level(before_solutions.front());
    const auto level_after =
        after_solutions.empty() ? std::nullopt : overall_level(after_solutions.front());
    const bool top1_changed =
        (before.empty() != after.empty()) || (!before.empty() && before.front() != after.front());
    const bool was_failed = stored.status == store::RunStatus::failed;
    const bool now_failed = candidate.status == store::RunStatus::failed;
    return {{"run_id", stored.id},
            {"status_before", store::to_string(stored.status)},
            {"status_after", store::to_string(candidate.status)},
            {"top1_changed", top1_changed},
            {"kendall_tau", kendall_tau(before, after)},
            {"overall_level_before", level_or_null(level_before)},
            {"overall_level_after", level_or_null(level_after)},
            {"overall_level_delta", level_before && level_after
                                        ? json::value(*level_after - *level_before)
                                        : json::value(nullptr)},
            {"solutions_gained", gained},
            {"solutions_lost", lost},
            {"newly_failing", now_failed && !was_failed},
            {"newly_degraded", candidate.status == store::RunStatus::degraded &&
                                   stored.status == store::RunStatus::completed},
            {"error_code",
             candidate.error_code ? json::value(*candidate.error_code) : json::value(nullptr)}};
}

json::object summarize_preview(const std::vector<json::object>& compared) {
    long top1 = 0;
    long failing = 0;
    long degraded = 0;
    double tau_sum = 0.0;
    for (const auto& run : compared) {
        top1 += run.at("top1_changed").as_bool() ? 1 : 0;
        failing += run.at("newly_failing").as_bool() ? 1 : 0;
        degraded += run.at("newly_degraded").as_bool() ? 1 : 0;
        tau_sum += run.at("kendall_tau").to_number<double>();
    }
    std::vector<json::object> changed;
    for (const auto& run : compared) {
        const bool moved =
            run.at("top1_changed").as_bool() || run.at("newly_failing").as_bool() ||
            run.at("newly_degraded").as_bool() || run.at("kendall_tau").to_number<double>() < 1.0 ||
            run.at("solutions_gained").as_int64() > 0 || run.at("solutions_lost").as_int64() > 0;
        if (moved) changed.push_back(run);
    }
    std::stable_sort(changed.begin(), changed.end(), more_changed);
    json::array most_changed;
    for (std::size_t i = 0; i < changed.size() && i < kMostChangedRuns; ++i)
        most_changed.push_back(changed[i]);
    const double count = static_cast<double>(compared.size());
    return {{"runs", compared.size()},
            {"top1_changed", top1},
            {"top1_change_share", compared.empty() ? 0.0 : static_cast<double>(top1) / count},
            {"newly_failing", failing},
            {"newly_degraded", degraded},
            {"mean_kendall_tau", compared.empty() ? 1.0 : tau_sum / count},
            {"runs_changed", changed.size()},
            {"most_changed", std::move(most_changed)}};
}

}  // namespace engined::runs
