// Reproducible runs over HTTP: every golden placement input pinned to each shipped release
// replays byte-identical with its fingerprint; a stored outcome that was altered does not;
// the fingerprint and its components in the run and the packet; who may replay what.
#include "test_server.hpp"

#include "common/crypto.hpp"
#include "common/json_text.hpp"
#include "store/store.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <future>
#include <set>
#include <string_view>

namespace engined::testing {
namespace {

class ReplayTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        server_ = new TestServer();
        key_ = server_->create_key("replay-org");
    }
    static void TearDownTestSuite() {
        delete server_;
        server_ = nullptr;
    }

    // Submits `body` to the default engine and waits for the run to end.
    boost::json::object run_to_end(const boost::json::object& body, const std::string& key = key_) {
        const ApiResponse accepted = call(client_, "POST", "/api/v1/engines/default/runs", key,
                                          boost::json::serialize(body));
        EXPECT_EQ(accepted.status, 202) << accepted.raw.body;
        return wait_for_run(client_, key, std::string(accepted.body.at("run_id").as_string()));
    }

    ApiResponse replay(const std::string& run_id, const std::string& key = key_) {
        return call(client_, "POST", "/api/v1/runs/" + run_id + "/replay", key);
    }

    // Changes the store behind the server's back.
    static void alter_store(const std::string& sql) { server_->store().execute(sql); }

    // Sets one member of a run's stored JSON column, in SQL every backend accepts: read, change
    // here, write back.
    static void set_stored_member(const std::string& run_id, const std::string& column,
                                  const std::string& member, const boost::json::value& value) {
        const std::string where = " WHERE id = '" + run_id + "'";
        auto document =
            boost::json::parse(
                server_->store().select_column("SELECT " + column + " FROM runs" + where).at(0))
                .as_object();
        document[member] = value;
        alter_store("UPDATE runs SET " + column + " = '" + boost::json::serialize(document) + "'" +
                    where);
    }

    static std::vector<std::filesystem::path> golden_inputs() {
        std::vector<std::filesystem::path> inputs;
        for (const auto& entry : std::filesystem::directory_iterator(golden_dir())) {
            if (entry.path().string().ends_with(".input.json")) inputs.push_back(entry.path());
        }
        std::sort(inputs.begin(), inputs.end());
        return inputs;
    }

    static TestServer* server_;
    static std::string key_;
    http::Client client_ = server_->client();
};

TestServer* ReplayTest::server_ = nullptr;
std::string ReplayTest::key_;

std::string text_of(const boost::json::value& value) {
    return std::string(value.as_string());
}

TEST_F(ReplayTest, EveryGoldenInputPinnedToEachReleaseReplaysIdentical) {
    const auto inputs = golden_inputs();
    ASSERT_GE(inputs.size(),
              10u);  // the five original cases, the four ranking-rule cases and missing state
    std::set<std::string> fingerprints;
    std::size_t runs = 0;
    for (const auto& input : inputs) {
        for (const char* version : {"1.0", "1.1", "2.0"}) {
            SCOPED_TRACE(input.filename().string() + " @ " + version);
            boost::json::object body = boost::json::parse(read_text(input)).as_object();
            body["engine_version"] = version;
            const auto* address = body.at("input").as_object().if_contains("address");
            if (version == std::string_view("2.0") &&
                !(address && address->as_object().contains("state"))) {
                // 2.0 requires the state for quote matching: such an input is refused, not run.
                const ApiResponse refused = call(client_, "POST", "/api/v1/engines/default/runs",
                                                 key_, boost::json::serialize(body));
                EXPECT_EQ(refused.status, 422) << refused.raw.body;
                continue;
            }
            ++runs;
            const boost::json::object run = run_to_end(body);
            // Every golden input ranks (or explains why nothing ranks): there is output to compare.
            ASSERT_EQ(run.at("status"), "completed") << boost::json::serialize(run.at("error"));
            const std::string fingerprint = text_of(run.at("fingerprint"));
            EXPECT_EQ(fingerprint.size(), 64u);
            fingerprints.insert(fingerprint);

            const ApiResponse replayed = replay(text_of(run.at("run_id")));
            ASSERT_EQ(replayed.status, 200) << replayed.raw.body;
            const auto& report = replayed.body.as_object();
            EXPECT_EQ(report.at("run_id"), run.at("run_id"));
            EXPECT_EQ(report.at("identical"), true) << replayed.raw.body;
            EXPECT_EQ(report.at("fingerprint"), run.at("fingerprint"));
            EXPECT_EQ(report.at("replay_fingerprint"), run.at("fingerprint"));
            EXPECT_EQ(report.at("verdict"), "identical");
            EXPECT_EQ(report.at("output_sha256").at("original"),
                      report.at("output_sha256").at("replay"));
            EXPECT_TRUE(report.at("first_difference").is_null());
        }
    }
    // Each input and each release moves the fingerprint.
    EXPECT_EQ(fingerprints.size(), runs);
}

