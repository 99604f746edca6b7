#include "prometheus_text.hpp"

#include <charconv>
#include <cmath>
#include <limits>
#include <set>

namespace engined::testing {
namespace {

bool name_char(char c, bool first, bool colon) {
    const bool letter =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon && c == ':');
    return letter || (!first && c >= '0' && c <= '9');
}

class LineReader {
public:
    LineReader(std::string_view line, int number) : line_(line), number_(number) {}

    [[noreturn]] void fail(const std::string& what) const {
        throw ExpositionError("line " + std::to_string(number_) + ": " + what + " in '" +
                              std::string(line_) + "'");
    }

    bool done() const { return pos_ >= line_.size(); }
    char peek() const { return done() ? '\0' : line_[pos_]; }
    void expect(char c) {
        if (peek() != c) fail(std::string("expected '") + c + "'");
        ++pos_;
    }

    std::string name(bool colon) {
        const std::size_t start = pos_;
        while (!done() && name_char(line_[pos_], pos_ == start, colon)) ++pos_;
        if (pos_ == start) fail(colon ? "expected a metric name" : "expected a label name");
        return std::string(line_.substr(start, pos_ - start));
    }

    std::string quoted() {
        expect('"');
        std::string out;
        for (;;) {
            if (done()) fail("unterminated label value");
            const char c = line_[pos_++];
            if (c == '"') return out;
            if (c == '\n') fail("raw newline in a label value");
            if (c != '\\') {
                out += c;
                continue;
            }
            const char escaped = peek();
            ++pos_;
            if (escaped == '\\')
                out += '\\';
            else if (escaped == '"')
                out += '"';
            else if (escaped == 'n')
                out += '\n';
            else
                fail("invalid escape in a label value");
        }
    }

    LabelSet labels() {
        LabelSet out;
        if (peek() != '{') return out;
        ++pos_;
        while (peek() != '}') {
            const std::string label = name(false);
            expect('=');
            if (!out.emplace(label, quoted()).second) fail("label '" + label + "' repeated");
            if (peek() == ',') {
                ++pos_;
            } else if (peek() != '}') {
                fail("expected ',' or '}'");
            }
        }
        ++pos_;
        return out;
    }

    std::string_view word() {
        const std::size_t start = pos_;
        while (!done() && line_[pos_] != ' ') ++pos_;
        return line_.substr(start, pos_ - start);
    }

    double number(std::string_view text) const {
        if (text == "+Inf" || text == "Inf") return std::numeric_limits<double>::infinity();
        if (text == "-Inf") return -std::numeric_limits<double>::infinity();
        if (text == "NaN") return std::numeric_limits<double>::quiet_NaN();
        double value = 0;
        const char* begin = text.data() + (text.starts_with('+') ? 1 : 0);
        const auto [end, ec] = std::from_chars(begin, text.data() + text.size(), value);
        if (text.empty() || ec != std::errc() || end != text.data() + text.size() ||
            std::isnan(value) || std::isinf(value)) {
            fail("invalid float '" + std::string(text) + "'");
        }
        return value;
    }

    void skip_spaces() {
        while (peek() == ' ') ++pos_;
    }
    std::string_view rest() const { return line_.substr(std::min(pos_, line_.size())); }

private:
    std::string_view line_;
    int number_;
    std::size_t pos_ = 0;
};

const std::set<std::string> kTypes = {"counter", "gauge", "histogram", "summary", "untyped"};

void check_histogram(const MetricFamily& family) {
    // One group per series: the labels other than `le`.
    struct Group {
        std::vector<std::pair<double, double>> buckets;  // (le, cumulative count) in file order
        std::optional<double> count, sum;
    };
    std::map<LabelSet, Group> groups;
    for (const MetricSample& sample : family.samples) {
        LabelSet labels = sample.labels;
        if (sample.name == family.name + "_bucket") {
            const auto le = labels.find("le");
            if (le == labels.end()) throw ExpositionError(family.name + ": a bucket without le");
            LineReader reader(le->second, 0);
            const double bound = reader.number(le->second);
            labels.erase(le);
            groups[labels].buckets.emplace_back(bound, sample.value);
        } else if (sample.name == family.name + "_count") {
            groups[labels].count = sample.value;
        } else if (sample.name == family.name + "_sum") {
            groups[labels].sum = sample.value;
        } else {
            throw ExpositionError(family.name + ": unexpected sample " + sample.name +
                                  " in a histogram");
        }
    }
    for (const auto& [labels, group] : groups) {
        const std::string where =
            family.name + " series with " + std::to_string(labels.size()) + " labels";
        if (group.buckets.empty() || !std::isinf(group.buckets.back().first)) {
            throw ExpositionError(where + ": the last bucket must be le=\"+Inf\"");
        }
        for (std::size_t i = 1; i < group.buckets.size(); ++i) {
            if (!(group.buckets[i].first > group.buckets[i - 1].first)) {
                throw ExpositionError(where + ": bucket bounds must increase");
            }
            if (group.buckets[i].second < group.buckets[i - 1].second) {
                throw ExpositionError(where + ": bucket counts must not decrease");
            }
        }
        if (!group.count || *group.count != group.buckets.back().second) {
            throw ExpositionError(where + ": _count must equal the +Inf bucket");
        }
        if (!group.sum) throw ExpositionError(where + ": _sum is missing");
    }
}

}  // namespace

