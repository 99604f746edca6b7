// engined-chaos: the kill -9 campaign. Starts engined as a child on loopback, submits runs from
// several threads, each with its own Idempotency-Key, and SIGKILLs the child at random moments
// (seeded, printed) before restarting it on the same data. A submission whose answer a kill
// swallowed is sent again with the same key until it is answered 202, so each logical
// submission must map to exactly one run. At the end every accepted run must exist and be
// terminal (0 lost) and the store must hold one run per submission (0 duplicated).
//
//   engined-chaos [--kills N] [--submissions M] [--seed S] [--engined PATH] [--threads T]
//                 [--resources-dir DIR] [--body FILE] [--keep] [--help]
//
// Exit status: 0 when nothing was lost or duplicated and every answer was expected; 1 when the
// campaign found a fault; 2 on bad arguments or when it could not run.

#include "chaos/child_engined.hpp"
#include "http/client.hpp"

#include <boost/json.hpp>
#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace engined;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

// Every wait of the campaign ends by then; reaching it is a failure, never a hang.
constexpr std::chrono::minutes kCampaignDeadline{15};
constexpr const char* kSubmitPath = "/api/v1/engines/default/runs";

struct Options : chaos::CampaignOptions {
    int kills = 20;
    int submissions = 50'000;
    uint64_t seed = std::random_device{}();
};

constexpr int kDefaultThreads = 8;

const cli::CommandSpec& command() {
    static const cli::CommandSpec spec{
        "engined-chaos",
        "SIGKILLs engined at random moments under load; every accepted run must end, once",
        chaos::campaign_option_specs(
            {{"kills", "N", "SIGKILLs during the campaign (default 20; 0 runs without)"},
             {"submissions", "M", "logical submissions in all (default 50000)",
              cli::ValueKind::kCount},
             {"seed", "S", "the random seed (default: drawn, and printed to repeat the run)"}},
            kDefaultThreads)};
    return spec;
}

void read_kill_options(const cli::Arguments& args, Options& options) {
    if (args.has("kills"))
        options.kills = chaos::parse_number<int>(args.required("kills"), "--kills", 0);
    options.submissions = static_cast<int>(args.number("submissions", options.submissions));
    if (args.has("seed"))
        options.seed = chaos::parse_number<uint64_t>(args.required("seed"), "--seed", 0);
}

// Where the current child listens; changes at every restart.
class Target {
public:
    void set(uint16_t port) {
        std::lock_guard lock(mutex_);
        port_ = port;
    }
    uint16_t port() const {
        std::lock_guard lock(mutex_);
        return port_;
    }

private:
    mutable std::mutex mutex_;
    uint16_t port_ = 0;
};

struct Tally {
    std::atomic<int> accepted{0};      // logical submissions answered 202
    std::atomic<int> posts{0};         // POSTs sent, retries included
    std::atomic<int> lost_answers{0};  // POSTs whose answer never came (connection failed)
    std::atomic<int> replayed{0};      // 202s replayed from the idempotency record
    std::atomic<int> unavailable{0};   // 503 / 429 answers, retried
    std::atomic<int> unexpected{0};    // any other answer: the campaign fails
    std::atomic<bool> deadline_hit{false};
    std::mutex mutex;
    std::vector<std::string> unexpected_samples;
};

void submit(const Options& options, const std::string& key, const std::string& body,
            const Target& target, std::atomic<int>& next, std::vector<std::string>& run_ids,
            Tally& tally, Clock::time_point deadline) {
    std::optional<http::Client> client;
    const std::vector<std::pair<std::string, std::string>> base_headers{
        {"Authorization", "Bearer " + key}, {"Content-Type", "application/json"}};
    for (;;) {
        const int index = next.fetch_add(1);
        if (index >= options.submissions) return;
        auto headers = base_headers;
        headers.emplace_back("Idempotency-Key",
                             "chaos-" + std::to_string(options.seed) + "-" + std::to_string(index));
        for (;;) {
            if (Clock::now() > deadline || tally.deadline_hit) {
                tally.deadline_hit = true;
                return;
            }
            try {
                if (!client) client.emplace("127.0.0.1", target.port());
                ++tally.posts;
                const http::ClientResponse response =
                    client->request("POST", kSubmitPath, body, headers);
                if (response.status == 202) {
                    run_ids[index] =
                        std::string(boost::json::parse(response.body).at("run_id").as_string());
                    if (response.header("Idempotent-Replayed") == "true") ++tally.replayed;
                    ++tally.accepted;
                    break;
                }
                if (response.status == 503 || response.status == 429) {
                    ++tally.unavailable;
                    std::this_thread::sleep_for(std::chrono::milliseconds(50));
                    continue;
                }
                ++tally.unexpected;
                std::lock_guard lock(tally.mutex);
                if (tally.unexpected_samples.size() < 5) {
                    tally.unexpected_samples.push_back(std::to_string(response.status) + " " +
                                                       response.body);
                }
                break;
            } catch (const std::exception&) {
                // The child died under this request (or is not back yet): same key again.
                ++tally.lost_answers;
                client.reset();
                std::this_thread::sleep_for(std::chrono::milliseconds(20));
            }
        }
    }
}

