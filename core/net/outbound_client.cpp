#include "net/outbound_client.hpp"

#include "net/address_guard.hpp"
#include "net/url.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <algorithm>
#include <cctype>
#include <exception>
#include <limits>
#include <optional>
#include <poll.h>
#include <strings.h>

namespace engined::net {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using boost::system::error_code;

std::string milliseconds_text(std::chrono::milliseconds ms) {
    return std::to_string(ms.count()) + " ms";
}

std::string endpoint_text(const tcp::endpoint& endpoint) {
    const auto address = endpoint.address();
    const std::string host =
        address.is_v6() ? "[" + address.to_string() + "]" : address.to_string();
    return host + ":" + std::to_string(endpoint.port());
}

std::optional<asio::ip::address> ip_literal(const std::string& host) {
    error_code ec;
    auto address = asio::ip::make_address(host, ec);
    if (ec) return std::nullopt;
    return address;
}

bool is_token_char(unsigned char c) {
    return std::isalnum(c) ||
           std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
}

// Header names are RFC 9110 tokens; values may not break the header block.
std::optional<std::string> check_header(const std::string& name, const std::string& value) {
    if (name.empty() ||
        !std::all_of(name.begin(), name.end(), [](unsigned char c) { return is_token_char(c); })) {
        return "request header name '" + name + "' is not a valid token";
    }
    if (value.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos) {
        return "request header '" + name + "' has CR, LF or NUL in its value";
    }
    return std::nullopt;
}

// boost::asio's host name check, reporting a mismatch as OpenSSL's own hostname error so the
// failure detail says why the certificate was rejected.
struct VerifyHostName {
    ssl::host_name_verification check;

    bool operator()(bool preverified, ssl::verify_context& context) const {
        if (check(preverified, context)) return true;
        X509_STORE_CTX* store = context.native_handle();
        if (preverified && X509_STORE_CTX_get_error(store) == X509_V_OK) {
            X509_STORE_CTX_set_error(store, X509_V_ERR_HOSTNAME_MISMATCH);
        }
        return false;
    }
};

}  // namespace

std::string_view to_string(OutboundFailure f) {
    switch (f) {
        case OutboundFailure::none:
            return "none";
        case OutboundFailure::invalid_url:
            return "invalid_url";
        case OutboundFailure::refused_address:
            return "refused_address";
        case OutboundFailure::resolve_failed:
            return "resolve_failed";
        case OutboundFailure::connect_failed:
            return "connect_failed";
        case OutboundFailure::tls_failed:
            return "tls_failed";
        case OutboundFailure::timed_out:
            return "timed_out";
        case OutboundFailure::response_too_large:
            return "response_too_large";
        case OutboundFailure::protocol_error:
            return "protocol_error";
    }
    return "unknown";
}

struct OutboundClient::Impl {
    explicit Impl(OutboundPolicy p) : policy(std::move(p)), tls_context(ssl::context::tls_client) {
        SSL_CTX_set_min_proto_version(tls_context.native_handle(), TLS1_2_VERSION);
        error_code ec;
        tls_context.set_default_verify_paths(ec);
        if (!ec && !policy.ca_file.empty()) {
            tls_context.load_verify_file(policy.ca_file, ec);
            if (ec) trust_error = "cannot load ca_file '" + policy.ca_file + "': " + ec.message();
        } else if (ec) {
            trust_error = "cannot load the system trust store: " + ec.message();
        }
    }

    bool is_allowed(const std::string& host) const {
        const auto host_address = ip_literal(host);
        return std::any_of(policy.allowed_hosts.begin(), policy.allowed_hosts.end(),
                           [&](const std::string& entry) {
                               std::string_view name = entry;
                               if (name.starts_with('[') && name.ends_with(']'))
                                   name = name.substr(1, name.size() - 2);
                               if (host_address) {
                                   const auto entry_address = ip_literal(std::string(name));
                                   if (entry_address) return *entry_address == *host_address;
                               }
                               return name.size() == host.size() &&
                                      strncasecmp(name.data(), host.data(), host.size()) == 0;
                           });
    }

