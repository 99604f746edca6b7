#include "http/server.hpp"

#include "common/api_error.hpp"
#include "common/log.hpp"
#include "common/thread_name.hpp"
#include "http/beast_request.hpp"
#include "http/error_envelope.hpp"
#include "http/framing.hpp"
#include "http/response_head.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <charconv>
#include <chrono>
#include <future>
#include <cstdio>
#include <random>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <vector>

namespace engined::http {
namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

// Echo a caller's X-Request-Id when it is short printable ASCII; otherwise mint one. Minting uses
// a per-process random prefix and a counter: unique, and cheap enough for every request.
std::string request_id_for(std::string_view supplied) {
    const bool usable =
        !supplied.empty() && supplied.size() <= 128 &&
        std::all_of(supplied.begin(), supplied.end(), [](char c) { return c > 0x20 && c < 0x7f; });
    if (usable) return std::string(supplied);
    static const std::string prefix = [] {
        std::random_device device;
        char buf[16];
        std::snprintf(buf, sizeof buf, "%08x", device());
        return std::string("req_") + buf;
    }();
    static std::atomic<uint64_t> counter{0};
    // The counter in at least 12 hex digits, without a printf per request.
    const uint64_t count = counter.fetch_add(1, std::memory_order_relaxed);
    char digits[16];
    const auto end = std::to_chars(digits, digits + sizeof digits, count, 16).ptr;
    const auto length = static_cast<std::size_t>(end - digits);
    std::string id = prefix;
    if (length < 12) id.append(12 - length, '0');
    id.append(digits, end);
    return id;
}

// The series one route's answers are counted in. Each is looked up in the registry on the
// route's first answer (with that status), then kept: an answer costs a few atomic operations,
// and routes never called add nothing to /metrics.
class RouteInstruments {
public:
    RouteInstruments(metrics::Registry& registry, std::string route, Method method)
        : registry_(registry), route_(std::move(route)), method_(to_string(method)) {}

    void record(int status, double seconds) {
        metrics::Histogram* duration = duration_.load(std::memory_order_acquire);
        if (duration == nullptr) {
            duration = &registry_.histogram(
                "engined_http_request_duration_seconds",
                "Time from a request's last byte read to its answer's last byte written",
                metrics::duration_buckets(), {{"route", route_}});
            duration_.store(duration, std::memory_order_release);
        }
        duration->observe(seconds);
        const auto slot =
            static_cast<std::size_t>(std::clamp(status, kFirstStatus, kLastStatus) - kFirstStatus);
        metrics::Counter* counter = by_status_[slot].load(std::memory_order_acquire);
        if (counter == nullptr) {
            counter = &registry_.counter("engined_http_requests_total", "HTTP requests answered",
                                         {{"route", route_},
                                          {"method", std::string(method_)},
                                          {"status", std::to_string(status)}});
            by_status_[slot].store(counter, std::memory_order_release);
        }
        counter->inc();
    }

private:
    static constexpr int kFirstStatus = 100;
    static constexpr int kLastStatus = 599;

    metrics::Registry& registry_;
    std::string route_;
    std::string_view method_;
    std::atomic<metrics::Histogram*> duration_{nullptr};
    std::array<std::atomic<metrics::Counter*>, kLastStatus - kFirstStatus + 1> by_status_{};
};

constexpr std::size_t kMethodCount = static_cast<std::size_t>(Method::other) + 1;

// Connections open per client address, for --max-connections-per-address. An IPv6 client is
// counted per /64 (the block one subscriber is usually given, so it cannot step around the limit
// by changing its low bits); an IPv4-mapped IPv6 address counts as its IPv4 address.
class ConnectionsPerAddress {
public:
    explicit ConnectionsPerAddress(std::size_t limit) : limit_(limit) {}

    // The key `address` is counted under; empty when there is no limit to count against.
    std::string key_of(const net::ip::address& address) const {
        if (limit_ == 0) return {};
        if (address.is_v6() && !address.to_v6().is_v4_mapped()) {
            const auto bytes = address.to_v6().to_bytes();
            return std::string(reinterpret_cast<const char*>(bytes.data()), 8);
        }
        const auto bytes =
            address.is_v4()
                ? address.to_v4().to_bytes()
                : net::ip::make_address_v4(net::ip::v4_mapped, address.to_v6()).to_bytes();
        return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    }

