// Run throughput and latency against a running engined, with a client that stays out of the way:
// the load is fire-and-forget and completions are counted by engined itself, so the figures
// measure the server rather than a client busy polling every run.
//
//   bench_open_loop --url http://127.0.0.1:PORT --metrics-url http://127.0.0.1:PORT --key KEY
//                   --body FILE --pid ENGINED_PID [--runs N] [--rates R1,R2,…|max]
//                   [--endpoint-rates R1,…|max] [--seconds S] [--connections C]
//
// Phases:
//   1. light load (N runs, one in flight), timed with a microsecond clock and no polling
//      interval: first right after its 202, each run is asked for on a second connection with a
//      long poll (GET /api/v1/runs/{id}?wait=10), answered the moment the run is terminal
//      (submit→202, submit→completed); then N runs each submitted with ?wait=10, answered
//      with the run once it is terminal (submit?wait→completed, one request); then N more runs
//      each carry a webhook_url pointing at a receiver inside this process (submit→delivery
//      received, which also includes the webhook sender's work: leasing the delivery,
//      connecting unless it kept a connection, POSTing). The long-polled runs carry no
//      webhook, so that no delivery's bookkeeping (its lease and its recorded attempt, commits
//      of their own) shares the store's writer with the next run.
//   2. open loop, once per rate: C keep-alive connections submit at R runs/s (a schedule fixed
//      in advance: a run falling due while every connection is busy is sent as soon as one is
//      free, and counted late), never looking at the runs again. Runs completed are read from
//      engined_runs_finished_total on the metrics listener, engined's CPU from /proc/PID/stat
//      and its threads' context switches from /proc/PID/task/*/status,
//      both at the start of the window, at its end and once every accepted run has finished.
//      "max" keeps every connection busy instead of following a schedule.
//   3. with --endpoint-rates: one webhook endpoint registered for the key's environment,
//      delivering every run's event to the receiver, and the open loop again at those rates;
//      a run counts once its delivery arrived, so the CPU per run includes the delivery.
//
// Everything talks to loopback only.

#include "driver_common.hpp"
#include "http/client.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;
using engined::bench::Endpoint;
using engined::bench::parse_int;
using engined::bench::parse_url;
using engined::bench::percentile;
using engined::bench::read_body;
using engined::http::Client;

constexpr const char* kSubmitTarget = "/api/v1/engines/default/runs";
constexpr int kWarmupRuns = 5;
// Bounds every wait: a delivery, the answers still in flight after a window, a drain.
constexpr std::chrono::seconds kDeliveryTimeout{10};
constexpr std::chrono::seconds kDrainTimeout{60};
// The open loop's scheduler wakes this often; runs falling due in between leave together.
constexpr std::chrono::microseconds kScheduleTick{500};

struct Options {
    Endpoint api;
    Endpoint metrics;
    std::string key;
    std::string body;
    int pid = 0;
    int runs = 200;
    std::vector<int> rates{2000};  // 0 = as fast as the connections allow
    std::chrono::seconds duration{5};
    int connections = 64;
    // Rates to run again once one webhook endpoint receives every run's event (none: skipped).
    std::vector<int> endpoint_rates;
};

std::vector<int> parse_rates(std::string_view text) {
    std::vector<int> rates;
    while (!text.empty()) {
        const auto comma = text.find(',');
        const auto item = text.substr(0, comma);
        rates.push_back(item == "max" ? 0 : parse_int(item, "--rates item", 1));
        text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
    }
    if (rates.empty()) throw std::invalid_argument("--rates needs at least one rate");
    return rates;
}

