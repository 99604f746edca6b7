#include "audit/audit_key.hpp"

#include "common/crypto.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace engined::audit {
namespace {

namespace fs = std::filesystem;

class AuditKeyTest : public ::testing::Test {
protected:
    void SetUp() override { fs::create_directories(dir_); }
    void TearDown() override { fs::remove_all(dir_); }
    const fs::path dir_ = fs::temp_directory_path() / ("engined-audit-key-" + random_hex(8));
};

TEST_F(AuditKeyTest, AMissingKeyIsWrittenOwnerOnlyAndThenKept) {
    const fs::path file = default_key_file(dir_);
    EXPECT_EQ(file, dir_ / "audit.key");
    const std::string key = read_or_create_key(file);
    EXPECT_EQ(key.size(), 64u);
    EXPECT_EQ(fs::status(file).permissions() & fs::perms::all,
              fs::perms::owner_read | fs::perms::owner_write);
    EXPECT_EQ(read_or_create_key(file), key) << "an existing key is never replaced";
    EXPECT_EQ(read_key(file), key);
}

TEST_F(AuditKeyTest, AMissingOrMalformedKeyFileIsRefusedNamingIt) {
    const fs::path missing = dir_ / "none.key";
    try {
        read_key(missing);
        ADD_FAILURE() << "a missing key was read";
    } catch (const std::runtime_error& error) {
        EXPECT_NE(std::string(error.what()).find(missing.string()), std::string::npos);
    }
    const fs::path short_key = dir_ / "short.key";
    std::ofstream(short_key) << std::string(63, 'a');
    EXPECT_THROW(read_key(short_key), std::runtime_error);
    const fs::path not_hex = dir_ / "not-hex.key";
    std::ofstream(not_hex) << std::string(63, 'a') << "g";
    EXPECT_THROW(read_key(not_hex), std::runtime_error);
    const fs::path exact = dir_ / "exact.key";
    std::ofstream(exact) << "  " << std::string(64, 'a') << "\n";
    EXPECT_EQ(read_key(exact), std::string(64, 'a')) << "surrounding whitespace is ignored";
}

}  // namespace
}  // namespace engined::audit
