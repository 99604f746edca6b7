// The reproducibility fingerprint: what it hashes, that each component moves it, and where the
// version component comes from (a real store in a temp folder).
#include "runs/fingerprint.hpp"

#include "common/crypto.hpp"
#include "store/sqlite/sqlite_store.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <cstdint>
#include <filesystem>

namespace engined::runs {
namespace {

namespace fs = std::filesystem;

// 2026-11-23T12:00:00Z
constexpr std::int64_t kReferenceMs = 1'795'435'200'000;
const FingerprintComponents kComponents{std::string(64, 'a'), std::string(64, 'b'),
                                        std::string(64, 'c'), "1.4.0", kReferenceMs};
const FingerprintComponents kFormat1Components{
    std::string(64, 'a'), std::string(64, 'b'), std::string(64, 'c'), "1.4.0", kReferenceMs, 1};

TEST(Fingerprint, IsTheSha256OfTheCanonicalComponentsWithTheFormatAndReferenceTime) {
    const std::string expected =
        sha256_hex(R"({"format":2,"input_sha256":")" + kComponents.input_sha256 +
                   R"(","platform_version":"1.4.0","plugin_sha256":")" + kComponents.plugin_sha256 +
                   R"(","reference_time":"2026-11-23T12:00:00.000Z","version_content_hash":")" +
                   kComponents.version_content_hash + R"("})");
    EXPECT_EQ(fingerprint_of(kComponents).sha256, expected);
    EXPECT_EQ(kComponents.format, kFingerprintFormat);
}

TEST(Fingerprint, ChangesWhenOnlyTheReferenceTimeChanges) {
    FingerprintComponents later = kComponents;
    later.reference_unix_ms += 1;
    EXPECT_NE(fingerprint_of(later).sha256, fingerprint_of(kComponents).sha256);
    EXPECT_EQ(to_json(later).at("reference_time"), "2026-11-23T12:00:00.001Z");
}

// Runs fingerprinted before the reference time was covered keep their hash, byte for byte.
TEST(Fingerprint, Format1IsTheSha256OfTheFourOriginalComponents) {
    const std::string expected = sha256_hex(
        R"({"input_sha256":")" + kFormat1Components.input_sha256 +
        R"(","platform_version":"1.4.0","plugin_sha256":")" + kFormat1Components.plugin_sha256 +
        R"(","version_content_hash":")" + kFormat1Components.version_content_hash + R"("})");
    EXPECT_EQ(fingerprint_of(kFormat1Components).sha256, expected);
    EXPECT_EQ(fingerprint_of(kFormat1Components).sha256,
              fingerprint_of(FingerprintComponents(kFormat1Components)).sha256);
    EXPECT_EQ(boost::json::serialize(to_json(kFormat1Components)),
              R"({"input_sha256":")" + kFormat1Components.input_sha256 +
                  R"(","version_content_hash":")" + kFormat1Components.version_content_hash +
                  R"(","plugin_sha256":")" + kFormat1Components.plugin_sha256 +
                  R"(","platform_version":"1.4.0"})");
}

TEST(Fingerprint, Format1IgnoresTheReferenceTime) {
    FingerprintComponents later = kFormat1Components;
    later.reference_unix_ms += 86'400'000;
    EXPECT_EQ(fingerprint_of(later).sha256, fingerprint_of(kFormat1Components).sha256);
    EXPECT_NE(fingerprint_of(kFormat1Components).sha256, fingerprint_of(kComponents).sha256);
}

TEST(Fingerprint, ChangingAnyComponentChangesIt) {
    const std::string original = fingerprint_of(kComponents).sha256;
    for (std::string FingerprintComponents::*component :
         {&FingerprintComponents::input_sha256, &FingerprintComponents::version_content_hash,
          &FingerprintComponents::plugin_sha256, &FingerprintComponents::platform_version}) {
        FingerprintComponents changed = kComponents;
        (changed.*component).back() ^= 1;
        EXPECT_NE(fingerprint_of(changed).sha256, original);
    }
}

class TempStore {
public:
    TempStore() : dir_(fs::temp_directory_path() / ("engined-fingerprint-" + random_hex(8))) {
        fs::create_directories(dir_);
        store::SqliteOptions options;
        options.path = (dir_ / "engined.sqlite3").string();
        store_.emplace(options);
    }
    ~TempStore() {
        store_.reset();
        std::error_code ignored;
        fs::remove_all(dir_, ignored);
    }
    store::Store& operator*() { return *store_; }

private:
    fs::path dir_;
    std::optional<store::SqliteStore> store_;
};

constexpr const char* kConfig = R"({"pack_key":"home"})";

