// The baseline for engined's GET /health: a minimal Boost.Beast async server in the style of
// Beast's examples (listener + session), with the transport choices engined makes — a strand per
// connection, a 30 s read deadline per request, keep-alive, N threads on one io_context — and
// nothing else: no routing, no request ids, no in-flight accounting.
//
//   bench_bare_server --listen 127.0.0.1:PORT --threads N
//
// Answers GET /health with {"status":"ok"} and anything else with 404.

#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

// Same value as engined's ServerOptions::read_timeout: the timer costs ~15% of a bare request,
// so leaving it out would flatter the baseline.
constexpr std::chrono::seconds kReadTimeout{30};

class Session : public std::enable_shared_from_this<Session> {
public:
    explicit Session(tcp::socket&& socket) : stream_(std::move(socket)) {}

    void run() {
        net::dispatch(stream_.get_executor(),
                      beast::bind_front_handler(&Session::do_read, shared_from_this()));
    }

private:
    void do_read() {
        request_ = {};
        stream_.expires_after(kReadTimeout);
        bhttp::async_read(stream_, buffer_, request_,
                          beast::bind_front_handler(&Session::on_read, shared_from_this()));
    }

    void on_read(beast::error_code ec, std::size_t) {
        if (ec) return do_close();  // end_of_stream, timeout or a malformed request alike
        const bool found = request_.method() == bhttp::verb::get && request_.target() == "/health";
        response_ = {found ? bhttp::status::ok : bhttp::status::not_found, request_.version()};
        response_.set(bhttp::field::server, "bench_bare_server");
        response_.set(bhttp::field::content_type, "application/json");
        response_.body() = found ? R"({"status":"ok"})" : R"({"error":"not_found"})";
        response_.keep_alive(request_.keep_alive());
        response_.prepare_payload();
        bhttp::async_write(stream_, response_,
                           beast::bind_front_handler(&Session::on_write, shared_from_this()));
    }

    void on_write(beast::error_code ec, std::size_t) {
        if (ec || !response_.keep_alive()) return do_close();
        do_read();
    }

    void do_close() {
        beast::error_code ignored;
        stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    }

    beast::tcp_stream stream_;
    beast::flat_buffer buffer_;
    bhttp::request<bhttp::string_body> request_;
    bhttp::response<bhttp::string_body> response_;
};

class Listener : public std::enable_shared_from_this<Listener> {
public:
    Listener(net::io_context& ioc, const tcp::endpoint& endpoint) : ioc_(ioc), acceptor_(ioc) {
        acceptor_.open(endpoint.protocol());
        acceptor_.set_option(net::socket_base::reuse_address(true));
        acceptor_.bind(endpoint);
        acceptor_.listen(net::socket_base::max_listen_connections);
    }

    void run() { do_accept(); }

private:
    void do_accept() {
        // Each connection gets its own strand, as in engined, so handlers of one session never
        // run concurrently.
        acceptor_.async_accept(net::make_strand(ioc_),
                               beast::bind_front_handler(&Listener::on_accept, shared_from_this()));
    }

    void on_accept(beast::error_code ec, tcp::socket socket) {
        if (ec == net::error::operation_aborted) return;
        if (!ec) std::make_shared<Session>(std::move(socket))->run();
        do_accept();
    }

    net::io_context& ioc_;
    tcp::acceptor acceptor_;
};

int usage(const char* message) {
    std::fprintf(stderr, "%s\nusage: bench_bare_server --listen HOST:PORT [--threads N]\n",
                 message);
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    std::string listen;
    int threads = 2;
    if (argc % 2 == 0) return usage("every option needs a value");
    for (int i = 1; i < argc; i += 2) {
        const std::string_view name = argv[i];
        const std::string_view value = argv[i + 1];
        if (name == "--listen") {
            listen = value;
        } else if (name == "--threads") {
            const auto [end, ec] =
                std::from_chars(value.data(), value.data() + value.size(), threads);
            if (ec != std::errc() || end != value.data() + value.size() || threads < 1) {
                return usage("--threads must be a whole number >= 1");
            }
        } else {
            return usage("unknown option");
        }
    }
    const auto colon = listen.rfind(':');
    if (colon == std::string::npos) return usage("--listen HOST:PORT is required");
    unsigned short port = 0;
    const char* port_text = listen.c_str() + colon + 1;
    const auto [end, ec] = std::from_chars(port_text, listen.c_str() + listen.size(), port);
    if (ec != std::errc() || end != listen.c_str() + listen.size())
        return usage("bad port in --listen");

    try {
        net::io_context ioc(threads);
        std::make_shared<Listener>(
            ioc, tcp::endpoint(net::ip::make_address(listen.substr(0, colon)), port))
            ->run();
        // SIGINT/SIGTERM stop the pool so the benchmark script's cleanup ends us promptly.
        net::signal_set signals(ioc, SIGINT, SIGTERM);
        signals.async_wait([&ioc](beast::error_code, int) { ioc.stop(); });
        std::vector<std::thread> pool;
        for (int i = 1; i < threads; ++i) pool.emplace_back([&ioc] { ioc.run(); });
        ioc.run();
        for (auto& thread : pool) thread.join();
    } catch (const std::exception& error) {
        std::fprintf(stderr, "bench_bare_server: %s\n", error.what());
        return 1;
    }
    return 0;
}