Options parse_options(int argc, char** argv) {
    if (argc % 2 == 0) throw std::invalid_argument("every option needs a value");
    Options options;
    std::string body_file;
    bool have_api = false, have_metrics = false;
    for (int i = 1; i < argc; i += 2) {
        const std::string_view name = argv[i];
        const std::string_view value = argv[i + 1];
        if (name == "--url") {
            options.api = parse_url(value, name);
            have_api = true;
        } else if (name == "--metrics-url") {
            options.metrics = parse_url(value, name);
            have_metrics = true;
        } else if (name == "--key") {
            options.key = value;
        } else if (name == "--body") {
            body_file = value;
        } else if (name == "--pid") {
            options.pid = parse_int(value, name, 1);
        } else if (name == "--runs") {
            options.runs = parse_int(value, name, 1);
        } else if (name == "--rates") {
            options.rates = parse_rates(value);
        } else if (name == "--seconds") {
            options.duration = std::chrono::seconds(parse_int(value, name, 1));
        } else if (name == "--endpoint-rates") {
            options.endpoint_rates = parse_rates(value);
        } else if (name == "--connections") {
            options.connections = parse_int(value, name, 1);
        } else {
            throw std::invalid_argument("unknown option '" + std::string(name) + "'");
        }
    }
    if (!have_api || !have_metrics) throw std::invalid_argument("--url and --metrics-url needed");
    if (options.key.empty()) throw std::invalid_argument("--key is required");
    if (options.pid == 0) throw std::invalid_argument("--pid (engined's process id) is required");
    options.body = read_body(body_file);
    return options;
}

double us_between(Clock::time_point from, Clock::time_point to) {
    return std::chrono::duration<double, std::micro>(to - from).count();
}

double seconds_between(Clock::time_point from, Clock::time_point to) {
    return std::chrono::duration<double>(to - from).count();
}

void print_distribution_us(const char* label, std::vector<double> sample) {
    if (sample.empty()) return;
    std::sort(sample.begin(), sample.end());
    std::printf("%-30s p50 %8.0f  p90 %8.0f  p99 %8.0f  max %8.0f us  (n=%zu)\n", label,
                percentile(sample, 50), percentile(sample, 90), percentile(sample, 99),
                sample.back(), sample.size());
}

