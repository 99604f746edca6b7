#include "metrics/registry.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <stdexcept>

namespace engined::metrics {
namespace {

enum Type { counter_type, gauge_type, histogram_type };

constexpr std::string_view kTypeNames[] = {"counter", "gauge", "histogram"};

bool valid_name(std::string_view name, bool allow_colon) {
    if (name.empty()) return false;
    auto head = [&](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
               (allow_colon && c == ':');
    };
    if (!head(name.front())) return false;
    return std::all_of(name.begin() + 1, name.end(),
                       [&](char c) { return head(c) || (c >= '0' && c <= '9'); });
}

void append_number(std::string& out, double value) {
    if (std::isnan(value)) {
        out += "NaN";
    } else if (std::isinf(value)) {
        out += value > 0 ? "+Inf" : "-Inf";
    } else {
        // Shortest round-trip text; plain decimals in the usual range ("0.0005", not "5e-04").
        const double magnitude = std::fabs(value);
        const bool plain = magnitude == 0 || (magnitude >= 1e-4 && magnitude < 1e15);
        char buf[64];
        const auto result =
            plain ? std::to_chars(buf, buf + sizeof buf, value, std::chars_format::fixed)
                  : std::to_chars(buf, buf + sizeof buf, value);
        out.append(buf, result.ptr);
    }
}

// HELP text escapes backslash and newline; label values also escape the double quote.
void append_escaped(std::string& out, std::string_view text, bool quote) {
    for (const char c : text) {
        if (c == '\\') {
            out += "\\\\";
        } else if (c == '\n') {
            out += "\\n";
        } else if (quote && c == '"') {
            out += "\\\"";
        } else {
            out += c;
        }
    }
}

// `a="x",b="y"`: the labels inside the braces, so that histograms can append `le`.
std::string render_labels(const Labels& labels) {
    std::string out;
    for (const auto& [name, value] : labels) {
        if (!valid_name(name, false) || name == "le" || name.starts_with("__")) {
            throw std::invalid_argument("metrics: invalid label name '" + name + "'");
        }
        if (!out.empty()) out += ',';
        out += name;
        out += "=\"";
        append_escaped(out, value, true);
        out += '"';
    }
    return out;
}

void append_sample(std::string& out, std::string_view name, std::string_view suffix,
                   std::string_view labels, double value) {
    out += name;
    out += suffix;
    if (!labels.empty()) {
        out += '{';
        out += labels;
        out += '}';
    }
    out += ' ';
    append_number(out, value);
    out += '\n';
}

}  // namespace

Histogram::Histogram(std::vector<double> upper_bounds)
    : upper_bounds_(std::move(upper_bounds)),
      counts_(new std::atomic<uint64_t>[upper_bounds_.size() + 1]) {
    if (upper_bounds_.empty() ||
        std::adjacent_find(upper_bounds_.begin(), upper_bounds_.end(), std::greater_equal<>()) !=
            upper_bounds_.end() ||
        !std::all_of(upper_bounds_.begin(), upper_bounds_.end(),
                     [](double b) { return std::isfinite(b); })) {
        throw std::invalid_argument(
            "metrics: histogram buckets must be finite and strictly increasing");
    }
    for (std::size_t i = 0; i <= upper_bounds_.size(); ++i)
        counts_[i].store(0, std::memory_order_relaxed);
}

void Histogram::observe(double v) noexcept {
    const auto bucket =
        std::lower_bound(upper_bounds_.begin(), upper_bounds_.end(), v) - upper_bounds_.begin();
    counts_[static_cast<std::size_t>(bucket)].fetch_add(1, std::memory_order_relaxed);
    sum_.fetch_add(v, std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::snapshot() const {
    Snapshot out{upper_bounds_, {}, sum_.load(std::memory_order_relaxed)};
    uint64_t running = 0;
    for (std::size_t i = 0; i <= upper_bounds_.size(); ++i) {
        running += counts_[i].load(std::memory_order_relaxed);
        out.cumulative.push_back(running);
    }
    return out;
}

std::vector<double> duration_buckets() {
    return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

std::vector<double> exponential_buckets(double largest) {
    std::vector<double> out;
    for (double bound = 1; bound <= largest; bound *= 2) out.push_back(bound);
    return out;
}

struct Registry::Family {
    struct Series {
        std::unique_ptr<Counter> counter;
        std::unique_ptr<Gauge> gauge;
        std::unique_ptr<Histogram> histogram;
        std::function<double()> sample;
    };
    Type type;
    std::string help;
    std::vector<double> buckets;
    std::map<std::string, Series> series;  // by rendered labels
};

Registry::Registry(std::size_t max_series_per_family)
    : max_series_per_family_(max_series_per_family) {}
Registry::~Registry() = default;

Registry::Family& Registry::family(std::string_view name, std::string_view help, int type,
                                   const std::vector<double>* buckets) {
    if (!valid_name(name, true))
        throw std::invalid_argument("metrics: invalid metric name '" + std::string(name) + "'");
    auto it = families_.find(name);
    if (it == families_.end()) {
        auto created = std::make_unique<Family>();
        created->type = static_cast<Type>(type);
        created->help = std::string(help);
        if (buckets != nullptr) created->buckets = *buckets;
        it = families_.emplace(std::string(name), std::move(created)).first;
    }
    Family& found = *it->second;
    if (found.type != type) {
        throw std::invalid_argument("metrics: '" + std::string(name) + "' is already a " +
                                    std::string(kTypeNames[found.type]));
    }
    if (buckets != nullptr && found.buckets != *buckets) {
        throw std::invalid_argument("metrics: histogram '" + std::string(name) +
                                    "' already has other buckets");
    }
    return found;
}

std::string Registry::series_key(const Family& family, const Labels& labels,
                                 std::string key) const {
    if (family.series.size() < max_series_per_family_ || family.series.count(key) != 0) return key;
    Labels overflow = labels;
    for (auto& label : overflow) label.second = "overflow";
    return render_labels(overflow);
}

Counter& Registry::counter(std::string_view name, std::string_view help, Labels labels) {
    std::string key =
        render_labels(labels);  // validates the label names before anything is created
    std::lock_guard lock(mutex_);
    Family& found = family(name, help, counter_type, nullptr);
    auto& series = found.series[series_key(found, labels, std::move(key))];
    if (!series.counter) series.counter = std::make_unique<Counter>();
    return *series.counter;
}

Gauge& Registry::gauge(std::string_view name, std::string_view help, Labels labels) {
    std::string key =
        render_labels(labels);  // validates the label names before anything is created
    std::lock_guard lock(mutex_);
    Family& found = family(name, help, gauge_type, nullptr);
    auto& series = found.series[series_key(found, labels, std::move(key))];
    if (series.sample)
        throw std::invalid_argument("metrics: '" + std::string(name) +
                                    "' is sampled by a callback");
    if (!series.gauge) series.gauge = std::make_unique<Gauge>();
    return *series.gauge;
}

Histogram& Registry::histogram(std::string_view name, std::string_view help,
                               std::vector<double> buckets, Labels labels) {
    auto fresh = std::make_unique<Histogram>(buckets);  // validates the buckets outside the lock
    std::string key =
        render_labels(labels);  // validates the label names before anything is created
    std::lock_guard lock(mutex_);
    Family& found = family(name, help, histogram_type, &buckets);
    auto& series = found.series[series_key(found, labels, std::move(key))];
    if (!series.histogram) series.histogram = std::move(fresh);
    return *series.histogram;
}

void Registry::gauge_callback(std::string_view name, std::string_view help,
                              std::function<double()> sample, Labels labels) {
    std::string key =
        render_labels(labels);  // validates the label names before anything is created
    std::lock_guard lock(mutex_);
    Family& found = family(name, help, gauge_type, nullptr);
    auto& series = found.series[series_key(found, labels, std::move(key))];
    if (series.gauge)
        throw std::invalid_argument("metrics: '" + std::string(name) + "' is a set gauge already");
    series.sample = std::move(sample);
}

std::string Registry::render() const {
    std::string out;
    std::lock_guard lock(mutex_);
    for (const auto& [name, family] : families_) {
        out += "# HELP ";
        out += name;
        out += ' ';
        append_escaped(out, family->help, false);
        out += "\n# TYPE ";
        out += name;
        out += ' ';
        out += kTypeNames[family->type];
        out += '\n';
        for (const auto& [labels, series] : family->series) {
            if (series.counter) append_sample(out, name, "", labels, series.counter->value());
            if (series.gauge) append_sample(out, name, "", labels, series.gauge->value());
            if (series.sample) append_sample(out, name, "", labels, series.sample());
            if (!series.histogram) continue;
            const Histogram::Snapshot snapshot = series.histogram->snapshot();
            const std::string prefix = labels.empty() ? std::string() : labels + ",";
            for (std::size_t i = 0; i < snapshot.cumulative.size(); ++i) {
                std::string with_le = prefix + "le=\"";
                if (i < snapshot.upper_bounds.size()) {
                    append_number(with_le, snapshot.upper_bounds[i]);
                } else {
                    with_le += "+Inf";
                }
                with_le += '"';
                append_sample(out, name, "_bucket", with_le,
                              static_cast<double>(snapshot.cumulative[i]));
            }
            append_sample(out, name, "_sum", labels, snapshot.sum);
            append_sample(out, name, "_count", labels,
                          static_cast<double>(snapshot.cumulative.back()));
        }
    }
    return out;
}

}  // namespace engined::metrics
