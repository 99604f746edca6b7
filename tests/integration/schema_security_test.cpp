// Hostile JSON Schemas in an engine configuration, over HTTP against a real engined: each is
// answered in the error envelope with the pointer of its problem by config/validate, PUT and
// publish, hostile patterns at submit get their answer, and GET /health answers after each.
#include "test_server.hpp"

#include "common/crypto.hpp"
#include "common/json_text.hpp"
#include "common/time.hpp"
#include "store/store.hpp"

#include <gtest/gtest.h>

#include <functional>

namespace engined::testing {
namespace {

namespace json = boost::json;

class HostileSchemaTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        server_ = new TestServer();
        admin_ = server_->create_key("acme", "live", {"runs:write", "runs:read", "engines:admin"});
        http::Client client = server_->client();
        const ApiResponse created = call(
            client, "POST", "/api/v1/engines", admin_,
            json::serialize(json::object{
                {"slug", "hostile"}, {"label", "Hostile schemas"}, {"engine_type", "placement"}}));
        ASSERT_EQ(created.status, 201) << created.raw.body;
    }
    static void TearDownTestSuite() {
        delete server_;
        server_ = nullptr;
    }

    ApiResponse api(const std::string& method, const std::string& target,
                    const json::value& body = nullptr) {
        return call(client_, method, target, admin_,
                    body.is_null() ? std::string() : json::serialize(body));
    }

    json::object current_config() {
        const ApiResponse response = api("GET", "/api/v1/engines/hostile/config");
        EXPECT_EQ(response.status, 200) << response.raw.body;
        return response.body.at("config").as_object();
    }

    static bool lists(const json::value& details, const std::string& pointer_prefix,
                      const char* pointer_field) {
        if (!details.is_array()) return false;
        for (const auto& detail : details.get_array()) {
            const auto* pointer = detail.as_object().if_contains(pointer_field);
            if (pointer && pointer->is_string() &&
                pointer->get_string().starts_with(pointer_prefix))
                return true;
        }
        return false;
    }

    // validate answers valid:false with the pointer; PUT answers 422 invalid_config with it in the
    // details; the stored configuration is unchanged; the server still answers.
    void expect_refused_everywhere(const json::object& config, const std::string& pointer) {
        const std::string stored_before = json::serialize(current_config());
        const ApiResponse verdict = api("POST", "/api/v1/engines/hostile/config/validate",
                                        json::object{{"config", config}});
        ASSERT_EQ(verdict.status, 200) << verdict.raw.body;
        EXPECT_EQ(verdict.body.at("valid"), json::value(false)) << verdict.raw.body;
        EXPECT_TRUE(lists(verdict.body.at("errors"), pointer, "path"))
            << pointer << " in " << verdict.raw.body;
        expect_health_answers(server_->port());

        const ApiResponse put =
            api("PUT", "/api/v1/engines/hostile/config", json::object{{"config", config}});
        EXPECT_EQ(put.status, 422) << put.raw.body;
        EXPECT_EQ(put.body.at("error").at("code"), json::value("invalid_config")) << put.raw.body;
        EXPECT_TRUE(lists(put.body.at("error").at("details"), pointer, "pointer"))
            << pointer << " in " << put.raw.body;
        EXPECT_EQ(json::serialize(current_config()), stored_before);
        expect_health_answers(server_->port());
    }

    static json::object with_request_schema(json::object config, json::value schema) {
        config["request_schema"] = std::move(schema);
        return config;
    }

    static TestServer* server_;
    static std::string admin_;
    http::Client client_ = server_->client();
};

TestServer* HostileSchemaTest::server_ = nullptr;
std::string HostileSchemaTest::admin_;

TEST_F(HostileSchemaTest, ARefLoopIsRefusedWithItsPointer) {
    expect_refused_everywhere(
        with_request_schema(current_config(),
                            json::parse(R"({"definitions": {"loop": {"$ref": "#/definitions/loop"}},
                                                             "$ref": "#/definitions/loop"})")),
        "/request_schema/definitions/loop");
}

TEST_F(HostileSchemaTest, ARefCycleThroughTwoDefinitionsInTheResponseSchemaIsRefused) {
    json::object config = current_config();
    config["response_schema"] =
        json::parse(R"({"properties": {"output": {"$ref": "#/definitions/p"}},
        "definitions": {"p": {"$ref": "#/definitions/q"}, "q": {"$ref": "#/definitions/p"}}})");
    expect_refused_everywhere(config, "/response_schema/definitions/");
}

TEST_F(HostileSchemaTest, ASelfReferencingAllOfIsRefused) {
    expect_refused_everywhere(
        with_request_schema(current_config(),
                            json::parse(R"({"properties": {"input": {"$ref": "#/definitions/a"}},
            "definitions": {"a": {"allOf": [{"type": "object"}, {"$ref": "#/definitions/a"}]}}})")),
        "/request_schema/definitions/a");
}

