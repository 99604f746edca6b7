// Run latency and throughput against a running engined, measured from the client's side.
//
//   bench_submit_latency --url http://127.0.0.1:PORT --key KEY --body FILE
//                        [--runs N] [--concurrency C] [--seconds S] [--poll-us U]
//
// Phases (each after its own untimed warm-up):
//   1. baseline: GET /health round trips on one kept-alive connection — the floor any API call
//      pays on this machine; the other figures are reported as multiples of it.
//   2. light load: N runs one after another, one in flight. For each, the 202 latency (engined
//      answers only once the run is durable: parsing, validation and the group commit) and the
//      submit→completed latency, found by polling GET /api/v1/runs/{id} every U µs.
//   3. throughput: C client threads, each submitting and waiting for completion, for S seconds.
//
// Polling resolution is one GET round trip plus U µs, so latencies are overstated by up to that.

#include "driver_common.hpp"
#include "http/client.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
using engined::bench::parse_int;
using engined::bench::parse_url;
using engined::bench::percentile;
using engined::bench::read_body;
using engined::http::Client;

constexpr int kWarmupRuns = 5;
constexpr int kHealthRoundTrips = 2000;
// A run that is not terminal by then counts as timed out; keeps every loop bounded.
constexpr std::chrono::seconds kRunTimeout{10};

struct Options {
    std::string host;
    uint16_t port = 0;
    std::string key;
    std::string body;
    int runs = 200;
    int concurrency = 4;
    std::chrono::seconds throughput_duration{5};
    std::chrono::microseconds poll_interval{50};
};

