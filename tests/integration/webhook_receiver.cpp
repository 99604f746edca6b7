#include "webhook_receiver.hpp"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <cctype>

namespace engined::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

struct WebhookReceiver::Impl {
    asio::io_context ioc;
    tcp::acceptor acceptor{ioc, {asio::ip::make_address("127.0.0.1"), 0}};
};

WebhookReceiver::WebhookReceiver(Connections connections)
    : impl_(std::make_unique<Impl>()), mode_(connections) {
    port_ = impl_->acceptor.local_endpoint().port();
    thread_ = std::thread([this] { serve(); });
}

WebhookReceiver::~WebhookReceiver() {
    boost::system::error_code ec;
    impl_->acceptor.close(ec);
    // Unblocks a pending accept, whatever the platform does on close.
    tcp::socket poke(impl_->ioc);
    poke.connect({asio::ip::make_address("127.0.0.1"), port_}, ec);
    thread_.join();
    for (const auto& socket : open_sockets_) socket->shutdown(tcp::socket::shutdown_both, ec);
    for (auto& thread : connection_threads_) thread.join();
}

std::string WebhookReceiver::url(const std::string& host, const std::string& path) const {
    return "http://" + host + ":" + std::to_string(port_) + path;
}

void WebhookReceiver::script(std::vector<Answer> answers, Answer then) {
    std::lock_guard lock(mutex_);
    script_.assign(answers.begin(), answers.end());
    then_ = std::move(then);
}

void WebhookReceiver::script(std::vector<Answer> answers) {
    script(std::move(answers), Answer{});
}

std::vector<WebhookReceiver::Received> WebhookReceiver::received() const {
    std::lock_guard lock(mutex_);
    return received_;
}

std::size_t WebhookReceiver::connections() const {
    std::lock_guard lock(mutex_);
    return connections_;
}

bool WebhookReceiver::wait_for(std::size_t count, std::chrono::milliseconds timeout) const {
    std::unique_lock lock(mutex_);
    return arrived_.wait_for(lock, timeout, [&] { return received_.size() >= count; });
}

void WebhookReceiver::serve() {
    for (;;) {
        auto socket = std::make_shared<tcp::socket>(impl_->ioc);
        boost::system::error_code ec;
        impl_->acceptor.accept(*socket, ec);
        if (ec || !impl_->acceptor.is_open()) return;
        {
            std::lock_guard lock(mutex_);
            ++connections_;
            if (mode_ == Connections::keep_alive) {
                open_sockets_.push_back(socket);
                connection_threads_.emplace_back([this, socket] { serve_connection(*socket); });
                continue;
            }
        }
        serve_connection(*socket);
    }
}

void WebhookReceiver::serve_connection(tcp::socket& socket) {
    beast::flat_buffer buffer;
    for (;;) {
        boost::system::error_code ec;
        bhttp::request<bhttp::string_body> request;
        bhttp::read(socket, buffer, request, ec);
        if (ec) return;
        Received record;
        record.target = std::string(request.target());
        record.body = request.body();
        record.at = std::chrono::steady_clock::now();
        for (const auto& field : request) {
            std::string name(field.name_string());
            std::transform(name.begin(), name.end(), name.begin(),
                           [](unsigned char c) { return std::tolower(c); });
            record.headers[name] = std::string(field.value());
        }
        Answer answer;
        {
            std::lock_guard lock(mutex_);
            if (!script_.empty()) {
                answer = script_.front();
                script_.pop_front();
            } else {
                answer = then_;
            }
        }
        bhttp::response<bhttp::string_body> response{static_cast<bhttp::status>(answer.status), 11};
        response.set(bhttp::field::content_type, "text/plain");
        const bool keep_open = mode_ == Connections::keep_alive && request.keep_alive();
        response.keep_alive(keep_open);
        if (answer.retry_after) response.set(bhttp::field::retry_after, *answer.retry_after);
        response.body() = "ok";
        response.prepare_payload();
        bhttp::write(socket, response, ec);
        record.answered = answer.status;
        {
            std::lock_guard lock(mutex_);
            received_.push_back(std::move(record));
        }
        arrived_.notify_all();
        if (ec || !keep_open) {
            socket.shutdown(tcp::socket::shutdown_both, ec);
            return;
        }
    }
}

}  // namespace engined::testing