// The submission counts (of accepted runs) at which the child is killed: spread at random over
// the campaign, each followed by a random few milliseconds so kills land mid-request.
std::vector<int> kill_points(const Options& options, std::mt19937_64& rng) {
    std::uniform_int_distribution<int> at(
        options.submissions / 20,
        std::max(options.submissions / 20, options.submissions * 19 / 20));
    std::vector<int> points(options.kills);
    for (int& point : points) point = at(rng);
    std::sort(points.begin(), points.end());
    return points;
}

// Unfinished runs, as the API lists them: queued plus processing.
int unfinished_through_api(http::Client& client, const std::string& key) {
    int count = 0;
    for (const char* status : {"queued", "processing"}) {
        const auto response =
            client.request("GET", std::string(kSubmitPath) + "?limit=1&status=" + status, {},
                           {{"Authorization", "Bearer " + key}});
        if (response.status != 200)
            throw std::runtime_error("listing runs answered " + std::to_string(response.status));
        count += static_cast<int>(boost::json::parse(response.body).at("data").as_array().size());
    }
    return count;
}

struct ApiCheck {
    int missing = 0;  // 404: a 202 run id the server does not know
    int not_terminal = 0;
    std::map<std::string, int> statuses;
};

ApiCheck check_through_api(const Options& options, const std::string& key, uint16_t port,
                           const std::vector<std::string>& run_ids) {
    ApiCheck total;
    std::mutex mutex;
    std::atomic<std::size_t> next{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < options.threads; ++t) {
        threads.emplace_back([&] {
            http::Client client("127.0.0.1", port);
            ApiCheck mine;
            for (std::size_t i = next++; i < run_ids.size(); i = next++) {
                if (run_ids[i].empty()) continue;
                const auto response = client.request("GET", "/api/v1/runs/" + run_ids[i], {},
                                                     {{"Authorization", "Bearer " + key}});
                if (response.status == 404) {
                    ++mine.missing;
                    continue;
                }
                const std::string status(
                    boost::json::parse(response.body).at("status").as_string());
                ++mine.statuses[status];
                if (status == "queued" || status == "processing") ++mine.not_terminal;
            }
            std::lock_guard lock(mutex);
            total.missing += mine.missing;
            total.not_terminal += mine.not_terminal;
            for (const auto& [status, count] : mine.statuses) total.statuses[status] += count;
        });
    }
    for (auto& thread : threads) thread.join();
    return total;
}

// The store file opened read-only once engined has stopped.
class ReadOnlyDb {
public:
    explicit ReadOnlyDb(const fs::path& path) {
        if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
            throw std::runtime_error("cannot open " + path.string() + " read-only");
        }
    }
    ~ReadOnlyDb() { sqlite3_close(db_); }
    ReadOnlyDb(const ReadOnlyDb&) = delete;
    ReadOnlyDb& operator=(const ReadOnlyDb&) = delete;

    std::vector<std::string> column(const std::string& sql) const {
        sqlite3_stmt* statement = nullptr;
        if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &statement, nullptr) != SQLITE_OK) {
            throw std::runtime_error(std::string(sqlite3_errmsg(db_)) + " in " + sql);
        }
        std::vector<std::string> values;
        while (sqlite3_step(statement) == SQLITE_ROW) {
            const auto* text = sqlite3_column_text(statement, 0);
            values.emplace_back(text ? reinterpret_cast<const char*>(text) : "");
        }
        sqlite3_finalize(statement);
        return values;
    }
    long number(const std::string& sql) const { return std::stol(column(sql).at(0)); }

private:
    sqlite3* db_ = nullptr;
};

