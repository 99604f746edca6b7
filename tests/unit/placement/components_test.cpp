// The placement engine's building blocks: date parsing, the quotes mapping, configuration checks.
#include "config.hpp"
#include "quotes.hpp"
#include "timestamp.hpp"

#include "test_support.hpp"

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <string>

namespace engined::placement {
namespace {

namespace json = boost::json;

TEST(Rfc3339, ParsesUtcAndOffsets) {
    EXPECT_EQ(parse_rfc3339_ms("1970-01-01T00:00:00Z"), 0);
    EXPECT_EQ(parse_rfc3339_ms("2026-11-23T12:00:00Z"), 1'795'435'200'000);
    EXPECT_EQ(parse_rfc3339_ms("2026-11-23T14:00:00+02:00"), 1'795'435'200'000);
    EXPECT_EQ(parse_rfc3339_ms("2026-11-23t12:00:00.25z"), 1'795'435'200'250);
    EXPECT_EQ(parse_rfc3339_ms("2024-02-29T00:00:00Z"), 1'709'164'800'000);
}

TEST(Rfc3339, RefusesWhatIsNotADateTime) {
    for (const char* text : {"", "2027-01-15", "2027-01-15T00:00:00", "2027-13-01T00:00:00Z",
                             "2023-02-29T00:00:00Z", "2027-01-15T24:00:00Z", "next tuesday",
                             "2027-01-15T00:00:00Zjunk", "2027-01-15T00:00:00+0200"}) {
        EXPECT_FALSE(parse_rfc3339_ms(text).has_value()) << text;
    }
}

TEST(QuoteExpiry, DateTimeIsReadAsWritten) {
    EXPECT_EQ(parse_quote_expiry_ms("2026-11-23T12:00:00Z", std::string("NY")), 1'795'435'200'000);
    EXPECT_EQ(parse_quote_expiry_ms("2026-11-23T12:00:00Z", std::nullopt), 1'795'435'200'000);
}

TEST(QuoteExpiry, DateOnlyEndsAtTheEndOfThatDayInTheStatesCivilTime) {
    const std::int64_t utc_end_of_dec_31 = *parse_rfc3339_ms("2027-01-01T00:00:00Z") - 1;
    constexpr std::int64_t kHourMs = 3'600'000;
    // Winter: standard time.
    EXPECT_EQ(parse_quote_expiry_ms("2026-12-31", std::string("NY")),
              utc_end_of_dec_31 + 5 * kHourMs);
    EXPECT_EQ(parse_quote_expiry_ms("2026-12-31", std::string("CA")),
              utc_end_of_dec_31 + 8 * kHourMs);
    EXPECT_EQ(parse_quote_expiry_ms("2026-12-31", std::string("HI")),
              utc_end_of_dec_31 + 10 * kHourMs);
    EXPECT_EQ(parse_quote_expiry_ms("2026-12-31", std::string("GU")),
              utc_end_of_dec_31 - 10 * kHourMs);
    // Summer: daylight saving time where the state observes it (Arizona does not).
    EXPECT_EQ(parse_quote_expiry_ms("2026-07-04", std::string("NY")),
              parse_rfc3339_ms("2026-07-04T23:59:59.999-04:00"));
    EXPECT_EQ(parse_quote_expiry_ms("2026-07-04", std::string("CA")),
              parse_rfc3339_ms("2026-07-04T23:59:59.999-07:00"));
    EXPECT_EQ(parse_quote_expiry_ms("2026-07-04", std::string("AZ")),
              parse_rfc3339_ms("2026-07-04T23:59:59.999-07:00"));
    // 2026: daylight saving from Sunday 8 March to Sunday 1 November (02:00 local).
    EXPECT_EQ(parse_quote_expiry_ms("2026-03-07", std::string("NY")),
              parse_rfc3339_ms("2026-03-07T23:59:59.999-05:00"));
    EXPECT_EQ(parse_quote_expiry_ms("2026-03-08", std::string("NY")),
              parse_rfc3339_ms("2026-03-08T23:59:59.999-04:00"));
    EXPECT_EQ(parse_quote_expiry_ms("2026-10-31", std::string("NY")),
              parse_rfc3339_ms("2026-10-31T23:59:59.999-04:00"));
    EXPECT_EQ(parse_quote_expiry_ms("2026-11-01", std::string("NY")),
              parse_rfc3339_ms("2026-11-01T23:59:59.999-05:00"));
    // No state, or one outside the table: UTC.
    EXPECT_EQ(parse_quote_expiry_ms("2026-12-31", std::nullopt), utc_end_of_dec_31);
    EXPECT_EQ(parse_quote_expiry_ms("2026-12-31", std::string("ZZ")), utc_end_of_dec_31);
}

TEST(QuoteExpiry, RefusesWhatIsNeitherADateNorADateTime) {
    for (const char* text : {"", "2026-12-32", "2026-02-29", "2026-12-31junk", "2026-1-31",
                             "31/12/2026", "2027-01-15T00:00:00"}) {
        EXPECT_FALSE(parse_quote_expiry_ms(text, std::string("NY")).has_value()) << text;
    }
    EXPECT_TRUE(parse_quote_expiry_ms("2028-02-29", std::string("NY")).has_value());
}

TEST(QuotesToOfferings, MakesOneOfferingPerQuotedLine) {
    const json::array offerings = offerings_from_quotes(
        test::golden_input("quotes_only_oh").at("input").at("quotes").as_array());
    ASSERT_EQ(offerings.size(), 4u);
    const json::value expected_home = json::parse(R"({
        "provider_name": "Erie", "provider_id": "erie", "id": "qt_erie_home", "category": "home",
        "attributes": {
            "package_id": "pkg_erie_1", "package_premium_annual": 3610, "term_months": 12,
            "broker": "Main St Agency", "quote_generated_at": "2026-11-20T10:00:00Z",
            "quote_expires_at": "2027-01-20T00:00:00Z", "quote_id": "qt_erie_home",
            "line_premium_annual": 1450
        }
    })");
    EXPECT_EQ(offerings[0], expected_home);
    EXPECT_EQ(offerings[2].at("provider_id"), "state-farm");
    EXPECT_EQ(offerings[3].at("category"), "auto");
}

TEST(QuotesToOfferings, NamesLinesWithoutQuoteIdAfterTheirPackage) {
    const json::array offerings = offerings_from_quotes(json::parse(R"([
        {"package_id": "pkg_1", "carrier": "Acme", "umbrella": {"premium_annual": 300},
         "coverage": {"note": "a quote-level object that is not a line"}}
    ])")
                                                            .as_array());
    ASSERT_EQ(offerings.size(), 1u);
    EXPECT_EQ(offerings[0].at("id"), "pkg_1/umbrella");
    EXPECT_EQ(offerings[0].at("coverage").at("note"), "a quote-level object that is not a line");
}