TEST_F(ReplayTest, ThePacketShowsTheFingerprintAndWhatItHashes) {
    boost::json::object body =
        boost::json::parse(read_text(golden_dir() / "pure_bundle_ca.input.json")).as_object();
    const boost::json::object request{{"input", body.at("input")},
                                      {"offerings", body.at("offerings")}};
    body["engine_version"] = "1.1";
    const boost::json::object run = run_to_end(body);
    const ApiResponse packet =
        call(client_, "GET", "/api/v1/runs/" + text_of(run.at("run_id")) + "/defensibility-packet",
             key_);
    ASSERT_EQ(packet.status, 200) << packet.raw.body;
    const auto& section = packet.body.at("run").as_object();
    EXPECT_EQ(section.at("fingerprint"), run.at("fingerprint"));
    const auto& components = section.at("fingerprint_components").as_object();
    EXPECT_EQ(sha256_hex(canonical_json(components)), text_of(run.at("fingerprint")));
    EXPECT_EQ(components.at("input_sha256"),
              boost::json::value(sha256_hex(canonical_json(request))));
    EXPECT_EQ(components.at("version_content_hash"), section.at("content_hash"));
    EXPECT_EQ(components.at("plugin_sha256"),
              boost::json::value(sha256_hex(read_text(std::filesystem::path(ENGINED_BINARY_DIR) /
                                                      "plugins" / "placement.so"))));
    EXPECT_FALSE(components.at("platform_version").as_string().empty());

    // Without a pin the configuration the run executed with stands for the version.
    body.erase("engine_version");
    const boost::json::object unpinned = run_to_end(body);
    const ApiResponse unpinned_packet =
        call(client_, "GET",
             "/api/v1/runs/" + text_of(unpinned.at("run_id")) + "/defensibility-packet", key_);
    const auto& unpinned_section = unpinned_packet.body.at("run").as_object();
    EXPECT_EQ(unpinned_section.at("fingerprint_components").at("version_content_hash"),
              boost::json::value("config:" + text_of(unpinned_section.at("config_hash"))));
    EXPECT_EQ(replay(text_of(unpinned.at("run_id"))).body.at("identical"), true);
}

// The stored output altered behind the server's back: the replay says so, and where.
TEST_F(ReplayTest, AnAlteredStoredOutcomeIsReportedWithItsFirstDifference) {
    boost::json::object body =
        boost::json::parse(read_text(golden_dir() / "auto_only_ny.input.json")).as_object();
    body["engine_version"] = "1.0";
    const boost::json::object run = run_to_end(body);
    ASSERT_EQ(run.at("status"), "completed");
    const std::string run_id = text_of(run.at("run_id"));
    set_stored_member(run_id, "output_json", "top_score", 9.99);
    const ApiResponse replayed = replay(run_id);
    ASSERT_EQ(replayed.status, 200) << replayed.raw.body;
    EXPECT_EQ(replayed.body.at("identical"), false);
    EXPECT_EQ(replayed.body.at("first_difference"), "/output/top_score");
    EXPECT_NE(replayed.body.at("output_sha256").at("original"),
              replayed.body.at("output_sha256").at("replay"));
    // The fingerprint covers what produced the output, not the output: it still matches.
    EXPECT_EQ(replayed.body.at("replay_fingerprint"), run.at("fingerprint"));
    // Same plugin build and fingerprint format: nothing explains the difference.
    EXPECT_EQ(replayed.body.at("verdict"), "not_reproduced");
}

// A run recorded under another plugin build (its file hash in the fingerprint components) that
// replays differently says so, naming that build, rather than only "different".
TEST_F(ReplayTest, ARunRecordedUnderAnotherPluginBuildSaysSo) {
    const boost::json::object run = run_to_end(
        boost::json::parse(read_text(golden_dir() / "brokerage_tx_multicarrier.input.json"))
            .as_object());
    ASSERT_EQ(run.at("status"), "completed");
    const std::string run_id = text_of(run.at("run_id"));
    const std::string other_build = "0123456789ab" + std::string(52, 'e');
    set_stored_member(run_id, "output_json", "top_score", 9.99);
    set_stored_member(run_id, "fingerprint_json", "plugin_sha256", boost::json::value(other_build));
    const ApiResponse replayed = replay(run_id);
    ASSERT_EQ(replayed.status, 200) << replayed.raw.body;
    EXPECT_EQ(replayed.body.at("identical"), false);
    EXPECT_EQ(replayed.body.at("verdict"), "recorded_under_other_plugin");
    const std::string detail = text_of(replayed.body.at("verdict_detail"));
    EXPECT_TRUE(detail.starts_with("recorded under plugin 0123456789ab, replayed under plugin "))
        << detail;
}