// User + system CPU seconds a process has used so far (fields 14 and 15 of /proc/PID/stat,
// counted after the command name, which may itself hold spaces and parentheses).
double process_cpu_seconds(int pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto name_end = stat.rfind(')');
    if (!in || name_end == std::string::npos)
        throw std::runtime_error("cannot read /proc/" + std::to_string(pid) + "/stat");
    std::istringstream fields(stat.substr(name_end + 2));
    std::string field;
    unsigned long long utime = 0, stime = 0;
    // After the name: state is field 3; utime and stime are fields 14 and 15.
    for (int index = 3; index <= 15 && fields >> field; ++index) {
        if (index == 14) utime = std::stoull(field);
        if (index == 15) stime = std::stoull(field);
    }
    return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// Context switches of all the process's threads so far (voluntary and not, summed over
// /proc/PID/task/*/status): each is a thread handing work to another or losing its core, which
// on two cores costs the runs more than most of their own work.
double process_context_switches(int pid) {
    double total = 0;
    const std::filesystem::path tasks = "/proc/" + std::to_string(pid) + "/task";
    std::error_code ec;
    for (const auto& task : std::filesystem::directory_iterator(tasks, ec)) {
        std::ifstream status(task.path() / "status");
        std::string line;
        while (std::getline(status, line)) {
            if (line.starts_with("voluntary_ctxt_switches:") ||
                line.starts_with("nonvoluntary_ctxt_switches:")) {
                total += std::stod(line.substr(line.find(':') + 1));
            }
        }
    }
    if (ec) throw std::runtime_error("cannot list " + tasks.string() + ": " + ec.message());
    return total;
}

double own_cpu_seconds() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    const auto seconds = [](const timeval& t) {
        return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
    };
    return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

// The sum of a metric family over all its label sets, from one scrape of engined's metrics.
double metric_sum(Client& metrics, std::string_view family) {
    const auto response = metrics.request("GET", "/metrics");
    if (response.status != 200)
        throw std::runtime_error("GET /metrics answered " + std::to_string(response.status));
    double total = 0;
    std::istringstream lines(response.body);
    std::string line;
    while (std::getline(lines, line)) {
        if (!line.starts_with(family)) continue;
        const char next = line.size() > family.size() ? line[family.size()] : '\0';
        if (next != '{' && next != ' ') continue;
        total += std::stod(line.substr(line.rfind(' ') + 1));
    }
    return total;
}

// Runs that reached a terminal status since engined started.
double runs_finished(Client& metrics) {
    return metric_sum(metrics, "engined_runs_finished_total");
}

// engined counts a connection against its client address until it has seen the close, a moment
// after the client closed it; a window that connected at once could find the last window's
// connections still counted and, past 32 connections, the address's limit (64) reached.
void wait_for_closed_connections(Client& metrics) {
    const auto deadline = Clock::now() + std::chrono::seconds(5);
    while (metric_sum(metrics, "engined_http_connections_open") > 0) {
        if (Clock::now() > deadline)
            throw std::runtime_error(
                "engined still counts open connections 5 s after the last "
                "window closed its own");
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
}

// Where one side of a figure was taken: what engined had finished and both processes' CPU.
struct Sample {
    Clock::time_point at;
    double finished = 0;
    double engined_cpu = 0;
    double client_cpu = 0;
    double engined_switches = 0;
};

Sample sample_now(Client& metrics, int pid) {
    return {Clock::now(), runs_finished(metrics), process_cpu_seconds(pid), own_cpu_seconds(),
            process_context_switches(pid)};
}

// An HTTP server on 127.0.0.1 that takes webhook deliveries and notes when each arrived, keyed
// by the run id in the event. One thread; every delivery is answered 200 at once.
class WebhookReceiver {
public:
    WebhookReceiver() : acceptor_(io_, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0)) {
        accept();
        thread_ = std::thread([this] { io_.run(); });
    }
    ~WebhookReceiver() {
        io_.stop();
        thread_.join();
    }
    WebhookReceiver(const WebhookReceiver&) = delete;
    WebhookReceiver& operator=(const WebhookReceiver&) = delete;

    uint16_t port() const { return acceptor_.local_endpoint().port(); }

    // Deliveries received so far, of any run.
    std::size_t received() {
        std::lock_guard lock(mutex_);
        return received_;
    }

    std::optional<Clock::time_point> wait_for(const std::string& run_id) {
        std::unique_lock lock(mutex_);
        const bool arrived =
            arrived_.wait_for(lock, kDeliveryTimeout, [&] { return arrivals_.contains(run_id); });
        if (!arrived) return std::nullopt;
        return arrivals_.at(run_id);
    }

private:
    struct Connection {
        explicit Connection(tcp::socket s) : socket(std::move(s)) {}
        tcp::socket socket;
        beast::flat_buffer buffer;
        bhttp::request<bhttp::string_body> request;
        bhttp::response<bhttp::empty_body> response;
    };

    void accept() {
        acceptor_.async_accept([this](beast::error_code ec, tcp::socket socket) {
            if (ec) return;
            read(std::make_shared<Connection>(std::move(socket)));
            accept();
        });
    }

    void read(std::shared_ptr<Connection> connection) {
        connection->request = {};
        bhttp::async_read(connection->socket, connection->buffer, connection->request,
                          [this, connection](beast::error_code ec, std::size_t) {
                              if (ec) return;
                              note(connection->request.body());
                              respond(connection);
                          });
    }

    void respond(std::shared_ptr<Connection> connection) {
        connection->response = {bhttp::status::ok, connection->request.version()};
        connection->response.keep_alive(connection->request.keep_alive());
        connection->response.prepare_payload();
        bhttp::async_write(connection->socket, connection->response,
                           [this, connection](beast::error_code ec, std::size_t) {
                               if (!ec && connection->response.keep_alive()) read(connection);
                           });
    }

    void note(const std::string& body) {
        const auto arrived_at = Clock::now();
        boost::system::error_code ec;
        const auto event = boost::json::parse(body, ec);
        const auto* run_id = ec ? nullptr : event.find_pointer("/data/run/run_id", ec);
        if (run_id == nullptr || !run_id->is_string()) return;
        std::lock_guard lock(mutex_);
        ++received_;
        arrivals_.emplace(std::string(run_id->get_string()), arrived_at);
        arrived_.notify_all();
    }

    net::io_context io_;
    tcp::acceptor acceptor_;
    std::thread thread_;
    std::mutex mutex_;
    std::condition_variable arrived_;
    std::unordered_map<std::string, Clock::time_point> arrivals_;
    std::size_t received_ = 0;
};

std::string with_webhook(const std::string& body, uint16_t port) {
    auto request = boost::json::parse(body).as_object();
    request["webhook_url"] = "http://127.0.0.1:" + std::to_string(port) + "/hook";
    return boost::json::serialize(request);
}

// The run's status once the long poll answered; throws unless it answered 200.
std::string long_poll_status(Client& client, const std::string& run_id,
                             const std::vector<std::pair<std::string, std::string>>& headers) {
    const auto response = client.request(
        "GET", "/api/v1/runs/" + run_id + "?wait=" + std::to_string(kDeliveryTimeout.count()), {},
        headers);
    if (response.status != 200) {
        throw std::runtime_error("long poll answered " + std::to_string(response.status) + ": " +
                                 response.body);
    }
    return std::string(boost::json::parse(response.body).at("status").as_string());
}

// Phase 1a: one run in flight, its completion read by a long poll. The runs carry no webhook, so
// that nothing but the run itself (no delivery of the previous run, leased and recorded through
// the same writer) shares the store with it.
int long_poll_runs(const Options& options) {
    Client client(options.api.host, options.api.port);
    Client waiter(options.api.host, options.api.port);
    const std::vector<std::pair<std::string, std::string>> headers{
        {"Authorization", "Bearer " + options.key}};
    std::vector<double> accepted, completed;
    int missing = 0;
    for (int i = 0; i < kWarmupRuns + options.runs; ++i) {
        const auto start = Clock::now();
        const auto response = client.request("POST", kSubmitTarget, options.body, headers);
        const auto accepted_at = Clock::now();
        if (response.status != 202) {
            throw std::runtime_error("submit answered " + std::to_string(response.status) + ": " +
                                     response.body);
        }
        const std::string run_id(boost::json::parse(response.body).at("run_id").as_string());
        const std::string status = long_poll_status(waiter, run_id, headers);
        const auto completed_at = Clock::now();
        if (i < kWarmupRuns) continue;
        accepted.push_back(us_between(start, accepted_at));
        if (status == "completed" || status == "degraded" || status == "failed")
            completed.push_back(us_between(start, completed_at));
        else
            ++missing;
    }
    std::printf("light load: %d runs, one in flight, completion read by a long poll\n",
                options.runs);
    print_distribution_us("submit -> 202", accepted);
    print_distribution_us("submit -> completed, long poll", completed);
    if (missing > 0) std::printf("%-30s %d\n", "not terminal within 10 s", missing);
    return missing;
}

// Phase 1b: one run in flight, its completion pushed by the run's own webhook to the receiver.
int webhook_runs(const Options& options, WebhookReceiver& receiver) {
    const std::string body = with_webhook(options.body, receiver.port());
    Client client(options.api.host, options.api.port);
    const std::vector<std::pair<std::string, std::string>> headers{
        {"Authorization", "Bearer " + options.key}};
    std::vector<double> delivered;
    int missing = 0;
    for (int i = 0; i < kWarmupRuns + options.runs; ++i) {
        const auto start = Clock::now();
        const auto response = client.request("POST", kSubmitTarget, body, headers);
        if (response.status != 202) {
            throw std::runtime_error("submit answered " + std::to_string(response.status) + ": " +
                                     response.body);
        }
        const std::string run_id(boost::json::parse(response.body).at("run_id").as_string());
        const auto delivered_at = receiver.wait_for(run_id);
        if (i < kWarmupRuns) {
            // The warm-up proves that webhooks reach this receiver.
            if (!delivered_at) {
                std::fprintf(stderr,
                             "bench_open_loop: no webhook for warm-up run %s within %lld s; is "
                             "127.0.0.1 in --webhook-allowed-hosts?\n",
                             run_id.c_str(), static_cast<long long>(kDeliveryTimeout.count()));
                return 1;
            }
            continue;
        }
        if (delivered_at)
            delivered.push_back(us_between(start, *delivered_at));
        else
            ++missing;
    }
    std::printf("light load: %d runs, one in flight, completion pushed by the run's webhook\n",
                options.runs);
    print_distribution_us("submit -> webhook received", delivered);
    if (missing > 0) std::printf("%-30s %d\n", "no webhook within 10 s", missing);
    return missing;
}

// Phase 1c: one run in flight, submitted with ?wait=: one request, answered 200 with the run
// once it is terminal.
int waiting_submits(const Options& options) {
    Client client(options.api.host, options.api.port);
    const std::vector<std::pair<std::string, std::string>> headers{
        {"Authorization", "Bearer " + options.key}};
    const std::string target =
        std::string(kSubmitTarget) + "?wait=" + std::to_string(kDeliveryTimeout.count());
    std::vector<double> completed;
    int missing = 0;
    for (int i = 0; i < kWarmupRuns + options.runs; ++i) {
        const auto start = Clock::now();
        const auto response = client.request("POST", target, options.body, headers);
        const auto answered_at = Clock::now();
        if (response.status != 200 && response.status != 202) {
            throw std::runtime_error("submit answered " + std::to_string(response.status) + ": " +
                                     response.body);
        }
        if (i < kWarmupRuns) continue;
        if (response.status == 200)
            completed.push_back(us_between(start, answered_at));
        else
            ++missing;
    }
    std::printf("light load: %d runs, one in flight, each submitted with ?wait=\n", options.runs);
    print_distribution_us("submit?wait -> completed", completed);
    if (missing > 0) std::printf("%-30s %d\n", "not terminal within 10 s", missing);
    return missing;
}

int light_load(const Options& options, WebhookReceiver& receiver) {
    const int missing =
        long_poll_runs(options) + waiting_submits(options) + webhook_runs(options, receiver);
    return missing == 0 ? 0 : 1;
}

// Phase 2: C connections submitting on a fixed schedule, answers counted and otherwise ignored.
class OpenLoop {
public:
    OpenLoop(const Options& options, int rate)
        : rate_(rate), duration_(options.duration), scheduler_(io_) {
        request_ = "POST " + std::string(kSubmitTarget) + " HTTP/1.1\r\nHost: " + options.api.host +
                   "\r\nAuthorization: Bearer " + options.key +
                   "\r\nContent-Type: application/json\r\nContent-Length: " +
                   std::to_string(options.body.size()) + "\r\n\r\n" + options.body;
        const tcp::endpoint server(net::ip::make_address(options.api.host), options.api.port);
        for (int i = 0; i < options.connections; ++i) {
            auto connection = std::make_unique<Connection>(io_);
            connection->socket.connect(server);
            connection->socket.set_option(tcp::no_delay(true));
            connections_.push_back(std::move(connection));
        }
        accepted_us_.reserve(static_cast<std::size_t>(std::max(rate, 20000)) *
                             static_cast<std::size_t>(duration_.count()));
    }

    struct Outcome {
        Clock::time_point stopped;  // the last answer of the window arrived
        long long sent = 0;         // requests written
        long long late = 0;         // sent after their scheduled time (every connection busy)
        std::map<int, long long> statuses;
        std::vector<double> accepted_us;
        std::string failure;
    };

    Outcome run() {
        start_ = Clock::now();
        for (auto& connection : connections_) idle_.push_back(connection.get());
        tick();
        io_.run();
        Outcome outcome;
        outcome.stopped = Clock::now();
        outcome.sent = sent_;
        outcome.late = late_;
        outcome.statuses = std::move(statuses_);
        outcome.accepted_us = std::move(accepted_us_);
        outcome.failure = std::move(failure_);
        return outcome;
    }

private:
    struct Connection {
        explicit Connection(net::io_context& io) : socket(io) {}
        tcp::socket socket;
        beast::flat_buffer buffer;
        bhttp::response<bhttp::string_body> response;
        Clock::time_point sent_at;
    };

    bool window_open() const { return Clock::now() - start_ < duration_; }

    // Runs due by now under the schedule; everything, for "max".
    long long due() const {
        if (rate_ == 0) return sent_ + static_cast<long long>(idle_.size());
        return static_cast<long long>(seconds_between(start_, Clock::now()) * rate_);
    }

    void tick() {
        if (!window_open()) return finish_when_answered();
        send_due();
        scheduler_.expires_after(kScheduleTick);
        scheduler_.async_wait([this](beast::error_code ec) {
            if (!ec) tick();
        });
    }

    void send_due() {
        while (sent_ < due() && !idle_.empty()) {
            Connection* connection = idle_.back();
            idle_.pop_back();
            send(*connection);
        }
    }

    void send(Connection& connection) {
        connection.sent_at = Clock::now();
        // Run k falls due at (k + 1) / rate; late means later than that by more than the
        // scheduler's own granularity.
        if (rate_ > 0 && us_between(start_, connection.sent_at) >
                             1e6 * static_cast<double>(sent_ + 1) / rate_ +
                                 2 * static_cast<double>(kScheduleTick.count()))
            ++late_;
        ++sent_;
        net::async_write(connection.socket, net::buffer(request_),
                         [this, &connection](beast::error_code ec, std::size_t) {
                             if (ec) return fail("write", ec);
                             receive(connection);
                         });
    }

    void receive(Connection& connection) {
        connection.response = {};
        bhttp::async_read(
            connection.socket, connection.buffer, connection.response,
            [this, &connection](beast::error_code ec, std::size_t) {
                if (ec) return fail("read", ec);
                const int status = connection.response.result_int();
                ++statuses_[status];
                if (status == 202)
                    accepted_us_.push_back(us_between(connection.sent_at, Clock::now()));
                idle_.push_back(&connection);
                if (window_open()) {
                    send_due();
                } else {
                    finish_when_answered();
                }
            });
    }

    void finish_when_answered() {
        if (idle_.size() == connections_.size()) scheduler_.cancel();
    }

    void fail(const char* what, beast::error_code ec) {
        if (failure_.empty()) failure_ = std::string(what) + ": " + ec.message();
        io_.stop();
    }

    const int rate_;
    const std::chrono::seconds duration_;
    net::io_context io_;
    net::steady_timer scheduler_;
    std::string request_;
    std::vector<std::unique_ptr<Connection>> connections_;
    std::vector<Connection*> idle_;
    Clock::time_point start_;
    long long sent_ = 0;
    long long late_ = 0;
    std::map<int, long long> statuses_;
    std::vector<double> accepted_us_;
    std::string failure_;
};

// Waits until engined has finished `target` runs in all; the moment it did, or nothing.
std::optional<Sample> drained(Client& metrics, int pid, double target) {
    const auto deadline = Clock::now() + kDrainTimeout;
    while (Clock::now() < deadline) {
        Sample sample = sample_now(metrics, pid);
        if (sample.finished >= target) return sample;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return std::nullopt;
}

// Waits until the receiver has `target` deliveries in all; the moment it did, or nothing.
std::optional<Sample> delivered(WebhookReceiver& receiver, Client& metrics, int pid,
                                std::size_t target) {
    const auto deadline = Clock::now() + kDrainTimeout;
    while (Clock::now() < deadline) {
        if (receiver.received() >= target) return sample_now(metrics, pid);
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return std::nullopt;
}

// One window at `rate`. With `receiver`, an endpoint delivers every run's event there: the run
// counts as done when its delivery has arrived, so the CPU per run includes delivering it.
int open_loop(const Options& options, int rate, Client& metrics, WebhookReceiver* receiver) {
    wait_for_closed_connections(metrics);
    OpenLoop load(options, rate);
    const std::size_t received_before = receiver ? receiver->received() : 0;
    const Sample before = sample_now(metrics, options.pid);
    auto outcome = load.run();
    const Sample window_end = sample_now(metrics, options.pid);
    const double window = seconds_between(before.at, outcome.stopped);
    const auto accepted = outcome.statuses[202];

    std::printf(
        "\nopen loop: target %s, %d connections, %lld s%s\n",
        rate == 0 ? "max (every connection busy)" : (std::to_string(rate) + " runs/s").c_str(),
        options.connections, static_cast<long long>(options.duration.count()),
        receiver ? ", one webhook endpoint" : "");
    if (!outcome.failure.empty()) {
        std::fprintf(stderr, "bench_open_loop: connection failed: %s\n", outcome.failure.c_str());
        return 1;
    }
    std::printf("%-30s", "answers");
    for (const auto& [status, count] : outcome.statuses) std::printf(" %d=%lld", status, count);
    std::printf("  (late %lld of %lld sent)\n", outcome.late, outcome.sent);
    print_distribution_us("submit -> 202", std::move(outcome.accepted_us));
    std::printf("%-30s %.0f runs/s accepted, %.0f runs/s completed (%.2f s window)\n",
                "during the window", static_cast<double>(accepted) / window,
                (window_end.finished - before.finished) / window, window);

    auto done = drained(metrics, options.pid, before.finished + static_cast<double>(accepted));
    if (done && receiver) {
        const std::size_t target = received_before + static_cast<std::size_t>(accepted);
        done = delivered(*receiver, metrics, options.pid, target);
        if (done) {
            std::printf("%-30s %lld, last one %.2f s after the window\n", "webhook deliveries",
                        accepted, seconds_between(outcome.stopped, done->at));
        }
    }
    if (!done) {
        std::printf("%-30s not every accepted run %s within %lld s\n", "drain",
                    receiver ? "was delivered" : "finished",
                    static_cast<long long>(kDrainTimeout.count()));
        return 1;
    }
    const double completed = done->finished - before.finished;
    const double engined_cpu = done->engined_cpu - before.engined_cpu;
    const double client_cpu = window_end.client_cpu - before.client_cpu;
    if (!receiver) {
        std::printf("%-30s %.0f runs, last one %.2f s after the window\n", "completed", completed,
                    seconds_between(outcome.stopped, done->at));
    }
    std::printf("%-30s %.0f runs/s (accepted runs / time until the last %s)\n",
                receiver ? "sustained delivered" : "sustained completed",
                completed / seconds_between(before.at, done->at),
                receiver ? "was delivered" : "finished");
    std::printf("%-30s %.3f ms per run (%.2f s over %.0f runs)\n", "engined CPU",
                1000.0 * engined_cpu / completed, engined_cpu, completed);
    std::printf("%-30s %.2f per run\n", "engined context switches",
                (done->engined_switches - before.engined_switches) / completed);
    std::printf("%-30s %.3f ms per request, %.0f%% of one core during the window\n",
                "load generator CPU",
                1000.0 * client_cpu / static_cast<double>(std::max<long long>(1, outcome.sent)),
                100.0 * client_cpu / window);
    return 0;
}

// An endpoint of the key's environment that receives every run's event at `receiver`.
void register_endpoint(const Options& options, const WebhookReceiver& receiver) {
    Client client(options.api.host, options.api.port);
    const std::string body = boost::json::serialize(boost::json::object{
        {"url", "http://127.0.0.1:" + std::to_string(receiver.port()) + "/endpoint"},
        {"description", "bench_open_loop receiver"}});
    const auto response = client.request(
        "POST", "/api/v1/webhooks", body,
        {{"Authorization", "Bearer " + options.key}, {"Content-Type", "application/json"}});
    if (response.status != 201) {
        throw std::runtime_error("creating the webhook endpoint answered " +
                                 std::to_string(response.status) + ": " + response.body);
    }
}

int run_benchmark(const Options& options) {
    WebhookReceiver receiver;
    int failures = light_load(options, receiver);
    Client metrics(options.metrics.host, options.metrics.port);
    for (const int rate : options.rates) failures += open_loop(options, rate, metrics, nullptr);
    if (!options.endpoint_rates.empty()) {
        register_endpoint(options, receiver);
        for (const int rate : options.endpoint_rates)
            failures += open_loop(options, rate, metrics, &receiver);
    }
    return failures == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    return engined::bench::driver_main(
        argc, argv, "bench_open_loop",
        "--url http://HOST:PORT --metrics-url http://HOST:PORT --key KEY --body FILE --pid PID "
        "[--runs N] [--rates R1,R2,…|max] [--endpoint-rates R1,…|max] [--seconds S] "
        "[--connections C]",
        parse_options, run_benchmark);
}