TEST(ConfigCheck, ReportsEveryProblemWithItsPointer) {
    json::object config = test::preset_config();
    config["scoring_dimensions"].as_array().push_back(
        json::object{{"key", "vibes"}, {"method", "deterministic"}, {"enabled", true}});
    config["appetite_weight_profiles"].as_array()[0].at("weights").as_object().erase("simplicity");
    config["parameters"].as_object()["max_packages_examined"] = 0;

    std::vector<std::string> paths;
    for (const ConfigProblem& problem : check_config(config)) {
        paths.push_back(problem.path);
    }
    EXPECT_EQ(paths, (std::vector<std::string>{"/scoring_dimensions/4/method",
                                               "/appetite_weight_profiles/0/weights/simplicity",
                                               "/parameters/max_packages_examined"}));
}

TEST(ConfigCheck, SolutionOfferingsIsSubmittedOrSummary) {
    json::object config = test::preset_config();
    for (const char* shape : {"submitted", "summary"}) {
        config["parameters"].as_object()["solution_offerings"] = shape;
        EXPECT_TRUE(check_config(config).empty()) << shape;
    }
    config["parameters"].as_object()["solution_offerings"] = "flat";
    const std::vector<ConfigProblem> problems = check_config(config);
    ASSERT_EQ(problems.size(), 1u);
    EXPECT_EQ(problems[0].path, "/parameters/solution_offerings");
}

TEST(ConfigCheck, RequiresWeightsForLuaDimensions) {
    json::object config = test::preset_config();
    config["scoring_dimensions"].as_array().push_back(
        json::object{{"key", "household_fit"}, {"method", "lua"}, {"enabled", true}});
    const std::vector<ConfigProblem> problems = check_config(config);
    ASSERT_EQ(problems.size(), 4u);
    EXPECT_EQ(problems[0].path, "/appetite_weight_profiles/0/weights/household_fit");
}

TEST(ConfigCheck, RefusesAMissingDefaultBucket) {
    json::object config = test::preset_config();
    config.erase("default_appetite_bucket");
    const std::vector<ConfigProblem> problems = check_config(config);
    ASSERT_EQ(problems.size(), 1u);
    EXPECT_EQ(problems[0].path, "/default_appetite_bucket");
}

}  // namespace
}  // namespace engined::placement