    OutboundPolicy policy;
    // SSL_CTX is safe to share between threads once configured; each post makes its own SSL.
    mutable ssl::context tls_context;
    std::optional<std::string> trust_error;
};

namespace {

// An open connection to one origin, to the address the guard vetted when it was opened.
struct Connection {
    std::unique_ptr<beast::tcp_stream> tcp;                     // plain http
    std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> tls;  // https
    std::string remote_address;
    std::string peer;  // for failure details
    Clock::time_point opened;
    Clock::time_point idle_since;

    beast::tcp_stream& lowest_layer() { return tls ? beast::get_lowest_layer(*tls) : *tcp; }

    // Nothing readable and no hang-up on an idle connection: it is as the last answer left it.
    // Anything else (the receiver closed it, or sent bytes nobody asked for) retires it.
    bool looks_idle() {
        pollfd descriptor{lowest_layer().socket().native_handle(), POLLIN | POLLRDHUP, 0};
        return ::poll(&descriptor, 1, 0) == 0;
    }
};

// How an exchange on a connection ended.
enum class Exchanged {
    reusable,          // a complete answer, and the connection may carry another request
    closing,           // an answer, but the connection is done (Connection: close, HTTP/1.0, EOF)
    failed,            // the failure is recorded in the result
    nothing_received,  // a kept connection failed before any answer: worth one fresh connection
};

// One POST from URL to answer. Every step either advances or records the failure and stops.
class Exchange {
public:
    Exchange(const OutboundPolicy& policy, OutboundResult& result, Clock::time_point start)
        : policy_(policy), result_(result), deadline_(start + policy.total_timeout) {}

    bool prepare(const OutboundRequest& request, bool keep_alive) {
        auto parsed = parse_url(request.url);
        if (auto* error = std::get_if<std::string>(&parsed))
            return fail(OutboundFailure::invalid_url, *error);
        url_ = std::move(std::get<Url>(parsed));

        request_ = {http::verb::post, url_.target, 11};
        for (const auto& [name, value] : request.headers) {
            if (auto error = check_header(name, value))
                return fail(OutboundFailure::protocol_error, *error);
            request_.insert(name, value);
        }
        if (request_.find(http::field::user_agent) == request_.end())
            request_.set(http::field::user_agent, "engined");
        request_.set(http::field::host, host_header(url_));
        // HTTP/1.1 connections persist unless one side says otherwise.
        request_.erase(http::field::connection);
        if (!keep_alive) request_.set(http::field::connection, "close");
        request_.erase(http::field::transfer_encoding);
        request_.body() = request.body;
        request_.prepare_payload();
        return true;
    }

    const Url& url() const { return url_; }
    bool is_tls() const { return url_.scheme == "https"; }
    std::string origin() const {
        return url_.scheme + " " + url_.host + " " + std::to_string(url_.port);
    }

    // The one resolution of the host; the connection only ever uses these addresses.
    bool resolve() {
        if (auto address = ip_literal(url_.host)) {
            endpoints_.emplace_back(*address, url_.port);
            return true;
        }
        asio::io_context ioc;
        tcp::resolver resolver(ioc);
        error_code ec;
        // No AI_ADDRCONFIG: a host with only loopback configured must still resolve allow-listed names.
        const auto results = resolver.resolve(url_.host, std::to_string(url_.port),
                                              tcp::resolver::numeric_service, ec);
        if (Clock::now() >= deadline_) {
            return fail(OutboundFailure::timed_out, "resolving " + url_.host +
                                                        " took longer than " +
                                                        milliseconds_text(policy_.total_timeout));
        }
        if (ec)
            return fail(OutboundFailure::resolve_failed,
                        "cannot resolve " + url_.host + ": " + ec.message());
        for (const auto& entry : results) endpoints_.push_back(entry.endpoint());
        if (endpoints_.empty())
            return fail(OutboundFailure::resolve_failed, url_.host + " has no addresses");
        return true;
    }

