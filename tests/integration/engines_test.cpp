// The operator's and integrator's lifecycle over HTTP: create an engine, validate and replace its
// configuration, publish versions, pin runs to them, read the contract; and the immutability of
// shipped release bundles across restarts.
#include "test_server.hpp"

#include "common/json_text.hpp"
#include "store/store.hpp"

#include <gtest/gtest.h>

#include <fstream>

namespace engined::testing {
namespace {

class EngineLifecycleTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        server_ = new TestServer();
        admin_ = server_->create_key("acme", "live", {"runs:write", "runs:read", "engines:admin"});
    }
    static void TearDownTestSuite() {
        delete server_;
        server_ = nullptr;
    }

    ApiResponse api(const std::string& method, const std::string& target,
                    const boost::json::value& body = nullptr, const std::string& key = admin_) {
        return call(client_, method, target, key,
                    body.is_null() ? std::string() : boost::json::serialize(body));
    }

    boost::json::object current_config() {
        const ApiResponse response = api("GET", "/api/v1/engines/home-auto/config");
        EXPECT_EQ(response.status, 200) << response.raw.body;
        return response.body.at("config").as_object();
    }

    void put_config(const boost::json::object& config) {
        const ApiResponse response =
            api("PUT", "/api/v1/engines/home-auto/config", boost::json::object{{"config", config}});
        ASSERT_EQ(response.status, 200) << response.raw.body;
    }

    boost::json::object publish(int expected_status, const std::string& changelog) {
        const ApiResponse response = api("POST", "/api/v1/engines/home-auto/versions",
                                         boost::json::object{{"changelog", changelog}});
        EXPECT_EQ(response.status, expected_status) << response.raw.body;
        return response.body.as_object();
    }

    // Runs the Texas fixture on home-auto pinned to `pin`; returns the finished run.
    boost::json::object run_pinned(const std::string& pin,
                                   const boost::json::object& extra_input = {}) {
        auto body =
            boost::json::parse(read_text(golden_dir() / "brokerage_tx_multicarrier.input.json"))
                .as_object();
        body["engine_version"] = pin;
        for (const auto& [key, value] : extra_input) body["input"].as_object()[key] = value;
        const ApiResponse accepted = api("POST", "/api/v1/engines/home-auto/runs", body);
        EXPECT_EQ(accepted.status, 202) << accepted.raw.body;
        return wait_for_run(client_, admin_, std::string(accepted.body.at("run_id").as_string()));
    }

    static TestServer* server_;
    static std::string admin_;
    http::Client client_ = server_->client();
};

TestServer* EngineLifecycleTest::server_ = nullptr;
std::string EngineLifecycleTest::admin_;

// Every "$ref" in an OpenAPI document must name one of its component schemas.
// Every "$ref" of an OpenAPI document names a component the document holds.
void expect_refs_resolve(const boost::json::value& node, const boost::json::object& components) {
    if (node.is_array()) {
        for (const auto& item : node.get_array()) expect_refs_resolve(item, components);
    } else if (node.is_object()) {
        for (const auto& [key, value] : node.get_object()) {
            if (key == "$ref" && value.is_string()) {
                const std::string target(value.get_string());
                const std::string prefix = "#/components/";
                ASSERT_EQ(target.rfind(prefix, 0), 0u) << target;
                const std::string kind =
                    target.substr(prefix.size(), target.find('/', prefix.size()) - prefix.size());
                const std::string name = target.substr(prefix.size() + kind.size() + 1);
                ASSERT_TRUE(components.contains(kind)) << target;
                EXPECT_TRUE(components.at(kind).as_object().contains(name)) << target;
            } else {
                expect_refs_resolve(value, components);
            }
        }
    }
}

// Makes the simplicity weight of every bucket `weight`, scaling the others so that the weights
// still sum to 1 (the scorecard's self_test checks it): behaviour changes, the contract does not.
boost::json::object with_simplicity_weight(boost::json::object config, double weight) {
    std::string source(config.at("lua_source").as_string());
    const std::string w = std::to_string(weight);
    source +=
        "\nlocal weights_before_override = weights\nfunction weights(bucket, input)\n"
        "  local chosen = weights_before_override(bucket, input)\n"
        "  local rest = 1 - chosen.simplicity\n"
        "  for key, value in pairs(chosen) do chosen[key] = value * (1 - " +
        w +
        ") / rest end\n"
        "  chosen.simplicity = " +
        w + "\n  return chosen\nend\n";
    config["lua_source"] = source;
    return config;
}