double ms_since(Clock::time_point start) {
    return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

Options parse_options(int argc, char** argv) {
    if (argc % 2 == 0) throw std::invalid_argument("every option needs a value");
    Options options;
    std::string url;
    std::string body_file;
    for (int i = 1; i < argc; i += 2) {
        const std::string_view name = argv[i];
        const std::string_view value = argv[i + 1];
        if (name == "--url")
            url = value;
        else if (name == "--key")
            options.key = value;
        else if (name == "--body")
            body_file = value;
        else if (name == "--runs")
            options.runs = parse_int(value, name, 1);
        else if (name == "--concurrency")
            options.concurrency = parse_int(value, name, 1);
        else if (name == "--seconds")
            options.throughput_duration = std::chrono::seconds(parse_int(value, name, 1));
        else if (name == "--poll-us")
            options.poll_interval = std::chrono::microseconds(parse_int(value, name, 0));
        else
            throw std::invalid_argument("unknown option '" + std::string(name) + "'");
    }
    const auto server = parse_url(url, "--url");
    options.host = server.host;
    options.port = server.port;
    if (options.key.empty()) throw std::invalid_argument("--key is required");
    options.body = read_body(body_file);
    return options;
}

void print_distribution(const char* label, std::vector<double> sample) {
    std::sort(sample.begin(), sample.end());
    std::printf("%-28s p50 %8.3f  p90 %8.3f  p99 %8.3f  max %8.3f ms  (n=%zu)\n", label,
                percentile(sample, 50), percentile(sample, 90), percentile(sample, 99),
                sample.back(), sample.size());
}

double median(std::vector<double> sample) {
    std::sort(sample.begin(), sample.end());
    return percentile(sample, 50);
}

// One client connection submitting runs and polling them to a terminal status.
class RunDriver {
public:
    explicit RunDriver(const Options& options)
        : options_(options),
          client_(options.host, options.port),
          headers_{{"Authorization", "Bearer " + options.key}} {}

    struct Result {
        double accepted_ms = 0;   // POST until the 202
        double completed_ms = 0;  // POST until a GET shows a terminal status
        std::string status;       // completed | degraded | failed | timeout
    };

    Result run_once() {
        Result result;
        const auto start = Clock::now();
        const auto submitted =
            client_.request("POST", "/api/v1/engines/default/runs", options_.body, headers_);
        result.accepted_ms = ms_since(start);
        if (submitted.status != 202) {
            throw std::runtime_error("submit answered " + std::to_string(submitted.status) + ": " +
                                     submitted.body);
        }
        const std::string target =
            "/api/v1/runs/" +
            std::string(boost::json::parse(submitted.body).at("run_id").as_string());
        while (Clock::now() - start < kRunTimeout) {
            const auto polled = client_.request("GET", target, {}, headers_);
            if (polled.status != 200) {
                throw std::runtime_error("poll answered " + std::to_string(polled.status) + ": " +
                                         polled.body);
            }
            const auto view = boost::json::parse(polled.body);
            const std::string_view status = view.at("status").as_string();
            if (status == "completed" || status == "degraded" || status == "failed") {
                result.completed_ms = ms_since(start);
                result.status = status;
                return result;
            }
            if (options_.poll_interval.count() > 0)
                std::this_thread::sleep_for(options_.poll_interval);
        }
        result.completed_ms = ms_since(start);
        result.status = "timeout";
        return result;
    }

    double health_round_trip_ms() {
        const auto start = Clock::now();
        const auto response = client_.request("GET", "/health");
        if (response.status != 200)
            throw std::runtime_error("GET /health answered " + std::to_string(response.status));
        return ms_since(start);
    }

private:
    const Options& options_;
    Client client_;
    std::vector<std::pair<std::string, std::string>> headers_;
};

int count_of(const std::map<std::string, int>& statuses, const std::string& status) {
    const auto it = statuses.find(status);
    return it == statuses.end() ? 0 : it->second;
}

void print_statuses(const std::map<std::string, int>& statuses) {
    std::printf("%-28s", "final statuses");
    for (const auto& [status, count] : statuses) std::printf(" %s=%d", status.c_str(), count);
    std::printf("\n");
}

int run_benchmark(const Options& options) {
    RunDriver driver(options);

    // 1. Baseline.
    for (int i = 0; i < 100; ++i) driver.health_round_trip_ms();
    std::vector<double> health;
    for (int i = 0; i < kHealthRoundTrips; ++i) health.push_back(driver.health_round_trip_ms());
    const double health_p50 = median(health);
    print_distribution("baseline GET /health", health);

    // 2. Light load. The warm-up also proves the engine answers before anything is timed.
    for (int i = 0; i < kWarmupRuns; ++i) {
        const auto warm = driver.run_once();
        if (warm.status != "completed" && warm.status != "degraded") {
            std::fprintf(stderr,
                         "bench_submit_latency: warm-up run ended '%s'; is the engine loaded?\n",
                         warm.status.c_str());
            return 1;
        }
    }
    std::vector<double> accepted, completed;
    std::map<std::string, int> statuses;
    for (int i = 0; i < options.runs; ++i) {
        const auto result = driver.run_once();
        accepted.push_back(result.accepted_ms);
        completed.push_back(result.completed_ms);
        ++statuses[result.status];
    }
    std::printf("\nlight load: %d runs, one in flight, polling every %lld us\n", options.runs,
                static_cast<long long>(options.poll_interval.count()));
    print_distribution("submit -> 202", accepted);
    print_distribution("submit -> completed", completed);
    print_statuses(statuses);
    std::printf("%-28s 202 p50 = %.1fx, completed p50 = %.1fx\n", "ratio to /health p50",
                median(accepted) / health_p50, median(completed) / health_p50);

    // 3. Throughput: clients connect and warm up before the clock starts.
    std::vector<RunDriver> drivers;
    for (int i = 0; i < options.concurrency; ++i) drivers.emplace_back(options);
    for (auto& each : drivers) each.run_once();
    std::mutex mutex;
    std::map<std::string, int> load_statuses;
    std::vector<double> load_completed;
    std::vector<std::string> errors;
    const auto start = Clock::now();
    const auto deadline = start + options.throughput_duration;
    std::vector<std::thread> threads;
    for (auto& each : drivers) {
        threads.emplace_back([&, &client = each] {
            try {
                while (Clock::now() < deadline) {
                    const auto result = client.run_once();
                    std::lock_guard lock(mutex);
                    ++load_statuses[result.status];
                    load_completed.push_back(result.completed_ms);
                }
            } catch (const std::exception& error) {
                std::lock_guard lock(mutex);
                errors.emplace_back(error.what());
            }
        });
    }
    for (auto& thread : threads) thread.join();
    const double seconds = ms_since(start) / 1000.0;
    for (const auto& error : errors)
        std::fprintf(stderr, "bench_submit_latency: %s\n", error.c_str());
    if (load_completed.empty()) return 1;
    // Runs in flight at the deadline finish and count; the clock stops when the last one does.
    const int finished = count_of(load_statuses, "completed") + count_of(load_statuses, "degraded");
    std::printf("\nthroughput: %d client threads for %lld s\n", options.concurrency,
                static_cast<long long>(options.throughput_duration.count()));
    print_distribution("submit -> completed", load_completed);
    print_statuses(load_statuses);
    std::printf("%-28s %.1f runs/s (%.2f s)\n", "completed runs/s", finished / seconds, seconds);
    return errors.empty() ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    return engined::bench::driver_main(argc, argv, "bench_submit_latency",
                                       "--url http://HOST:PORT --key KEY --body FILE [--runs N] "
                                       "[--concurrency C] [--seconds S] [--poll-us U]",
                                       parse_options, run_benchmark);
}