store::Run run_of(std::string request_json, std::optional<std::string> engine_version) {
    store::Run run;
    run.id = "run-1";
    run.organization = "org_a";
    run.engine_slug = "home";
    run.engine_type = "placement";
    run.engine_version = std::move(engine_version);
    run.request_json = std::move(request_json);
    run.config_hash = sha256_hex(kConfig);
    run.created_at_ms = kReferenceMs;
    return run;
}

TEST(FingerprintFormat, IsTheOneTheRunWasFingerprintedWith) {
    store::Run run = run_of("{}", std::nullopt);
    EXPECT_EQ(fingerprint_format(run), kFingerprintFormat);  // not fingerprinted yet
    run.fingerprint_json = boost::json::serialize(to_json(kFormat1Components));
    EXPECT_EQ(fingerprint_format(run), 1);
    run.fingerprint_json = boost::json::serialize(to_json(kComponents));
    EXPECT_EQ(fingerprint_format(run), 2);
}

TEST(FingerprintComponents, ComeFromTheCanonicalRequestThePinnedReleaseAndTheCaller) {
    TempStore store;
    store::EngineRecord engine;
    engine.id = "eng_1";
    engine.organization = "org_a";
    engine.slug = "home";
    engine.label = engine.description = "Home";
    engine.engine_type = "placement";
    engine.config_hash = sha256_hex(kConfig);
    engine.config_updated_by = "user_1";
    (*store).insert_engine(engine, kConfig);
    store::ReleaseRecord release;
    release.organization = "org_a";
    release.engine_slug = "home";
    release.major = 1;
    release.minor = 1;
    release.config_hash = sha256_hex(kConfig);
    release.bundle_json = "{}";
    release.content_hash = std::string(64, 'e');
    release.bump = "initial";
    release.published_by = "user_1";
    (*store).insert_release(release, kConfig);

    const auto pinned = fingerprint_components(
        *store, run_of(R"({"input":{"b":1,"a":[2,3]}})", "1.1"), "plugin-hash", "9.9.9");
    EXPECT_EQ(pinned.input_sha256, sha256_hex(R"({"input":{"a":[2,3],"b":1}})"));
    EXPECT_EQ(pinned.version_content_hash, release.content_hash);
    EXPECT_EQ(pinned.plugin_sha256, "plugin-hash");
    EXPECT_EQ(pinned.platform_version, "9.9.9");
    // Member order of the stored request does not matter; its content does.
    EXPECT_EQ(fingerprint_components(*store, run_of(R"({"input":{"a":[2,3],"b":1}})", "1.1"),
                                     "plugin-hash", "9.9.9")
                  .input_sha256,
              pinned.input_sha256);
    EXPECT_NE(fingerprint_components(*store, run_of(R"({"input":{"a":[3,2],"b":1}})", "1.1"),
                                     "plugin-hash", "9.9.9")
                  .input_sha256,
              pinned.input_sha256);

    EXPECT_EQ(pinned.format, kFingerprintFormat);
    EXPECT_EQ(pinned.reference_unix_ms, kReferenceMs);

    const auto unreleased =
        fingerprint_components(*store, run_of(R"({"input":{}})", std::nullopt), "p", "v");
    EXPECT_EQ(unreleased.version_content_hash, "config:" + sha256_hex(kConfig));
    EXPECT_EQ(pinned_release_content_hash(*store, run_of("{}", "1.1")), release.content_hash);
    EXPECT_EQ(pinned_release_content_hash(*store, run_of("{}", "1.2")), std::nullopt);
    EXPECT_EQ(pinned_release_content_hash(*store, run_of("{}", std::nullopt)), std::nullopt);
}

// A run its submit handed to a worker carries the inputs the submit knew: they are used as they
// are, with no read of the request's text or of the release (this store has neither engine nor
// release, so a derivation would answer "config:<hash>").
TEST(FingerprintComponents, TheInputsARunCarriesAreUsedWithoutAskingTheStore) {
    TempStore store;
    store::Run run = run_of(R"({"input":{"b":1}})", "1.1");
    run.fingerprint_inputs = store::FingerprintInputs{std::string(64, 'd'), std::string(64, 'e')};
    const auto carried = fingerprint_components(*store, run, "plugin-hash", "9.9.9");
    EXPECT_EQ(carried.input_sha256, std::string(64, 'd'));
    EXPECT_EQ(carried.version_content_hash, std::string(64, 'e'));
    EXPECT_EQ(carried.plugin_sha256, "plugin-hash");
    EXPECT_EQ(carried.reference_unix_ms, kReferenceMs);

    run.fingerprint_inputs.reset();
    const auto derived = fingerprint_components(*store, run, "plugin-hash", "9.9.9");
    EXPECT_EQ(derived.input_sha256, sha256_hex(R"({"input":{"b":1}})"));
    EXPECT_EQ(derived.version_content_hash, "config:" + run.config_hash);
}

}  // namespace
}  // namespace engined::runs
