// The runs' series in the metrics registry: submissions and outcomes per engine and version, run
// durations, the queue's depth and what Lua scorecards spent. The `version` label is the resolved
// version ("1.2") or "current" for a run of the engine's current configuration; organisations' own
// engines are labelled engine="custom", version="custom". Runs a "<major>.x" pin resolved under an
// open rollout are also counted by their share (new | previous), the two side by side.
#pragma once

#include "lua/sandbox.hpp"
#include "metrics/registry.hpp"
#include "store/store.hpp"

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace engined::runs {

class RunMetrics {
public:
    explicit RunMetrics(metrics::Registry& registry);

    // The built-in engines, counted under their own slug (every other engine is "custom"); set
    // once at start-up, before any run is counted.
    void label_builtin_engines(std::vector<std::string> slugs);

    // `rollout_share`: new | previous when an open rollout chose the version.
    void submitted(const std::string& engine, const std::optional<std::string>& version,
                   const std::optional<std::string>& rollout_share);
    // `run.started_at_ms` set: the duration started → completed is observed too.
    void finished(const store::Run& run, const store::RunOutcome& outcome);
    void lua_instructions(uint64_t count) { lua_instructions_.inc(static_cast<double>(count)); }
    void lua_error(lua::FailureKind kind);

private:
    // The labels `engine` and `version` are counted under (see the file comment).
    using LabelPair = std::pair<std::string_view, std::string_view>;
    // The series of one (engine, version) pair, each looked up in the registry on its first use
    // and kept: counting a run then builds no label strings and takes no exclusive lock.
    struct EngineSeries {
        std::atomic<metrics::Counter*> submitted{nullptr};
        std::atomic<metrics::Histogram*> duration{nullptr};
        std::array<std::atomic<metrics::Counter*>, 5> finished{};  // by store::RunStatus
    };
    // Owned strings as keys, searched with views of the run's own.
    struct LabelPairLess {
        using is_transparent = void;
        template <typename A, typename B>
        bool operator()(const A& a, const B& b) const {
            return LabelPair(a.first, a.second) < LabelPair(b.first, b.second);
        }
    };

    LabelPair engine_labels(const std::string& engine,
                            const std::optional<std::string>& version) const;
    EngineSeries& series_of(LabelPair labels);
    // The series in `slot`, or `lookup`'s (then kept in `slot`) on the first call.
    template <typename Series, typename Lookup>
    static Series& kept(std::atomic<Series*>& slot, const Lookup& lookup);

    metrics::Registry& registry_;
    std::vector<std::string> builtin_engines_;  // a handful: a scan beats a hash
    metrics::Counter& lua_instructions_;
    // One entry per built-in engine and version counted, plus the "custom" pair: bounded by the
    // releases operators publish. Entries are never removed, so references to them stay valid.
    std::shared_mutex series_mutex_;
    std::map<std::pair<std::string, std::string>, EngineSeries, LabelPairLess> series_;
};

}  // namespace engined::runs
