// The server's threads and its connections: each thread serves its own share of the connections,
// and a connection is served by one thread from its first request to its last, so that answering
// a request never hands it to another HTTP thread; stop() closes the listening socket.
#include "http/client.hpp"
#include "http/server.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <gtest/gtest.h>

#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace engined::http {
namespace {

auth::Principal anyone(const Request&) {
    return {"key_1",      "acme",       "test",       "env_test", {},
            std::nullopt, std::nullopt, std::nullopt, "{}"};
}

std::string this_thread() {
    std::ostringstream id;
    id << std::this_thread::get_id();
    return id.str();
}

TEST(Server, EachConnectionStaysOnOneThreadAndTheConnectionsShareTheThreads) {
    Router router(&anyone);
    router.add_sync(Method::get, "/thread", "", [](const Request&, const auth::Principal&) {
        return Response::json(200, "\"" + this_thread() + "\"");
    });
    ServerOptions options;
    options.port = 0;
    options.threads = 2;
    options.access_log = false;
    Server server(router, options);
    server.start();

    std::vector<Client> connections;
    for (int i = 0; i < 4; ++i) connections.emplace_back("127.0.0.1", server.port());
    std::set<std::string> threads;
    for (Client& connection : connections) {
        std::set<std::string> this_connections;
        for (int request = 0; request < 20; ++request) {
            const ClientResponse answer = connection.request("GET", "/thread");
            ASSERT_EQ(answer.status, 200) << answer.body;
            this_connections.insert(answer.body);
        }
        EXPECT_EQ(this_connections.size(), 1u) << "one connection, one thread";
        threads.insert(this_connections.begin(), this_connections.end());
    }
    EXPECT_EQ(threads.size(), 2u) << "four connections over both threads";
    server.stop();
    server.wait();
}

// A HEAD is answered with the head alone: its Content-Length announces a body that is not sent,
// so the next answer on the connection follows the blank line at once.
TEST(Server, AHeadRequestIsAnsweredWithoutTheBody) {
    Router router(&anyone);
    router.add_sync(Method::get, "/hello", "", [](const Request&, const auth::Principal&) {
        return Response::json(200, R"({"hello":"world"})");
    });
    ServerOptions options;
    options.port = 0;
    options.access_log = false;
    Server server(router, options);
    server.start();
    boost::asio::io_context io;
    boost::asio::ip::tcp::socket socket(io);
    socket.connect({boost::asio::ip::make_address("127.0.0.1"), server.port()});
    boost::asio::write(socket, boost::asio::buffer(std::string(
                                   "HEAD /hello HTTP/1.1\r\nHost: a\r\n\r\n"
                                   "GET /hello HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")));
    std::string received;
    boost::system::error_code ec;
    char chunk[4096];
    while (!ec) received.append(chunk, socket.read_some(boost::asio::buffer(chunk), ec));
    EXPECT_EQ(ec, boost::asio::error::eof) << ec.message();

    const std::size_t first_end = received.find("\r\n\r\n");
    ASSERT_NE(first_end, std::string::npos) << received;
    const std::string first = received.substr(0, first_end + 4);
    const std::string rest = received.substr(first_end + 4);
    EXPECT_TRUE(first.starts_with("HTTP/1.1 ")) << first;
    EXPECT_TRUE(rest.starts_with("HTTP/1.1 200 OK\r\n"))
        << "the HEAD answer carried a body: " << rest;
    EXPECT_TRUE(rest.ends_with("\r\n\r\n{\"hello\":\"world\"}")) << rest;
    server.stop();
    server.wait();
}

// stop() returns with the listening socket closed: a client connecting afterwards is refused at
// once rather than left in the backlog of a socket no thread accepts from.
TEST(Server, AfterStopTheListeningSocketIsClosed) {
    Router router(&anyone);
    ServerOptions options;
    options.port = 0;
    options.access_log = false;
    Server server(router, options);
    server.start();
    const uint16_t port = server.port();
    server.stop();
    boost::asio::io_context io;
    boost::asio::ip::tcp::socket socket(io);
    boost::system::error_code ec;
    socket.connect({boost::asio::ip::make_address("127.0.0.1"), port}, ec);
    EXPECT_EQ(ec, boost::asio::error::connection_refused) << ec.message();
    server.wait();
}

}  // namespace
}  // namespace engined::http