    // Counts one more connection from `key` unless it holds the limit already.
    bool try_acquire(const std::string& key) {
        if (key.empty()) return true;
        std::lock_guard lock(mutex_);
        std::size_t& open = open_[key];
        if (open >= limit_) return false;
        ++open;
        return true;
    }

    void release(const std::string& key) {
        if (key.empty()) return;
        std::lock_guard lock(mutex_);
        const auto it = open_.find(key);
        if (it != open_.end() && --it->second == 0) open_.erase(it);
    }

private:
    const std::size_t limit_;
    std::mutex mutex_;
    std::unordered_map<std::string, std::size_t> open_;
};

// What sessions share with the server: the routing table, the limits, the drain state and the
// instruments.
struct SharedState {
    SharedState(const Router& r, const ServerOptions& o, metrics::Registry& m)
        : router(r),
          options(o),
          metrics(m),
          per_address(o.max_connections_per_address),
          connections_open(
              m.gauge("engined_http_connections_open", "HTTP connections being served")),
          refused_at_server_limit(m.counter("engined_http_connections_refused_total", kRefusedHelp,
                                            {{"limit", "server"}})),
          refused_at_address_limit(m.counter("engined_http_connections_refused_total", kRefusedHelp,
                                             {{"limit", "address"}})) {}

    static constexpr const char* kRefusedHelp =
        "HTTP connections answered 503 because --max-connections (limit=server) or "
        "--max-connections-per-address (limit=address) were open";

    // Called before serving: the routing table is complete by then.
    void create_route_instruments() {
        for (const Router::RouteName& route : router.routes()) {
            by_route.push_back(
                std::make_unique<RouteInstruments>(metrics, route.pattern, route.method));
        }
        for (std::size_t i = 0; i < kMethodCount; ++i) {
            unmatched[i] =
                std::make_unique<RouteInstruments>(metrics, "unmatched", static_cast<Method>(i));
        }
    }

    RouteInstruments& instruments(int route_index, Method method) {
        if (route_index >= 0 && static_cast<std::size_t>(route_index) < by_route.size())
            return *by_route[route_index];
        return *unmatched[static_cast<std::size_t>(method)];
    }

    const Router& router;
    const ServerOptions& options;
    metrics::Registry& metrics;
    ConnectionsPerAddress per_address;
    metrics::Gauge& connections_open;
    metrics::Counter& refused_at_server_limit;
    metrics::Counter& refused_at_address_limit;
    std::vector<std::unique_ptr<RouteInstruments>> by_route;
    std::array<std::unique_ptr<RouteInstruments>, kMethodCount> unmatched;
    std::atomic<std::size_t> open_connections{0};
    std::atomic<bool> draining{false};
    std::atomic<int> in_flight{0};
    std::mutex mutex;
    std::condition_variable idle;

    void request_done() {
        if (in_flight.fetch_sub(1) == 1) {
            std::lock_guard lock(mutex);
            idle.notify_all();
        }
    }
};

// JSON string content: quotes, backslashes and control bytes escaped; bytes from 0x7f up too
// (as a \\u escape), so that a line stays valid UTF-8 whatever a client put in its request line.
void append_json_escaped(std::string& out, std::string_view text) {
    static constexpr char kHex[] = "0123456789abcdef";
    for (const char c : text) {
        const auto byte = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (byte < 0x20 || byte >= 0x7f) {
            out += "\\u00";
            out += kHex[byte >> 4];
            out += kHex[byte & 0xf];
        } else {
            out += c;
        }
    }
}

struct AccessRecord {
    std::string_view request_id;
    std::string_view key_id;
    Method method;
    std::string_view route;
    std::string_view path;
    int status;
    std::chrono::nanoseconds duration;
    std::size_t bytes_out;
};

// Formatted by hand rather than through a JSON object: this runs for every request.
void write_access_log(const AccessRecord& record) {
    thread_local std::string line;
    line.clear();
    line += R"({"ts":")";
    log::append_timestamp_now(line);
    line += R"(","level":"info","msg":"request","request_id":")";
    append_json_escaped(line, record.request_id);
    line += R"(","key_id":")";
    append_json_escaped(line, record.key_id);
    line += R"(","method":")";
    line += to_string(record.method);
    line += R"(","route":")";
    append_json_escaped(line, record.route);
    line += R"(","path":")";
    append_json_escaped(line, record.path);
    line += R"(","status":)";
    append_decimal(line, static_cast<uint64_t>(record.status));
    // Milliseconds with three decimals, from whole microseconds.
    const auto micros = static_cast<uint64_t>(std::max<int64_t>(
        0, std::chrono::duration_cast<std::chrono::microseconds>(record.duration).count()));
    line += R"(,"duration_ms":)";
    append_decimal(line, micros / 1000);
    line += '.';
    line += static_cast<char>('0' + micros / 100 % 10);
    line += static_cast<char>('0' + micros / 10 % 10);
    line += static_cast<char>('0' + micros % 10);
    line += R"(,"bytes_out":)";
    append_decimal(line, record.bytes_out);
    line += '}';
    log::write_line_batched(line);
}

