// The transport's defences, end to end over raw loopback sockets against a real engined: request
// framing that could smuggle a second request (RFC 9112 §6), one credential per request, idle
// connections and the per-address connection limit. After each attack GET /health still answers.
#include "test_server.hpp"

#include "prometheus_text.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>
#include <gtest/gtest.h>

#include <sys/socket.h>

#include <chrono>
#include <thread>

namespace engined::testing {
namespace {

namespace net = boost::asio;
using tcp = net::ip::tcp;
using namespace std::chrono_literals;

// One raw TCP connection to the server, from `local_address` (any 127.x.y.z is loopback).
class RawConnection {
public:
    explicit RawConnection(uint16_t port, const std::string& local_address = "127.0.0.1")
        : socket_(ioc_) {
        socket_.open(tcp::v4());
        socket_.bind({net::ip::make_address(local_address), 0});
        socket_.connect({net::ip::make_address("127.0.0.1"), port});
        const timeval timeout{10, 0};  // a server that neither answers nor closes fails the test
        setsockopt(socket_.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    }

    void send(const std::string& bytes) { net::write(socket_, net::buffer(bytes)); }

    // Reads one response (headers and a Content-Length body) without waiting for the close.
    std::string read_response() {
        net::read_until(socket_, net::dynamic_buffer(pending_), "\r\n\r\n");
        const std::size_t header_end = pending_.find("\r\n\r\n") + 4;
        std::size_t length = 0;
        const auto at = pending_.find("Content-Length: ");
        if (at != std::string::npos && at < header_end)
            length = std::stoul(pending_.substr(at + 16));
        if (pending_.size() < header_end + length) {
            net::read(socket_, net::dynamic_buffer(pending_),
                      net::transfer_exactly(header_end + length - pending_.size()));
        }
        std::string response = pending_.substr(0, header_end + length);
        pending_.erase(0, header_end + length);
        return response;
    }

    // Everything until the server closes; `closed` tells whether it did (rather than time out).
    std::string read_until_closed(bool& closed) {
        std::string received = std::move(pending_);
        pending_.clear();
        boost::system::error_code ec;
        net::read(socket_, net::dynamic_buffer(received), ec);
        closed = ec == net::error::eof || ec == net::error::connection_reset;
        return received;
    }

private:
    net::io_context ioc_;
    tcp::socket socket_;
    std::string pending_;
};

int status_of(const std::string& response) {
    return response.rfind("HTTP/1.1 ", 0) == 0 ? std::stoi(response.substr(9, 3)) : 0;
}

std::size_t responses_in(const std::string& received) {
    std::size_t count = 0;
    for (auto at = received.find("HTTP/1."); at != std::string::npos;
         at = received.find("HTTP/1.", at + 1))
        ++count;
    return count;
}

boost::json::value error_of(const std::string& response) {
    return boost::json::parse(response.substr(response.find("\r\n\r\n") + 4)).at("error");
}

const std::string kSmuggled = "GET /api/v1/smuggled HTTP/1.1\r\nHost: t\r\n\r\n";

struct SmugglingCase {
    std::string framing;  // header fields that decide where the body ends
    int status;
};

// Each request carries a second one after its header. engined must answer the first once, name
// the framing, close the connection and never answer the second.
TEST(RequestSmuggling, AmbiguousFramingIsAnswered400Or501OnceAndTheConnectionClosed) {
    TestServer server;
    const std::string key = server.create_key("acme");
    const std::string length = std::to_string(kSmuggled.size());
    const std::vector<SmugglingCase> cases = {
        {"Transfer-Encoding: chunked, identity\r\n", 400},
        {"Transfer-Encoding: identity\r\n", 400},
        {"Transfer-Encoding: gzip\r\nContent-Length: 0\r\n", 400},
        {"Transfer-Encoding: xchunked\r\nContent-Length: " + length + "\r\n", 400},
        {"Content-Length: " + length + "\r\nTransfer-Encoding: chunked\r\n", 400},
        {"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n", 400},
        {"Content-Length: 0\r\nContent-Length: 0\r\n", 400},
        {"Content-Length: 0\r\nContent-Length: " + length + "\r\n", 400},
        {"Content-Length: 0, 0\r\n", 400},
        {"Transfer-Encoding: gzip, chunked\r\n", 501},
    };
    for (const SmugglingCase& attack : cases) {
        SCOPED_TRACE(attack.framing);
        RawConnection connection(server.port());
        connection.send(
            "POST /api/v1/engines/default/runs HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer " +
            key + "\r\nContent-Type: application/json\r\n" + attack.framing + "\r\n" + kSmuggled);
        bool closed = false;
        const std::string received = connection.read_until_closed(closed);
        EXPECT_TRUE(closed) << "the connection stayed open";
        EXPECT_EQ(responses_in(received), 1u) << received;
        EXPECT_EQ(status_of(received), attack.status) << received;
        EXPECT_NE(received.find("Connection: close"), std::string::npos) << received;
        const auto error = error_of(received);
        EXPECT_EQ(error.at("code").as_string(),
                  attack.status == 400 ? "invalid_request" : "not_implemented");
    }
    // The refusals name what was wrong.
    RawConnection connection(server.port());
    connection.send(
        "POST /api/v1/engines/default/runs HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked, "
        "identity\r\n\r\n");
    const std::string refused = connection.read_response();
    EXPECT_NE(std::string(error_of(refused).at("message").as_string())
                  .find("final Transfer-Encoding must be chunked"),
              std::string::npos)
        << refused;
    expect_health_answers(server.port());
}

TEST(RequestSmuggling, AChunkedBodyAloneIsStillServedOnAKeptAliveConnection) {
    TestServer server;
    const std::string key = server.create_key("acme");
    const std::string body = read_text(golden_dir() / "pure_bundle_ca.input.json");
    std::ostringstream hex;
    hex << std::hex << body.size();
    RawConnection connection(server.port());
    connection.send(
        "POST /api/v1/engines/default/runs HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer " + key +
        "\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n" + hex.str() +
        "\r\n" + body + "\r\n0\r\n\r\nGET /health HTTP/1.1\r\nHost: t\r\n\r\n");
    const std::string accepted = connection.read_response();
    EXPECT_EQ(status_of(accepted), 202) << accepted;
    EXPECT_EQ(status_of(connection.read_response()), 200);  // the next request on the connection
}

// Sends `credentials` (header lines) to an authenticated route; answers the raw response.
std::string with_credentials(uint16_t port, const std::string& credentials) {
    RawConnection connection(port);
    connection.send("GET /api/v1/engines HTTP/1.1\r\nHost: t\r\n" + credentials + "\r\n");
    return connection.read_response();
}

TEST(Credentials, TwoKeysInOneRequestAre400AndOneKeyInBothHeadersIsServed) {
    TestServer server;
    const std::string key = server.create_key("acme");
    const std::string other = server.create_key("globex");
    const std::vector<std::pair<std::string, std::string>> refused = {
        {"Authorization: Bearer " + key + "\r\nAuthorization: Bearer " + other + "\r\n",
         "Authorization"},
        {"Authorization: Bearer " + key + "\r\nAuthorization: Bearer " + key + "\r\n",
         "Authorization"},
        {"X-API-Key: " + key + "\r\nX-API-Key: " + other + "\r\n", "X-API-Key"},
        {"Authorization: Bearer " + other + "\r\nX-API-Key: " + key + "\r\n", "Authorization"},
    };
    for (const auto& [credentials, pointer] : refused) {
        SCOPED_TRACE(credentials);
        const std::string response = with_credentials(server.port(), credentials);
        EXPECT_EQ(status_of(response), 400) << response;
        const auto error = error_of(response);
        EXPECT_EQ(error.at("code").as_string(), "invalid_request");
        EXPECT_EQ(error.at("details").at(0).at("pointer").as_string(), pointer);
    }
    const std::string same = with_credentials(
        server.port(), "Authorization: Bearer " + key + "\r\nX-API-Key: " + key + "\r\n");
    EXPECT_EQ(status_of(same), 200) << same;
    EXPECT_EQ(status_of(with_credentials(server.port(), "X-API-Key: " + key + "\r\n")), 200);
    expect_health_answers(server.port());
}

TEST(IdleConnections, AConnectionThatSendsNothingIsClosedAtTheIdleTimeout) {
    app::Config config;
    config.idle_timeout_s = 1;
    TestServer server(config);
    RawConnection silent(server.port());
    const auto started = std::chrono::steady_clock::now();
    bool closed = false;
    EXPECT_EQ(silent.read_until_closed(closed), "");
    EXPECT_TRUE(closed);
    EXPECT_LT(std::chrono::steady_clock::now() - started, 8s)
        << "closed by the read timeout, not the idle one";

    // Kept alive after an answer, it is closed the same way.
    RawConnection kept(server.port());
    kept.send("GET /health HTTP/1.1\r\nHost: t\r\n\r\n");
    EXPECT_EQ(status_of(kept.read_response()), 200);
    EXPECT_EQ(kept.read_until_closed(closed), "");
    EXPECT_TRUE(closed);
    expect_health_answers(server.port());
}

TEST(IdleConnections, ARequestUnderWayHasTheReadTimeoutNotTheIdleOne) {
    app::Config config;
    config.idle_timeout_s = 1;
    TestServer server(config);
    RawConnection slow(server.port());
    slow.send("GET /health HTTP/1.1\r\n");
    std::this_thread::sleep_for(1500ms);  // past the idle timeout, well within the read timeout
    slow.send("Host: t\r\n\r\n");
    EXPECT_EQ(status_of(slow.read_response()), 200);
}

// engined's own client (enginectl, tests, benchmarks) replaces the connection the server closed
// before it sends a request that must not be repeated.
TEST(IdleConnections, TheClientSendsAPostOnAFreshConnectionAfterTheServerClosedItsIdleOne) {
    app::Config config;
    config.idle_timeout_s = 1;
    TestServer server(config);
    const std::string key = server.create_key("acme");
    auto client = server.client();
    ASSERT_EQ(client.request("GET", "/health").status, 200);
    std::this_thread::sleep_for(1500ms);  // the server closes the kept-alive connection meanwhile
    const ApiResponse accepted = call(client, "POST", "/api/v1/engines/default/runs", key,
                                      read_text(golden_dir() / "pure_bundle_ca.input.json"));
    EXPECT_EQ(accepted.status, 202) << accepted.raw.body;
}

TEST(ConnectionsPerAddress, OneAddressPastItsLimitIsAnswered503WhileOtherAddressesAreServed) {
    app::Config config;
    config.max_connections_per_address = 2;
    TestServer server(config);
    std::vector<std::unique_ptr<RawConnection>> held;
    for (int i = 0; i < 2; ++i) {  // at the limit: served
        held.push_back(std::make_unique<RawConnection>(server.port()));
        held.back()->send("GET /health HTTP/1.1\r\nHost: t\r\n\r\n");
        ASSERT_EQ(status_of(held.back()->read_response()), 200)
            << "connection " << i + 1 << " of 2";
    }

    RawConnection past(server.port());  // one past the limit
    past.send("GET /health HTTP/1.1\r\nHost: t\r\n\r\n");
    bool closed = false;
    const std::string refused = past.read_until_closed(closed);
    EXPECT_TRUE(closed);
    EXPECT_EQ(status_of(refused), 503) << refused;
    EXPECT_NE(refused.find("Retry-After: 1\r\n"), std::string::npos) << refused;
    EXPECT_EQ(error_of(refused).at("code").as_string(), "unavailable");
    EXPECT_NE(std::string(error_of(refused).at("message").as_string()).find("limit of 2"),
              std::string::npos);

    // Another address is not affected, and the held connections keep being served.
    RawConnection elsewhere(server.port(), "127.0.0.2");
    elsewhere.send("GET /health HTTP/1.1\r\nHost: t\r\n\r\n");
    EXPECT_EQ(status_of(elsewhere.read_response()), 200);
    for (auto& connection : held) {
        connection->send("GET /health HTTP/1.1\r\nHost: t\r\n\r\n");
        EXPECT_EQ(status_of(connection->read_response()), 200);
    }
    auto metrics_client = server.metrics_client();
    const Exposition metrics =
        parse_prometheus_text(metrics_client.request("GET", "/metrics").body);
    EXPECT_EQ(metrics.value("engined_http_connections_refused_total", {{"limit", "address"}}), 1.0);

    // Once one closes, the address is served again (after the server has seen the close).
    held.pop_back();
    int status = 0;
    for (const auto deadline = std::chrono::steady_clock::now() + 5s;
         status != 200 && std::chrono::steady_clock::now() < deadline;) {
        auto fresh = server.client();
        status = fresh.request("GET", "/health").status;
        if (status != 200) std::this_thread::sleep_for(10ms);
    }
    EXPECT_EQ(status, 200);
}

// A connection over the limit is only told to come back: trickling its request does not keep it
// open past the idle timeout (a served one would have the read timeout).
TEST(ConnectionsPerAddress, AConnectionOverTheLimitHasOnlyTheIdleTimeoutToSendItsRequest) {
    app::Config config;
    config.max_connections_per_address = 1;
    config.idle_timeout_s = 1;
    TestServer server(config);
    RawConnection held(server.port());
    held.send("GET /health HTTP/1.1\r\nHost: t\r\n\r\n");
    ASSERT_EQ(status_of(held.read_response()), 200);

    RawConnection refused(server.port());
    refused.send("GET /health HTTP/1.1\r\n");
    bool closed = false;
    EXPECT_EQ(refused.read_until_closed(closed), "");
    EXPECT_TRUE(closed);
    RawConnection elsewhere(server.port(), "127.0.0.2");
    elsewhere.send("GET /health HTTP/1.1\r\nHost: t\r\n\r\n");
    EXPECT_EQ(status_of(elsewhere.read_response()), 200);
}

TEST(ConnectionsPerAddress, ZeroSwitchesTheLimitOff) {
    app::Config config;
    config.max_connections_per_address =
        0;  // behind a load balancer: every connection from one address
    TestServer server(config);
    std::vector<std::unique_ptr<RawConnection>> held;
    for (int i = 0; i < 80; ++i) {  // past the default of 64
        held.push_back(std::make_unique<RawConnection>(server.port()));
        held.back()->send("GET /health HTTP/1.1\r\nHost: t\r\n\r\n");
        ASSERT_EQ(status_of(held.back()->read_response()), 200) << "connection " << i + 1;
    }
}

}  // namespace
}  // namespace engined::testing