TEST_F(EngineLifecycleTest, FromCreationToPinnedMajorVersions) {
    // Built-in engines exist out of the box.
    const ApiResponse listed = api("GET", "/api/v1/engines");
    ASSERT_EQ(listed.status, 200) << listed.raw.body;
    EXPECT_EQ(listed.body.at("data").as_array().at(0).at("slug").as_string(), "default");

    // Create, with slug rules and duplicates.
    const ApiResponse created =
        api("POST", "/api/v1/engines",
            boost::json::object{
                {"slug", "home-auto"}, {"label", "Home and auto"}, {"engine_type", "placement"}});
    ASSERT_EQ(created.status, 201) << created.raw.body;
    EXPECT_EQ(created.body.at("status").as_string(), "active");
    EXPECT_EQ(api("POST", "/api/v1/engines",
                  boost::json::object{
                      {"slug", "home-auto"}, {"label", "again"}, {"engine_type", "placement"}})
                  .status,
              409);
    EXPECT_EQ(api("POST", "/api/v1/engines",
                  boost::json::object{
                      {"slug", "Home_Auto"}, {"label", "x"}, {"engine_type", "placement"}})
                  .status,
              400);
    EXPECT_EQ(
        api("POST", "/api/v1/engines",
            boost::json::object{{"slug", "default"}, {"label", "x"}, {"engine_type", "placement"}})
            .status,
        409);
    const std::string runs_only = server_->create_key("acme", "test");
    EXPECT_EQ(
        api("POST", "/api/v1/engines",
            boost::json::object{{"slug", "mine"}, {"label", "x"}, {"engine_type", "placement"}},
            runs_only)
            .status,
        403);

    // A broken configuration: every problem located, nothing stored.
    boost::json::object broken = current_config();
    broken["request_schema"] = boost::json::object{{"type", 12}};
    broken["lua_source"] = "function weights(";
    broken["default_appetite_bucket"] = "reckless";
    const ApiResponse verdict = api("POST", "/api/v1/engines/home-auto/config/validate",
                                    boost::json::object{{"config", broken}});
    ASSERT_EQ(verdict.status, 200) << verdict.raw.body;
    EXPECT_FALSE(verdict.body.at("valid").as_bool());
    std::set<std::string> paths;
    for (const auto& error : verdict.body.at("errors").as_array())
        paths.insert(std::string(error.at("path").as_string()));
    EXPECT_TRUE(paths.count("/request_schema")) << verdict.raw.body;
    EXPECT_TRUE(paths.count("/lua_source")) << verdict.raw.body;
    EXPECT_TRUE(paths.count("/default_appetite_bucket")) << verdict.raw.body;
    EXPECT_EQ(
        api("PUT", "/api/v1/engines/home-auto/config", boost::json::object{{"config", broken}})
            .status,
        422);
    const ApiResponse good_verdict = api("POST", "/api/v1/engines/home-auto/config/validate",
                                         boost::json::object{{"config", current_config()}});
    EXPECT_TRUE(good_verdict.body.at("valid").as_bool()) << good_verdict.raw.body;

    // 1.0, then a weight change is 1.1, then nothing new is already released.
    const boost::json::object original = current_config();
    put_config(original);
    const auto v10 = publish(201, "first release");
    EXPECT_EQ(v10.at("version").as_string(), "1.0");
    EXPECT_FALSE(v10.at("is_breaking_from_previous_major").as_bool());
    EXPECT_EQ(v10.at("content_hash").as_string().size(), 64u);
    put_config(with_simplicity_weight(original, 0.5));
    const auto v11 = publish(201, "simplicity matters more");
    EXPECT_EQ(v11.at("version").as_string(), "1.1");
    EXPECT_EQ(v11.at("bump").as_string(), "minor");
    const auto again = publish(200, "nothing changed");
    EXPECT_EQ(again.at("version").as_string(), "1.1");
    EXPECT_TRUE(again.at("already_released").as_bool());

    // A run queued under "1.x" keeps 1.1 though 1.2 is published right after.
    auto body = boost::json::parse(read_text(golden_dir() / "brokerage_tx_multicarrier.input.json"))
                    .as_object();
    body["engine_version"] = "1.x";
    const ApiResponse queued = api("POST", "/api/v1/engines/home-auto/runs", body);
    ASSERT_EQ(queued.status, 202);
    put_config(with_simplicity_weight(original, 0.9));
    EXPECT_EQ(publish(201, "simplicity matters most").at("version").as_string(), "1.2");
    const auto queued_run =
        wait_for_run(client_, admin_, std::string(queued.body.at("run_id").as_string()));
    EXPECT_EQ(queued_run.at("engine_version").as_string(), "1.1");
    EXPECT_EQ(queued_run.at("engine_version_pin").as_string(), "1.x");

    // A newly required input field is a new major that names it.
    boost::json::object breaking = with_simplicity_weight(original, 0.9);
    auto& input_schema =
        breaking["request_schema"].as_object()["definitions"].as_object()["input"].as_object();
    input_schema["required"].as_array().push_back("policy_holder");
    input_schema["properties"].as_object()["policy_holder"] = {{"type", "string"}};
    // The contract's example must satisfy the new schema, or the configuration is refused.
    breaking["example_request"].as_object()["input"].as_object()["policy_holder"] = "Dana Reyes";
    put_config(breaking);
    const auto v20 = publish(201, "policy holder required");
    EXPECT_EQ(v20.at("version").as_string(), "2.0");
    EXPECT_EQ(v20.at("bump").as_string(), "major");
    EXPECT_TRUE(v20.at("is_breaking_from_previous_major").as_bool());
    ASSERT_FALSE(v20.at("reasons").as_array().empty());
    EXPECT_EQ(v20.at("reasons").as_array().at(0).at("pointer").as_string(),
              "/request/input/policy_holder");
    EXPECT_EQ(v20.at("reasons").as_array().at(0).at("rule").as_string(), "property_newly_required");

    // Pins: each run reports and behaves per its version.
    const auto run10 = run_pinned("1.0");
    const auto run1x = run_pinned("1.x");
    EXPECT_EQ(run10.at("engine_version").as_string(), "1.0");
    EXPECT_EQ(run1x.at("engine_version").as_string(), "1.2");
    EXPECT_EQ(run10.at("output").at("weights").at("simplicity").to_number<double>(), 0.15);
    EXPECT_EQ(run1x.at("output").at("weights").at("simplicity").to_number<double>(), 0.9);
    const ApiResponse missing_field = api("POST", "/api/v1/engines/home-auto/runs", [&] {
        auto b =
            boost::json::parse(read_text(golden_dir() / "brokerage_tx_multicarrier.input.json"))
                .as_object();
        b["engine_version"] = "2.x";
        return b;
    }());
    EXPECT_EQ(missing_field.status, 422);
    EXPECT_EQ(missing_field.body.at("error").at("code").as_string(), "contract_violation");
    const auto run2x = run_pinned("2.x", {{"policy_holder", "Dana Reyes"}});
    EXPECT_EQ(run2x.at("engine_version").as_string(), "2.0");
    EXPECT_EQ(run2x.at("status").as_string(), "completed");
    for (const char* bad : {"1", "1.0.0"}) {
        auto b =
            boost::json::parse(read_text(golden_dir() / "auto_only_ny.input.json")).as_object();
        b["engine_version"] = bad;
        EXPECT_EQ(api("POST", "/api/v1/engines/home-auto/runs", b).status, 400) << bad;
    }
    auto b3 = boost::json::parse(read_text(golden_dir() / "auto_only_ny.input.json")).as_object();
    b3["engine_version"] = "3.x";
    const ApiResponse unknown = api("POST", "/api/v1/engines/home-auto/runs", b3);
    EXPECT_EQ(unknown.status, 422);
    EXPECT_EQ(unknown.body.at("error").at("code").as_string(), "unknown_engine_version");

    // Versions list, newest first, and the contract guide of 1.x.
    const ApiResponse versions = api("GET", "/api/v1/engines/home-auto/versions");
    ASSERT_EQ(versions.status, 200);
    EXPECT_EQ(versions.body.at("data").as_array().size(), 4u);
    EXPECT_EQ(versions.body.at("data").as_array().at(0).at("version").as_string(), "2.0");
    const auto markdown =
        client_.request("GET", "/api/v1/engines/home-auto/contract.md?engine_version=1.x", "",
                        {{"Authorization", "Bearer " + admin_}});
    ASSERT_EQ(markdown.status, 200) << markdown.body;
    EXPECT_EQ(markdown.header("Content-Type"), "text/markdown; charset=utf-8");
    for (const char* part :
         {"version 1.2", "## Request schema", "coverage_types", "## Scoring dimensions",
          "pricing_competitiveness", "## Weight profiles", "cost_sensitive", "## Example request",
          "after 2 s", "1.5", "30 s"}) {
        EXPECT_NE(markdown.body.find(part), std::string::npos) << part;
    }
    EXPECT_EQ(markdown.body.find("policy_holder"), std::string::npos)
        << "1.x must not show 2.0's schema";
    const ApiResponse contract =
        api("GET", "/api/v1/engines/home-auto/contract?engine_version=2.0");
    ASSERT_EQ(contract.status, 200);
    EXPECT_NE(boost::json::serialize(contract.body.at("request_schema")).find("policy_holder"),
              std::string::npos);
    // The engine's OpenAPI document follows the pin the way the contract does.
    for (const auto& [pin, has_policy_holder] : {std::pair{"2.0", true}, {"1.x", false}}) {
        const ApiResponse openapi =
            api("GET", std::string("/api/v1/engines/home-auto/openapi.json?engine_version=") + pin);
        ASSERT_EQ(openapi.status, 200) << openapi.raw.body;
        EXPECT_EQ(openapi.body.at("openapi").as_string(), "3.0.3");
        EXPECT_TRUE(
            openapi.body.at("paths").as_object().contains("/api/v1/engines/home-auto/runs"));
        EXPECT_EQ(boost::json::serialize(openapi.body.at("components")).find("policy_holder") !=
                      std::string::npos,
                  has_policy_holder)
            << pin;
        expect_refs_resolve(openapi.body, openapi.body.at("components").as_object());
    }
    EXPECT_EQ(api("GET", "/api/v1/engines/home-auto/openapi.json?engine_version=7.x").status, 422);

    // An Idempotency-Key on a non-run POST replays its first answer instead of acting twice.
    const auto create_once = [&] {
        return client_.request(
            "POST", "/api/v1/engines",
            R"({"slug":"once-only","label":"x","engine_type":"placement"})",
            {{"Authorization", "Bearer " + admin_}, {"Idempotency-Key", "create-once"}});
    };
    const auto created_once = create_once();
    EXPECT_EQ(created_once.status, 201) << created_once.body;
    const auto created_again = create_once();
    EXPECT_EQ(created_again.status, 201) << created_again.body;
    EXPECT_EQ(created_again.header("Idempotent-Replayed"), "true");

    // Archiving stops new runs but keeps the engine readable.
    EXPECT_EQ(api("POST", "/api/v1/engines/home-auto/archive").body.at("status").as_string(),
              "archived");
    EXPECT_EQ(api("POST", "/api/v1/engines/home-auto/runs", b3).status, 409);
    EXPECT_EQ(api("GET", "/api/v1/engines/home-auto").status, 200);
    const ApiResponse builtin_archive = api("POST", "/api/v1/engines/default/archive");
    EXPECT_EQ(builtin_archive.status, 403) << builtin_archive.raw.body;
}

