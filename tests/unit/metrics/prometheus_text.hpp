// A strict reader of the Prometheus text exposition format 0.0.4, for tests: what a scraper
// would reject fails here with the line number. promtool is not packaged for Debian, so this is
// the check that GET /metrics is well-formed.
#pragma once

#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace engined::testing {

using LabelSet = std::map<std::string, std::string>;

struct MetricSample {
    std::string name;  // as written, e.g. "x_bucket"
    LabelSet labels;
    double value = 0;
};

struct MetricFamily {
    std::string name;
    std::string help;
    std::string type = "untyped";
    std::vector<MetricSample> samples;
};

struct Exposition {
    std::map<std::string, MetricFamily> families;

    // The value of the sample `name` with exactly `labels`; nullopt when absent.
    std::optional<double> value(const std::string& name, const LabelSet& labels = {}) const;
    // The sum over samples `name` whose labels include every pair of `subset`.
    double sum(const std::string& name, const LabelSet& subset = {}) const;
};

class ExpositionError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Parses and checks: line syntax (names, label syntax and escapes, float values incl. +Inf,
// -Inf and NaN), HELP and TYPE at most once per family and TYPE before its samples, no family
// split in two, no duplicate series, and for histograms: le buckets increasing with
// non-decreasing counts, a +Inf bucket equal to _count, and a _sum. Throws ExpositionError.
Exposition parse_prometheus_text(std::string_view text);

}  // namespace engined::testing
