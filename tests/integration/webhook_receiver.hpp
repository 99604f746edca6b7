// A webhook receiver for tests: a real HTTP server on 127.0.0.1 (any free port) that records
// every request and answers with scripted statuses. By default it serves one request per
// connection, one connection at a time, and answers Connection: close; with keep_alive each
// connection is served on its own thread for as long as the sender keeps it open.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/ip/tcp.hpp>

namespace engined::testing {

class WebhookReceiver {
public:
    struct Answer {
        Answer(int status_code = 200, std::optional<std::string> retry_after_header = std::nullopt)
            : status(status_code), retry_after(std::move(retry_after_header)) {}
        int status;
        std::optional<std::string> retry_after;
    };
    struct Received {
        std::string target;
        std::map<std::string, std::string> headers;  // names in lower case
        std::string body;
        int answered = 0;
        std::chrono::steady_clock::time_point at;
    };

    enum class Connections { close_after_each, keep_alive };

    explicit WebhookReceiver(Connections connections = Connections::close_after_each);
    ~WebhookReceiver();
    WebhookReceiver(const WebhookReceiver&) = delete;
    WebhookReceiver& operator=(const WebhookReceiver&) = delete;

    uint16_t port() const { return port_; }
    // http://<host>:<port><path>
    std::string url(const std::string& host = "127.0.0.1",
                    const std::string& path = "/hooks") const;

    // The next requests get these answers in order; afterwards every request gets `then`.
    void script(std::vector<Answer> answers, Answer then);
    void script(std::vector<Answer> answers);  // then 200
    std::vector<Received> received() const;
    // True once at least `count` requests arrived.
    bool wait_for(std::size_t count, std::chrono::milliseconds timeout) const;
    // Connections accepted so far.
    std::size_t connections() const;

private:
    void serve();
    // Answers the requests of one connection; returns when it ends.
    void serve_connection(boost::asio::ip::tcp::socket& socket);

    struct Impl;
    std::unique_ptr<Impl> impl_;
    const Connections mode_;
    uint16_t port_ = 0;
    mutable std::mutex mutex_;
    mutable std::condition_variable arrived_;
    std::deque<Answer> script_;
    Answer then_;
    std::vector<Received> received_;
    std::size_t connections_ = 0;
    std::vector<std::shared_ptr<boost::asio::ip::tcp::socket>> open_sockets_;
    std::vector<std::thread> connection_threads_;
    std::thread thread_;
};

}  // namespace engined::testing