TEST_F(EngineLifecycleTest, AnotherOrganisationDoesNotSeeTheEngine) {
    const std::string other = server_->create_key("globex", "live", {"runs:read", "engines:admin"});
    const ApiResponse created = api(
        "POST", "/api/v1/engines",
        boost::json::object{{"slug", "acme-only"}, {"label", "x"}, {"engine_type", "placement"}});
    ASSERT_EQ(created.status, 201) << created.raw.body;
    EXPECT_EQ(api("GET", "/api/v1/engines/acme-only", nullptr, other).status, 404);
}

// A copy of the repository's resources whose versions/ the test may write: the built-in
// engines (versions/<slug>/engine.json) without their release bundles.
std::filesystem::path resources_copy() {
    const auto dir = fresh_temp_dir("engined-resources");
    for (const char* part : {"contracts", "scripts"}) {
        std::filesystem::copy(std::filesystem::path(ENGINED_SOURCE_DIR) / part, dir / part,
                              std::filesystem::copy_options::recursive);
    }
    const auto shipped = std::filesystem::path(ENGINED_SOURCE_DIR) / "versions";
    for (const auto& engine_dir : std::filesystem::directory_iterator(shipped)) {
        const auto descriptor = engine_dir.path() / "engine.json";
        if (!std::filesystem::exists(descriptor)) continue;
        const auto copy = dir / "versions" / engine_dir.path().filename();
        std::filesystem::create_directories(copy);
        std::filesystem::copy_file(descriptor, copy / "engine.json");
    }
    return dir;
}

