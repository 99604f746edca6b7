#include "loopback_receiver.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include <strings.h>

namespace engined::net {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;

asio::awaitable<void> stay_silent() {
    boost::system::error_code ec;
    asio::steady_timer forever(co_await asio::this_coro::executor, std::chrono::hours(1));
    co_await forever.async_wait(asio::redirect_error(asio::use_awaitable, ec));
}

// Reads requests, hands each to `record` and answers it, for as long as the connection lasts
// (see ConnectionLimit); returning closes the connection.
template <class Stream, class Record>
asio::awaitable<void> exchange(Stream& stream, const std::string& raw_response,
                               const ConnectionLimit& limit, Record record) {
    const bool answer_closes = raw_response.find("Connection: close") != std::string::npos;
    boost::beast::flat_buffer buffer;
    for (std::size_t answered = 0;; ++answered) {
        const bool at_limit = limit.answers > 0 && answered == limit.answers;
        if (at_limit && limit.then == ConnectionLimit::Then::close) co_return;
        boost::system::error_code ec;
        http::request_parser<http::string_body> parser;
        co_await http::async_read(stream, buffer, parser,
                                  asio::redirect_error(asio::use_awaitable, ec));
        if (ec) co_return;
        const auto& message = parser.get();
        ReceivedRequest request{std::string(message.method_string()),
                                std::string(message.target()),
                                {},
                                message.body()};
        for (const auto& field : message)
            request.headers.emplace_back(field.name_string(), field.value());
        record(std::move(request));
        if (at_limit && limit.then == ConnectionLimit::Then::read_then_close) co_return;
        if (raw_response.empty() || at_limit) {
            co_await stay_silent();
            co_return;
        }
        co_await asio::async_write(stream, asio::buffer(raw_response),
                                   asio::redirect_error(asio::use_awaitable, ec));
        if (ec || answer_closes || !parser.keep_alive()) co_return;
    }
}

}  // namespace

std::vector<std::string> ReceivedRequest::values(std::string_view name) const {
    std::vector<std::string> out;
    for (const auto& [key, value] : headers) {
        if (key.size() == name.size() && strncasecmp(key.data(), name.data(), name.size()) == 0)
            out.push_back(value);
    }
    return out;
}

LoopbackReceiver::LoopbackReceiver(std::string raw_response, std::optional<TlsIdentity> tls,
                                   ConnectionLimit limit)
    : raw_response_(std::move(raw_response)),
      limit_(limit),
      acceptor_(ioc_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    if (tls) {
        tls_.emplace(asio::ssl::context::tls_server);
        tls_->use_certificate_chain_file(tls->certificate_file);
        tls_->use_private_key_file(tls->key_file, asio::ssl::context::pem);
    }
    port_ = acceptor_.local_endpoint().port();
    accept_next();
    thread_ = std::thread([this] { ioc_.run(); });
}

LoopbackReceiver::~LoopbackReceiver() {
    ioc_.stop();
    thread_.join();
}

std::size_t LoopbackReceiver::connections() const {
    std::lock_guard lock(mutex_);
    return connections_;
}

std::vector<ReceivedRequest> LoopbackReceiver::requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
}

void LoopbackReceiver::accept_next() {
    acceptor_.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
        if (ec) return;
        {
            std::lock_guard lock(mutex_);
            ++connections_;
        }
        serve(std::move(socket));
        accept_next();
    });
}

void LoopbackReceiver::serve(tcp::socket socket) {
    auto record = [this](ReceivedRequest request) {
        std::lock_guard lock(mutex_);
        requests_.push_back(std::move(request));
    };
    if (!tls_) {
        asio::co_spawn(
            ioc_,
            [this, socket = std::move(socket), record]() mutable -> asio::awaitable<void> {
                co_await exchange(socket, raw_response_, limit_, record);
            },
            asio::detached);
        return;
    }
    asio::co_spawn(
        ioc_,
        [this, stream = asio::ssl::stream<tcp::socket>(std::move(socket), *tls_),
         record]() mutable -> asio::awaitable<void> {
            boost::system::error_code ec;
            co_await stream.async_handshake(asio::ssl::stream_base::server,
                                            asio::redirect_error(asio::use_awaitable, ec));
            if (!ec) co_await exchange(stream, raw_response_, limit_, record);
        },
        asio::detached);
}

std::string http_keep_alive_response(int status, std::string_view body,
                                     std::string_view extra_headers) {
    return "HTTP/1.1 " + std::to_string(status) + " X\r\n" + std::string(extra_headers) +
           "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + std::string(body);
}

std::string http_response(int status, std::string_view body, std::string_view extra_headers) {
    return http_keep_alive_response(status, body,
                                    std::string(extra_headers) + "Connection: close\r\n");
}

}  // namespace engined::net
