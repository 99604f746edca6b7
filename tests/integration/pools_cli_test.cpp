// Carrier pools end to end, through the built binaries: engined-demo-pool writes the same bytes
// for the same arguments, `enginectl pools import` stores what it writes, and a malformed file
// is refused with its line and leaves the store as it was.
#include "test_server.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>

#include <fstream>

extern char** environ;

namespace engined::testing {
namespace {

struct Result {
    int exit_code = -1;
    std::string out;
    std::string err;
};

// Runs build/<program> with `args`; stdout and stderr go to files so that neither pipe can
// fill up while we wait.
Result run(const std::string& program, std::vector<std::string> args,
           const std::filesystem::path& work_dir) {
    const std::string binary = std::string(ENGINED_BINARY_DIR) + "/" + program;
    const std::string out_file = (work_dir / "stdout.txt").string();
    const std::string err_file = (work_dir / "stderr.txt").string();
    args.insert(args.begin(), binary);
    std::vector<char*> argv;
    for (auto& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, out_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                     0600);
    posix_spawn_file_actions_addopen(&actions, 2, err_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                     0600);
    pid_t pid = 0;
    const int spawned = posix_spawn(&pid, binary.c_str(), &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (spawned != 0) throw std::runtime_error("cannot start " + binary);
    int status = 0;
    waitpid(pid, &status, 0);
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, read_text(out_file), read_text(err_file)};
}

#define EXPECT_SUCCEEDS(result) EXPECT_EQ((result).exit_code, 0) << (result).out << (result).err

class PoolsCliTest : public ::testing::Test {
protected:
    void TearDown() override { std::filesystem::remove_all(work_dir_); }

    Result demo_pool(const std::vector<std::string>& args) {
        return run("engined-demo-pool", args, work_dir_);
    }

    Result pools(const std::string& action, std::vector<std::string> args) {
        args.insert(args.begin(),
                    {"pools", action, "--data-dir", data_dir_.string(), "--org", "acme"});
        // Only an import may make the store (as engined would at its first start).
        if (action == "import") args.push_back("--create-store");
        return run("enginectl", args, work_dir_);
    }

    // The default demo pool, written to a file.
    std::filesystem::path generated_pool() {
        const auto file = work_dir_ / "demo.json";
        EXPECT_SUCCEEDS(demo_pool({"--out", file.string()}));
        return file;
    }