// A scorecard whose adjust() vetoes every package: runs complete with no solutions.
boost::json::object vetoing_everything(boost::json::object config) {
    config["lua_source"] =
        std::string(config.at("lua_source").as_string()) +
        "\nfunction adjust(package, ctx) return {veto = true, reason = \"vetoed\"} end\n";
    return config;
}

std::string error_code(const ApiResponse& response) {
    return response.body.is_object() ? std::string(response.body.at("error").at("code").as_string())
                                     : "";
}

class BuiltinEngineTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        server_ = new TestServer();
        admin_ =
            server_->create_key("initech", "live", {"runs:write", "runs:read", "engines:admin"});
        bystander_ =
            server_->create_key("umbrella", "live", {"runs:write", "runs:read", "engines:admin"});
    }
    static void TearDownTestSuite() {
        delete server_;
        server_ = nullptr;
    }

    ApiResponse api(const std::string& method, const std::string& target,
                    const boost::json::value& body = nullptr, const std::string& key = admin_) {
        return call(client_, method, target, key,
                    body.is_null() ? std::string() : boost::json::serialize(body));
    }

    // Runs the Texas fixture on `engine` (pinned to `pin` when set); returns the finished run.
    boost::json::object run_on(const std::string& engine, const std::string& key,
                               const std::string& pin = "") {
        auto body =
            boost::json::parse(read_text(golden_dir() / "brokerage_tx_multicarrier.input.json"))
                .as_object();
        if (!pin.empty()) body["engine_version"] = pin;
        const ApiResponse accepted = api("POST", "/api/v1/engines/" + engine + "/runs", body, key);
        EXPECT_EQ(accepted.status, 202) << accepted.raw.body;
        return wait_for_run(client_, key, std::string(accepted.body.at("run_id").as_string()));
    }

    static TestServer* server_;
    static std::string admin_;
    static std::string bystander_;
    http::Client client_ = server_->client();
};

