// `engined backup` against a serving engined: the copy holds every run committed before it
// began, while submissions go on during the copy.
#include "test_server.hpp"

#include "store/sqlite/sqlite_store.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>

#include <atomic>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

extern char** environ;

namespace engined::testing {
namespace {

struct BackupResult {
    int exit_code = -1;
    std::string out;
    std::string err;
};

// build/engined backup ARGS…, output to files in `work_dir`. posix_spawn, not fork: this
// process runs server threads.
BackupResult run_backup(const std::vector<std::string>& args,
                        const std::filesystem::path& work_dir) {
    std::vector<std::string> command{std::string(ENGINED_BINARY_DIR) + "/engined", "backup"};
    command.insert(command.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (std::string& arg : command) argv.push_back(arg.data());
    argv.push_back(nullptr);
    const std::string out_file = (work_dir / "backup.out").string();
    const std::string err_file = (work_dir / "backup.err").string();
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, out_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                     0600);
    posix_spawn_file_actions_addopen(&actions, 2, err_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                     0600);
    pid_t pid = 0;
    const int spawned = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (spawned != 0) throw std::runtime_error("cannot start engined backup");
    int status = 0;
    waitpid(pid, &status, 0);
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, read_text(out_file), read_text(err_file)};
}

TEST(Backup, CopyWhileServingHoldsEveryRunCommittedBeforeItBegan) {
    TestServer server;
    const std::string key = server.create_key("acme", "test", {}, 1e9, 1'000'000'000);
    const std::string body = read_text(golden_dir() / "pure_bundle_ca.input.json");
    const auto work_dir = fresh_temp_dir("engined-backup");

    std::mutex mutex;
    std::set<std::string> committed_before;  // answered 202 before the backup was started
    int accepted_during = 0;
    std::atomic<bool> backup_started{false};
    std::atomic<bool> stop{false};
    std::atomic<int> accepted{0};
    std::vector<std::thread> submitters;
    for (int t = 0; t < 4; ++t) {
        submitters.emplace_back([&] {
            http::Client client("127.0.0.1", server.port());
            while (!stop) {
                const ApiResponse response =
                    call(client, "POST", "/api/v1/engines/default/runs", key, body);
                if (response.status != 202) continue;
                ++accepted;
                // A 202 seen before the flag was set was committed before the backup began.
                const bool before = !backup_started;
                std::lock_guard lock(mutex);
                if (before) {
                    committed_before.insert(std::string(response.body.at("run_id").as_string()));
                } else {
                    ++accepted_during;
                }
            }
        });
    }
    while (accepted < 300) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    backup_started = true;
    const auto backup_file = work_dir / "engined-backup.sqlite3";
    const BackupResult result = run_backup(
        {"--data-dir", server.data_dir().string(), "--to", backup_file.string()}, work_dir);
    // Submissions go on for a moment after the copy too; none of them may be needed in it.
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    stop = true;
    for (auto& submitter : submitters) submitter.join();

    ASSERT_EQ(result.exit_code, 0) << result.err;
    EXPECT_NE(result.out.find("integrity ok"), std::string::npos) << result.out;
    EXPECT_GT(accepted_during, 0) << "no submission was answered once the backup began";

    store::SqliteOptions options;
    options.path = backup_file.string();
    store::SqliteStore restored(options);
    int missing = 0;
    for (const std::string& run_id : committed_before) {
        if (!restored.get_run(run_id)) ++missing;
    }
    EXPECT_EQ(missing, 0) << "of " << committed_before.size()
                          << " runs committed before the backup";
    std::filesystem::remove_all(work_dir);
}

TEST(Backup, RefusesAFolderWithoutAStoreAndBadArguments) {
    const auto work_dir = fresh_temp_dir("engined-backup");
    const auto target = work_dir / "copy.sqlite3";
    const BackupResult no_store = run_backup(
        {"--data-dir", (work_dir / "no-such-data").string(), "--to", target.string()}, work_dir);
    EXPECT_EQ(no_store.exit_code, 1);
    EXPECT_NE(no_store.err.find("no store at"), std::string::npos) << no_store.err;
    EXPECT_FALSE(std::filesystem::exists(target));
    EXPECT_FALSE(std::filesystem::exists(work_dir / "no-such-data"));

    EXPECT_EQ(run_backup({"--to", target.string()}, work_dir).exit_code, 2);
    EXPECT_EQ(run_backup({"--data-dir", work_dir.string(), "--bogus", "x"}, work_dir).exit_code, 2);
    std::filesystem::remove_all(work_dir);
}

}  // namespace
}  // namespace engined::testing
