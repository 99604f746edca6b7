// The acceptance check against valijson on the same rewritten schemas: it may say "conforms" only
// where valijson finds no error, and on the shipped contracts it must say so for every conforming
// document, or the fast path is not taken. Documents: the golden requests, and mutants of them
// made by a seeded generator (members removed, values of every JSON kind swapped in, items
// duplicated, strings changed), plus one small schema per keyword with values around its bounds.
#include "contracts/contract_validator.hpp"
#include "contracts/validator_judges.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

namespace engined::contracts {
namespace {

namespace json = boost::json;

json::value read_json(const std::filesystem::path& path) {
    std::ifstream in(path);
    std::ostringstream text;
    text << in.rdbuf();
    return json::parse(text.str());
}

const std::filesystem::path kSource(ENGINED_SOURCE_DIR);

// One schema, judged both ways.
class BothWays {
public:
    explicit BothWays(const json::value& schema) : validator_(schema) {}

    bool has_check() const { return ValidatorJudges::has_acceptance_check(validator_); }

    bool valijson_accepts(const json::value& document) const {
        const auto verdict = ValidatorJudges::valijson_conforms(validator_, document);
        EXPECT_TRUE(verdict.has_value()) << "within the budget: " << json::serialize(document);
        return verdict.value_or(false);
    }

    bool check_accepts(const json::value& document) const {
        return ValidatorJudges::acceptance_check_conforms(validator_, document);
    }

    // Fails the test when the check accepts what valijson refuses; returns the check's answer.
    bool agrees_on(const json::value& document) const {
        const bool fast = check_accepts(document);
        if (fast) {
            EXPECT_TRUE(valijson_accepts(document))
                << "accepted, valijson refuses: " << json::serialize(document);
        }
        return fast;
    }

private:
    ContractValidator validator_;
};

// Mutants of a document: one random change each, somewhere in it.
class Mutator {
public:
    explicit Mutator(unsigned seed) : random_(seed) {}

    json::value mutant_of(const json::value& document) {
        json::value copy = document;
        std::vector<json::value*> places;
        collect(copy, places);
        json::value& place = *places[pick(places.size())];
        change(place);
        return copy;
    }

private:
    static void collect(json::value& value, std::vector<json::value*>& places) {
        places.push_back(&value);
        if (value.is_object()) {
            for (auto& member : value.get_object()) collect(member.value(), places);
        } else if (value.is_array()) {
            for (auto& item : value.get_array()) collect(item, places);
        }
    }

    std::size_t pick(std::size_t count) {
        return std::uniform_int_distribution<std::size_t>(0, count - 1)(random_);
    }

    void change(json::value& place) {
        static const json::value kReplacements[] = {
            nullptr,
            true,
            false,
            0,
            -1,
            1,
            json::value(std::uint64_t{18446744073709551615u}),
            1.0,
            2.5,
            -0.5,
            1e300,
            "",
            "x",
            "NY",
            "ny",
            "auto",
            "home",
            "umbrella",
            "balanced",
            "2026-01-01T00:00:00Z",
            "2026-02-30",
            json::string("a\0b", 3),
            "\xc3\xa9t\xc3\xa9",
            json::array{},
            json::array{"auto", "auto"},
            json::object{},
        };
        const std::size_t kind = pick(5);
        if (kind == 0 && place.is_object() && !place.get_object().empty()) {
            auto& object = place.get_object();
            object.erase(
                std::next(object.begin(), static_cast<std::ptrdiff_t>(pick(object.size()))));
        } else if (kind == 1 && place.is_object()) {
            place.get_object()["unexpected_member"] = kReplacements[pick(std::size(kReplacements))];
        } else if (kind == 2 && place.is_array() && !place.get_array().empty()) {
            auto& array = place.get_array();
            array.push_back(json::value(array[pick(array.size())]));
        } else if (kind == 3 && place.is_array() && !place.get_array().empty()) {
            auto& array = place.get_array();
            array.erase(std::next(array.begin(), static_cast<std::ptrdiff_t>(pick(array.size()))));
        } else {
            place = kReplacements[pick(std::size(kReplacements))];
        }
    }