TestServer* BuiltinEngineTest::server_ = nullptr;
std::string BuiltinEngineTest::admin_;
std::string BuiltinEngineTest::bystander_;

TEST_F(BuiltinEngineTest, EveryChangeToABuiltInEngineIsRefusedAndChangesNothing) {
    const ApiResponse listed = api("GET", "/api/v1/engines");
    ASSERT_EQ(listed.status, 200) << listed.raw.body;
    std::vector<std::string> builtins;
    for (const auto& engine : listed.body.at("data").as_array()) {
        if (engine.at("built_in").as_bool()) builtins.emplace_back(engine.at("slug").as_string());
    }
    ASSERT_FALSE(builtins.empty());
    for (const std::string& slug : builtins) {
        SCOPED_TRACE(slug);
        const std::string engine = "/api/v1/engines/" + slug;
        const ApiResponse before = api("GET", engine + "/config");
        ASSERT_EQ(before.status, 200) << before.raw.body;
        const ApiResponse versions_before = api("GET", engine + "/versions");
        const boost::json::object changed{
            {"config", vetoing_everything(before.body.at("config").as_object())}};

        const ApiResponse put = api("PUT", engine + "/config", changed);
        EXPECT_EQ(put.status, 403) << put.raw.body;
        EXPECT_EQ(error_code(put), "builtin_engine_read_only");
        EXPECT_NE(put.raw.body.find("copy_from"), std::string::npos) << put.raw.body;
        const ApiResponse publish =
            api("POST", engine + "/versions", boost::json::object{{"changelog", "mine now"}});
        EXPECT_EQ(publish.status, 403) << publish.raw.body;
        EXPECT_EQ(error_code(publish), "builtin_engine_read_only");
        const ApiResponse archive = api("POST", engine + "/archive");
        EXPECT_EQ(archive.status, 403) << archive.raw.body;
        EXPECT_EQ(error_code(archive), "builtin_engine_read_only");
        // A dry run changes nothing and stays open.
        const ApiResponse validate = api("POST", engine + "/config/validate", changed);
        EXPECT_EQ(validate.status, 200) << validate.raw.body;
        EXPECT_EQ(validate.body.at("valid"), true) << validate.raw.body;

        const ApiResponse after = api("GET", engine + "/config");
        EXPECT_EQ(after.body.at("config_hash"), before.body.at("config_hash"));
        EXPECT_EQ(after.body.at("config"), before.body.at("config"));
        EXPECT_EQ(api("GET", engine + "/versions").body, versions_before.body);
        EXPECT_EQ(api("GET", engine).body.at("status"), "active");
    }
    // Another organisation's runs and pins are what they were.
    const boost::json::object unpinned = run_on("default", bystander_);
    EXPECT_EQ(unpinned.at("status"), "completed") << boost::json::serialize(unpinned);
    EXPECT_FALSE(unpinned.at("solutions").as_array().empty());
    EXPECT_EQ(run_on("default", bystander_, "1.x").at("engine_version"), "1.1");
}

