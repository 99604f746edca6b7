// A webhook receiver for the outbound client's tests: listens on 127.0.0.1 port 0 (plain or
// TLS), records each request it reads and answers with a fixed raw response — or never answers.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace engined::net {

struct ReceivedRequest {
    std::string method;
    std::string target;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;

    // Every value of a header, case-insensitive name.
    std::vector<std::string> values(std::string_view name) const;
};

struct TlsIdentity {
    std::string certificate_file;  // PEM chain
    std::string key_file;
};

// What the receiver does on a connection once it has answered `answers` requests on it (0: no
// limit; it serves the connection for as long as the client keeps it and the answer does not
// say Connection: close).
struct ConnectionLimit {
    enum class Then {
        close,                  // closes at once, without saying so in the last answer
        read_then_close,        // reads (and records) one more request, then closes unanswered
        read_then_stay_silent,  // reads one more request and never answers it
    };
    std::size_t answers = 0;
    Then then = Then::close;
};

class LoopbackReceiver {
public:
    // An empty `raw_response` never answers: the connection stays open and silent.
    explicit LoopbackReceiver(std::string raw_response,
                              std::optional<TlsIdentity> tls = std::nullopt,
                              ConnectionLimit limit = {});
    ~LoopbackReceiver();
    LoopbackReceiver(const LoopbackReceiver&) = delete;
    LoopbackReceiver& operator=(const LoopbackReceiver&) = delete;

    uint16_t port() const { return port_; }
    std::size_t connections() const;
    std::vector<ReceivedRequest> requests() const;

private:
    void accept_next();
    void serve(boost::asio::ip::tcp::socket socket);

    std::string raw_response_;
    ConnectionLimit limit_;
    std::optional<boost::asio::ssl::context> tls_;
    boost::asio::io_context ioc_;
    boost::asio::ip::tcp::acceptor acceptor_;
    uint16_t port_ = 0;
    mutable std::mutex mutex_;
    std::size_t connections_ = 0;
    std::vector<ReceivedRequest> requests_;
    std::thread thread_;
};

// "HTTP/1.1 <status> X\r\n<extra headers>Content-Length: ..\r\n\r\n<body>": the connection
// may carry the client's next request.
std::string http_keep_alive_response(int status, std::string_view body,
                                     std::string_view extra_headers = {});
// The same with "Connection: close" among the headers: the receiver closes after it.
std::string http_response(int status, std::string_view body, std::string_view extra_headers = {});

}  // namespace engined::net
