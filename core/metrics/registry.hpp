// core/metrics — counters, gauges and histograms in one thread-safe registry, rendered in the
// Prometheus text exposition format 0.0.4. Knows nothing of HTTP, runs or the store: others
// register their series here and GET /metrics renders them.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace engined::metrics {

// Label names and values, in the order they are rendered. Values are escaped on render.
using Labels = std::vector<std::pair<std::string, std::string>>;

class Counter {
public:
    // `by` must not be negative: a counter only goes up.
    void inc(double by = 1) noexcept { value_.fetch_add(by, std::memory_order_relaxed); }
    double value() const noexcept { return value_.load(std::memory_order_relaxed); }

private:
    std::atomic<double> value_{0};
};

class Gauge {
public:
    void set(double v) noexcept { value_.store(v, std::memory_order_relaxed); }
    void add(double v) noexcept { value_.fetch_add(v, std::memory_order_relaxed); }
    double value() const noexcept { return value_.load(std::memory_order_relaxed); }

private:
    std::atomic<double> value_{0};
};

// Fixed upper bounds (strictly increasing); an implicit +Inf bucket catches the rest.
class Histogram {
public:
    explicit Histogram(std::vector<double> upper_bounds);
    void observe(double v) noexcept;

    struct Snapshot {
        std::vector<double> upper_bounds;
        std::vector<uint64_t> cumulative;  // one per bound, then +Inf (== count)
        double sum = 0;
    };
    Snapshot snapshot() const;

private:
    std::vector<double> upper_bounds_;
    std::unique_ptr<std::atomic<uint64_t>[]> counts_;  // per bucket, not cumulative; last is +Inf
    std::atomic<double> sum_{0};
};

// Bucket bounds for durations in seconds, from 0.5 ms to 10 s.
std::vector<double> duration_buckets();
// 1, 2, 4, ... up to `largest` (inclusive when a power of two).
std::vector<double> exponential_buckets(double largest);

class Registry {
public:
    // Label sets one family may hold. Past it, a new label set is counted in the family's
    // overflow series (every label value "overflow"), so label values taken from requests cannot
    // grow the exposition without bound.
    static constexpr std::size_t kMaxSeriesPerFamily = 1000;

    explicit Registry(std::size_t max_series_per_family = kMaxSeriesPerFamily);
    ~Registry();
    Registry(const Registry&) = delete;
    Registry& operator=(const Registry&) = delete;

    // The same name and labels return the same series (the overflow series once the family holds
    // its limit of label sets); references stay valid for the registry's life. A lookup takes a
    // lock: callers on hot paths keep the reference. Throws
    // std::invalid_argument for a malformed name or label name, or a name already registered as
    // another type (or, for histograms, with other buckets).
    Counter& counter(std::string_view name, std::string_view help, Labels labels = {});
    Gauge& gauge(std::string_view name, std::string_view help, Labels labels = {});
    Histogram& histogram(std::string_view name, std::string_view help, std::vector<double> buckets,
                         Labels labels = {});
    // A gauge whose value is sampled by `sample` at render time (queue depth, store figures...).
    // `sample` runs under the registry's lock: it must not call back into the registry.
    void gauge_callback(std::string_view name, std::string_view help,
                        std::function<double()> sample, Labels labels = {});

    // Every family in name order, HELP and TYPE once each, series in label order.
    std::string render() const;

    static constexpr std::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";

private:
    struct Family;
    Family& family(std::string_view name, std::string_view help, int type,
                   const std::vector<double>* buckets);
    // `key` (the rendered `labels`) when `family` has or may add that series, else the key of its
    // overflow series.
    std::string series_key(const Family& family, const Labels& labels, std::string key) const;

    const std::size_t max_series_per_family_;
    mutable std::mutex mutex_;
    std::map<std::string, std::unique_ptr<Family>, std::less<>> families_;
};

}  // namespace engined::metrics
