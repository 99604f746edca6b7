#include "http/server.hpp"

#include "common/api_error.hpp"
#include "common/log.hpp"
#include "http/beast_request.hpp"
#include "http/error_envelope.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <random>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>
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
    const bool usable = !supplied.empty() && supplied.size() <= 128 &&
                        std::all_of(supplied.begin(), supplied.end(),
                                    [](char c) { return c > 0x20 && c < 0x7f; });
    if (usable) return std::string(supplied);
    static const std::string prefix = [] {
        std::random_device device;
        char buf[16];
        std::snprintf(buf, sizeof buf, "%08x", device());
        return std::string("req_") + buf;
    }();
    static std::atomic<uint64_t> counter{0};
    char buf[24];
    std::snprintf(buf, sizeof buf, "%012llx",
                  static_cast<unsigned long long>(counter.fetch_add(1, std::memory_order_relaxed)));
    return prefix + buf;
}

// What sessions share with the server: the routing table, the limits and the drain state.
struct SharedState {
    SharedState(const Router& r, const ServerOptions& o) : router(r), options(o) {}

    const Router& router;
    const ServerOptions& options;
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

class Session : public std::enable_shared_from_this<Session> {
public:
    Session(tcp::socket&& socket, SharedState& shared) : stream_(std::move(socket)), shared_(shared) {}

    void run() {
        net::dispatch(stream_.get_executor(),
                      beast::bind_front_handler(&Session::do_read, shared_from_this()));
    }

private:
    void do_read() {
        parser_.emplace();
        parser_->body_limit(shared_.options.body_limit_bytes);
        parser_->header_limit(static_cast<std::uint32_t>(shared_.options.header_limit_bytes));
        // One deadline for the whole request: a client that trickles bytes is cut off.
        stream_.expires_after(shared_.options.read_timeout);
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
                                       std::to_string(shared_.options.header_limit_bytes) + " bytes"));
        }
        if (ec && ec.category() == bhttp::make_error_code(bhttp::error::bad_target).category()) {
            return reject(ApiError::invalid_request("malformed HTTP request: " + ec.message()));
        }
        if (ec) return do_close();
        handle();
    }

    void handle() {
        auto& message = parser_->get();
        keep_alive_ = message.keep_alive() && !shared_.draining.load();
        version_ = message.version();
        request_id_ = request_id_for(message["X-Request-Id"]);
        shared_.in_flight.fetch_add(1);
        auto self = shared_from_this();
        Responder responder([self](Response response) {
            net::dispatch(self->stream_.get_executor(), [self, response = std::move(response)]() mutable {
                self->write(std::move(response));
            });
        });
        Request request = make_request(message, request_id_);
        shared_.router.dispatch(request, responder);
    }

    // A transport-level refusal: answer once, then close (the rest of the request is unread).
    void reject(const ApiError& error) {
        keep_alive_ = false;
        version_ = 11;
        request_id_ = request_id_for({});
        shared_.in_flight.fetch_add(1);
        write(error_response(error));
    }

    void write(Response response) {
        // Server-side failures are logged with the request id the client was given.
        if (response.status >= 500) {
            log::error("request failed", {{"request_id", request_id_}, {"status", response.status},
                                          {"body", response.body}});
        }
        auto& out = response_.emplace(static_cast<bhttp::status>(response.status), version_);
        out.set(bhttp::field::server, "engined");
        out.set(bhttp::field::content_type, response.content_type);
        out.set("X-Request-Id", request_id_);
        for (auto& [name, value] : response.headers) out.set(name, value);
        out.body() = std::move(response.body);
        out.keep_alive(keep_alive_);
        out.prepare_payload();
        stream_.expires_after(shared_.options.write_timeout);
        bhttp::async_write(stream_, out,
                           beast::bind_front_handler(&Session::on_write, shared_from_this()));
    }

    void on_write(beast::error_code ec, std::size_t) {
        response_.reset();
        shared_.request_done();
        if (ec || !keep_alive_) return do_close();
        do_read();
    }

    void do_close() {
        beast::error_code ignored;
        stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    }

    beast::tcp_stream stream_;
    beast::flat_buffer buffer_;
    SharedState& shared_;
    std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
    std::optional<bhttp::response<bhttp::string_body>> response_;
    std::string request_id_;
    unsigned version_ = 11;
    bool keep_alive_ = false;
};

}  // namespace

struct Server::Impl {
    Impl(const Router& router, ServerOptions opts)
        : options(std::move(opts)), shared(router, options), ioc(options.threads), acceptor(ioc) {}

    void do_accept() {
        acceptor.async_accept(net::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
            if (ec == net::error::operation_aborted || !acceptor.is_open()) return;
            if (ec) {
                log::warn("accept failed", {{"detail", ec.message()}});
            } else {
                std::make_shared<Session>(std::move(socket), shared)->run();
            }
            do_accept();
        });
    }

    ServerOptions options;
    SharedState shared;
    net::io_context ioc;
    tcp::acceptor acceptor;
    std::vector<std::thread> threads;
    std::once_flag stopped;
};

Server::Server(const Router& router, ServerOptions options)
    : impl_(std::make_unique<Impl>(router, std::move(options))) {}

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
    impl_->do_accept();
    const int count = std::max(1, impl_->options.threads);
    for (int i = 0; i < count; ++i) {
        impl_->threads.emplace_back([this] { impl_->ioc.run(); });
    }
}

uint16_t Server::port() const { return impl_->acceptor.local_endpoint().port(); }

void Server::stop() {
    std::call_once(impl_->stopped, [this] {
        impl_->shared.draining = true;
        net::post(impl_->ioc, [this] {
            beast::error_code ignored;
            impl_->acceptor.close(ignored);
        });
        std::unique_lock lock(impl_->shared.mutex);
        impl_->shared.idle.wait_for(lock, impl_->options.drain_timeout,
                                    [this] { return impl_->shared.in_flight.load() == 0; });
        impl_->ioc.stop();
    });
}

void Server::wait() {
    for (auto& thread : impl_->threads) {
        if (thread.joinable()) thread.join();
    }
}

}  // namespace engined::http
