// engined-soak: a steady submission rate against engined as a child on loopback for minutes,
// sampling the child's resident memory every second. After the warm-up the RSS must stay flat:
// the least-squares line through the samples may not rise by more than 5% over the measured
// window.
//
//   engined-soak [--rate R] [--duration S] [--warmup S] [--engined PATH] [--threads T]
//                [--resources-dir DIR] [--body FILE] [--keep] [--help]
//
// Each submission is a POST (with an Idempotency-Key, as careful clients send) followed by a GET
// of the run. Exit status: 0 flat, 1 RSS grew more than 5% or requests failed, 2 could not run.

#include "chaos/child_engined.hpp"
#include "http/client.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace engined;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

constexpr double kGrowthLimitPercent = 5.0;

struct Options : chaos::CampaignOptions {
    int rate = 200;  // submissions per second
    int duration_s = 600;
    int warmup_s = 60;
};

constexpr int kDefaultThreads = 4;

const cli::CommandSpec& command() {
    static const cli::CommandSpec spec{
        "engined-soak",
        "a steady submission rate for minutes; engined's resident memory must stay flat",
        chaos::campaign_option_specs(
            {{"rate", "R", "submissions per second (default 200)", cli::ValueKind::kCount},
             {"duration", "S", "seconds in all (default 600)", cli::ValueKind::kCount},
             {"warmup", "S", "seconds before memory is measured (default 60)"}},
            kDefaultThreads)};
    return spec;
}

void read_soak_options(const cli::Arguments& args, Options& options) {
    options.rate = static_cast<int>(args.number("rate", options.rate));
    options.duration_s = static_cast<int>(args.number("duration", options.duration_s));
    if (args.has("warmup"))
        options.warmup_s = chaos::parse_number<int>(args.required("warmup"), "--warmup", 0);
    if (options.duration_s <= options.warmup_s + 10) {
        throw cli::UsageError("--duration must exceed --warmup by more than 10 s");
    }
}

struct Sample {
    double at_s;
    long rss_kib;
};

struct Fit {
    double slope_per_s = 0;
    double intercept = 0;
};

Fit least_squares(const std::vector<Sample>& samples) {
    double sx = 0, sy = 0, sxx = 0, sxy = 0;
    const double n = static_cast<double>(samples.size());
    for (const Sample& s : samples) {
        sx += s.at_s;
        sy += static_cast<double>(s.rss_kib);
        sxx += s.at_s * s.at_s;
        sxy += s.at_s * static_cast<double>(s.rss_kib);
    }
    Fit fit;
    const double denominator = n * sxx - sx * sx;
    fit.slope_per_s = denominator == 0 ? 0 : (n * sxy - sx * sy) / denominator;
    fit.intercept = (sy - fit.slope_per_s * sx) / n;
    return fit;
}

