// Absolute links over HTTP: Location headers and the OpenAPI server URL come from --public-url
// when set, else from the request's Host, and a missing or hostile Host falls back to the listen
// address (and the server keeps answering).
#include "test_server.hpp"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace engined::testing {
namespace {

using Headers = std::vector<std::pair<std::string, std::string>>;

class LinksTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        server_ = new TestServer();
        key_ = server_->create_key("links-org");
        app::Config config;
        config.public_url = "https://api.example.com/engined";
        public_server_ = new TestServer(config);
        public_key_ = public_server_->create_key("links-org");
    }
    static void TearDownTestSuite() {
        delete server_;
        delete public_server_;
        server_ = public_server_ = nullptr;
    }

    static http::ClientResponse post(TestServer& server, const std::string& target,
                                     const std::string& key, const Headers& extra = {}) {
        Headers headers{{"Authorization", "Bearer " + key}};
        headers.insert(headers.end(), extra.begin(), extra.end());
        return server.client().request(
            "POST", target, read_text(golden_dir() / "auto_only_ny.input.json"), headers);
    }

    static std::string openapi_server_url(TestServer& server, const std::string& key,
                                          const Headers& extra = {}) {
        Headers headers{{"Authorization", "Bearer " + key}};
        headers.insert(headers.end(), extra.begin(), extra.end());
        const http::ClientResponse answer =
            server.client().request("GET", "/api/v1/openapi.json", "", headers);
        EXPECT_EQ(answer.status, 200) << answer.body;
        return std::string(
            boost::json::parse(answer.body).at("servers").at(0).at("url").as_string());
    }

    static std::string run_id_of(const http::ClientResponse& answer) {
        return std::string(boost::json::parse(answer.body).at("run_id").as_string());
    }

    static TestServer* server_;
    static TestServer* public_server_;
    static std::string key_;
    static std::string public_key_;
};

TestServer* LinksTest::server_ = nullptr;
TestServer* LinksTest::public_server_ = nullptr;
std::string LinksTest::key_;
std::string LinksTest::public_key_;

TEST_F(LinksTest, WithoutAPublicUrlLinksUseTheRequestsHost) {
    const http::ClientResponse sent_to_loopback =
        post(*server_, "/api/v1/engines/default/runs", key_);
    ASSERT_EQ(sent_to_loopback.status, 202) << sent_to_loopback.body;
    EXPECT_EQ(sent_to_loopback.header("Location"),
              server_->origin() + "/api/v1/runs/" + run_id_of(sent_to_loopback));

    const Headers proxied{{"Host", "engined.internal:8443"}};
    const http::ClientResponse run = post(*server_, "/api/v1/engines/default/runs", key_, proxied);
    ASSERT_EQ(run.status, 202) << run.body;
    EXPECT_EQ(run.header("Location"), "http://engined.internal:8443/api/v1/runs/" + run_id_of(run));
    const http::ClientResponse job = post(*server_, "/api/v1/jobs", key_, proxied);
    ASSERT_EQ(job.status, 202) << job.body;
    EXPECT_EQ(job.header("Location"), "http://engined.internal:8443/api/v1/jobs/" + run_id_of(job));
    EXPECT_EQ(openapi_server_url(*server_, key_, proxied), "http://engined.internal:8443");
    EXPECT_EQ(openapi_server_url(*server_, key_), server_->origin());
}

TEST_F(LinksTest, AHostileHostFallsBackToTheListenAddress) {
    for (const char* host :
         {"evil.example/phish?", "evil.example x", "user@evil.example", "evil.example:99999"}) {
        const http::ClientResponse run =
            post(*server_, "/api/v1/engines/default/runs", key_, {{"Host", host}});
        ASSERT_EQ(run.status, 202) << host << ": " << run.body;
        EXPECT_EQ(run.header("Location"), server_->origin() + "/api/v1/runs/" + run_id_of(run))
            << host;
        EXPECT_EQ(openapi_server_url(*server_, key_, {{"Host", host}}), server_->origin()) << host;
    }
    EXPECT_EQ(server_->client().request("GET", "/health").status, 200);
}

TEST_F(LinksTest, APublicUrlIsUsedWhateverTheHost) {
    for (const Headers& host : {Headers{}, Headers{{"Host", "engined.internal:8443"}},
                                Headers{{"Host", "evil.example/x"}}}) {
        const http::ClientResponse run =
            post(*public_server_, "/api/v1/engines/default/runs", public_key_, host);
        ASSERT_EQ(run.status, 202) << run.body;
        EXPECT_EQ(run.header("Location"),
                  "https://api.example.com/engined/api/v1/runs/" + run_id_of(run));
        EXPECT_EQ(openapi_server_url(*public_server_, public_key_, host),
                  "https://api.example.com/engined");
    }
    EXPECT_EQ(public_server_->client().request("GET", "/health").status, 200);
}

}  // namespace
}  // namespace engined::testing