class Session : public std::enable_shared_from_this<Session> {
public:
    using Clock = std::chrono::steady_clock;

    // A session over a connection limit reads one request, answers 503 and closes.
    enum class Admission { served, over_server_limit, over_address_limit };

    // A served session holds one of the server's connections and one of `address_key`'s.
    Session(tcp::socket&& socket, SharedState& shared, Admission admission, std::string address_key)
        : stream_(std::move(socket)),
          shared_(shared),
          admission_(admission),
          address_key_(std::move(address_key)) {
        // An empty flat_buffer reads 512 bytes at a time and grows only to what each read asks:
        // a 2 KB submit would take four reads, for every request on the connection.
        buffer_.reserve(kReadBufferBytes);
        if (admission_ == Admission::served) shared_.connections_open.add(1);
    }

    ~Session() {
        if (admission_ != Admission::served) return;
        shared_.open_connections.fetch_sub(1, std::memory_order_relaxed);
        shared_.per_address.release(address_key_);
        shared_.connections_open.add(-1);
    }

    void run() {
        net::dispatch(stream_.get_executor(),
                      beast::bind_front_handler(&Session::do_read, shared_from_this()));
    }

private:
    void do_read() {
        request_.reset();
        parser_.emplace();
        parser_->body_limit(shared_.options.body_limit_bytes);
        parser_->header_limit(static_cast<std::uint32_t>(shared_.options.header_limit_bytes));
        if (buffer_.size() > 0) return read_header();  // a pipelined request has begun already
        // Nothing asked yet: an idle connection gets less time than a request being sent.
        stream_.expires_after(shared_.options.idle_timeout);
        stream_.async_read_some(
            buffer_.prepare(beast::read_size(buffer_, kReadChunkBytes)),
            beast::bind_front_handler(&Session::on_first_bytes, shared_from_this()));
    }

    void on_first_bytes(beast::error_code ec, std::size_t bytes) {
        if (ec) return do_close();  // idle timeout, the client left, or shutdown: nothing to answer
        buffer_.commit(bytes);
        stream_.expires_after(request_deadline());
        // A request's header usually arrives whole in its first read: parse it here rather than
        // through another asynchronous step, and wait for more only when it did not.
        beast::error_code parse_error;
        buffer_.consume(parser_->put(buffer_.data(), parse_error));
        if (parse_error && parse_error != bhttp::error::need_more) return on_read(parse_error, 0);
        if (!parser_->is_header_done()) return continue_header();
        on_header({}, 0);
    }

    void read_header() {
        // One deadline for the whole request from its first byte: a client that trickles bytes
        // is cut off.
        stream_.expires_after(request_deadline());
        continue_header();
    }

    // A connection over a limit is only told to come back: it gets no longer to send its one
    // request than an idle connection gets, so refused sockets cannot pile up.
    std::chrono::seconds request_deadline() const {
        return admission_ == Admission::served
                   ? shared_.options.read_timeout
                   : std::min(shared_.options.read_timeout, shared_.options.idle_timeout);
    }

