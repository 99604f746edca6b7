#include "http/client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <cerrno>
#include <optional>
#include <strings.h>
#include <sys/socket.h>

namespace engined::http {
namespace {
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

// Whether the server closed a kept-alive connection while it sat idle: then the only thing left
// to read is the end of the stream (or an error), and nothing has been sent on it yet.
bool closed_while_idle(tcp::socket& socket) {
    char byte = 0;
    const ssize_t peeked = ::recv(socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    return peeked == 0 || (peeked < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}

// host[:port] as RFC 9110 §7.2 asks: the port unless it is http's default, an IPv6 address in
// brackets. The server builds absolute links from it.
std::string host_header(const std::string& host, uint16_t port) {
    const std::string name = host.find(':') != std::string::npos ? "[" + host + "]" : host;
    return port == 80 ? name : name + ":" + std::to_string(port);
}
}  // namespace

std::string ClientResponse::header(const std::string& name) const {
    for (const auto& [key, value] : headers) {
        if (strcasecmp(key.c_str(), name.c_str()) == 0) return value;
    }
    return {};
}

struct Client::Impl {
    Impl(std::string h, uint16_t p) : host(std::move(h)), port(p) {}

    void connect() {
        stream.emplace(ioc);
        tcp::resolver resolver(ioc);
        stream->connect(resolver.resolve(host, std::to_string(port)));
        stream->socket().set_option(tcp::no_delay(true));
    }

    ClientResponse round_trip(const bhttp::request<bhttp::string_body>& req) {
        if (!stream) connect();
        bhttp::write(*stream, req);
        bhttp::response_parser<bhttp::string_body> parser;
        parser.body_limit(256u * 1024u * 1024u);
        bhttp::read(*stream, buffer, parser);
        auto& res = parser.get();
        ClientResponse out;
        out.status = static_cast<int>(res.result_int());
        out.body = std::move(res.body());
        for (const auto& field : res) {
            out.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
        }
        if (!res.keep_alive()) stream.reset();
        return out;
    }

    std::string host;
    uint16_t port;
    net::io_context ioc;
    std::optional<beast::tcp_stream> stream;
    beast::flat_buffer buffer;
};

Client::Client(std::string host, uint16_t port)
    : impl_(std::make_unique<Impl>(std::move(host), port)) {}
Client::~Client() = default;
Client::Client(Client&&) noexcept = default;
Client& Client::operator=(Client&&) noexcept = default;

ClientResponse Client::request(const std::string& method, const std::string& target,
                               const std::string& body,
                               const std::vector<std::pair<std::string, std::string>>& headers) {
    bhttp::request<bhttp::string_body> req{bhttp::string_to_verb(method), target, 11};
    req.set(bhttp::field::host, host_header(impl_->host, impl_->port));
    req.set(bhttp::field::user_agent, "engined-client");
    for (const auto& [name, value] : headers) req.set(name, value);
    if (!body.empty()) {
        if (req[bhttp::field::content_type].empty())
            req.set(bhttp::field::content_type, "application/json");
        req.body() = body;
    }
    req.prepare_payload();
    req.keep_alive(true);
    // Servers close idle connections; finding out before sending lets any method start afresh.
    if (impl_->stream && closed_while_idle(impl_->stream->socket())) {
        impl_->stream.reset();
        impl_->buffer.clear();
    }
    // A kept-alive connection the server closed in the meantime fails the next request; it is
    // retried once on a new connection, but only when repeating it cannot act twice.
    const bool retryable = impl_->stream.has_value() &&
                           (req.method() == bhttp::verb::get || req.method() == bhttp::verb::head);
    try {
        return impl_->round_trip(req);
    } catch (const boost::system::system_error&) {
        impl_->stream.reset();
        impl_->buffer.clear();
        if (!retryable) throw;
        return impl_->round_trip(req);
    }
}

}  // namespace engined::http
