// A real store fault under a serving engined: its disk fills up. engined runs as a child whose
// RLIMIT_FSIZE is lowered from outside (prlimit), so every write to its files fails with EFBIG
// the way a full disk fails them; the limit binds root too, unlike permission bits.
#include "test_server.hpp"

#include "chaos/child_engined.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/resource.h>

#include <chrono>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace engined::testing {
namespace {

using chaos::ChildEngined;

const char* kSubmitPath = "/api/v1/engines/default/runs";

ApiResponse submit(http::Client& client, const std::string& key, const std::string& body,
                   const std::string& idempotency_key) {
    ApiResponse response;
    response.raw = client.request("POST", kSubmitPath, body,
                                  {{"Authorization", "Bearer " + key},
                                   {"Content-Type", "application/json"},
                                   {"Idempotency-Key", idempotency_key}});
    response.status = response.raw.status;
    boost::system::error_code ec;
    response.body = boost::json::parse(response.raw.body, ec);
    return response;
}

std::string scalar(const std::filesystem::path& database, const std::string& sql) {
    sqlite3* db = nullptr;
    if (sqlite3_open_v2(database.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
        sqlite3_close(db);
        throw std::runtime_error("cannot open " + database.string());
    }
    sqlite3_stmt* statement = nullptr;
    std::string value;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &statement, nullptr) == SQLITE_OK &&
        sqlite3_step(statement) == SQLITE_ROW) {
        value = reinterpret_cast<const char*>(sqlite3_column_text(statement, 0));
    }
    sqlite3_finalize(statement);
    sqlite3_close(db);
    return value;
}

TEST(StoreFault, DiskFullAnswers503KeepsReadsWritesNothingAndResumesWhenSpaceReturns) {
    const auto data_dir = fresh_temp_dir("engined-disk-full");
    const std::string key = chaos::create_key(data_dir);
    const std::string body = read_text(golden_dir() / "brokerage_tx_multicarrier.input.json");
    // One worker: runs are usually accepted faster than it ends them.
    ChildEngined engined({std::filesystem::path(ENGINED_BINARY_DIR) / "engined",
                          data_dir,
                          ENGINED_SOURCE_DIR,
                          {"--workers", "1"}},
                         chaos::free_loopback_port());

    // 0, not the files' current size: the WAL starts again from its beginning after a
    // checkpoint, so only a limit below every offset makes the next write fail for certain.
    rlimit original{};
    ASSERT_EQ(prlimit(engined.pid(), RLIMIT_FSIZE, nullptr, &original), 0);
    rlimit full = original;
    full.rlim_cur = 0;

    // A burst of submissions, then the disk fills up. The fault must find runs still waiting,
    // which a busy machine can deny by running the one worker fast enough: then space is given
    // back and another burst tries again.
    http::Client client("127.0.0.1", engined.port());
    std::set<std::string> accepted_before;
    int waiting_at_fault = 0;
    for (int round = 0; round < 5 && waiting_at_fault == 0; ++round) {
        std::set<std::string> burst;
        std::mutex mutex;
        std::vector<std::thread> clients;
        for (int c = 0; c < 8; ++c) {
            clients.emplace_back([&, c] {
                http::Client submitter("127.0.0.1", engined.port());
                for (int i = 0; i < 50; ++i) {
                    const auto response = submit(submitter, key, body,
                                                 "before-" + std::to_string(round) + "-" +
                                                     std::to_string(c) + "-" + std::to_string(i));
                    std::lock_guard lock(mutex);
                    if (response.status == 202)
                        burst.insert(std::string(response.body.at("run_id").as_string()));
                }
            });
        }
        for (auto& submitter : clients) submitter.join();
        ASSERT_EQ(burst.size(), 400u);
        ASSERT_EQ(prlimit(engined.pid(), RLIMIT_FSIZE, &full, nullptr), 0);
        for (const std::string& run_id : burst) {
            const ApiResponse run = call(client, "GET", "/api/v1/runs/" + run_id, key);
            ASSERT_EQ(run.status, 200) << "reads go on while the disk is full";
            const auto status = run.body.at("status").as_string();
            if (status == "queued" || status == "processing") ++waiting_at_fault;
        }
        if (waiting_at_fault == 0) {
            ASSERT_EQ(prlimit(engined.pid(), RLIMIT_FSIZE, &original, nullptr), 0);
        }
        accepted_before.insert(burst.begin(), burst.end());
    }
    ASSERT_GT(waiting_at_fault, 0) << "every run had ended before the disk filled up, five times";

    constexpr int kRefused = 10;
    for (int i = 0; i < kRefused; ++i) {
        const ApiResponse refused = submit(client, key, body, "during-" + std::to_string(i));
        EXPECT_EQ(refused.status, 503);
        EXPECT_EQ(refused.body.at("error").at("code").as_string(), "unavailable");
        EXPECT_EQ(refused.raw.header("Retry-After"), "5");
    }
    // Well past the workers' outcome retry delay: runs that end meanwhile cannot be stored.
    std::this_thread::sleep_for(std::chrono::seconds(1));
    const ApiResponse listed = call(client, "GET", std::string(kSubmitPath) + "?limit=100", key);
    EXPECT_EQ(listed.status, 200);

    ASSERT_EQ(prlimit(engined.pid(), RLIMIT_FSIZE, &original, nullptr), 0);

    // The refused submissions left nothing behind: the same keys now create their runs.
    std::set<std::string> accepted_after;
    for (int i = 0; i < kRefused; ++i) {
        const ApiResponse accepted = submit(client, key, body, "during-" + std::to_string(i));
        ASSERT_EQ(accepted.status, 202);
        EXPECT_EQ(accepted.raw.header("Idempotent-Replayed"), "");
        accepted_after.insert(std::string(accepted.body.at("run_id").as_string()));
    }
    for (const auto* runs : {&accepted_before, &accepted_after}) {
        for (const std::string& run_id : *runs) {
            const auto run = wait_for_run(client, key, run_id, 30);
            EXPECT_EQ(run.at("status").as_string(), "completed") << run_id;
        }
    }
    EXPECT_EQ(engined.terminate(), 0);

    const auto database = data_dir / "engined.sqlite3";
    EXPECT_EQ(scalar(database, "PRAGMA integrity_check"), "ok");
    EXPECT_EQ(scalar(database, "SELECT count(*) FROM runs"),
              std::to_string(accepted_before.size() + kRefused));
    EXPECT_EQ(scalar(database, "SELECT count(*) FROM runs WHERE status <> 'completed'"), "0");
    EXPECT_EQ(
        scalar(database,
               "SELECT count(*) FROM idempotency_records WHERE idempotency_key LIKE 'during-%'"),
        std::to_string(kRefused));
    std::filesystem::remove_all(data_dir);
}

}  // namespace
}  // namespace engined::testing