    void continue_header() {
        bhttp::async_read_header(
            stream_, buffer_, *parser_,
            beast::bind_front_handler(&Session::on_header, shared_from_this()));
    }

    // The body is read only once its framing is unambiguous: otherwise its bytes could be taken
    // for a request of their own.
    void on_header(beast::error_code ec, std::size_t bytes) {
        if (ec) return on_read(ec, bytes);
        if (auto refusal = framing_error(parser_->get().base())) return reject(*refusal);
        if (parser_->is_done()) return handle();
        bhttp::async_read(stream_, buffer_, *parser_,
                          beast::bind_front_handler(&Session::on_read, shared_from_this()));
    }

    void on_read(beast::error_code ec, std::size_t) {
        if (ec == bhttp::error::end_of_stream || ec == beast::error::timeout ||
            ec == net::error::operation_aborted) {
            return do_close();
        }
        if (ec == bhttp::error::body_limit) {
            return reject(ApiError::payload_too_large(
                "request body exceeds the limit of " +
                std::to_string(shared_.options.body_limit_bytes) + " bytes"));
        }
        if (ec == bhttp::error::header_limit) {
            return reject(ApiError(431, "headers_too_large",
                                   "request headers exceed the limit of " +
                                       std::to_string(shared_.options.header_limit_bytes) +
                                       " bytes"));
        }
        if (ec && ec.category() == bhttp::make_error_code(bhttp::error::bad_target).category()) {
            return reject(ApiError::invalid_request("malformed HTTP request: " + ec.message()));
        }
        if (ec) return do_close();
        handle();
    }

    void handle() {
        started_ = Clock::now();
        auto& message = parser_->get();
        keep_alive_ =
            message.keep_alive() && !shared_.draining.load() && admission_ == Admission::served;
        version_ = message.version();
        request_id_ = request_id_for(message["X-Request-Id"]);
        shared_.in_flight.fetch_add(1);
        request_.emplace(make_request(message, request_id_));
        if (admission_ == Admission::over_server_limit) {
            return write(error_response(
                ApiError::unavailable("the server is serving its limit of " +
                                      std::to_string(shared_.options.max_connections) +
                                      " connections; retry shortly")
                    .with_header("Retry-After", "1")));
        }
        if (admission_ == Admission::over_address_limit) {
            return write(error_response(
                ApiError::unavailable("this client address holds its limit of " +
                                      std::to_string(shared_.options.max_connections_per_address) +
                                      " open connections; reuse one or retry shortly")
                    .with_header("Retry-After", "1")));
        }
        if (message.target().size() > shared_.options.max_url_bytes) {
            return write(error_response(ApiError(
                414, "uri_too_long",
                "request URL is " + std::to_string(message.target().size()) +
                    " bytes, over the limit of " + std::to_string(shared_.options.max_url_bytes))));
        }
        auto self = shared_from_this();
        Responder responder([self](Response response) {
            net::dispatch(self->stream_.get_executor(),
                          [self, response = std::move(response)]() mutable {
                              self->write(std::move(response));
                          });
        });
        shared_.router.dispatch(*request_, responder);
    }

    // A transport-level refusal: answer once, then close (the rest of the request is unread).
    void reject(const ApiError& error) {
        started_ = Clock::now();
        keep_alive_ = false;
        version_ = 11;
        request_id_ = request_id_for({});
        shared_.in_flight.fetch_add(1);
        write(error_response(error));
    }

    void write(Response response) {
        // Server-side failures are logged with the request id the client was given.
        if (response.status >= 500) {
            log::error("request failed", {{"request_id", request_id_},
                                          {"status", response.status},
                                          {"body", response.body}});
        }
        status_ = response.status;
        response_head_ = response_head(response, ResponseFraming{.request_id = request_id_,
                                                                 .version = version_,
                                                                 .keep_alive = keep_alive_});
        // A HEAD is answered with the head a GET would get, Content-Length included.
        const bool head_request = request_ && request_->method() == Method::head;
        if (status_has_body(status_) && !head_request) response_body_ = std::move(response.body);
        stream_.expires_after(shared_.options.write_timeout);
        const std::array<net::const_buffer, 2> wire{net::buffer(response_head_),
                                                    net::buffer(response_body_)};
        net::async_write(stream_, wire,
                         beast::bind_front_handler(&Session::on_write, shared_from_this()));
    }