TEST_F(HostileSchemaTest, APatternRe2CannotCompileIsRefusedAtItsKeyword) {
    expect_refused_everywhere(
        with_request_schema(
            current_config(),
            json::parse(
                R"({"properties": {"input": {"properties": {"a": {"pattern": "(a)\\1"}}}}})")),
        "/request_schema/properties/input/properties/a/pattern");
}

// A configuration stored before these bounds existed (written straight into the store): publish
// and submit refuse it with the pointer instead of running it.
TEST_F(HostileSchemaTest, AStoredCyclicSchemaIsRefusedByPublishAndSubmit) {
    const std::string legacy_admin =
        server_->create_key("legacy", "live", {"runs:write", "runs:read", "engines:admin"});
    ASSERT_EQ(call(client_, "POST", "/api/v1/engines", legacy_admin,
                   json::serialize(json::object{
                       {"slug", "legacy"}, {"label", "Legacy"}, {"engine_type", "placement"}}))
                  .status,
              201);
    json::object config = with_request_schema(
        current_config(), json::parse(R"({"properties": {"input": {"$ref": "#/definitions/a"}},
            "definitions": {"a": {"allOf": [{"$ref": "#/definitions/a"}]}}})"));
    const std::string config_json = canonical_json(config);
    ASSERT_TRUE(server_->app().store().update_engine_config(
        "legacy", "legacy", sha256_hex(config_json), config_json, "test", now_unix_ms()));

    const ApiResponse published =
        call(client_, "POST", "/api/v1/engines/legacy/versions", legacy_admin, "{}");
    EXPECT_EQ(published.status, 422) << published.raw.body;
    EXPECT_EQ(published.body.at("error").at("code"), json::value("invalid_config"))
        << published.raw.body;
    EXPECT_TRUE(
        lists(published.body.at("error").at("details"), "/request_schema/definitions/a", "pointer"))
        << published.raw.body;
    expect_health_answers(server_->port());

    auto body =
        json::parse(read_text(golden_dir() / "brokerage_tx_multicarrier.input.json")).as_object();
    const ApiResponse submitted =
        call(client_, "POST", "/api/v1/engines/legacy/runs", legacy_admin, json::serialize(body));
    EXPECT_EQ(submitted.status, 422) << submitted.raw.body;
    EXPECT_EQ(submitted.body.at("error").at("code"), json::value("invalid_config"))
        << submitted.raw.body;
    expect_health_answers(server_->port());
}

// Patterns that sent std::regex into a stack overflow or exponential backtracking, at submit.
TEST_F(HostileSchemaTest, HostilePatternsAtSubmitGetTheirAnswer) {
    json::object config = current_config();
    auto& input =
        config["request_schema"].as_object()["definitions"].as_object()["input"].as_object();
    input["properties"].as_object()["alternation"] =
        json::object{{"type", "string"}, {"pattern", "^(a|b)*$"}};
    input["properties"].as_object()["nested"] =
        json::object{{"type", "string"}, {"pattern", "^(a+)+$"}};
    const ApiResponse put =
        api("PUT", "/api/v1/engines/hostile/config", json::object{{"config", config}});
    ASSERT_EQ(put.status, 200) << put.raw.body;

    auto submit = [&](const char* field, const std::string& text) {
        auto body = json::parse(read_text(golden_dir() / "brokerage_tx_multicarrier.input.json"))
                        .as_object();
        body["input"].as_object()[field] = text;
        return api("POST", "/api/v1/engines/hostile/runs", body);
    };
    std::string alternation(100000, 'a');
    for (std::size_t i = 0; i < alternation.size(); i += 2) alternation[i] = 'b';
    EXPECT_EQ(submit("alternation", alternation).status, 202);
    expect_health_answers(server_->port());
    const ApiResponse refused = submit("alternation", alternation + "c");
    EXPECT_EQ(refused.status, 422) << refused.raw.body.substr(0, 500);
    EXPECT_TRUE(lists(refused.body.at("error").at("details"), "/input/alternation", "pointer"))
        << refused.raw.body.substr(0, 500);
    expect_health_answers(server_->port());

    const ApiResponse backtracking = submit("nested", std::string(10000, 'a') + "!");
    EXPECT_EQ(backtracking.status, 422) << backtracking.raw.body.substr(0, 500);
    EXPECT_TRUE(lists(backtracking.body.at("error").at("details"), "/input/nested", "pointer"))
        << backtracking.raw.body.substr(0, 500);
    expect_health_answers(server_->port());
}

}  // namespace
}  // namespace engined::testing
