// A webhook receiver for tests: a real HTTP server on 127.0.0.1 (any free port) that records
// every request and answers with scripted statuses.
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

    WebhookReceiver();
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

private:
    void serve();

    struct Impl;
    std::unique_ptr<Impl> impl_;
    uint16_t port_ = 0;
    mutable std::mutex mutex_;
    mutable std::condition_variable arrived_;
    std::deque<Answer> script_;
    Answer then_;
    std::vector<Received> received_;
    std::thread thread_;
};

}  // namespace engined::testing