    void on_write(beast::error_code ec, std::size_t bytes_written) {
        response_head_.clear();
        response_body_.clear();
        account(bytes_written);
        shared_.request_done();
        if (ec || !keep_alive_) return do_close();
        do_read();
    }

    // The answer's line in the metrics and the access log.
    void account(std::size_t bytes_written) {
        const auto elapsed = Clock::now() - started_;
        const double seconds = std::chrono::duration<double>(elapsed).count();
        Method method = Method::other;
        std::string_view path;
        if (request_) {
            method = request_->method();
            path = request_->path();
        } else if (parser_ && parser_->is_header_done()) {
            // Refused at the transport level (413): the request line was read, the body not.
            const auto& message = parser_->get();
            method = to_method(message.method());
            const std::string_view target(message.target().data(), message.target().size());
            path = target.substr(0, target.find('?'));
        }
        const int route_index = request_ ? request_->route_index() : -1;
        shared_.instruments(route_index, method).record(status_, seconds);
        if (!shared_.options.access_log) return;
        const std::string_view route =
            route_index >= 0 ? request_->route_pattern() : std::string_view("unmatched");
        write_access_log({request_id_,
                          request_ ? std::string_view(request_->key_id()) : std::string_view(),
                          method, route, path, status_, elapsed, bytes_written});
    }

    void do_close() {
        beast::error_code ignored;
        stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    }

    static constexpr std::size_t kReadChunkBytes = 64 * 1024;
    static constexpr std::size_t kReadBufferBytes = 16 * 1024;

    beast::tcp_stream stream_;
    beast::flat_buffer buffer_;
    SharedState& shared_;
    const Admission admission_;
    const std::string address_key_;
    std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
    // The request being answered: the router records its route and caller on it.
    std::optional<Request> request_;
    // The answer on the wire, kept until its write completes.
    std::string response_head_;
    std::string response_body_;
    std::string request_id_;
    Clock::time_point started_;
    int status_ = 0;
    unsigned version_ = 11;
    bool keep_alive_ = false;
};

}  // namespace

// One io_context per thread (Asio's io_context-per-CPU pattern), each connection served by one of
// them from its accept to its close: its reads, its routing and the answers posted back by the
// store or the workers all run on that thread, so a request never wakes a second HTTP thread to
// finish it. With a shared io_context, an idle thread was woken to take over the reactor or a
// handler at every step, about five more context switches per run at light load. The acceptor
// has a thread of its own, so that a connection is accepted while every serving thread is busy
// with a request.
struct Server::Impl {
    Impl(const Router& router, ServerOptions opts, metrics::Registry* metrics)
        : options(std::move(opts)),
          unrecorded(metrics != nullptr ? nullptr : std::make_unique<metrics::Registry>()),
          shared(router, options, metrics != nullptr ? *metrics : *unrecorded),
          contexts(make_contexts(std::max(1, options.threads))),
          acceptor(accept_context) {
        for (auto& context : contexts) keep_running.emplace_back(context->get_executor());
    }

    static std::vector<std::unique_ptr<net::io_context>> make_contexts(int count) {
        std::vector<std::unique_ptr<net::io_context>> made;
        for (int i = 0; i < count; ++i) made.push_back(std::make_unique<net::io_context>(1));
        return made;
    }

    // The context of the next connection, in turn (on the acceptor's thread only).
    net::io_context& next_context() { return *contexts[accepted++ % contexts.size()]; }

    // Closes the listening socket on the acceptor's thread and returns once it is closed, so that
    // no connection is accepted, or left waiting in the backlog, from then on.
    void close_acceptor() {
        if (!accept_thread.joinable()) {
            beast::error_code ignored;
            acceptor.close(ignored);
            return;
        }
        std::promise<void> closed;
        net::post(accept_context, [this, &closed] {
            beast::error_code ignored;
            acceptor.close(ignored);
            closed.set_value();
        });
        closed.get_future().wait();
        accept_running.reset();  // its thread ends once the aborted accept has run
    }