std::optional<double> Exposition::value(const std::string& name, const LabelSet& labels) const {
    for (const auto& [_, family] : families) {
        for (const MetricSample& sample : family.samples) {
            if (sample.name == name && sample.labels == labels) return sample.value;
        }
    }
    return std::nullopt;
}

double Exposition::sum(const std::string& name, const LabelSet& subset) const {
    double total = 0;
    for (const auto& [_, family] : families) {
        for (const MetricSample& sample : family.samples) {
            if (sample.name != name) continue;
            bool matches = true;
            for (const auto& [key, value] : subset) {
                const auto it = sample.labels.find(key);
                matches = matches && it != sample.labels.end() && it->second == value;
            }
            if (matches) total += sample.value;
        }
    }
    return total;
}

Exposition parse_prometheus_text(std::string_view text) {
    Exposition out;
    if (!text.empty() && !text.ends_with('\n'))
        throw ExpositionError("the exposition must end with a newline");
    std::set<std::string> finished;  // families whose samples ended
    std::string current;             // the family of the previous sample
    std::set<std::pair<std::string, LabelSet>> seen;
    std::set<std::string> helped;
    int number = 0;
    std::size_t start = 0;
    while (start < text.size()) {
        const std::size_t end = text.find('\n', start);
        const std::string_view line = text.substr(start, end - start);
        start = end + 1;
        ++number;
        if (line.empty()) continue;
        LineReader reader(line, number);
        if (line.starts_with('#')) {
            const bool help = line.starts_with("# HELP ");
            const bool type = line.starts_with("# TYPE ");
            if (!help && !type) continue;  // a plain comment
            LineReader rest(line.substr(7), number);
            const std::string name = rest.name(true);
            MetricFamily& family = out.families[name];
            family.name = name;
            if (help) {
                if (!helped.insert(name).second) reader.fail("second HELP for " + name);
                if (!rest.done()) rest.expect(' ');
                family.help = std::string(rest.rest());
            } else {
                if (family.type != "untyped" || !family.samples.empty())
                    reader.fail("TYPE repeated or after samples");
                rest.expect(' ');
                family.type = std::string(rest.rest());
                if (!kTypes.count(family.type)) reader.fail("unknown type '" + family.type + "'");
            }
            continue;
        }
        MetricSample sample;
        sample.name = reader.name(true);
        sample.labels = reader.labels();
        reader.expect(' ');
        reader.skip_spaces();
        sample.value = reader.number(reader.word());
        if (!reader.done()) {
            reader.expect(' ');
            const std::string_view timestamp = reader.word();
            int64_t ms = 0;
            const auto [ptr, ec] =
                std::from_chars(timestamp.data(), timestamp.data() + timestamp.size(), ms);
            if (ec != std::errc() || ptr != timestamp.data() + timestamp.size() || !reader.done()) {
                reader.fail("trailing text after the value");
            }
        }
        std::string family_name = sample.name;
        for (const char* suffix : {"_bucket", "_count", "_sum"}) {
            const std::string_view s(suffix);
            if (sample.name.size() > s.size() && sample.name.ends_with(s)) {
                const std::string base = sample.name.substr(0, sample.name.size() - s.size());
                const auto it = out.families.find(base);
                if (it != out.families.end() &&
                    (it->second.type == "histogram" || it->second.type == "summary")) {
                    family_name = base;
                }
            }
        }
        if (family_name != current) {
            if (finished.count(family_name))
                reader.fail("samples of " + family_name + " are split");
            if (!current.empty()) finished.insert(current);
            current = family_name;
        }
        if (!seen.emplace(sample.name, sample.labels).second) reader.fail("duplicate series");
        MetricFamily& family = out.families[family_name];
        family.name = family_name;
        if (family.type == "counter" && (sample.value < 0 || std::isnan(sample.value))) {
            reader.fail("a counter must not be negative");
        }
        family.samples.push_back(std::move(sample));
    }
    for (const auto& [_, family] : out.families) {
        if (family.type == "histogram") check_histogram(family);
    }
    return out;
}

}  // namespace engined::testing
