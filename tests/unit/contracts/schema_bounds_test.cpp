// The bounds of schemas from configurations: cycles, chains and sizes refused with their pointers,
// patterns and formats under RE2 (linear time, whatever the input), and a work budget per document.
#include "contracts/contract_validator.hpp"
#include "contracts/schema_view.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>
#include <re2/re2.h>

#include <algorithm>
#include <string>
#include <thread>

namespace engined::contracts {
namespace {

namespace json = boost::json;

std::vector<ErrorDetail> problems_of(const json::value& schema) {
    try {
        ContractValidator validator(schema);
    } catch (const InvalidSchema& refused) {
        return refused.problems();
    }
    return {};
}

bool has_problem(const std::vector<ErrorDetail>& problems, const std::string& pointer,
                 const std::string& words) {
    return std::any_of(problems.begin(), problems.end(), [&](const ErrorDetail& problem) {
        return problem.pointer == pointer && problem.message.find(words) != std::string::npos;
    });
}

std::string listed(const std::vector<ErrorDetail>& details) {
    std::string text;
    for (const auto& detail : details) text += "[" + detail.pointer + "] " + detail.message + "\n";
    return text;
}

// ---- cycles and chains ----

TEST(SchemaBounds, ARefToItselfIsRefusedWithThePointerOfTheCycle) {
    const auto problems = problems_of(json::parse(
        R"({"definitions": {"loop": {"$ref": "#/definitions/loop"}}, "$ref": "#/definitions/loop"})"));
    EXPECT_TRUE(has_problem(problems, "/definitions/loop", "cycle")) << listed(problems);
}

TEST(SchemaBounds, ARefCycleThroughTwoDefinitionsIsRefused) {
    const auto problems =
        problems_of(json::parse(R"({"properties": {"a": {"$ref": "#/definitions/p"}},
        "definitions": {"p": {"$ref": "#/definitions/q"}, "q": {"$ref": "#/definitions/p"}}})"));
    ASSERT_EQ(problems.size(), 1u) << listed(problems);
    EXPECT_TRUE(problems[0].pointer == "/definitions/p" || problems[0].pointer == "/definitions/q")
        << listed(problems);
    EXPECT_NE(problems[0].message.find("/definitions/p -> /definitions/q"), std::string::npos)
        << listed(problems);
}

TEST(SchemaBounds, AnAllOfThatContainsItselfIsRefused) {
    const auto problems =
        problems_of(json::parse(R"({"properties": {"x": {"$ref": "#/definitions/a"}},
        "definitions": {"a": {"allOf": [{"type": "object"}, {"$ref": "#/definitions/a"}]}}})"));
    EXPECT_TRUE(has_problem(problems, "/definitions/a", "cycle")) << listed(problems);
}

TEST(SchemaBounds, RecursionThroughNestedValuesIsAllowedAndValidates) {
    const ContractValidator tree(
        json::parse(R"({"$ref": "#/definitions/node", "definitions": {"node": {
        "type": "object", "required": ["name"],
        "properties": {"name": {"type": "string"}, "children": {"type": "array", "items": {"$ref": "#/definitions/node"}}}}}})"));
    json::value document = json::parse(R"({"name": "leaf"})");
    for (int level = 0; level < 20; ++level)
        document = json::object{{"name", "n"}, {"children", json::array{document}}};
    EXPECT_TRUE(tree.validate(document).empty());
    const auto errors =
        tree.validate(json::parse(R"({"name": "a", "children": [{"children": []}]})"));
    ASSERT_EQ(errors.size(), 1u) << listed(errors);
    EXPECT_EQ(errors[0].pointer, "/children/0/name");
}

// A root and `links` definitions, each referring to the next: a chain of links + 1 schemas
// applied to the same value.
json::value same_value_chain(std::size_t links) {
    json::object definitions;
    for (std::size_t i = 0; i < links; ++i) {
        definitions["d" + std::to_string(i)] =
            i + 1 < links
                ? json::value(json::object{{"$ref", "#/definitions/d" + std::to_string(i + 1)}})
                : json::value(json::object{{"type", "string"}});
    }
    return json::object{{"$ref", "#/definitions/d0"}, {"definitions", std::move(definitions)}};
}

TEST(SchemaBounds, ASameValueChainAtTheBoundIsAcceptedAndOnePastItIsRefused) {
    const ContractValidator at_bound(same_value_chain(kMaxSameValueChain - 1));
    EXPECT_TRUE(at_bound.validate(json::value("text")).empty());
    EXPECT_EQ(at_bound.validate(json::value(5)).size(), 1u);

    const auto problems = problems_of(same_value_chain(kMaxSameValueChain));
    ASSERT_EQ(problems.size(), 1u) << listed(problems);
    EXPECT_NE(problems[0].message.find("more than 32"), std::string::npos) << listed(problems);
}

json::value with_properties(std::size_t count) {
    json::object properties;
    for (std::size_t i = 0; i < count; ++i)
        properties["p" + std::to_string(i)] = json::object{{"type", "integer"}};
    return json::object{{"properties", std::move(properties)}};
}

TEST(SchemaBounds, SubschemasAtTheBoundAreAcceptedAndOnePastItAreRefused) {
    const ContractValidator at_bound(with_properties(kMaxSchemaNodes - 1));  // and the root
    EXPECT_EQ(at_bound.validate(json::parse(R"({"p7": "x"})")).size(), 1u);
    const auto problems = problems_of(with_properties(kMaxSchemaNodes));
    EXPECT_TRUE(has_problem(problems, "/properties/p" + std::to_string(kMaxSchemaNodes - 1),
                            "more than 2000 subschemas"))
        << listed(problems);
}

TEST(SchemaBounds, ALongChainOfReferencesThroughNestedValuesCompilesAndValidates) {
    // Every link a definition and its property: the largest schema the bound admits, as deep as it goes.
    const std::size_t links = kMaxSchemaNodes / 2 - 1;
    json::object definitions;
    for (std::size_t i = 0; i < links; ++i) {
        definitions["d" + std::to_string(i)] = json::object{
            {"properties",
             {{"next", {{"$ref", "#/definitions/d" + std::to_string((i + 1) % links)}}}}}};
    }
    const ContractValidator chain(
        json::object{{"$ref", "#/definitions/d0"}, {"definitions", std::move(definitions)}});
    json::value document = json::object{};
    for (int level = 0; level < 60; ++level) document = json::object{{"next", document}};
    EXPECT_TRUE(chain.validate(document).empty());
}

TEST(SchemaBounds, TheDeepestValidationTheBoundsAdmitFitsAThreadsStack) {
    // Each level of the document passes the longest same-value chain the bound allows (an allOf
    // and a $ref per link) before the next: validation recurses through document depth x chain.
    const std::size_t links = kMaxSameValueChain / 2 - 1;
    json::object definitions;
    for (std::size_t i = 0; i + 1 < links; ++i) {
        definitions["c" + std::to_string(i)] =
            json::object{{"allOf", {{{"$ref", "#/definitions/c" + std::to_string(i + 1)}}}}};
    }
    definitions["c" + std::to_string(links - 1)] = json::object{
        {"properties", {{"next", {{"$ref", "#/definitions/c0"}}}}}, {"required", {"next"}}};
    const ContractValidator chain(
        json::object{{"$ref", "#/definitions/c0"}, {"definitions", std::move(definitions)}});
    json::value document = json::object{};
    for (int level = 0; level < 63; ++level) document = json::object{{"next", document}};
    // The innermost object lacks `next`: the failure is found at the bottom of the deepest descent.
    std::string pointer;
    for (int level = 0; level < 63; ++level) pointer += "/next";
    std::thread worker([&] {
        const auto errors = chain.validate(document);
        ASSERT_FALSE(errors.empty());
        EXPECT_EQ(errors.front().pointer, pointer + "/next");
    });
    worker.join();
}

// ---- references ----

TEST(SchemaBounds, OnlyLocalResolvableReferencesToSubschemasAreAccepted) {
    EXPECT_TRUE(has_problem(problems_of(json::parse(R"({"$ref": "http://127.0.0.1/schema.json"})")),
                            "/$ref", "only local references"));
    EXPECT_TRUE(has_problem(
        problems_of(json::parse(R"({"properties": {"a": {"$ref": "#/definitions/none"}}})")),
        "/properties/a/$ref", "does not point at a subschema"));
    EXPECT_TRUE(has_problem(
        problems_of(json::parse(R"({"enum": [{}], "properties": {"a": {"$ref": "#/enum/0"}}})")),
        "/properties/a/$ref", "does not point at a subschema"));
    const ContractValidator escaped(json::parse(
        R"({"definitions": {"a/b%c": {"type": "integer"}}, "properties": {"x": {"$ref": "#/definitions/a~1b%25c"}}})"));
    EXPECT_EQ(escaped.validate(json::parse(R"({"x": "no"})")).size(), 1u);
    EXPECT_TRUE(escaped.validate(json::parse(R"({"x": 3})")).empty());
}

TEST(SchemaBounds, AnIdKeywordIsNotTakenForABaseUri) {
    // Under a base URI, valijson matched a nested "id" against a URN grammar with std::regex,
    // which a long value sent into a stack overflow.
    std::string urn = "urn:example";
    for (int i = 0; i < 50000; ++i) urn += ":b";
    const ContractValidator validator(
        json::object{{"id", "base"}, {"properties", {{"a", {{"id", urn}, {"type", "integer"}}}}}});
    EXPECT_EQ(validator.validate(json::parse(R"({"a": "x"})")).size(), 1u);
}

// ---- patterns under RE2 ----

TEST(SchemaBounds, APatternOverAHundredThousandCharactersCompletes) {
    const ContractValidator validator(
        json::parse(R"({"properties": {"s": {"type": "string", "pattern": "^(a|b)*$"}}})"));
    std::string text(100000, 'a');
    for (std::size_t i = 0; i < text.size(); i += 3) text[i] = 'b';
    EXPECT_TRUE(validator.validate(json::object{{"s", text}}).empty());
    const auto errors = validator.validate(json::object{{"s", text + "c"}});
    ASSERT_EQ(errors.size(), 1u) << listed(errors);
    EXPECT_EQ(errors[0].pointer, "/s");
}

TEST(SchemaBounds, ANestedQuantifierAgainstTenThousandCharactersGetsItsAnswer) {
    const ContractValidator validator(
        json::parse(R"({"properties": {"s": {"pattern": "^(a+)+$"}}})"));
    const std::string as(10000, 'a');
    EXPECT_TRUE(validator.validate(json::object{{"s", as}}).empty());
    const auto errors = validator.validate(json::object{{"s", as + "!"}});
    ASSERT_EQ(errors.size(), 1u) << listed(errors);
    EXPECT_EQ(errors[0].pointer, "/s");
    EXPECT_EQ(errors[0].message, "Failed to match regex specified by 'pattern' constraint.");
}

TEST(SchemaBounds, PatternsRe2CannotCompileAreRefusedAtTheirKeyword) {
    auto problems = problems_of(json::parse(R"({"properties": {"a": {"pattern": "(a)\\1"}}})"));
    EXPECT_TRUE(has_problem(problems, "/properties/a/pattern", "RE2 cannot compile"))
        << listed(problems);
    problems = problems_of(json::parse(R"j({"properties": {"a": {"pattern": "^(?=a)"}}})j"));
    EXPECT_TRUE(
        has_problem(problems, "/properties/a/pattern", "without backreferences or lookaround"))
        << listed(problems);
    problems = problems_of(json::parse(R"({"patternProperties": {"(?<=a)b": {}}})"));
    EXPECT_TRUE(has_problem(problems, "/patternProperties/(?<=a)b", "RE2 cannot compile"))
        << listed(problems);
}

// The literal "aaa…" whose program has `size` instructions (RE2's own measure, growing with the
// literal's length).
std::string pattern_of_program_size(int size) {
    std::size_t low = 1;
    std::size_t high = 8 * static_cast<std::size_t>(size);
    while (low < high) {
        const std::size_t middle = (low + high) / 2;
        if (RE2(std::string(middle, 'a'), RE2::Quiet).ProgramSize() < size)
            low = middle + 1;
        else
            high = middle;
    }
    const std::string pattern(low, 'a');
    return RE2(pattern, RE2::Quiet).ProgramSize() == size ? pattern : std::string();
}

TEST(SchemaBounds, APatternAtTheProgramSizeBoundIsAcceptedAndOnePastItIsRefused) {
    const std::string at_bound = pattern_of_program_size(kMaxPatternProgramSize);
    const std::string past = pattern_of_program_size(kMaxPatternProgramSize + 1);
    ASSERT_FALSE(at_bound.empty());
    ASSERT_FALSE(past.empty());
    EXPECT_TRUE(problems_of(json::object{{"pattern", at_bound}}).empty());
    EXPECT_TRUE(
        has_problem(problems_of(json::object{{"pattern", past}}), "/pattern", "too complex"));
}

TEST(SchemaBounds, PatternPropertiesStillApplyWithAdditionalProperties) {
    const ContractValidator validator(json::parse(R"({
        "definitions": {"count": {"type": "integer", "minimum": 0}},
        "properties": {"name": {"type": "string"}},
        "patternProperties": {"^x-": {"$ref": "#/definitions/count"}, "^x-big": {"minimum": 100}},
        "additionalProperties": false})"));
    EXPECT_TRUE(
        validator.validate(json::parse(R"({"name": "a", "x-one": 1, "x-big": 150})")).empty());
    auto errors = validator.validate(json::parse(R"({"x-one": "s"})"));
    ASSERT_EQ(errors.size(), 1u) << listed(errors);
    EXPECT_EQ(errors[0].pointer, "/x-one");
    errors = validator.validate(json::parse(R"({"x-big": 5})"));
    ASSERT_EQ(errors.size(), 1u) << listed(errors);
    EXPECT_EQ(errors[0].pointer, "/x-big");
    errors = validator.validate(json::parse(R"({"other": 1, "name": 2})"));
    EXPECT_EQ(errors.size(), 2u) << listed(errors);
    // Inside anyOf the keyword decides a branch, as any other keyword does.
    const ContractValidator either(json::parse(
        R"({"anyOf": [{"patternProperties": {"^a": {"type": "string"}}}, {"required": ["b"]}]})"));
    EXPECT_TRUE(either.validate(json::parse(R"({"a1": "s"})")).empty());
    EXPECT_TRUE(either.validate(json::parse(R"({"a1": 1, "b": 0})")).empty());
    EXPECT_FALSE(either.validate(json::parse(R"({"a1": 1})")).empty());
}

TEST(SchemaBounds, DateTimeAndDateTimeFormatsAreStillChecked) {
    const ContractValidator validator(json::parse(R"({"properties": {
        "d": {"format": "date"}, "t": {"format": "time"}, "dt": {"format": "date-time"}, "e": {"format": "email"}}})"));
    EXPECT_TRUE(
        validator
            .validate(json::parse(
                R"({"d": "2024-02-29", "t": "16:52:45.5+02:00", "dt": "2022-07-18T16:52:45Z", "e": "anything"})"))
            .empty());
    const auto errors = validator.validate(
        json::parse(R"({"d": "2023-02-29", "t": "25:00:00Z", "dt": "2022-07-18 16:52:45Z"})"));
    ASSERT_EQ(errors.size(), 3u) << listed(errors);
    EXPECT_TRUE(has_problem(errors, "/d", "valid date"));
    EXPECT_TRUE(has_problem(errors, "/t", "valid time"));
    EXPECT_TRUE(has_problem(errors, "/dt", "valid date-time"));
    EXPECT_EQ(validator.validate(json::parse(R"({"d": "2024-04-31"})")).size(), 1u);
    EXPECT_TRUE(validator.validate(json::parse(R"({"d": 20240101})"))
                    .empty());  // format applies to strings
}

TEST(SchemaBounds, ReservedKeywordsAreRefused) {
    EXPECT_TRUE(has_problem(problems_of(json::parse(R"({"x-engined-step": 1})")), "/x-engined-step",
                            "reserved"));
}

// ---- work per validation ----

// `levels` definitions, each trying `fan_out` times the next; the last wants a string.
json::value fanning_out(int levels, int fan_out) {
    json::object definitions;
    for (int i = 0; i < levels; ++i) {
        json::array branches;
        for (int b = 0; b < fan_out; ++b) {
            branches.push_back(
                i + 1 < levels
                    ? json::value(json::object{{"$ref", "#/definitions/d" + std::to_string(i + 1)}})
                    : json::value(json::object{{"type", "string"}}));
        }
        definitions["d" + std::to_string(i)] = json::object{{"anyOf", std::move(branches)}};
    }
    return json::object{{"$ref", "#/definitions/d0"}, {"definitions", std::move(definitions)}};
}

TEST(SchemaBounds, WorkWithinTheBudgetIsValidatedAndExponentialWorkStopsAtIt) {
    const ContractValidator small(fanning_out(4, 10));  // 10^4 branches: within the budget
    auto errors = small.validate(json::value(5));
    ASSERT_FALSE(errors.empty());
    EXPECT_EQ(errors[0].message.find("steps"), std::string::npos) << listed(errors);
    EXPECT_TRUE(small.validate(json::value("s")).empty());

    const ContractValidator huge(fanning_out(10, 10));  // 10^10 branches
    errors = huge.validate(json::value(5));
    ASSERT_EQ(errors.size(), 1u) << listed(errors);
    EXPECT_EQ(errors[0].pointer, "");
    EXPECT_NE(errors[0].message.find("steps"), std::string::npos) << listed(errors);
}

TEST(SchemaBounds, UniqueItemsIsChargedForThePairsItCompares) {
    const ContractValidator validator(json::parse(R"({"type": "array", "uniqueItems": true})"));
    json::array few;
    for (int i = 0; i < 500; ++i) few.push_back(i);
    EXPECT_TRUE(validator.validate(few).empty());
    json::array many;
    for (int i = 0; i < 20000; ++i) many.push_back(i);
    const auto errors = validator.validate(many);
    ASSERT_EQ(errors.size(), 1u);
    EXPECT_NE(errors[0].message.find("steps"), std::string::npos) << listed(errors);
}

}  // namespace
}  // namespace engined::contracts