    std::mt19937 random_;
};

struct Shipped {
    const char* schema;
    const char* goldens;
    bool goldens_are_inputs;  // a golden holds the request's `input` only
};

class AcceptanceCheckOnShippedContracts : public ::testing::TestWithParam<Shipped> {};

TEST_P(AcceptanceCheckOnShippedContracts, AcceptsOnlyWhatValijsonAcceptsAndEveryGoldenRequest) {
    const BothWays both(read_json(kSource / GetParam().schema));
    ASSERT_TRUE(both.has_check()) << "the shipped contract must take the fast path";

    // The golden requests that conform (a golden may show a refusal).
    std::vector<json::value> goldens;
    for (const auto& entry : std::filesystem::directory_iterator(kSource / GetParam().goldens)) {
        if (!entry.path().string().ends_with(".input.json")) continue;
        json::value golden = read_json(entry.path());
        if (GetParam().goldens_are_inputs) golden = json::object{{"input", std::move(golden)}};
        if (both.valijson_accepts(golden)) goldens.push_back(std::move(golden));
    }
    ASSERT_GE(goldens.size(), 5u);

    Mutator mutator(20261203);
    int valijson_accepted = 0;
    int both_accepted = 0;
    int refused = 0;
    for (const json::value& golden : goldens) {
        EXPECT_TRUE(both.agrees_on(golden)) << json::serialize(golden);
        for (int i = 0; i < 600; ++i) {
            json::value mutant = mutator.mutant_of(golden);
            for (int more = 0; more < i % 3; ++more) mutant = mutator.mutant_of(mutant);
            const bool accepted = both.agrees_on(mutant);
            const bool by_valijson = both.valijson_accepts(mutant);
            valijson_accepted += by_valijson ? 1 : 0;
            both_accepted += accepted && by_valijson ? 1 : 0;
            refused += by_valijson ? 0 : 1;
        }
    }
    // The mutants exercise both answers, and the check leaves few conforming ones to valijson.
    EXPECT_GT(refused, 500);
    EXPECT_GT(valijson_accepted, 200);
    EXPECT_GE(both_accepted * 100, valijson_accepted * 90)
        << both_accepted << " of " << valijson_accepted;
}

INSTANTIATE_TEST_SUITE_P(Contracts, AcceptanceCheckOnShippedContracts,
                         ::testing::Values(Shipped{"contracts/placement/request.schema.json",
                                                   "tests/golden/placement", false},
                                           Shipped{"contracts/entity_analysis/request.schema.json",
                                                   "tests/golden/entity_analysis", true}));

// One schema per keyword, each document on both sides of its bound.
struct KeywordCase {
    const char* schema;
    std::vector<const char*> conforming;
    std::vector<const char*> not_conforming;
};

TEST(AcceptanceCheck, EachKeywordAcceptsWhatConformsAndNothingValijsonRefuses) {
    const std::vector<KeywordCase> cases = {
        {R"({"type": "integer"})", {"1", "-7"}, {"1.0", "18446744073709551615", "\"1\"", "null"}},
        {R"({"type": "number"})", {"1", "1.5", "18446744073709551615"}, {"\"1\"", "true"}},
        {R"({"type": ["string", "null"]})", {"\"a\"", "null"}, {"0", "[]", "{}"}},
        {R"({"required": ["a"], "properties": {"a": {"type": "string"}}})",
         {R"({"a": "x"})", "5"},
         {R"({})", R"({"a": 1})"}},
        {R"({"properties": {"a": true}, "additionalProperties": false})",
         {R"({"a": 1})", "{}"},
         {R"({"b": 1})"}},
        {R"({"additionalProperties": {"type": "integer"}})", {R"({"b": 1})"}, {R"({"b": 1.5})"}},
        {R"({"items": {"type": "string"}, "minItems": 1, "maxItems": 2})",
         {R"(["a"])", R"(["a", "b"])"},
         {"[]", R"(["a", "b", "c"])", "[1]"}},
        {R"({"uniqueItems": true})", {R"(["a", "b"])", "[]"}, {R"(["a", "a"])", "[1, 1]"}},
        {R"({"minLength": 2, "maxLength": 3})",
         {"\"ab\"", "\"\u00e9t\u00e9\"", "5"},
         {"\"a\"", "\"abcd\""}},
        {R"({"minimum": 1, "maximum": 3})", {"1", "3", "2.5"}, {"0", "3.5", "0.999"}},
        {R"({"exclusiveMinimum": 1, "exclusiveMaximum": 3})", {"2", "1.5"}, {"1", "3"}},
        {R"({"enum": ["a", true, null]})", {"\"a\"", "true", "null"}, {"\"b\"", "false", "1"}},
        {R"({"const": false})", {"false"}, {"true", "0", "\"false\""}},
        {R"({"pattern": "^[A-Z]{2}$"})", {"\"NY\"", "12"}, {"\"N\"", "\"ny\""}},
        {R"({"format": "date"})", {"\"2024-02-29\"", "3"}, {"\"2023-02-29\"", "\"x\""}},
        {R"({"format": "date-time"})", {"\"2026-12-03T06:00:00Z\""}, {"\"2026-12-03\""}},
        {R"({"allOf": [{"type": "integer"}, {"minimum": 0}]})", {"0"}, {"-1", "0.5"}},
        {R"({"anyOf": [{"type": "integer"}, {"type": "string"}]})", {"0", "\"a\""}, {"0.5"}},
        {R"({"oneOf": [{"type": "integer"}, {"minimum": 0}]})", {"-1", "0.5"}, {"1", "-0.5"}},
        {R"({"not": {"type": "object"}})", {"1", "[]"}, {"{}"}},
        {R"({"if": {"required": ["a"]}, "then": {"required": ["b"]}, "else": {"required": ["c"]}})",
         {R"({"a": 1, "b": 2})", R"({"c": 3})"},
         {R"({"a": 1})", R"({})"}},
        {R"({"$ref": "#/definitions/d", "type": "string", "definitions": {"d": {"type": "integer"}}})",
         {"1"},
         {"\"a\""}},
        {R"({"definitions": {"a%b": {"type": "integer"}}, "items": {"$ref": "#/definitions/a%25b"}})",
         {"[1]"},
         {"[\"x\"]"}},
        {R"({"allOf": [false]})", {}, {"1", "null"}},
    };
    for (const KeywordCase& keyword : cases) {
        SCOPED_TRACE(keyword.schema);
        const BothWays both(json::parse(keyword.schema));
        ASSERT_TRUE(both.has_check());
        for (const char* document : keyword.conforming) {
            const json::value value = json::parse(document);
            if (!both.valijson_accepts(value)) continue;  // a bound valijson reads otherwise
            EXPECT_TRUE(both.agrees_on(value)) << document;
        }
        for (const char* document : keyword.not_conforming) {
            const json::value value = json::parse(document);
            both.agrees_on(value);
            EXPECT_FALSE(both.check_accepts(value)) << document;
        }
    }
}

TEST(AcceptanceCheck, AKeywordItDoesNotEvaluateLeavesTheSchemaToValijsonAlone) {
    for (const char* schema :
         {R"({"multipleOf": 2})", R"({"properties": {"a": {"minProperties": 1}}})",
          R"({"items": [{"type": "string"}]})", R"({"patternProperties": {"^a": {}}})",
          R"({"dependencies": {"a": ["b"]}})", R"({"contains": {"type": "string"}})"}) {
        const ContractValidator validator(json::parse(schema));
        EXPECT_FALSE(ValidatorJudges::has_acceptance_check(validator)) << schema;
        EXPECT_TRUE(validator.validate(json::parse("null")).empty()) << schema;
    }
    const ContractValidator even(json::parse(R"({"multipleOf": 2})"));
    EXPECT_TRUE(even.validate(json::value(4)).empty());
    EXPECT_FALSE(even.validate(json::value(3)).empty());
}

// The budget is charged as valijson's constraints charge it: what valijson stops at, the check
// stops at too, and valijson's run reports it.
TEST(AcceptanceCheck, ChargesTheWorkBudgetAsValijsonDoes) {
    const ContractValidator validator(json::parse(R"({"type": "array", "uniqueItems": true})"));
    ASSERT_TRUE(ValidatorJudges::has_acceptance_check(validator));
    json::array few;
    for (int i = 0; i < 500; ++i) few.push_back(json::value(std::to_string(i)));
    EXPECT_TRUE(ValidatorJudges::acceptance_check_conforms(validator, few));
    json::array many;
    for (int i = 0; i < 20000; ++i) many.push_back(json::value(std::to_string(i)));
    EXPECT_FALSE(ValidatorJudges::acceptance_check_conforms(validator, many));
    EXPECT_FALSE(ValidatorJudges::valijson_conforms(validator, many).has_value());
    const auto errors = validator.validate(many);
    ASSERT_EQ(errors.size(), 1u);
    EXPECT_NE(errors[0].message.find("steps"), std::string::npos) << errors[0].message;
}

}  // namespace
}  // namespace engined::contracts