    void do_accept() {
        acceptor.async_accept(
            next_context().get_executor(), [this](beast::error_code ec, tcp::socket socket) {
                if (ec == net::error::operation_aborted || !acceptor.is_open()) return;
                if (ec) {
                    log::warn("accept failed", {{"detail", ec.message()}});
                } else {
                    // Accepts are serial, so the count cannot pass the limit between check and add.
                    beast::error_code peer_error;
                    const auto peer = socket.remote_endpoint(peer_error);
                    std::string address_key =
                        peer_error ? std::string() : shared.per_address.key_of(peer.address());
                    auto admission = Session::Admission::served;
                    if (shared.open_connections.load(std::memory_order_relaxed) >=
                        options.max_connections) {
                        admission = Session::Admission::over_server_limit;
                        shared.refused_at_server_limit.inc();
                    } else if (!shared.per_address.try_acquire(address_key)) {
                        admission = Session::Admission::over_address_limit;
                        shared.refused_at_address_limit.inc();
                    } else {
                        shared.open_connections.fetch_add(1, std::memory_order_relaxed);
                    }
                    std::make_shared<Session>(std::move(socket), shared, admission,
                                              std::move(address_key))
                        ->run();
                }
                do_accept();
            });
    }

    ServerOptions options;
    // Takes the series of a server that records none; never rendered.
    std::unique_ptr<metrics::Registry> unrecorded;
    SharedState shared;
    std::vector<std::unique_ptr<net::io_context>> contexts;
    // A context with no connection would otherwise return from run() at once.
    std::vector<net::executor_work_guard<net::io_context::executor_type>> keep_running;
    std::size_t accepted = 0;  // on the acceptor's thread only
    net::io_context accept_context{1};
    // Until the acceptor is closed, so that the close posted to its thread always runs.
    std::optional<net::executor_work_guard<net::io_context::executor_type>> accept_running{
        accept_context.get_executor()};
    tcp::acceptor acceptor;
    std::thread accept_thread;  // runs accept_context until the acceptor is closed
    std::vector<std::thread> threads;
    std::once_flag stopped;
};

Server::Server(const Router& router, ServerOptions options, metrics::Registry& metrics)
    : impl_(std::make_unique<Impl>(router, std::move(options), &metrics)) {}

Server::Server(const Router& router, ServerOptions options)
    : impl_(std::make_unique<Impl>(router, std::move(options), nullptr)) {}

Server::~Server() {
    stop();
    wait();
}

void Server::start() {
    const tcp::endpoint endpoint(net::ip::make_address(impl_->options.host), impl_->options.port);
    auto& acceptor = impl_->acceptor;
    acceptor.open(endpoint.protocol());
    acceptor.set_option(net::socket_base::reuse_address(true));
    beast::error_code ec;
    acceptor.bind(endpoint, ec);
    if (ec) {
        throw std::runtime_error("cannot listen on " + impl_->options.host + ":" +
                                 std::to_string(impl_->options.port) + ": " + ec.message());
    }
    acceptor.listen(net::socket_base::max_listen_connections);
    impl_->shared.create_route_instruments();
    impl_->do_accept();
    for (auto& context : impl_->contexts) {
        impl_->threads.push_back(named_thread("engined-http", [&context] { context->run(); }));
    }
    impl_->accept_thread = named_thread("engined-accept", [this] { impl_->accept_context.run(); });
}

uint16_t Server::port() const {
    return impl_->acceptor.local_endpoint().port();
}

void Server::stop() {
    std::call_once(impl_->stopped, [this] {
        impl_->shared.draining = true;
        impl_->close_acceptor();
        std::unique_lock lock(impl_->shared.mutex);
        impl_->shared.idle.wait_for(lock, impl_->options.drain_timeout,
                                    [this] { return impl_->shared.in_flight.load() == 0; });
        for (auto& context : impl_->contexts) context->stop();
    });
}

void Server::wait() {
    if (impl_->accept_thread.joinable()) impl_->accept_thread.join();
    for (auto& thread : impl_->threads) {
        if (thread.joinable()) thread.join();
    }
}

}  // namespace engined::http