TEST_F(BuiltinEngineTest, AnOrganisationChangesItsOwnCopyOfABuiltInEngine) {
    const ApiResponse builtin_config = api("GET", "/api/v1/engines/default/config");
    const ApiResponse copied =
        api("POST", "/api/v1/engines",
            boost::json::object{{"slug", "my-default"}, {"copy_from", "default"}});
    ASSERT_EQ(copied.status, 201) << copied.raw.body;
    EXPECT_EQ(copied.body.at("engine_type"), "placement");
    EXPECT_EQ(copied.body.at("built_in"), false);
    EXPECT_EQ(copied.body.at("label"), api("GET", "/api/v1/engines/default").body.at("label"));
    const ApiResponse copy_config = api("GET", "/api/v1/engines/my-default/config");
    EXPECT_EQ(copy_config.body.at("config_hash"), builtin_config.body.at("config_hash"));

    // The organisation edits and publishes its copy; its runs use it.
    const boost::json::object vetoing =
        vetoing_everything(copy_config.body.at("config").as_object());
    const ApiResponse put =
        api("PUT", "/api/v1/engines/my-default/config", boost::json::object{{"config", vetoing}});
    ASSERT_EQ(put.status, 200) << put.raw.body;
    const ApiResponse published = api("POST", "/api/v1/engines/my-default/versions",
                                      boost::json::object{{"changelog", "veto"}});
    ASSERT_EQ(published.status, 201) << published.raw.body;
    EXPECT_EQ(published.body.at("version"), "1.0");
    for (const std::string pin : {"", "1.x"}) {
        const boost::json::object own = run_on("my-default", admin_, pin);
        EXPECT_EQ(own.at("status"), "completed") << boost::json::serialize(own);
        EXPECT_TRUE(own.at("solutions").as_array().empty())
            << boost::json::serialize(own.at("solutions"));
    }
    // Everyone else, and the organisation itself on `default`, still get the built-in engine.
    for (const std::string& key : {admin_, bystander_}) {
        const boost::json::object shared = run_on("default", key, "1.x");
        EXPECT_EQ(shared.at("engine_version"), "1.1");
        EXPECT_FALSE(shared.at("solutions").as_array().empty());
    }
    EXPECT_EQ(api("GET", "/api/v1/engines/my-default", nullptr, bystander_).status, 404);
    EXPECT_EQ(api("GET", "/api/v1/engines/default/config").body.at("config_hash"),
              builtin_config.body.at("config_hash"));

    // A copy of a release: exactly that version's configuration.
    const ApiResponse from_release = api("POST", "/api/v1/engines",
                                         boost::json::object{{"slug", "default-one-zero"},
                                                             {"label", "Pinned copy"},
                                                             {"copy_from", "default"},
                                                             {"copy_from_version", "1.0"}});
    ASSERT_EQ(from_release.status, 201) << from_release.raw.body;
    EXPECT_EQ(from_release.body.at("label"), "Pinned copy");
    EXPECT_EQ(api("GET", "/api/v1/engines/default-one-zero/config").body.at("config"),
              api("GET", "/api/v1/engines/default/versions/1.0").body.at("config"));
}

TEST_F(BuiltinEngineTest, ACopyNeedsAnEngineTheCallerSeesOfTheSameType) {
    const auto create = [&](boost::json::object body, const std::string& key = admin_) {
        body["slug"] = "copy-attempt";
        return api("POST", "/api/v1/engines", body, key);
    };
    const ApiResponse unknown = create({{"copy_from", "no-such-engine"}});
    EXPECT_EQ(unknown.status, 400) << unknown.raw.body;
    EXPECT_EQ(unknown.body.at("error").at("details").at(0).at("pointer"), "/copy_from");
    const ApiResponse mistyped =
        create({{"copy_from", "default"}, {"engine_type", "entity_analysis"}});
    EXPECT_EQ(mistyped.status, 400) << mistyped.raw.body;
    EXPECT_EQ(create({{"copy_from", ""}}).status, 400);
    const ApiResponse version_alone =
        create({{"copy_from_version", "1.0"}, {"label", "x"}, {"engine_type", "placement"}});
    EXPECT_EQ(version_alone.status, 400) << version_alone.raw.body;
    EXPECT_EQ(create({{"copy_from", "default"}, {"copy_from_version", "7.0"}}).status, 422);
    // Another organisation's engine is not there to copy.
    ASSERT_EQ(create({{"label", "private"}, {"engine_type", "placement"}}, bystander_).status, 201);
    EXPECT_EQ(create({{"copy_from", "copy-attempt"}}).status, 400);
    EXPECT_EQ(api("GET", "/api/v1/engines/copy-attempt").status, 404);
}

