// The HTTP/1.1 server: an acceptor and one session object per connection (Boost.Beast), run by
// a pool of threads, each with an io_context of its own that serves its share of the connections.
// Sessions enforce the transport limits, count every answer in the metrics and write the access
// log; routing happens in Router.
#pragma once

#include "http/router.hpp"
#include "metrics/registry.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace engined::http {

struct ServerOptions {
    std::string host = "127.0.0.1";
    uint16_t port = 8080;  // 0: any free port (see Server::port())
    int threads = 2;
    std::size_t body_limit_bytes = 1024 * 1024;
    std::size_t header_limit_bytes = 16 * 1024;
    std::size_t max_url_bytes = 8192;    // request target (path and query); beyond: 414
    std::size_t max_connections = 1024;  // open at once; one more is answered 503 and closed
    // Open at once from one client address (IPv6: one /64); one more is answered 503 and closed.
    // 0: no per-address limit (behind a load balancer, every connection comes from its address).
    std::size_t max_connections_per_address = 64;
    bool access_log = true;  // one JSON line per request through core/common/log
    // A connection with no request under way (before its first byte, or between keep-alive
    // requests) is closed after this long, so idle sockets cannot hold the connection slots.
    std::chrono::seconds idle_timeout{5};
    std::chrono::seconds read_timeout{30};  // whole request from its first byte, headers included
    std::chrono::seconds write_timeout{30};
    std::chrono::seconds drain_timeout{10};  // graceful shutdown: wait this long for in-flight work
};

class Server {
public:
    // `metrics` receives the engined_http_* series and must outlive the server.
    Server(const Router& router, ServerOptions options, metrics::Registry& metrics);
    // A server whose traffic is not counted: the metrics listener, so that scrapes do not show
    // up in what they read.
    Server(const Router& router, ServerOptions options);
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    // Binds and starts accepting on the thread pool. Throws std::runtime_error if it cannot bind.
    void start();
    // The bound port (useful with port 0).
    uint16_t port() const;
    // Stops accepting, lets in-flight requests finish (up to drain_timeout), then stops the pool.
    void stop();
    // Blocks until the pool stopped.
    void wait();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace engined::http
