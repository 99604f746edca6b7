// The outbound client against real receivers on 127.0.0.1. Every URL here points at loopback;
// refused URLs are checked to have reached nothing.
#include "net/outbound_client.hpp"

#include "loopback_receiver.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>

namespace engined::net {
namespace {

using namespace std::chrono_literals;

const std::string tls_dir = std::string(ENGINED_SOURCE_DIR) + "/tests/data/tls/";
const TlsIdentity localhost_identity{tls_dir + "localhost.pem", tls_dir + "server.key"};
const TlsIdentity wrong_name_identity{tls_dir + "wrong-name.pem", tls_dir + "server.key"};

OutboundPolicy allowing(std::vector<std::string> hosts) {
    OutboundPolicy policy;
    policy.allowed_hosts = std::move(hosts);
    return policy;
}

OutboundRequest post_to(std::string url) {
    return {std::move(url),
            {{"Content-Type", "application/json"}, {"X-Nexio-Event", "run.completed"}},
            R"({"id":"evt_1"})"};
}

std::string url_of(const LoopbackReceiver& receiver, std::string_view host = "127.0.0.1",
                   std::string_view scheme = "http") {
    return std::string(scheme) + "://" + std::string(host) + ":" + std::to_string(receiver.port()) +
           "/hooks/in?k=1";
}

TEST(OutboundClient, RefusesLoopbackLiteralWithoutAllowListAndConnectsNowhere) {
    LoopbackReceiver receiver(http_response(204, ""));
    const auto result = OutboundClient(OutboundPolicy{}).post(post_to(url_of(receiver)));
    EXPECT_EQ(to_string(result.failure), "refused_address");
    EXPECT_NE(result.detail.find("127.0.0.1 is a loopback address"), std::string::npos)
        << result.detail;
    EXPECT_EQ(result.status, 0);
    EXPECT_EQ(receiver.connections(), 0u);
}

TEST(OutboundClient, RefusesIpv6LiteralsEmbeddingLoopback) {
    LoopbackReceiver receiver(http_response(204, ""));
    const OutboundClient client(allowing({"127.0.0.1"}));
    for (const char* host : {"[::ffff:127.0.0.1]", "[::127.0.0.1]", "[::1]"}) {
        const auto result = client.post(post_to(url_of(receiver, host)));
        EXPECT_EQ(to_string(result.failure), "refused_address") << host;
        EXPECT_NE(result.detail.find("loopback"), std::string::npos) << result.detail;
    }
    EXPECT_EQ(receiver.connections(), 0u);
}

TEST(OutboundClient, DeliversToAnAllowListedLiteral) {
    LoopbackReceiver receiver(http_response(200, "ok"));
    const auto result = OutboundClient(allowing({"127.0.0.1"})).post(post_to(url_of(receiver)));
    ASSERT_EQ(to_string(result.failure), "none") << result.detail;
    EXPECT_EQ(result.status, 200);
    EXPECT_EQ(result.body, "ok");
    EXPECT_EQ(result.remote_address, "127.0.0.1");
    EXPECT_FALSE(result.retry_after.has_value());
    const auto requests = receiver.requests();
    ASSERT_EQ(requests.size(), 1u);
    const auto& seen = requests.front();
    EXPECT_EQ(seen.method, "POST");
    EXPECT_EQ(seen.target, "/hooks/in?k=1");
    EXPECT_EQ(seen.body, R"({"id":"evt_1"})");
    EXPECT_EQ(seen.values("Content-Type"), std::vector<std::string>{"application/json"});
    EXPECT_EQ(seen.values("X-Nexio-Event"), std::vector<std::string>{"run.completed"});
    EXPECT_EQ(seen.values("Host"),
              std::vector<std::string>{"127.0.0.1:" + std::to_string(receiver.port())});
    EXPECT_EQ(seen.values("Content-Length"), std::vector<std::string>{"14"});
}

TEST(OutboundClient, HostAndContentLengthAreTheClientsOwn) {
    LoopbackReceiver receiver(http_response(200, ""));
    OutboundRequest request = post_to(url_of(receiver));
    request.headers.emplace_back("Host", "internal.example");
    request.headers.emplace_back("Content-Length", "999");
    request.headers.emplace_back("Transfer-Encoding", "chunked");
    const auto result = OutboundClient(allowing({"127.0.0.1"})).post(request);
    ASSERT_EQ(to_string(result.failure), "none") << result.detail;
    const auto seen = receiver.requests().at(0);
    EXPECT_EQ(seen.values("Host"),
              std::vector<std::string>{"127.0.0.1:" + std::to_string(receiver.port())});
    EXPECT_EQ(seen.values("Content-Length"), std::vector<std::string>{"14"});
    EXPECT_TRUE(seen.values("Transfer-Encoding").empty());
    EXPECT_EQ(seen.body, R"({"id":"evt_1"})");
}

TEST(OutboundClient, AnEmptyBodyIsSentWithContentLengthZero) {
    LoopbackReceiver receiver(http_response(200, ""));
    const auto result = OutboundClient(allowing({"127.0.0.1"})).post({url_of(receiver), {}, ""});
    ASSERT_EQ(to_string(result.failure), "none") << result.detail;
    const auto seen = receiver.requests().at(0);
    EXPECT_EQ(seen.method, "POST");
    EXPECT_EQ(seen.values("Content-Length"), std::vector<std::string>{"0"});
}

TEST(OutboundClient, RefusesHeadersThatWouldBreakTheRequest) {
    LoopbackReceiver receiver(http_response(200, ""));
    OutboundRequest request = post_to(url_of(receiver));
    request.headers.emplace_back("X-Injected", "a\r\nX-Evil: 1");
    const auto result = OutboundClient(allowing({"127.0.0.1"})).post(request);
    EXPECT_EQ(to_string(result.failure), "protocol_error");
    EXPECT_EQ(receiver.connections(), 0u);
}

TEST(OutboundClient, AllowListNamesTheHostExactly) {
    LoopbackReceiver receiver(http_response(200, ""));
    const OutboundClient client(allowing({"localhost"}));
    EXPECT_EQ(to_string(client.post(post_to(url_of(receiver, "127.0.0.1"))).failure),
              "refused_address");
    EXPECT_EQ(to_string(client.post(post_to(url_of(receiver, "127.0.0.2"))).failure),
              "refused_address");
    EXPECT_EQ(receiver.connections(), 0u);
}

TEST(OutboundClient, RefusesANameResolvingToLoopbackUnlessAllowListed) {
    LoopbackReceiver receiver(http_response(202, "queued"));
    const auto refused =
        OutboundClient(OutboundPolicy{}).post(post_to(url_of(receiver, "localhost")));
    EXPECT_EQ(to_string(refused.failure), "refused_address");
    EXPECT_NE(refused.detail.find("localhost resolves to"), std::string::npos) << refused.detail;
    EXPECT_NE(refused.detail.find("loopback"), std::string::npos) << refused.detail;
    EXPECT_EQ(receiver.connections(), 0u);

    const auto delivered =
        OutboundClient(allowing({"LocalHost"})).post(post_to(url_of(receiver, "localhost")));
    ASSERT_EQ(to_string(delivered.failure), "none") << delivered.detail;
    EXPECT_EQ(delivered.status, 202);
    EXPECT_EQ(delivered.remote_address, "127.0.0.1");
    ASSERT_EQ(receiver.requests().size(), 1u);
    EXPECT_EQ(receiver.requests()[0].values("Host"),
              std::vector<std::string>{"localhost:" + std::to_string(receiver.port())});
}

TEST(OutboundClient, ReportsServerErrorsWithRetryAfter) {
    LoopbackReceiver receiver(http_response(500, "busy", "Retry-After: 7\r\n"));
    const auto result = OutboundClient(allowing({"127.0.0.1"})).post(post_to(url_of(receiver)));
    ASSERT_EQ(to_string(result.failure), "none") << result.detail;
    EXPECT_EQ(result.status, 500);
    EXPECT_EQ(result.body, "busy");
    EXPECT_EQ(result.retry_after, "7");
}

TEST(OutboundClient, DoesNotFollowRedirects) {
    LoopbackReceiver target(http_response(200, "followed"));
    LoopbackReceiver receiver(http_response(302, "", "Location: " + url_of(target) + "\r\n"));
    const auto result = OutboundClient(allowing({"127.0.0.1"})).post(post_to(url_of(receiver)));
    ASSERT_EQ(to_string(result.failure), "none") << result.detail;
    EXPECT_EQ(result.status, 302);
    EXPECT_EQ(receiver.requests().size(), 1u);
    EXPECT_EQ(target.connections(), 0u);
}

TEST(OutboundClient, TimesOutOnASilentReceiverWithinTheTotalTimeout) {
    LoopbackReceiver receiver("");
    OutboundPolicy policy = allowing({"127.0.0.1"});
    policy.total_timeout = 300ms;
    const auto result = OutboundClient(policy).post(post_to(url_of(receiver)));
    EXPECT_EQ(to_string(result.failure), "timed_out") << result.detail;
    EXPECT_EQ(result.status, 0);
    EXPECT_GE(result.elapsed, 300ms);
    EXPECT_LT(result.elapsed, 800ms);
    EXPECT_EQ(receiver.requests().size(), 1u);  // the request arrived; only the answer never came
}

TEST(OutboundClient, ReportsARefusedConnection) {
    uint16_t closed_port = 0;
    {
        LoopbackReceiver gone(http_response(200, ""));
        closed_port = gone.port();
    }
    const auto result = OutboundClient(allowing({"127.0.0.1"}))
                            .post(post_to("http://127.0.0.1:" + std::to_string(closed_port) + "/"));
    EXPECT_EQ(to_string(result.failure), "connect_failed") << result.detail;
}

TEST(OutboundClient, ResponseBodyCapIsInclusive) {
    OutboundPolicy policy = allowing({"127.0.0.1"});
    policy.max_response_bytes = 1000;
    LoopbackReceiver at_limit(http_response(200, std::string(1000, 'a')));
    const auto accepted = OutboundClient(policy).post(post_to(url_of(at_limit)));
    ASSERT_EQ(to_string(accepted.failure), "none") << accepted.detail;
    EXPECT_EQ(accepted.body.size(), 1000u);

    LoopbackReceiver past_limit(http_response(503, std::string(1001, 'a'), "Retry-After: 30\r\n"));
    const auto refused = OutboundClient(policy).post(post_to(url_of(past_limit)));
    EXPECT_EQ(to_string(refused.failure), "response_too_large") << refused.detail;
    EXPECT_EQ(refused.status, 503);
    EXPECT_EQ(refused.retry_after, "30");
    EXPECT_LE(refused.body.size(), 1000u);
}

TEST(OutboundClient, ChunkedResponsePastTheCapIsTooLarge) {
    OutboundPolicy policy = allowing({"127.0.0.1"});
    policy.max_response_bytes = 1000;
    const std::string chunk(600, 'b');
    LoopbackReceiver receiver(
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n258\r\n" +
        chunk + "\r\n258\r\n" + chunk + "\r\n0\r\n\r\n");
    const auto result = OutboundClient(policy).post(post_to(url_of(receiver)));
    EXPECT_EQ(to_string(result.failure), "response_too_large") << result.detail;
    EXPECT_EQ(result.status, 200);
    EXPECT_LE(result.body.size(), 1000u);
}

TEST(OutboundClient, ResponseHeaderCapIsEnforced) {
    OutboundPolicy policy = allowing({"127.0.0.1"});
    policy.max_response_header_bytes = 1024;
    LoopbackReceiver receiver(
        http_response(200, "", "X-Padding: " + std::string(2000, 'p') + "\r\n"));
    const auto result = OutboundClient(policy).post(post_to(url_of(receiver)));
    EXPECT_EQ(to_string(result.failure), "response_too_large") << result.detail;
}

TEST(OutboundClient, ReportsAMalformedAnswer) {
    LoopbackReceiver receiver("SMTP ready\r\n\r\n");
    const auto result = OutboundClient(allowing({"127.0.0.1"})).post(post_to(url_of(receiver)));
    EXPECT_EQ(to_string(result.failure), "protocol_error") << result.detail;
}

TEST(OutboundClient, RefusesInvalidUrlsBeforeAnyNetworkWork) {
    const auto result = OutboundClient(OutboundPolicy{}).post(post_to("ftp://example.com/"));
    EXPECT_EQ(to_string(result.failure), "invalid_url");
    EXPECT_NE(result.detail.find("scheme"), std::string::npos);
}

TEST(OutboundClient, HttpsFailsAgainstAnUnknownCaWithTheSystemStore) {
    LoopbackReceiver receiver(http_response(200, "ok"), localhost_identity);
    const auto result = OutboundClient(allowing({"localhost"}))
                            .post(post_to(url_of(receiver, "localhost", "https")));
    EXPECT_EQ(to_string(result.failure), "tls_failed");
    EXPECT_NE(result.detail.find("certificate verify failed"), std::string::npos) << result.detail;
    EXPECT_TRUE(receiver.requests().empty());
}

TEST(OutboundClient, HttpsDeliversWithTheTestCa) {
    LoopbackReceiver receiver(http_response(200, "ok"), localhost_identity);
    OutboundPolicy policy = allowing({"localhost", "127.0.0.1"});
    policy.ca_file = tls_dir + "ca.pem";
    const OutboundClient client(policy);
    for (const char* host : {"localhost", "127.0.0.1"}) {
        const auto result = client.post(post_to(url_of(receiver, host, "https")));
        ASSERT_EQ(to_string(result.failure), "none") << host << ": " << result.detail;
        EXPECT_EQ(result.status, 200);
        EXPECT_EQ(result.body, "ok");
    }
    ASSERT_EQ(receiver.requests().size(), 2u);
    EXPECT_EQ(receiver.requests()[0].body, R"({"id":"evt_1"})");
}

TEST(OutboundClient, OneClientServesConcurrentPosts) {
    LoopbackReceiver receiver(http_response(200, "ok"), localhost_identity);
    OutboundPolicy policy = allowing({"localhost"});
    policy.ca_file = tls_dir + "ca.pem";
    const OutboundClient client(policy);
    constexpr int threads = 4;
    constexpr int posts_per_thread = 5;
    std::atomic<int> delivered{0};
    std::vector<std::thread> senders;
    for (int t = 0; t < threads; ++t) {
        senders.emplace_back([&] {
            for (int i = 0; i < posts_per_thread; ++i) {
                if (client.post(post_to(url_of(receiver, "localhost", "https"))).status == 200)
                    ++delivered;
            }
        });
    }
    for (auto& sender : senders) sender.join();
    EXPECT_EQ(delivered.load(), threads * posts_per_thread);
    EXPECT_EQ(receiver.requests().size(), static_cast<std::size_t>(threads * posts_per_thread));
}

TEST(OutboundClient, HttpsRefusesACertificateForAnotherName) {
    LoopbackReceiver receiver(http_response(200, "ok"), wrong_name_identity);
    OutboundPolicy policy = allowing({"localhost"});
    policy.ca_file = tls_dir + "ca.pem";
    const auto result =
        OutboundClient(policy).post(post_to(url_of(receiver, "localhost", "https")));
    EXPECT_EQ(to_string(result.failure), "tls_failed");
    EXPECT_NE(result.detail.find("hostname mismatch"), std::string::npos) << result.detail;
    EXPECT_TRUE(receiver.requests().empty());
    EXPECT_EQ(result.remote_address, "127.0.0.1");  // connected before the handshake failed
}

TEST(OutboundClient, AnUnreadableCaFileFailsHttpsPosts) {
    OutboundPolicy policy = allowing({"localhost"});
    policy.ca_file = tls_dir + "missing.pem";
    const auto result = OutboundClient(policy).post(post_to("https://localhost:1/"));
    EXPECT_EQ(to_string(result.failure), "tls_failed");
    EXPECT_NE(result.detail.find("missing.pem"), std::string::npos) << result.detail;
}

// --- OutboundSession: connections kept between posts ---

OutboundPolicy local_tls_policy() {
    OutboundPolicy policy = allowing({"localhost", "127.0.0.1"});
    policy.ca_file = tls_dir + "ca.pem";
    return policy;
}

TEST(OutboundClient, AOneOffPostAsksForTheConnectionToClose) {
    LoopbackReceiver receiver(http_keep_alive_response(200, "ok"));
    const OutboundClient client(allowing({"127.0.0.1"}));
    ASSERT_EQ(client.post(post_to(url_of(receiver))).status, 200);
    ASSERT_EQ(client.post(post_to(url_of(receiver))).status, 200);
    EXPECT_EQ(receiver.connections(), 2u);
    EXPECT_EQ(receiver.requests().at(0).values("Connection"), std::vector<std::string>{"close"});
}

TEST(OutboundSession, PostsToOneOriginShareOneConnection) {
    LoopbackReceiver receiver(http_keep_alive_response(200, "ok"));
    const OutboundClient client(allowing({"127.0.0.1"}));
    OutboundSession session(client);
    for (int i = 0; i < 3; ++i) {
        OutboundRequest request = post_to(url_of(receiver));
        request.body = R"({"n":)" + std::to_string(i) + "}";
        const auto result = session.post(request);
        ASSERT_EQ(to_string(result.failure), "none") << i << ": " << result.detail;
        EXPECT_EQ(result.status, 200);
        EXPECT_EQ(result.body, "ok");
        EXPECT_EQ(result.remote_address, "127.0.0.1");
    }
    EXPECT_EQ(receiver.connections(), 1u);
    const auto seen = receiver.requests();
    ASSERT_EQ(seen.size(), 3u);
    EXPECT_EQ(seen[2].body, R"({"n":2})");
    EXPECT_TRUE(seen[0].values("Connection").empty());
    EXPECT_EQ(session.idle_connections(), 1u);
}

TEST(OutboundSession, AnHttpsConnectionIsKeptWithoutAnotherHandshake) {
    LoopbackReceiver receiver(http_keep_alive_response(200, "ok"), localhost_identity);
    const OutboundClient client(local_tls_policy());
    OutboundSession session(client);
    for (int i = 0; i < 3; ++i) {
        const auto result = session.post(post_to(url_of(receiver, "localhost", "https")));
        ASSERT_EQ(to_string(result.failure), "none") << i << ": " << result.detail;
        EXPECT_EQ(result.status, 200);
    }
    EXPECT_EQ(receiver.connections(), 1u);
    EXPECT_EQ(receiver.requests().size(), 3u);
}

TEST(OutboundSession, AnAnswerSayingCloseEndsTheConnection) {
    LoopbackReceiver receiver(http_response(200, "ok"));
    const OutboundClient client(allowing({"127.0.0.1"}));
    OutboundSession session(client);
    ASSERT_EQ(session.post(post_to(url_of(receiver))).status, 200);
    EXPECT_EQ(session.idle_connections(), 0u);
    ASSERT_EQ(session.post(post_to(url_of(receiver))).status, 200);
    EXPECT_EQ(receiver.connections(), 2u);
}

TEST(OutboundSession, AnHttp10AnswerEndsTheConnection) {
    LoopbackReceiver receiver("HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok");
    const OutboundClient client(allowing({"127.0.0.1"}));
    OutboundSession session(client);
    ASSERT_EQ(session.post(post_to(url_of(receiver))).status, 200);
    EXPECT_EQ(session.idle_connections(), 0u);
}

TEST(OutboundSession, AConnectionTheReceiverClosedWhileIdleIsReplaced) {
    LoopbackReceiver receiver(http_keep_alive_response(200, "ok"), std::nullopt,
                              {.answers = 1, .then = ConnectionLimit::Then::close});
    const OutboundClient client(allowing({"127.0.0.1"}));
    OutboundSession session(client);
    for (int i = 0; i < 3; ++i) {
        const auto result = session.post(post_to(url_of(receiver)));
        ASSERT_EQ(to_string(result.failure), "none") << i << ": " << result.detail;
        EXPECT_EQ(result.status, 200);
    }
    EXPECT_EQ(receiver.connections(), 3u);
    EXPECT_EQ(receiver.requests().size(), 3u);
}

TEST(OutboundSession, ARequestLostOnAKeptConnectionIsSentOnceMoreOnAFreshOne) {
    // The receiver reads the second request on a connection and closes it unanswered, as a
    // server does whose idle timeout fired just as the request arrived.
    LoopbackReceiver receiver(http_keep_alive_response(200, "ok"), std::nullopt,
                              {.answers = 1, .then = ConnectionLimit::Then::read_then_close});
    const OutboundClient client(allowing({"127.0.0.1"}));
    OutboundSession session(client);
    ASSERT_EQ(session.post(post_to(url_of(receiver))).status, 200);
    const auto result = session.post(post_to(url_of(receiver)));
    ASSERT_EQ(to_string(result.failure), "none") << result.detail;
    EXPECT_EQ(result.status, 200);
    EXPECT_EQ(receiver.connections(), 2u);
    EXPECT_EQ(receiver.requests().size(), 3u);  // the lost one and its resend
}

TEST(OutboundSession, ASilentKeptConnectionTimesOutWithoutAResend) {
    LoopbackReceiver receiver(http_keep_alive_response(200, "ok"), std::nullopt,
                              {.answers = 1, .then = ConnectionLimit::Then::read_then_stay_silent});
    OutboundPolicy policy = allowing({"127.0.0.1"});
    policy.total_timeout = 300ms;
    const OutboundClient client(policy);
    OutboundSession session(client);
    ASSERT_EQ(session.post(post_to(url_of(receiver))).status, 200);
    const auto result = session.post(post_to(url_of(receiver)));
    EXPECT_EQ(to_string(result.failure), "timed_out") << result.detail;
    EXPECT_EQ(receiver.connections(), 1u);
    EXPECT_EQ(receiver.requests().size(), 2u);
    EXPECT_EQ(session.idle_connections(), 0u);
}

TEST(OutboundSession, AKeptConnectionIsNotLentToAnotherHostName) {
    LoopbackReceiver receiver(http_keep_alive_response(200, "ok"));
    const OutboundClient client(allowing({"localhost"}));
    OutboundSession session(client);
    ASSERT_EQ(session.post(post_to(url_of(receiver, "localhost"))).status, 200);
    ASSERT_EQ(session.idle_connections(), 1u);
    // Same address and port, but 127.0.0.1 is not allow-listed: refused, not sent on the
    // connection opened for localhost.
    const auto refused = session.post(post_to(url_of(receiver, "127.0.0.1")));
    EXPECT_EQ(to_string(refused.failure), "refused_address") << refused.detail;
    EXPECT_EQ(receiver.requests().size(), 1u);
    EXPECT_EQ(receiver.connections(), 1u);
}

TEST(OutboundSession, ConnectionsIdleTooLongOrTooOldAreClosed) {
    LoopbackReceiver receiver(http_keep_alive_response(200, "ok"));
    const OutboundClient client(allowing({"127.0.0.1"}));

    OutboundSession short_idle(client, KeepAlive{.idle_for = 50ms});
    ASSERT_EQ(short_idle.post(post_to(url_of(receiver))).status, 200);
    EXPECT_EQ(short_idle.idle_connections(), 1u);
    std::this_thread::sleep_for(80ms);
    short_idle.close_expired();
    EXPECT_EQ(short_idle.idle_connections(), 0u);
    ASSERT_EQ(short_idle.post(post_to(url_of(receiver))).status, 200);
    EXPECT_EQ(receiver.connections(), 2u);

    OutboundSession short_lived(client, KeepAlive{.max_age = 0ms});
    ASSERT_EQ(short_lived.post(post_to(url_of(receiver))).status, 200);
    ASSERT_EQ(short_lived.post(post_to(url_of(receiver))).status, 200);
    EXPECT_EQ(receiver.connections(), 4u);
}

TEST(OutboundSession, KeepsAtMostMaxIdleConnectionsDroppingTheOldest) {
    LoopbackReceiver first(http_keep_alive_response(200, "1"));
    LoopbackReceiver second(http_keep_alive_response(200, "2"));
    LoopbackReceiver third(http_keep_alive_response(200, "3"));
    const OutboundClient client(allowing({"127.0.0.1"}));
    OutboundSession session(client, KeepAlive{.max_idle = 2});
    for (const auto* receiver : {&first, &second, &third}) {
        ASSERT_EQ(session.post(post_to(url_of(*receiver))).status, 200);
    }
    EXPECT_EQ(session.idle_connections(), 2u);
    for (const auto* receiver : {&third, &second, &first}) {
        ASSERT_EQ(session.post(post_to(url_of(*receiver))).status, 200);
    }
    EXPECT_EQ(first.connections(), 2u);  // the oldest, dropped for the third
    EXPECT_EQ(second.connections(), 1u);
    EXPECT_EQ(third.connections(), 1u);
}

}  // namespace
}  // namespace engined::net
