// What an integrator (or an agent) reads about the API, as served. The OpenAPI documents: the
// platform document names every route the routers serve (a route added without documentation fails
// here), every operation has an operationId and real answer schemas, and a real validator
// (swagger-parser, from npm) accepts the platform document and the built-in engines' documents.
// The contract guide: compact by default, whole with ?full=1.
#include "test_server.hpp"

#include "http/router.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <set>

namespace engined::testing {
namespace {

class IntegratorDocumentsTest : public ::testing::Test {
protected:
    boost::json::object get_document(const std::string& target) {
        http::Client client = server_.client();
        const ApiResponse answer = call(client, "GET", target, key_);
        EXPECT_EQ(answer.status, 200) << target << ": " << answer.raw.body;
        return answer.body.is_object() ? answer.body.as_object() : boost::json::object{};
    }

    TestServer server_;
    const std::string key_ = server_.create_key("acme");
};

std::string lower(std::string_view text) {
    std::string out(text);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

const std::set<std::string> kHttpMethods = {"get",     "put",  "post",  "delete",
                                            "options", "head", "patch", "trace"};

// "get /api/v1/runs/{run_id}" for every operation of `document`.
std::set<std::string> documented_operations(const boost::json::object& document) {
    std::set<std::string> operations;
    for (const auto& [path, item] : document.at("paths").as_object()) {
        for (const auto& [method, operation] : item.as_object()) {
            if (kHttpMethods.contains(std::string(method)))
                operations.insert(std::string(method) + " " + std::string(path));
        }
    }
    return operations;
}

TEST_F(IntegratorDocumentsTest, PlatformDocumentNamesEveryRouteTheRoutersServe) {
    std::set<std::string> served;
    for (const http::Router* router : {&server_.app().router(), &server_.app().metrics_router()}) {
        for (const auto& route : router->routes())
            served.insert(lower(http::to_string(route.method)) + " " + route.pattern);
    }
    const std::set<std::string> documented =
        documented_operations(get_document("/api/v1/openapi.json"));
    for (const auto& operation : served)
        EXPECT_TRUE(documented.contains(operation)) << "undocumented route: " << operation;
    for (const auto& operation : documented)
        EXPECT_TRUE(served.contains(operation)) << "documented, not served: " << operation;
    for (const char* expected :
         {"get /ready", "get /metrics", "post /api/v1/runs/{run_id}/replay",
          "get /api/v1/runs/{run_id}/defensibility-packet", "post /api/v1/webhooks",
          "get /api/v1/engines/{slug}/openapi.json"}) {
        EXPECT_TRUE(documented.contains(expected)) << expected;
    }
}

TEST_F(IntegratorDocumentsTest, EveryOperationHasAUniqueOperationIdAndTypedAnswers) {
    const boost::json::object document = get_document("/api/v1/openapi.json");
    EXPECT_EQ(document.at("openapi").as_string(), "3.0.3");
    std::set<std::string> ids;
    for (const auto& [path, item] : document.at("paths").as_object()) {
        for (const auto& [method, operation] : item.as_object()) {
            if (!kHttpMethods.contains(std::string(method))) continue;
            const std::string where = std::string(method) + " " + std::string(path);
            ASSERT_TRUE(operation.as_object().contains("operationId")) << where;
            EXPECT_TRUE(ids.insert(std::string(operation.at("operationId").as_string())).second)
                << "duplicate id at " << where;
            for (const auto& [status, response] : operation.at("responses").as_object()) {
                const boost::json::value* content = response.as_object().if_contains("content");
                if (response.as_object().contains("$ref")) continue;
                ASSERT_NE(content, nullptr) << where << " " << status;
            }
        }
    }
    // The 202 of a submit is the accepted body (or, past a wait, the run), with its Location; a
    // 200 (with wait) the run; a 429 says when to come back.
    const auto& submit = document.at("paths").at("/api/v1/engines/{slug}/runs").at("post");
    const auto schema_of = [&submit](const char* status) {
        return submit.at("responses").at(status).at("content").at("application/json").at("schema");
    };
    EXPECT_EQ(schema_of("202").at("oneOf"),
              boost::json::parse(R"([{"$ref":"#/components/schemas/Accepted"},)"
                                 R"({"$ref":"#/components/schemas/Run"}])"));
    EXPECT_EQ(schema_of("200").at("$ref").as_string(), "#/components/schemas/Run");
    EXPECT_TRUE(submit.at("responses").at("202").at("headers").as_object().contains("Location"));
    EXPECT_EQ(submit.at("responses").at("429").at("$ref").as_string(),
              "#/components/responses/TooManyRequests");
    const auto& components = document.at("components");
    const auto& accepted = components.at("schemas").at("Accepted").at("properties");
    EXPECT_TRUE(accepted.as_object().contains("run_id"));
    EXPECT_EQ(accepted.at("status").at("enum").as_array().at(0).as_string(), "queued");
    EXPECT_TRUE(components.at("responses")
                    .at("TooManyRequests")
                    .at("headers")
                    .as_object()
                    .contains("Retry-After"));
    EXPECT_TRUE(components.at("schemas")
                    .at("Error")
                    .at("properties")
                    .at("error")
                    .at("properties")
                    .as_object()
                    .contains("details"));
    EXPECT_TRUE(
        components.at("schemas").at("Run").at("properties").as_object().contains("solutions"));
    // Public routes need no key.
    EXPECT_TRUE(document.at("paths").at("/ready").at("get").at("security").as_array().empty());
}

TEST_F(IntegratorDocumentsTest, EngineDocumentCarriesItsContractConvertedForOpenApi30) {
    const boost::json::object document =
        get_document("/api/v1/engines/entity-analysis/openapi.json");
    EXPECT_TRUE(document.at("paths").as_object().contains("/api/v1/engines/entity-analysis/runs"));
    const std::string text = boost::json::serialize(document);
    // The contract's draft-07 keywords are gone or converted.
    for (const char* draft_only : {"\"$schema\"", "\"$id\"", "\"definitions\"", "\"type\":[",
                                   "\"type\":\"null\"", "\"const\""}) {
        EXPECT_EQ(text.find(draft_only), std::string::npos) << draft_only;
    }
    const auto& schemas = document.at("components").at("schemas");
    EXPECT_EQ(schemas.at("RunRequest").at("properties").at("input").at("$ref").as_string(),
              "#/components/schemas/Request_input");
    EXPECT_TRUE(schemas.at("Request_input").at("properties").as_object().contains("pool"))
        << schemas.at("Request_input");
    EXPECT_EQ(
        get_document("/api/v1/engines/default/openapi.json").at("info").at("title").as_string(),
        "engined engine default (current configuration)");
    http::Client client = server_.client();
    EXPECT_EQ(call(client, "GET", "/api/v1/engines/no-such-engine/openapi.json", key_).status, 404);
    EXPECT_EQ(call(client, "GET", "/api/v1/engines/default/openapi.json?engine_version=1.0.0", key_)
                  .status,
              400);
}

// Runs the npm validator on `files`; returns its exit status and output.
std::pair<int, std::string> run_validator(const std::vector<std::filesystem::path>& files) {
    std::string command =
        "node '" + std::string(ENGINED_SOURCE_DIR) + "/tools/openapi/validate.js'";
    for (const auto& file : files) command += " '" + file.string() + "'";
    command += " 2>&1";
    std::string output;
    FILE* pipe = popen(command.c_str(), "r");
    if (pipe == nullptr) return {-1, "popen failed"};
    char buffer[4096];
    while (const std::size_t got = std::fread(buffer, 1, sizeof buffer, pipe))
        output.append(buffer, got);
    const int status = pclose(pipe);
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

TEST_F(IntegratorDocumentsTest, RealValidatorAcceptsThePlatformAndEngineDocuments) {
    if (std::system("node --version >/dev/null 2>&1") != 0) {
        GTEST_SKIP()
            << "node is not installed (tools/install-deps.sh installs nodejs and the validator)";
    }
    const std::filesystem::path dir = fresh_temp_dir("openapi");
    std::vector<std::filesystem::path> files;
    for (const char* target : {"/api/v1/openapi.json", "/api/v1/engines/default/openapi.json",
                               "/api/v1/engines/entity-analysis/openapi.json"}) {
        files.push_back(dir / ("doc" + std::to_string(files.size()) + ".json"));
        std::ofstream(files.back()) << boost::json::serialize(get_document(target));
    }
    const auto [status, output] = run_validator(files);
    ASSERT_NE(status, 2) << output;
    EXPECT_EQ(status, 0) << output;

    // The validator does refuse what OpenAPI 3.0 does not have: the `type` arrays of draft-07.
    boost::json::object broken = get_document("/api/v1/openapi.json");
    broken["components"]
        .as_object()["schemas"]
        .as_object()["Run"]
        .as_object()["properties"]
        .as_object()["webhook_url"] = boost::json::object{{"type", {"string", "null"}}};
    const std::filesystem::path broken_file = dir / "broken.json";
    std::ofstream(broken_file) << boost::json::serialize(broken);
    const auto [broken_status, broken_output] = run_validator({broken_file});
    EXPECT_EQ(broken_status, 1) << broken_output;
    std::filesystem::remove_all(dir);
}

// An operator's engine whose request schema uses what draft-07 has and OpenAPI 3.0 lacks: its
// document still passes the validator and keeps the constraints OpenAPI 3.0 can say.
TEST_F(IntegratorDocumentsTest, RealValidatorAcceptsAnEngineWithDraft07OnlyKeywords) {
    if (std::system("node --version >/dev/null 2>&1") != 0) {
        GTEST_SKIP()
            << "node is not installed (tools/install-deps.sh installs nodejs and the validator)";
    }
    const std::string admin =
        server_.create_key("acme", "live", {"runs:write", "runs:read", "engines:admin"});
    http::Client client = server_.client();
    ASSERT_EQ(call(client, "POST", "/api/v1/engines", admin,
                   R"({"slug": "draft7", "copy_from": "default"})")
                  .status,
              201);
    boost::json::object config =
        call(client, "GET", "/api/v1/engines/draft7/config", admin).body.at("config").as_object();
    auto& definitions = config["request_schema"].as_object()["definitions"].as_object();
    definitions["broker code"] = boost::json::parse(
        R"({"$id": "#broker", "type": ["string", "null"], "pattern": "^[A-Z]{3}$"})");
    definitions["input"].as_object()["properties"].as_object()["broker"] = boost::json::parse(R"({
        "$comment": "operator-authored", "$ref": "#/definitions/broker code", "description": "The placing broker"})");
    definitions["input"].as_object()["properties"].as_object()["channel"] = boost::json::parse(R"({
        "const": "direct", "examples": ["direct"]})");
    definitions["input"].as_object()["properties"].as_object()["share"] = boost::json::parse(R"({
        "type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1,
        "if": {"minimum": 0.5}, "then": {"multipleOf": 0.25}})");
    definitions["input"].as_object()["properties"].as_object()["tags"] = boost::json::parse(R"({
        "type": "array", "items": [{"type": "string"}, {"type": "integer"}], "additionalItems": false,
        "contains": {"type": "string"}, "propertyNames": {"maxLength": 3}})");
    const ApiResponse put = call(client, "PUT", "/api/v1/engines/draft7/config", admin,
                                 boost::json::serialize(boost::json::object{{"config", config}}));
    ASSERT_EQ(put.status, 200) << put.raw.body;

    const boost::json::object document = get_document("/api/v1/engines/draft7/openapi.json");
    const auto& schemas = document.at("components").at("schemas");
    EXPECT_EQ(
        schemas.at("Request_broker_code"),
        boost::json::parse(R"({"type": "string", "nullable": true, "pattern": "^[A-Z]{3}$"})"));
    const auto& properties = schemas.at("Request_input").at("properties");
    EXPECT_EQ(properties.at("channel"),
              boost::json::parse(R"({"enum": ["direct"], "example": "direct"})"));
    EXPECT_EQ(properties.at("share").at("exclusiveMinimum"), true);
    const std::filesystem::path dir = fresh_temp_dir("openapi-draft7");
    std::ofstream(dir / "draft7.json") << boost::json::serialize(document);
    const auto [status, output] = run_validator({dir / "draft7.json"});
    EXPECT_EQ(status, 0) << output;
    std::filesystem::remove_all(dir);
}

TEST_F(IntegratorDocumentsTest, ContractGuideIsCompactAndSaysHowToPinRetryAndDeduplicate) {
    http::Client client = server_.client();
    const std::vector<std::pair<std::string, std::string>> auth{
        {"Authorization", "Bearer " + key_}};
    const http::ClientResponse compact =
        client.request("GET", "/api/v1/engines/default/contract.md", "", auth);
    ASSERT_EQ(compact.status, 200) << compact.body;
    RecordProperty("compact_bytes", static_cast<int>(compact.body.size()));
    EXPECT_LE(compact.body.size(), 15000u) << "the default engine's compact guide grew past 15 KB";
    for (const char* part :
         {"## Which version to pin", "\"MAJOR.MINOR\"", "\"MAJOR.x\"", "Omitted or `null`",
          "current configuration", "Idempotency-Key", "idempotency_conflict", "429", "Retry-After",
          "doubling the wait", "## Request schema", "coverage_types", "## Example request",
          "## Example response", " more\"", "full=1"}) {
        EXPECT_NE(compact.body.find(part), std::string::npos) << part;
    }
    EXPECT_EQ(compact.body.find("## Response schema"), std::string::npos);
    EXPECT_EQ(client.request("GET", "/api/v1/engines/default/contract.md?full=0", "", auth).body,
              compact.body);

    const http::ClientResponse pinned =
        client.request("GET", "/api/v1/engines/default/contract.md?engine_version=1.x", "", auth);
    ASSERT_EQ(pinned.status, 200) << pinned.body;
    EXPECT_NE(pinned.body.find("describes release 1.1"), std::string::npos);
    EXPECT_NE(pinned.body.find("contract.md?engine_version=1.1&full=1"), std::string::npos);
}

TEST_F(IntegratorDocumentsTest, FullContractGuideKeepsEveryExampleAndTheResponseSchema) {
    http::Client client = server_.client();
    const std::vector<std::pair<std::string, std::string>> auth{
        {"Authorization", "Bearer " + key_}};
    const http::ClientResponse full =
        client.request("GET", "/api/v1/engines/default/contract.md?full=1", "", auth);
    ASSERT_EQ(full.status, 200) << full.body;
    RecordProperty("full_bytes", static_cast<int>(full.body.size()));
    EXPECT_GT(full.body.size(), 15u * 1024);
    EXPECT_NE(full.body.find("## Response schema"), std::string::npos);
    EXPECT_EQ(full.body.find(" more\""), std::string::npos) << "nothing is abbreviated";
    // Every offering of the shipped example request is there, the last one included.
    const auto example = boost::json::parse(read_text(std::filesystem::path(ENGINED_SOURCE_DIR) /
                                                      "contracts/placement/example_request.json"));
    const auto& offerings = example.at("offerings").as_array();
    ASSERT_GT(offerings.size(), 1u);
    EXPECT_NE(full.body.find(std::string(offerings.back().at("id").as_string())),
              std::string::npos);

    const ApiResponse refused =
        call(client, "GET", "/api/v1/engines/default/contract.md?full=yes", key_);
    EXPECT_EQ(refused.status, 400);
    EXPECT_NE(refused.raw.body.find("full must be 1"), std::string::npos) << refused.raw.body;
}

}  // namespace
}  // namespace engined::testing
