// What the run benchmark drivers (bench_submit_latency, bench_open_loop) share: reading their
// options — whole numbers, http://HOST:PORT, the body file — nearest-rank percentiles, and
// main()'s handling of bad options (exit 2 with the usage) and failures (exit 1).
#pragma once

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace engined::bench {

struct Endpoint {
    std::string host;
    uint16_t port = 0;
};

inline int parse_int(std::string_view text, std::string_view name, int min_value) {
    int value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || value < min_value) {
        throw std::invalid_argument(std::string(name) +
                                    " must be a whole number >= " + std::to_string(min_value));
    }
    return value;
}

// Plain http://HOST:PORT only: the benchmarks talk to servers on loopback.
inline Endpoint parse_url(std::string_view url, std::string_view name) {
    constexpr std::string_view scheme = "http://";
    const auto colon = url.rfind(':');
    if (!url.starts_with(scheme) || colon < scheme.size()) {
        throw std::invalid_argument(std::string(name) + " must be http://HOST:PORT");
    }
    return {std::string(url.substr(scheme.size(), colon - scheme.size())),
            static_cast<uint16_t>(parse_int(url.substr(colon + 1), name, 1))};
}

inline std::string read_body(const std::string& file) {
    std::ifstream in(file);
    if (!in) throw std::invalid_argument("cannot read --body '" + file + "'");
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

// Nearest-rank percentile of an ascending, non-empty sample.
inline double percentile(const std::vector<double>& sorted, double p) {
    const auto rank =
        static_cast<std::size_t>(p / 100.0 * static_cast<double>(sorted.size()) + 0.5);
    return sorted[std::clamp<std::size_t>(rank, 1, sorted.size()) - 1];
}

// main() of a driver: options parsed by `parse` (a std::exception: exit 2 with `usage`), then
// `run`'s exit code (a std::exception: exit 1), each message prefixed with `program`.
template <class Parse, class Run>
int driver_main(int argc, char** argv, const char* program, const char* usage, Parse parse,
                Run run) {
    decltype(parse(argc, argv)) options;
    try {
        options = parse(argc, argv);
    } catch (const std::exception& error) {
        std::fprintf(stderr, "%s: %s\nusage: %s %s\n", program, error.what(), program, usage);
        return 2;
    }
    try {
        return run(options);
    } catch (const std::exception& error) {
        std::fprintf(stderr, "%s: %s\n", program, error.what());
        return 1;
    }
}

}  // namespace engined::bench