    const std::filesystem::path work_dir_ = fresh_temp_dir("pools-cli");
    const std::filesystem::path data_dir_ = work_dir_ / "data";
};

TEST_F(PoolsCliTest, DemoPoolIsTheSameBytesForTheSameArguments) {
    const auto first = work_dir_ / "first.json";
    const auto second = work_dir_ / "second.json";
    EXPECT_SUCCEEDS(demo_pool({"--out", first.string()}));
    EXPECT_SUCCEEDS(demo_pool({"--out", second.string(), "--seed", "1873", "--count", "1873"}));
    const std::string text = read_text(first);
    EXPECT_EQ(text, read_text(second));
    EXPECT_EQ(demo_pool({}).out, text) << "stdout and --out write the same";
    EXPECT_NE(demo_pool({"--seed", "2"}).out, text);

    const auto carriers = boost::json::parse(text).at("carriers").as_array();
    EXPECT_EQ(carriers.size(), 1873u);
    for (const auto& carrier : carriers) ASSERT_EQ(carrier.at("synthetic"), true) << carrier;
    EXPECT_EQ(boost::json::parse(demo_pool({"--count", "1800", "--seed", "9"}).out)
                  .at("carriers")
                  .as_array()
                  .size(),
              1800u);
}

TEST_F(PoolsCliTest, ImportedDemoPoolIsListedAndShown) {
    const Result imported = pools("import", {"--pool", "carriers:all", generated_pool().string()});
    EXPECT_SUCCEEDS(imported);
    EXPECT_TRUE(imported.out.starts_with("imported 1873 carriers into carriers:all (snapshot "))
        << imported.out;
    const std::string snapshot = imported.out.substr(imported.out.find("snapshot ") + 9, 12);

    const Result listed = pools("list", {});
    EXPECT_SUCCEEDS(listed);
    EXPECT_TRUE(listed.out.starts_with("NAME")) << listed.out;
    EXPECT_NE(listed.out.find("carriers:all"), std::string::npos) << listed.out;
    EXPECT_NE(listed.out.find("1873"), std::string::npos) << listed.out;
    EXPECT_NE(listed.out.find(snapshot), std::string::npos) << listed.out;
    EXPECT_NE(listed.out.find("demo.json"), std::string::npos) << listed.out;

    const Result shown = pools("show", {"--pool", "carriers:all", "--limit", "3"});
    EXPECT_SUCCEEDS(shown);
    EXPECT_NE(shown.out.find("demo_0001"), std::string::npos) << shown.out;
    EXPECT_NE(shown.out.find("demo_0003"), std::string::npos) << shown.out;
    EXPECT_EQ(shown.out.find("demo_0004"), std::string::npos) << shown.out;
    EXPECT_NE(shown.out.find("(3 of 1873 carriers"), std::string::npos) << shown.out;
}

TEST_F(PoolsCliTest, PoolCommandsPrintJson) {
    const Result imported =
        pools("import", {"--pool", "carriers:all", "--json", generated_pool().string()});
    EXPECT_SUCCEEDS(imported);
    const auto pool = boost::json::parse(imported.out).as_object();
    EXPECT_EQ(pool.at("name"), "carriers:all");
    EXPECT_EQ(pool.at("carrier_count"), 1873);
    EXPECT_EQ(pool.at("source"), "demo.json");

    const Result listed = pools("list", {"--json"});
    EXPECT_SUCCEEDS(listed);
    const auto data = boost::json::parse(listed.out).at("data").as_array();
    ASSERT_EQ(data.size(), 1u) << listed.out;
    EXPECT_EQ(data[0].at("snapshot"), pool.at("snapshot"));

    // --limit at its bound (1) and past it (0, refused before the store is read).
    const Result shown = pools("show", {"--pool", "carriers:all", "--limit", "1", "--json"});
    EXPECT_SUCCEEDS(shown);
    const auto carriers = boost::json::parse(shown.out).at("carriers").as_array();
    ASSERT_EQ(carriers.size(), 1u) << shown.out;
    EXPECT_EQ(carriers[0].at("id"), "demo_0001");
    const Result zero = pools("show", {"--pool", "carriers:all", "--limit", "0"});
    EXPECT_EQ(zero.exit_code, 2) << zero.err;
    EXPECT_NE(zero.err.find("--limit takes a whole number of at least 1, got '0'"),
              std::string::npos)
        << zero.err;
}

TEST_F(PoolsCliTest, MalformedCsvIsRefusedWithItsLineAndChangesNothing) {
    EXPECT_SUCCEEDS(pools("import", {"--pool", "carriers:all", generated_pool().string()}));
    const Result before = pools("list", {});
    EXPECT_SUCCEEDS(before);

    const auto bad = work_dir_ / "bad.csv";
    std::ofstream(bad) << "id,name,states,lines,revenue_min,revenue_max\n"
                       << "car_1,Harbor Mutual,NY,cyber:preferred,0,1000000\n"
                       << "car_2,Summit Specialty,NY;CA,cyber:preferred,5000,1000\n"
                       << "car_3,Keystone Casualty,TX,bop:acceptable,,\n";
    const Result refused = pools("import", {"--pool", "carriers:all", bad.string()});
    EXPECT_EQ(refused.exit_code, 1) << refused.out << refused.err;
    EXPECT_EQ(refused.err, bad.string() + ":3: revenue_max (1000) is below revenue_min (5000)\n");
    EXPECT_EQ(refused.out, "");

    const Result after = pools("list", {});
    EXPECT_SUCCEEDS(after);
    EXPECT_EQ(after.out, before.out);
}

TEST_F(PoolsCliTest, RefusedFileNeverCreatesAStore) {
    const auto bad = work_dir_ / "bad.json";
    std::ofstream(bad) << "[]";
    const Result refused = pools("import", {"--pool", "carriers:all", bad.string()});
    EXPECT_EQ(refused.exit_code, 1) << refused.out << refused.err;
    EXPECT_EQ(refused.err, bad.string() + ":1: the pool has no records\n");
    EXPECT_FALSE(std::filesystem::exists(data_dir_));
}

TEST_F(PoolsCliTest, TheEngineTypeThatReadsThePoolChecksItsRecordsBeforeAnythingIsStored) {
    const auto file = generated_pool();
    const Result placement =
        pools("import", {"--pool", "carriers:all", "--engine-type", "placement", file.string()});
    EXPECT_NE(placement.exit_code, 0);
    EXPECT_NE(placement.err.find("engine type 'placement' reads no pools"), std::string::npos)
        << placement.err;
    const Result unknown =
        pools("import", {"--pool", "carriers:all", "--engine-type", "nope", file.string()});
    EXPECT_NE(unknown.exit_code, 0);
    EXPECT_NE(unknown.err.find("no plugin for engine type 'nope'"), std::string::npos)
        << unknown.err;
    EXPECT_FALSE(std::filesystem::exists(data_dir_));
    EXPECT_SUCCEEDS(pools(
        "import", {"--pool", "carriers:all", "--engine-type", "entity_analysis", file.string()}));
}

TEST_F(PoolsCliTest, AThirdPartyEngineTypeImportsAPoolOfItsOwnRecords) {
    const auto file = work_dir_ / "weights.csv";
    std::ofstream(file) << "id,weight\nB2,2.5\na1,1\n";
    const std::vector<std::string> shortlist{"--engine-type", "shortlist", "--plugins-dir",
                                             THIRD_PARTY_PLUGIN_DIR};
    std::vector<std::string> import{"--pool", "weights"};
    import.insert(import.end(), shortlist.begin(), shortlist.end());
    import.push_back(file.string());
    EXPECT_SUCCEEDS(pools("import", import));
    const Result shown = pools("show", {"--pool", "weights", "--json"});
    EXPECT_SUCCEEDS(shown);
    EXPECT_EQ(boost::json::parse(shown.out).at("carriers"),
              boost::json::parse(R"([{"id":"a1","weight":1},{"id":"b2","weight":2.5}])"));

    // The same file is not a carrier pool: the entity_analysis plugin names the column.
    const Result carriers = pools("import", {"--pool", "weights", file.string()});
    EXPECT_EQ(carriers.exit_code, 1);
    EXPECT_EQ(carriers.err.substr(0, file.string().size() + 28),
              file.string() + ":1: unknown column 'weight';");
}

}  // namespace
}  // namespace engined::testing