int run_soak(const Options& options) {
    const std::string body = chaos::read_text(options.body);
    const fs::path data_dir = chaos::fresh_temp_dir("engined-soak");
    const std::string key = chaos::create_key(data_dir);
    chaos::ChildEngined child({options.engined, data_dir, options.resources_dir, {}},
                              chaos::free_loopback_port());
    std::printf("engined-soak: %d submissions/s for %d s (warm-up %d s), engined pid %d\n",
                options.rate, options.duration_s, options.warmup_s, static_cast<int>(child.pid()));
    std::fflush(stdout);

    const auto started = Clock::now();
    const auto end = started + std::chrono::seconds(options.duration_s);
    std::atomic<long> accepted{0}, fetched{0}, failed{0}, behind{0};
    std::vector<std::thread> submitters;
    for (int t = 0; t < options.threads; ++t) {
        submitters.emplace_back([&, t] {
            http::Client client("127.0.0.1", child.port());
            const std::vector<std::pair<std::string, std::string>> auth{
                {"Authorization", "Bearer " + key}};
            // Each thread keeps its own absolute schedule, so the total rate holds even when one
            // request is slow; a thread that falls behind catches up without bursting past it.
            const auto period =
                std::chrono::duration<double>(static_cast<double>(options.threads) / options.rate);
            auto due = started + std::chrono::duration_cast<Clock::duration>(
                                     period * (static_cast<double>(t) / options.threads));
            for (long n = 0; due < end;
                 ++n, due += std::chrono::duration_cast<Clock::duration>(period)) {
                if (Clock::now() < due) {
                    std::this_thread::sleep_until(due);
                } else if (Clock::now() - due > std::chrono::seconds(1)) {
                    ++behind;
                }
                try {
                    auto headers = auth;
                    headers.emplace_back("Content-Type", "application/json");
                    headers.emplace_back("Idempotency-Key",
                                         "soak-" + std::to_string(t) + "-" + std::to_string(n));
                    const auto submitted =
                        client.request("POST", "/api/v1/engines/default/runs", body, headers);
                    if (submitted.status != 202) {
                        ++failed;
                        continue;
                    }
                    ++accepted;
                    const std::string run_id(
                        boost::json::parse(submitted.body).at("run_id").as_string());
                    if (client.request("GET", "/api/v1/runs/" + run_id, {}, auth).status == 200)
                        ++fetched;
                    else
                        ++failed;
                } catch (const std::exception&) {
                    ++failed;
                    client = http::Client("127.0.0.1", child.port());
                }
            }
        });
    }

    std::vector<Sample> samples;
    for (int second = 1; second <= options.duration_s; ++second) {
        std::this_thread::sleep_until(started + std::chrono::seconds(second));
        const long rss = chaos::resident_kib(child.pid());
        if (rss < 0) {
            std::cerr << "engined-soak: engined is gone (pid " << child.pid() << ")\n";
            for (auto& thread : submitters) thread.join();
            return 1;
        }
        samples.push_back({static_cast<double>(second), rss});
        if (second % 60 == 0) {
            std::printf("  %4d s  RSS %ld KiB  accepted %ld\n", second, rss, accepted.load());
            std::fflush(stdout);
        }
    }
    for (auto& thread : submitters) thread.join();
    const int stop_status = child.terminate();

    std::vector<Sample> measured;
    std::copy_if(samples.begin(), samples.end(), std::back_inserter(measured),
                 [&](const Sample& s) { return s.at_s > options.warmup_s; });
    double mean = 0;
    for (const Sample& s : measured) mean += static_cast<double>(s.rss_kib);
    mean /= static_cast<double>(measured.size());
    double max_deviation = 0;
    long low = measured.front().rss_kib, high = measured.front().rss_kib;
    for (const Sample& s : measured) {
        max_deviation =
            std::max(max_deviation, std::abs(static_cast<double>(s.rss_kib) - mean) / mean * 100);
        low = std::min(low, s.rss_kib);
        high = std::max(high, s.rss_kib);
    }
    const Fit fit = least_squares(measured);
    const double first = fit.intercept + fit.slope_per_s * measured.front().at_s;
    const double last = fit.intercept + fit.slope_per_s * measured.back().at_s;
    const double growth_percent = (last - first) / first * 100;
    const double achieved = static_cast<double>(accepted.load()) / options.duration_s;

    std::printf("submissions accepted                %ld (%.1f/s; target %d/s), runs fetched %ld\n",
                accepted.load(), achieved, options.rate, fetched.load());
    std::printf("failed requests                     %ld; requests sent over 1 s late %ld\n",
                failed.load(), behind.load());
    std::printf("RSS at start of measurement         %ld KiB (after %d s warm-up)\n",
                measured.front().rss_kib, options.warmup_s);
    std::printf("RSS after warm-up                   mean %.0f KiB, min %ld, max %ld, last %ld\n",
                mean, low, high, measured.back().rss_kib);
    std::printf("least-squares slope                 %+.1f KiB/min\n", fit.slope_per_s * 60);
    std::printf("growth over the measured window     %+.2f %% (limit %.0f %%)\n", growth_percent,
                kGrowthLimitPercent);
    std::printf("max deviation from the mean         %.2f %%\n", max_deviation);

    const bool passed = growth_percent <= kGrowthLimitPercent && failed == 0 && stop_status == 0;
    if (options.keep || !passed) {
        std::printf("data kept in %s\n", data_dir.c_str());
    } else {
        fs::remove_all(data_dir);
    }
    std::printf("%s\n", passed ? "PASS" : "FAIL");
    return passed ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    return chaos::campaign_main<Options>(argc, argv, command(), kDefaultThreads, read_soak_options,
                                         run_soak);
}