    bool vet(bool host_allowed) const {
        if (host_allowed) return true;
        for (const auto& endpoint : endpoints_) {
            const AddressClass kind = classify(endpoint.address());
            if (kind == AddressClass::public_unicast) continue;
            const std::string address = endpoint.address().to_string();
            const std::string kind_text = "a " + std::string(to_string(kind)) + " address";
            return fail(
                OutboundFailure::refused_address,
                (ip_literal(url_.host) ? address + " is " + kind_text
                                       : url_.host + " resolves to " + address + ", " + kind_text) +
                    "; the host is not allow-listed");
        }
        return true;
    }

    // A connection to one of the vetted addresses, through TLS when `tls_context` is given;
    // null after a recorded failure.
    asio::awaitable<std::unique_ptr<Connection>> open(ssl::context* tls_context) {
        auto connection = std::make_unique<Connection>();
        const auto executor = co_await asio::this_coro::executor;
        if (tls_context) {
            connection->tls =
                std::make_unique<beast::ssl_stream<beast::tcp_stream>>(executor, *tls_context);
        } else {
            connection->tcp = std::make_unique<beast::tcp_stream>(executor);
        }
        if (!co_await connect(*connection)) co_return nullptr;
        if (tls_context && !co_await handshake(*connection->tls)) co_return nullptr;
        connection->opened = Clock::now();
        co_return connection;
    }

    // Sends the request on `connection` and reads the answer into the result. On a `reused`
    // connection, a failure before any answer arrived is reported as nothing_received and not
    // recorded, so that the post can try again on a fresh connection.
    asio::awaitable<Exchanged> converse(Connection& connection, bool reused) {
        result_.remote_address = connection.remote_address;
        peer_ = connection.peer;
        if (connection.tls) co_return co_await converse_on(*connection.tls, reused);
        co_return co_await converse_on(*connection.tcp, reused);
    }

private:
    bool fail(OutboundFailure failure, std::string detail) const {
        result_.failure = failure;
        result_.detail = std::move(detail);
        return false;
    }

    asio::awaitable<bool> connect(Connection& connection) {
        beast::tcp_stream& stream = connection.lowest_layer();
        stream.expires_at(std::min(Clock::now() + policy_.connect_timeout, deadline_));
        error_code ec;
        const tcp::endpoint endpoint = co_await stream.async_connect(
            endpoints_, asio::redirect_error(asio::use_awaitable, ec));
        if (ec == beast::error::timeout) {
            co_return fail(
                OutboundFailure::timed_out,
                "connecting to " + url_.host + " port " + std::to_string(url_.port) + " timed out");
        }
        if (ec) {
            co_return fail(OutboundFailure::connect_failed,
                           "cannot connect to " + url_.host + " port " + std::to_string(url_.port) +
                               ": " + ec.message());
        }
        connection.remote_address = endpoint.address().to_string();
        connection.peer = endpoint_text(endpoint);
        // A failure from here on (the TLS handshake) still names the address connected to.
        result_.remote_address = connection.remote_address;
        peer_ = connection.peer;
        co_return true;
    }

    asio::awaitable<bool> handshake(beast::ssl_stream<beast::tcp_stream>& stream) {
        if (!ip_literal(url_.host) &&
            SSL_set_tlsext_host_name(stream.native_handle(), url_.host.c_str()) != 1) {
            co_return fail(OutboundFailure::tls_failed,
                           "cannot set the TLS server name " + url_.host);
        }
        stream.set_verify_mode(ssl::verify_peer);
        stream.set_verify_callback(VerifyHostName{ssl::host_name_verification(url_.host)});
        beast::get_lowest_layer(stream).expires_at(deadline_);
        error_code ec;
        co_await stream.async_handshake(ssl::stream_base::client,
                                        asio::redirect_error(asio::use_awaitable, ec));
        if (ec == beast::error::timeout) {
            co_return fail(
                OutboundFailure::timed_out,
                "TLS handshake not complete within " + milliseconds_text(policy_.total_timeout));
        }
        if (ec) {
            std::string detail = "TLS handshake with " + peer_ + " failed: " + ec.message();
            const long verify = SSL_get_verify_result(stream.native_handle());
            if (verify != X509_V_OK)
                detail += std::string(" (") + X509_verify_cert_error_string(verify) + ")";
            co_return fail(OutboundFailure::tls_failed, detail);
        }
        co_return true;
    }