// The fingerprint covers the run's reference time (format 2); a run fingerprinted in format 1,
// before it did, keeps its fingerprint and its replay is fingerprinted in format 1 too.
TEST_F(ReplayTest, FingerprintCoversTheReferenceTimeAndFormat1RunsStillVerify) {
    const boost::json::object run = run_to_end(
        boost::json::parse(read_text(golden_dir() / "pure_bundle_ca.input.json")).as_object());
    ASSERT_EQ(run.at("status"), "completed");
    const std::string run_id = text_of(run.at("run_id"));
    const ApiResponse packet =
        call(client_, "GET", "/api/v1/runs/" + run_id + "/defensibility-packet", key_);
    ASSERT_EQ(packet.status, 200) << packet.raw.body;
    boost::json::object components = packet.body.at("run").at("fingerprint_components").as_object();
    EXPECT_EQ(components.at("format"), 2);
    EXPECT_EQ(components.at("reference_time"), run.at("created_at"));

    components.erase("format");
    components.erase("reference_time");
    const std::string format1 = sha256_hex(canonical_json(components));
    ASSERT_NE(format1, text_of(run.at("fingerprint")));
    alter_store("UPDATE runs SET fingerprint = '" + format1 + "', fingerprint_json = '" +
                boost::json::serialize(components) + "' WHERE id = '" + run_id + "'");
    const ApiResponse replayed = replay(run_id);
    ASSERT_EQ(replayed.status, 200) << replayed.raw.body;
    EXPECT_EQ(replayed.body.at("identical"), true);
    EXPECT_EQ(replayed.body.at("verdict"), "identical");
    EXPECT_EQ(text_of(replayed.body.at("fingerprint")), format1);
    EXPECT_EQ(text_of(replayed.body.at("replay_fingerprint")), format1);

    // Once its stored outcome no longer matches, the verdict names the older format.
    set_stored_member(run_id, "output_json", "top_score", 9.99);
    const ApiResponse differing = replay(run_id);
    ASSERT_EQ(differing.status, 200) << differing.raw.body;
    EXPECT_EQ(differing.body.at("verdict"), "recorded_under_other_fingerprint_format");
    EXPECT_NE(
        text_of(differing.body.at("verdict_detail")).find("recorded under fingerprint format 1"),
        std::string::npos);
}

TEST_F(ReplayTest, OnlyTheOwnersTerminalRunsReplay) {
    const boost::json::object run = run_to_end(
        boost::json::parse(read_text(golden_dir() / "quotes_only_oh.input.json")).as_object());
    const std::string run_id = text_of(run.at("run_id"));

    const ApiResponse foreign = replay(run_id, server_->create_key("other-org"));
    EXPECT_EQ(foreign.status, 404) << foreign.raw.body;
    EXPECT_EQ(foreign.body.at("error").at("code"), "not_found");
    EXPECT_EQ(replay(run_id, server_->create_key("replay-org", "live")).status, 404);
    EXPECT_EQ(replay("no-such-run").status, 404);
    EXPECT_EQ(replay(run_id, server_->create_key("replay-org", "test", {"runs:write"})).status,
              403);

    // Recorded without reaching the workers: it stays queued.
    store::NewRun queued;
    queued.id = "queued-" + random_hex(4);
    queued.organization = "replay-org";
    queued.environment = "test";
    queued.environment_id = server_->app().store().find_environment("replay-org", "test")->id;
    queued.engine_slug = "default";
    queued.engine_type = "placement";
    queued.request_json = R"({"input":{}})";
    queued.config_json = "{}";
    queued.config_hash = sha256_hex(*queued.config_json);
    queued.api_key_id = "key_0000000000000000";
    queued.created_at_ms = 1;
    std::promise<std::exception_ptr> inserted;
    server_->app().store().insert_run(queued,
                                      [&](std::exception_ptr error) { inserted.set_value(error); });
    ASSERT_EQ(inserted.get_future().get(), nullptr);
    const ApiResponse not_terminal = replay(queued.id);
    EXPECT_EQ(not_terminal.status, 409) << not_terminal.raw.body;
    EXPECT_EQ(not_terminal.body.at("error").at("code"), "run_not_terminal");
    const ApiResponse shown = call(client_, "GET", "/api/v1/runs/" + queued.id, key_);
    EXPECT_TRUE(shown.body.at("fingerprint").is_null());
}

}  // namespace
}  // namespace engined::testing