// The built-in engines are the ones versions/ ships, not a list in code: one more folder with
// an engine.json is one more engine every organisation runs (its type's preset configuration,
// counted under its own slug in the metrics); a folder removed is an engine gone.
TEST(BuiltinEngines, AreTheEnginesShippedInVersions) {
    const auto resources = resources_copy();
    std::filesystem::create_directories(resources / "versions" / "homeowners");
    std::ofstream(resources / "versions" / "homeowners" / "engine.json")
        << R"({"engine_type": "placement", "label": "Homeowners placement",)"
        << R"( "description": "Home quotes only."})";
    std::filesystem::remove_all(resources / "versions" / "entity-analysis");
    app::Config config;
    config.resources_dir = resources;
    {
        TestServer server(config);
        const std::string key = server.create_key("anyone", "test");
        http::Client client = server.client();
        const ApiResponse engine = call(client, "GET", "/api/v1/engines/homeowners", key);
        ASSERT_EQ(engine.status, 200) << engine.raw.body;
        EXPECT_EQ(engine.body.at("label"), "Homeowners placement");
        EXPECT_EQ(engine.body.at("engine_type"), "placement");
        EXPECT_EQ(call(client, "GET", "/api/v1/engines/entity-analysis", key).status, 404);

        const ApiResponse accepted = call(client, "POST", "/api/v1/engines/homeowners/runs", key,
                                          read_text(golden_dir() / "auto_only_ny.input.json"));
        ASSERT_EQ(accepted.status, 202) << accepted.raw.body;
        EXPECT_EQ(wait_for_run(client, key, std::string(accepted.body.at("run_id").as_string()))
                      .at("status"),
                  "completed");
        http::Client metrics = server.metrics_client();
        const std::string text = metrics.request("GET", "/metrics").body;
        EXPECT_NE(
            text.find(R"(engined_runs_submitted_total{engine="homeowners",version="current"} 1)"),
            std::string::npos)
            << text;
    }
    // A malformed engine.json stops start-up naming the file.
    std::ofstream(resources / "versions" / "homeowners" / "engine.json", std::ios::trunc)
        << R"({"engine_type": "placement"})";
    try {
        TestServer refused(config);
        ADD_FAILURE() << "an engine.json without label and description was accepted";
    } catch (const std::runtime_error& error) {
        EXPECT_NE(std::string(error.what()).find("versions/homeowners/engine.json"),
                  std::string::npos)
            << error.what();
    }
    std::filesystem::remove_all(resources);
}

TEST(ReleaseBundles, AreImportedAtStartAndATamperedOneStopsStartUp) {
    const auto resources = resources_copy();
    app::Config config;
    config.resources_dir = resources;
    std::string bundle_text;
    {
        TestServer server(config);
        const std::string admin = server.create_key("ops", "live", {"runs:read", "engines:admin"});
        http::Client client = server.client();
        // The operator prepares the release on the organisation's copy and ships its bundle as the built-in's.
        ASSERT_EQ(call(client, "POST", "/api/v1/engines", admin,
                       R"({"slug":"next-default","copy_from":"default"})")
                      .status,
                  201);
        ASSERT_EQ(call(client, "POST", "/api/v1/engines/next-default/versions", admin,
                       R"({"changelog":"shipped"})")
                      .status,
                  201);
        const ApiResponse bundle =
            call(client, "GET", "/api/v1/engines/next-default/versions/1.0/bundle", admin);
        ASSERT_EQ(bundle.status, 200) << bundle.raw.body;
        auto shipped = bundle.body.as_object();
        shipped["engine"].as_object()["slug"] = "default";
        bundle_text = pretty_json(shipped);
    }
    const auto bundle_file = resources / "versions" / "default" / "1.0.json";
    std::filesystem::create_directories(bundle_file.parent_path());

    // A fresh data directory imports the shipped bundle as release 1.0.
    std::ofstream(bundle_file) << bundle_text;
    {
        TestServer server(config);
        const std::string key = server.create_key("someone", "test");
        http::Client client = server.client();
        const ApiResponse version =
            call(client, "GET", "/api/v1/engines/default/versions/1.0", key);
        ASSERT_EQ(version.status, 200) << version.raw.body;
        EXPECT_EQ(version.body.at("changelog").as_string(), "shipped");
        auto body =
            boost::json::parse(read_text(golden_dir() / "auto_only_ny.input.json")).as_object();
        body["engine_version"] = "1.x";
        const ApiResponse run =
            call(client, "POST", "/api/v1/engines/default/runs", key, boost::json::serialize(body));
        ASSERT_EQ(run.status, 202) << run.raw.body;
        EXPECT_EQ(wait_for_run(client, key, std::string(run.body.at("run_id").as_string()))
                      .at("engine_version")
                      .as_string(),
                  "1.0");

        // The same bundle on the next start is fine; a tampered one stops start-up naming the file.
        const app::Config same_data = server.config();
        server.app().stop();
        EXPECT_NO_THROW(app::App restarted(same_data));
        auto tampered = boost::json::parse(bundle_text).as_object();
        tampered["changelog"] = "rewritten history";
        std::ofstream(bundle_file, std::ios::trunc) << pretty_json(tampered);
        try {
            app::App refused(same_data);
            ADD_FAILURE() << "a tampered bundle was accepted";
        } catch (const std::runtime_error& error) {
            EXPECT_NE(std::string(error.what()).find("versions/default/1.0.json"),
                      std::string::npos)
                << error.what();
            EXPECT_NE(std::string(error.what()).find("immutable"), std::string::npos)
                << error.what();
        }
    }
    std::filesystem::remove_all(resources);
}