    template <class Stream>
    asio::awaitable<Exchanged> converse_on(Stream& stream, bool reused) {
        beast::get_lowest_layer(stream).expires_at(deadline_);
        error_code ec;
        co_await http::async_write(stream, request_, asio::redirect_error(asio::use_awaitable, ec));
        if (ec) {
            if (reused && ec != beast::error::timeout) co_return Exchanged::nothing_received;
            read_failed(ec, "sending the request to " + peer_);
            co_return Exchanged::failed;
        }
        http::response_parser<http::string_body> parser;
        parser.body_limit(policy_.max_response_bytes);
        parser.header_limit(static_cast<std::uint32_t>(std::min<std::size_t>(
            policy_.max_response_header_bytes, std::numeric_limits<std::uint32_t>::max())));
        parser.get().result(0);  // 0 until a status line is parsed
        beast::flat_buffer buffer;
        co_await http::async_read(stream, buffer, parser,
                                  asio::redirect_error(asio::use_awaitable, ec));
        if (ec && reused && !parser.got_some() && ec != beast::error::timeout)
            co_return Exchanged::nothing_received;
        auto& response = parser.get();
        result_.status = static_cast<int>(response.result_int());
        if (parser.is_header_done()) {
            if (auto it = response.find(http::field::retry_after); it != response.end()) {
                result_.retry_after = std::string(it->value());
            }
        }
        result_.body = std::move(response.body());
        if (ec) {
            read_failed(ec, "reading the response from " + peer_);
            co_return Exchanged::failed;
        }
        // Bytes past the answer were not asked for: the connection is not trusted with another.
        const bool reusable = parser.keep_alive() && buffer.size() == 0;
        co_return reusable ? Exchanged::reusable : Exchanged::closing;
    }

    void read_failed(const error_code& ec, const std::string& while_doing) const {
        if (ec == beast::error::timeout) {
            fail(OutboundFailure::timed_out,
                 "no complete response within " + milliseconds_text(policy_.total_timeout));
        } else if (ec == http::error::body_limit) {
            fail(OutboundFailure::response_too_large,
                 "response body exceeds " + std::to_string(policy_.max_response_bytes) + " bytes");
        } else if (ec == http::error::header_limit) {
            fail(OutboundFailure::response_too_large,
                 "response header exceeds " + std::to_string(policy_.max_response_header_bytes) +
                     " bytes");
        } else {
            fail(OutboundFailure::protocol_error, while_doing + " failed: " + ec.message());
        }
    }

    const OutboundPolicy& policy_;
    OutboundResult& result_;
    const Clock::time_point deadline_;
    Url url_;
    http::request<http::string_body> request_;
    std::vector<tcp::endpoint> endpoints_;
    std::string peer_;  // the connected endpoint, for failure details
};

// Runs `task` on `ioc` to completion; its exception, if any, is rethrown here.
template <class T>
T run_to_completion(asio::io_context& ioc, asio::awaitable<T> task) {
    std::optional<T> value;
    std::exception_ptr error;
    asio::co_spawn(ioc, std::move(task), [&](std::exception_ptr e, T v) {
        error = e;
        if (!e) value = std::move(v);
    });
    ioc.restart();
    ioc.run();
    if (error) std::rethrow_exception(error);
    return std::move(*value);
}

}  // namespace