int run_campaign(const Options& options) {
    const auto started = Clock::now();
    const auto deadline = started + kCampaignDeadline;
    std::cout << "engined-chaos: seed " << options.seed << " (repeat with --seed " << options.seed
              << "), " << options.kills << " kills over " << options.submissions << " submissions, "
              << options.threads << " submitting threads" << std::endl;
    const std::string body = chaos::read_text(options.body);
    const fs::path data_dir = chaos::fresh_temp_dir("engined-chaos");
    const std::string key = chaos::create_key(data_dir);
    const chaos::ChildEngined::Launch launch{
        options.engined, data_dir, options.resources_dir, {"--workers", "2"}};

    auto child = std::make_unique<chaos::ChildEngined>(launch, chaos::free_loopback_port());
    Target target;
    target.set(child->port());
    std::mt19937_64 rng(options.seed);
    const std::vector<int> points = kill_points(options, rng);
    std::uniform_int_distribution<int> jitter_ms(0, 20);

    Tally tally;
    std::vector<std::string> run_ids(options.submissions);
    std::atomic<int> next{0};
    std::vector<std::thread> submitters;
    for (int t = 0; t < options.threads; ++t) {
        submitters.emplace_back(
            [&] { submit(options, key, body, target, next, run_ids, tally, deadline); });
    }
    int kills = 0;
    std::string campaign_error;
    try {
        for (const int point : points) {
            while (tally.accepted < point && Clock::now() < deadline)
                std::this_thread::sleep_for(std::chrono::milliseconds(1));
            std::this_thread::sleep_for(std::chrono::milliseconds(jitter_ms(rng)));
            child->kill_hard();
            ++kills;
            child.reset();
            child = std::make_unique<chaos::ChildEngined>(launch, chaos::free_loopback_port());
            target.set(child->port());
        }
    } catch (const std::exception& error) {
        campaign_error = error.what();
        tally.deadline_hit = true;
    }
    for (auto& thread : submitters) thread.join();
    if (!child) {
        std::cerr << "engined-chaos: " << campaign_error << "\n";
        return 2;
    }
    const double submit_s = std::chrono::duration<double>(Clock::now() - started).count();

    http::Client client("127.0.0.1", child->port());
    while (unfinished_through_api(client, key) > 0 && Clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    const ApiCheck api = check_through_api(options, key, child->port(), run_ids);
    const int stop_status = child->terminate();
    child.reset();

    const ReadOnlyDb db(data_dir / "engined.sqlite3");
    const auto stored = db.column("SELECT id FROM runs");
    const std::set<std::string> stored_ids(stored.begin(), stored.end());
    std::set<std::string> accepted_ids;
    int accepted_missing_in_store = 0;
    for (const std::string& id : run_ids) {
        if (id.empty()) continue;
        accepted_ids.insert(id);
        if (!stored_ids.count(id)) ++accepted_missing_in_store;
    }
    const long unfinished_in_store =
        db.number("SELECT count(*) FROM runs WHERE status IN ('queued', 'processing')");
    const long records = db.number("SELECT count(*) FROM idempotency_records");
    // A run no idempotency record points at was made by no logical submission.
    const long runs_without_record = db.number(
        "SELECT count(*) FROM runs WHERE id NOT IN "
        "(SELECT json_extract(response_body, '$.run_id') FROM idempotency_records)");
    const long reexecuted = db.number("SELECT count(*) FROM runs WHERE attempts > 1");
    const long most_attempts = db.number("SELECT coalesce(max(attempts), 0) FROM runs");
    const long crashed = db.number("SELECT count(*) FROM runs WHERE error_code = 'run_crashed'");
    const double wall_s = std::chrono::duration<double>(Clock::now() - started).count();

    const int lost = api.missing + api.not_terminal + accepted_missing_in_store +
                     static_cast<int>(unfinished_in_store);
    // Two 202s with one run id for different keys, or rows beyond one per submission.
    const long duplicated =
        static_cast<long>(tally.accepted - static_cast<int>(accepted_ids.size())) +
        std::max(0L,
                 static_cast<long>(stored_ids.size()) - static_cast<long>(accepted_ids.size())) +
        runs_without_record;
    std::string statuses;
    for (const auto& [status, count] : api.statuses)
        statuses += status + " " + std::to_string(count) + "  ";

    std::printf("kills                               %d\n", kills);
    std::printf("logical submissions                 %d\n", options.submissions);
    std::printf(
        "202 answers                         %d (of them replayed from the idempotency record: "
        "%d)\n",
        tally.accepted.load(), tally.replayed.load());
    std::printf(
        "POSTs sent                          %d (answers lost to a kill and retried with the same "
        "key: %d)\n",
        tally.posts.load(), tally.lost_answers.load());
    std::printf("503/429 answers (retried)           %d\n", tally.unavailable.load());
    std::printf("unexpected answers                  %d\n", tally.unexpected.load());
    std::printf("runs in the store                   %zu (idempotency records: %ld)\n",
                stored_ids.size(), records);
    std::printf(
        "runs re-executed after a crash      %ld (attempts > 1; most attempts %ld; failed "
        "run_crashed: %ld)\n",
        reexecuted, most_attempts, crashed);
    std::printf("run statuses (API)                  %s\n", statuses.c_str());
    std::printf(
        "lost                                %d (404 %d, not terminal %d, not in the store %d)\n",
        lost, api.missing, api.not_terminal, accepted_missing_in_store);
    std::printf("duplicated                          %ld (runs without a submission: %ld)\n",
                duplicated, runs_without_record);
    std::printf("wall time                           %.1f s (submitting %.1f s)\n", wall_s,
                submit_s);
    for (const std::string& sample : tally.unexpected_samples)
        std::printf("unexpected: %s\n", sample.c_str());

    const bool passed = lost == 0 && duplicated == 0 && tally.unexpected == 0 &&
                        !tally.deadline_hit && tally.accepted == options.submissions &&
                        kills == options.kills && stop_status == 0;
    if (tally.deadline_hit)
        std::printf("the campaign did not finish in time %s\n", campaign_error.c_str());
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
    return chaos::campaign_main<Options>(argc, argv, command(), kDefaultThreads, read_kill_options,
                                         run_campaign);
}