// An install seeded before release 2.0 shipped: its built-in engine keeps the configuration of
// its time until a start imports the 2.0 bundle, and then follows it.
TEST(ReleaseBundles, AnExistingInstallMovesToANewlyShippedNewestRelease) {
    const auto resources = resources_copy();
    const std::filesystem::path shipped =
        std::filesystem::path(ENGINED_SOURCE_DIR) / "versions" / "default";
    std::filesystem::create_directories(resources / "versions" / "default");
    for (const char* version : {"1.0.json", "1.1.json"}) {
        std::filesystem::copy_file(shipped / version, resources / "versions" / "default" / version);
    }
    // The preset of 1.1's time: its configuration split back into the preset files.
    auto old_config = boost::json::parse(read_text(shipped / "1.1.json")).at("config").as_object();
    const auto contract_dir = resources / "contracts" / "placement";
    std::ofstream(contract_dir / "request.schema.json", std::ios::trunc)
        << pretty_json(old_config.at("request_schema"));
    std::ofstream(contract_dir / "response.schema.json", std::ios::trunc)
        << pretty_json(old_config.at("response_schema"));
    std::ofstream(contract_dir / "example_request.json", std::ios::trunc)
        << pretty_json(old_config.at("example_request"));
    std::ofstream(contract_dir / "example_response.json", std::ios::trunc)
        << pretty_json(old_config.at("example_response"));
    std::ofstream(resources / "scripts" / "lua" / "placement" / "scorecard.lua", std::ios::trunc)
        << std::string(old_config.at("lua_source").as_string());
    for (const char* part : {"request_schema", "response_schema", "example_request",
                             "example_response", "lua_source"}) {
        old_config.erase(part);
    }
    std::ofstream(contract_dir / "engine.json", std::ios::trunc) << pretty_json(old_config);

    app::Config config;
    config.resources_dir = resources;
    TestServer server(config);
    const auto release_hash = [&](store::Store& store, int major, int minor) {
        return store.find_release("", "default", major, minor)->config_hash;
    };
    ASSERT_EQ(server.app().store().find_engine("", "default")->config_hash,
              release_hash(server.app().store(), 1, 1));

    const app::Config same_data = server.config();
    server.app().stop();
    {
        app::App restarted(same_data);  // nothing new shipped: the engine stays where it is
        EXPECT_EQ(restarted.store().find_engine("", "default")->config_hash,
                  release_hash(restarted.store(), 1, 1));
    }
    std::filesystem::copy_file(shipped / "2.0.json",
                               resources / "versions" / "default" / "2.0.json");
    {
        app::App upgraded(same_data);
        const auto engine = upgraded.store().find_engine("", "default");
        EXPECT_EQ(engine->config_hash, release_hash(upgraded.store(), 2, 0));
        EXPECT_EQ(engine->config_updated_by, "release:2.0");
    }
    std::filesystem::remove_all(resources);
}

}  // namespace
}  // namespace engined::testing