OutboundClient::OutboundClient(OutboundPolicy policy)
    : impl_(std::make_shared<const Impl>(std::move(policy))) {}

OutboundResult OutboundClient::post(const OutboundRequest& request) const {
    return OutboundSession(*this, KeepAlive{.max_idle = 0}).post(request);
}

struct OutboundSession::Impl {
    Impl(std::shared_ptr<const OutboundClient::Impl> c, KeepAlive k)
        : client(std::move(c)), keep_alive(k) {}

    std::shared_ptr<const OutboundClient::Impl> client;
    KeepAlive keep_alive;
    asio::io_context ioc;
    std::vector<std::pair<std::string, std::unique_ptr<Connection>>> idle;  // oldest first

    bool keeps_connections() const { return keep_alive.max_idle > 0; }

    bool expired(const Connection& connection, Clock::time_point now) const {
        return now - connection.idle_since >= keep_alive.idle_for ||
               now - connection.opened >= keep_alive.max_age;
    }

    void close_expired(Clock::time_point now) {
        std::erase_if(idle, [&](const auto& entry) { return expired(*entry.second, now); });
    }

    std::unique_ptr<Connection> take(const std::string& origin, Clock::time_point now) {
        close_expired(now);
        const auto it = std::find_if(idle.rbegin(), idle.rend(),
                                     [&](const auto& entry) { return entry.first == origin; });
        if (it == idle.rend()) return nullptr;
        auto connection = std::move(it->second);
        idle.erase(std::next(it).base());
        return connection->looks_idle() ? std::move(connection) : nullptr;
    }

    void keep(std::string origin, std::unique_ptr<Connection> connection) {
        connection->idle_since = Clock::now();
        idle.emplace_back(std::move(origin), std::move(connection));
        if (idle.size() > keep_alive.max_idle) idle.erase(idle.begin());
    }

    void post(const OutboundRequest& request, OutboundResult& result, Clock::time_point start) {
        Exchange exchange(client->policy, result, start);
        if (!exchange.prepare(request, keeps_connections())) return;
        const std::string origin = exchange.origin();
        if (auto kept = take(origin, start)) {
            const Exchanged outcome = run_to_completion(ioc, exchange.converse(*kept, true));
            if (outcome == Exchanged::reusable) keep(origin, std::move(kept));
            if (outcome != Exchanged::nothing_received) return;
        }
        if (!exchange.resolve() || !exchange.vet(client->is_allowed(exchange.url().host))) return;
        if (exchange.is_tls() && client->trust_error) {
            result.failure = OutboundFailure::tls_failed;
            result.detail = *client->trust_error;
            return;
        }
        auto connection = run_to_completion(
            ioc, exchange.open(exchange.is_tls() ? &client->tls_context : nullptr));
        if (!connection) return;
        const Exchanged outcome = run_to_completion(ioc, exchange.converse(*connection, false));
        if (outcome == Exchanged::reusable && keeps_connections())
            keep(origin, std::move(connection));
    }
};

OutboundSession::OutboundSession(const OutboundClient& client, KeepAlive keep_alive)
    : impl_(std::make_unique<Impl>(client.impl_, keep_alive)) {}

OutboundSession::~OutboundSession() = default;

OutboundResult OutboundSession::post(const OutboundRequest& request) {
    const auto start = Clock::now();
    OutboundResult result;
    try {
        impl_->post(request, result, start);
    } catch (const std::exception& error) {
        result.failure = OutboundFailure::protocol_error;
        result.detail = std::string("unexpected error: ") + error.what();
    } catch (...) {
        result.failure = OutboundFailure::protocol_error;
        result.detail = "unexpected error";
    }
    result.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
    return result;
}

void OutboundSession::close_expired() {
    impl_->close_expired(Clock::now());
}

std::size_t OutboundSession::idle_connections() const {
    return impl_->idle.size();
}

}  // namespace engined::net
