#include "versions/schema_compare.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <fstream>
#include <ostream>
#include <sstream>
#include <string>
#include <string_view>

namespace engined::versions {

// Found by argument-dependent lookup from gtest's and std::vector's comparisons and printing.
bool operator==(const BreakingChange& a, const BreakingChange& b) {
    return a.pointer == b.pointer && a.rule == b.rule && a.message == b.message;
}

void PrintTo(const BreakingChange& change, std::ostream* out) {
    *out << "{" << change.pointer << ", " << change.rule << ", " << change.message << "}";
}

namespace {

namespace json = boost::json;

std::vector<BreakingChange> diff(std::string_view before, std::string_view after) {
    return breaking_changes(json::parse(before), json::parse(after));
}

json::value read_contract(const std::string& relative) {
    std::ifstream in(std::string(ENGINED_SOURCE_DIR) + "/" + relative);
    std::ostringstream text;
    text << in.rdbuf();
    return json::parse(text.str());
}

// Exactly one change, at `pointer` under `rule`, whose message names `field`.
::testing::AssertionResult is_single(const std::vector<BreakingChange>& changes,
                                     std::string_view pointer, std::string_view rule,
                                     std::string_view field) {
    if (changes.size() != 1)
        return ::testing::AssertionFailure()
               << "expected one change, got " << ::testing::PrintToString(changes);
    const BreakingChange& change = changes.front();
    if (change.pointer != pointer || change.rule != rule ||
        change.message.find(field) == std::string::npos) {
        return ::testing::AssertionFailure()
               << "expected {" << pointer << ", " << rule << ", …" << field << "…}, got "
               << ::testing::PrintToString(change);
    }
    return ::testing::AssertionSuccess();
}

// `before` → `after` breaks with exactly `rule` at `pointer`; going back is a minor change.
void expect_breaking_one_way(std::string_view before, std::string_view after,
                             std::string_view pointer, std::string_view rule,
                             std::string_view field) {
    SCOPED_TRACE(std::string(before) + "  ->  " + std::string(after));
    EXPECT_TRUE(is_single(diff(before, after), pointer, rule, field));
    EXPECT_EQ(diff(after, before), std::vector<BreakingChange>{}) << "reverse direction";
}

// Breaking in both directions with the same rule (a value swapped for another, not narrowed).
void expect_breaking_both_ways(std::string_view before, std::string_view after,
                               std::string_view pointer, std::string_view rule,
                               std::string_view field) {
    SCOPED_TRACE(std::string(before) + "  <->  " + std::string(after));
    EXPECT_TRUE(is_single(diff(before, after), pointer, rule, field));
    EXPECT_TRUE(is_single(diff(after, before), pointer, rule, field)) << "reverse direction";
}

void expect_minor(std::string_view before, std::string_view after) {
    SCOPED_TRACE(std::string(before) + "  ->  " + std::string(after));
    EXPECT_EQ(diff(before, after), std::vector<BreakingChange>{});
}

// A schema with one property "x" whose own schema is `field`.
std::string with_x(std::string_view field) {
    return R"({"type":"object","properties":{"x":)" + std::string(field) + "}}";
}

TEST(SchemaCompare, IdenticalSchemasHaveNoBreakingChanges) {
    for (const char* schema :
         {"true", "false", "{}", R"({"type":"string","pattern":"^a$","maxLength":3})",
          R"({"type":"object","required":["a"],"additionalProperties":false,
                                   "properties":{"a":{"type":"array","items":{"enum":[1,2]},"uniqueItems":true}}})"}) {
        expect_minor(schema, schema);
    }
}

TEST(SchemaCompare, PropertyRemoved) {
    const char* before = R"({"properties":{"input":{"properties":{"address":{"properties":{
                            "zip_code":{"type":"string"},"state":{"type":"string"}}}}}}})";
    const char* after = R"({"properties":{"input":{"properties":{"address":{"properties":{
                           "state":{"type":"string"}}}}}}})";
    expect_breaking_one_way(before, after, "/input/address/zip_code", "property_removed",
                            "'zip_code'");
    // A property that was forbidden outright held no data to lose.
    expect_minor(R"({"properties":{"a":{},"gone":false}})", R"({"properties":{"a":{}}})");
    // Dropping the whole properties keyword removes every listed property.
    const auto changes = diff(R"({"properties":{"a":{},"b":{}}})", "{}");
    ASSERT_EQ(changes.size(), 2u);
    EXPECT_EQ(changes[0].pointer, "/a");
    EXPECT_EQ(changes[1].pointer, "/b");
}

TEST(SchemaCompare, TypeChangedBetweenDisjointTypes) {
    expect_breaking_both_ways(with_x(R"({"type":"string"})"), with_x(R"({"type":"object"})"), "/x",
                              "type_changed", "'x'");
    // Sharing "null" does not make integer a narrowing of string.
    expect_breaking_both_ways(with_x(R"({"type":["string","null"]})"),
                              with_x(R"({"type":["integer","null"]})"), "/x", "type_changed",
                              "'x'");
}

TEST(SchemaCompare, TypeNarrowedAndWidened) {
    expect_breaking_one_way(with_x(R"({"type":["string","null"]})"), with_x(R"({"type":"string"})"),
                            "/x", "type_narrowed", "'x'");
    expect_breaking_one_way(with_x(R"({"type":"number"})"), with_x(R"({"type":"integer"})"), "/x",
                            "type_narrowed", "'x'");
    expect_breaking_one_way(with_x(R"({"type":["number","string"]})"),
                            with_x(R"({"type":"integer"})"), "/x", "type_narrowed", "'x'");
    // A type where there was none narrows from every type.
    expect_breaking_one_way(with_x("{}"), with_x(R"({"type":"string"})"), "/x", "type_narrowed",
                            "'x'");
    expect_minor(with_x(R"({"type":"integer"})"), with_x(R"({"type":["number","null"]})"));
}

TEST(SchemaCompare, PropertyNewlyRequired) {
    const char* before = R"({"properties":{"address":{"type":"object","required":["state"],
                            "properties":{"state":{"type":"string"},"zip_code":{"type":"string"}}}}})";
    const char* after =
        R"({"properties":{"address":{"type":"object","required":["state","zip_code"],
                           "properties":{"state":{"type":"string"},"zip_code":{"type":"string"}}}}})";
    expect_breaking_one_way(before, after, "/address/zip_code", "property_newly_required",
                            "'zip_code'");
    EXPECT_EQ(diff(before, after).front().message, "property 'zip_code' is newly required");
    // A required name need not be listed under properties, and a root-level one starts at "/".
    expect_breaking_one_way("{}", R"({"required":["id"]})", "/id", "property_newly_required",
                            "'id'");
}

TEST(SchemaCompare, EnumValueRemovedAndAdded) {
    expect_breaking_one_way(with_x(R"({"enum":["a","b","c"]})"), with_x(R"({"enum":["a","c"]})"),
                            "/x", "enum_value_removed", "\"b\"");
    // Restricting a free value to a list removes every other value.
    expect_breaking_one_way(with_x(R"({"type":"string"})"),
                            with_x(R"({"type":"string","enum":["a","b"]})"), "/x",
                            "enum_value_removed", "now restricted to \"a\", \"b\"");
    // const is a one-value enum: adding it, or shrinking an enum to it, removes values.
    expect_breaking_one_way(with_x("{}"), with_x(R"({"const":1})"), "/x", "enum_value_removed",
                            "'x'");
    expect_breaking_one_way(with_x(R"({"enum":[1,2]})"), with_x(R"({"const":1})"), "/x",
                            "enum_value_removed", "2");
    expect_breaking_both_ways(with_x(R"({"const":"a"})"), with_x(R"({"const":"b"})"), "/x",
                              "enum_value_removed", "'x'");
}

TEST(SchemaCompare, AdditionalPropertiesClosed) {
    for (const char* open :
         {R"({"type":"object"})", R"({"type":"object","additionalProperties":true})",
          R"({"type":"object","additionalProperties":{"type":"string"}})"}) {
        std::string closed = R"({"type":"object","additionalProperties":false})";
        expect_breaking_one_way(with_x(open), with_x(closed), "/x", "additional_properties_closed",
                                "'x'");
    }
}

TEST(SchemaCompare, AdditionalPropertiesSchemaIsComparedPerMember) {
    expect_breaking_one_way(with_x(R"({"additionalProperties":{"type":"number"}})"),
                            with_x(R"({"additionalProperties":{"type":"integer"}})"), "/x/*",
                            "type_narrowed", "additional properties of 'x'");
    // Constraining members that were unconstrained narrows them.
    expect_breaking_one_way(with_x("{}"), with_x(R"({"additionalProperties":{"type":"string"}})"),
                            "/x/*", "type_narrowed", "'x'");
}

struct Tightening {
    const char* name;
    const char* before;  // the schema of property "x"
    const char* after;
};

TEST(SchemaCompare, ConstraintTightenedForEveryKeyword) {
    const Tightening cases[] = {
        {"minimum raised", R"({"minimum":0})", R"({"minimum":1})"},
        {"minimum added", "{}", R"({"minimum":0})"},
        {"exclusiveMinimum raised", R"({"exclusiveMinimum":0})", R"({"exclusiveMinimum":0.5})"},
        {"minimum made exclusive", R"({"minimum":0})", R"({"exclusiveMinimum":0})"},
        {"maximum lowered", R"({"maximum":50})", R"({"maximum":10})"},
        {"maximum added", "{}", R"({"maximum":50})"},
        {"exclusiveMaximum lowered", R"({"exclusiveMaximum":10})", R"({"exclusiveMaximum":9})"},
        {"maximum made exclusive", R"({"maximum":10})", R"({"exclusiveMaximum":10})"},
        {"minLength raised", R"({"minLength":1})", R"({"minLength":5})"},
        {"minLength added", "{}", R"({"minLength":1})"},
        {"maxLength lowered", R"({"maxLength":64})", R"({"maxLength":10})"},
        {"minItems raised", R"({"minItems":1})", R"({"minItems":2})"},
        {"maxItems added", "{}", R"({"maxItems":500})"},
        {"maxItems lowered", R"({"maxItems":500})", R"({"maxItems":50})"},
        {"minProperties raised", R"({"minProperties":0})", R"({"minProperties":1})"},
        {"maxProperties lowered", R"({"maxProperties":3})", R"({"maxProperties":2})"},
        {"pattern added", R"({"type":"string"})", R"({"type":"string","pattern":"^[A-Z]{2}$"})"},
        {"uniqueItems turned on", R"({"uniqueItems":false})", R"({"uniqueItems":true})"},
        {"uniqueItems added", "{}", R"({"uniqueItems":true})"},
        {"format added", R"({"type":"string"})", R"({"type":"string","format":"date-time"})"},
        {"multipleOf added", "{}", R"({"multipleOf":5})"},
        {"multipleOf coarsened", R"({"multipleOf":5})", R"({"multipleOf":10})"},
        {"schema now false", "{}", "false"},
        {"schema true now false", "true", "false"},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.name);
        expect_breaking_one_way(with_x(c.before), with_x(c.after), "/x", "constraint_tightened",
                                "'x'");
    }
}

TEST(SchemaCompare, ChangedPatternFormatAndMultipleOfBreakBothWays) {
    expect_breaking_both_ways(with_x(R"({"pattern":"^a"})"), with_x(R"({"pattern":"^b"})"), "/x",
                              "constraint_tightened", "pattern of 'x'");
    expect_breaking_both_ways(with_x(R"({"format":"date"})"), with_x(R"({"format":"date-time"})"),
                              "/x", "constraint_tightened", "format of 'x'");
    expect_breaking_both_ways(with_x(R"({"multipleOf":2})"), with_x(R"({"multipleOf":3})"), "/x",
                              "constraint_tightened", "'x'");
}

TEST(SchemaCompare, LoosenedAndCosmeticChangesAreMinor) {
    const Tightening cases[] = {
        {"description, title and examples",
         R"({"type":"string","description":"a","title":"A","examples":["x"]})",
         R"({"type":"string","description":"b","title":"B","examples":["y"]})"},
        {"new enum value", R"({"enum":["a"]})", R"({"enum":["a","b"]})"},
        {"enum dropped", R"({"enum":["a"]})", "{}"},
        {"const widened to enum", R"({"const":"a"})", R"({"enum":["a","b"]})"},
        {"minLength 0 added", "{}", R"({"minLength":0})"},
        {"minimum lowered", R"({"minimum":1})", R"({"minimum":0})"},
        {"exclusive minimum made inclusive", R"({"exclusiveMinimum":0})", R"({"minimum":0})"},
        {"maximum raised", R"({"maximum":1})", R"({"maximum":2})"},
        {"maximum removed", R"({"maximum":1})", "{}"},
        {"maxItems raised", R"({"maxItems":1})", R"({"maxItems":2})"},
        {"pattern removed", R"({"pattern":"^a"})", "{}"},
        {"format removed", R"({"format":"date"})", "{}"},
        {"uniqueItems turned off", R"({"uniqueItems":true})", R"({"uniqueItems":false})"},
        {"multipleOf refined", R"({"multipleOf":10})", R"({"multipleOf":5})"},
        {"multipleOf refined to a fraction", R"({"multipleOf":0.1})", R"({"multipleOf":0.01})"},
        {"type widened", R"({"type":"integer"})", R"({"type":["number","string"]})"},
        {"type removed", R"({"type":"integer"})", "{}"},
        {"new optional property", R"({"properties":{"a":{}}})",
         R"({"properties":{"a":{},"b":{"type":"string"}}})"},
        {"required name removed", R"({"required":["a"]})", R"({"required":[]})"},
        {"additional properties reopened", R"({"additionalProperties":false})",
         R"({"additionalProperties":true})"},
        {"additional properties keyword dropped", R"({"additionalProperties":{"type":"string"}})",
         "{}"},
        {"false schema opened", "false", R"({"type":"string"})"},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.name);
        expect_minor(with_x(c.before), with_x(c.after));
    }
}

TEST(SchemaCompare, ArrayItemsUseTheWildcardPointer) {
    expect_breaking_one_way(
        R"({"properties":{"tags":{"type":"array","items":{"type":["string","null"]}}}})",
        R"({"properties":{"tags":{"type":"array","items":{"type":"string"}}}})", "/tags/*",
        "type_narrowed", "items of 'tags'");
    expect_breaking_one_way(
        R"({"properties":{"offerings":{"items":{"properties":{"id":{},"name":{}}}}}})",
        R"({"properties":{"offerings":{"items":{"properties":{"name":{}}}}}})", "/offerings/*/id",
        "property_removed", "'id'");
    // Items of items (a matrix) nest the wildcard.
    expect_breaking_one_way(R"({"items":{"items":{"type":"number"}}})",
                            R"({"items":{"items":{"type":"integer"}}})", "/*/*", "type_narrowed",
                            "items of items of the document");
    // An item schema where there was none constrains every item.
    expect_breaking_one_way(R"({"type":"array"})", R"({"type":"array","items":{"minimum":0}})",
                            "/*", "constraint_tightened", "items of the document");
}

TEST(SchemaCompare, ItemsChangedBetweenSchemaAndPerPositionForms) {
    expect_breaking_both_ways(with_x(R"({"items":{"type":"string"}})"),
                              with_x(R"({"items":[{"type":"string"}]})"), "/x", "items_changed",
                              "'x'");
    expect_breaking_both_ways(with_x(R"({"items":[{"type":"string"}]})"),
                              with_x(R"({"items":[{"type":"string"},{"type":"number"}]})"), "/x",
                              "items_changed", "'x'");
    expect_breaking_one_way(with_x("{}"), with_x(R"({"items":[{"type":"string"}]})"), "/x",
                            "items_changed", "'x'");
}

TEST(SchemaCompare, NestedChangesAreReportedAtTheirDataPath) {
    expect_breaking_one_way(
        R"({"properties":{"a":{"properties":{"b":{"properties":{"c":{"properties":{"d":{"maxLength":9}}}}}}}}})",
        R"({"properties":{"a":{"properties":{"b":{"properties":{"c":{"properties":{"d":{"maxLength":8}}}}}}}}})",
        "/a/b/c/d", "constraint_tightened", "maxLength of 'd' lowered from 9 to 8");
}

TEST(SchemaCompare, PropertyNamesAreEscapedInPointers) {
    expect_breaking_one_way(
        R"({"properties":{"a/b":{},"m~n":{"type":"object"}}})",
        R"({"properties":{"a/b":{},"m~n":{"type":"object","required":["x/y"]}}})", "/m~0n/x~1y",
        "property_newly_required", "'x/y'");
    expect_breaking_one_way(R"({"properties":{"a/b":{}}})", "{}", "/a~1b", "property_removed",
                            "'a/b'");
}

TEST(SchemaCompare, RootBooleanSchemas) {
    expect_breaking_one_way("true", "false", "", "constraint_tightened", "the document");
    expect_breaking_one_way("{}", "false", "", "constraint_tightened", "the document");
    expect_minor("false", "true");
    expect_minor("true", "{}");
}

TEST(SchemaCompare, LocalRefsAreFollowed) {
    const char* before =
        R"({"properties":{"home":{"$ref":"#/definitions/address"},"work":{"$ref":"#/definitions/address"}},
                            "definitions":{"address":{"properties":{"zip":{"type":"string"}}}}})";
    const char* after =
        R"({"properties":{"home":{"$ref":"#/definitions/address"},"work":{"$ref":"#/definitions/address"}},
                           "definitions":{"address":{"properties":{"zip":{"type":"string","pattern":"^[0-9]{5}$"}}}}})";
    const auto changes = diff(before, after);
    ASSERT_EQ(changes.size(), 2u) << ::testing::PrintToString(changes);
    EXPECT_EQ(changes[0].pointer, "/home/zip");
    EXPECT_EQ(changes[1].pointer, "/work/zip");
    EXPECT_EQ(changes[0].rule, "constraint_tightened");
    // Inlining a referenced schema changes nothing about the data it accepts.
    expect_minor(
        R"({"properties":{"a":{"$ref":"#/definitions/s"}},"definitions":{"s":{"type":"string"}}})",
        R"({"properties":{"a":{"type":"string"}}})");
}

TEST(SchemaCompare, AllOfMembersAreMerged) {
    const char* before = R"({"allOf":[{"properties":{"limit":{"type":"number"}}},
                                      {"type":"object","properties":{"carrier":{"type":"string"}}}]})";
    expect_breaking_one_way(
        before, R"({"allOf":[{"properties":{"limit":{"type":"number"}}},{"type":"object"}]})",
        "/carrier", "property_removed", "'carrier'");
    expect_breaking_one_way(before, R"({"allOf":[{"properties":{"limit":{"type":"number"}}},
                                                 {"type":"object","required":["carrier"],"properties":{"carrier":{"type":"string"}}}]})",
                            "/carrier", "property_newly_required", "'carrier'");
    // The same property in two members must satisfy both.
    expect_breaking_one_way(before, R"({"allOf":[{"properties":{"limit":{"type":"number"}}},
                                                 {"type":"object","properties":{"carrier":{"type":"string"},"limit":{"minimum":0}}}]})",
                            "/limit", "constraint_tightened", "lower bound of 'limit'");
    // Splitting a schema into allOf parts is not a change.
    expect_minor(
        R"({"type":"object","properties":{"limit":{"type":"number"},"carrier":{"type":"string"}}})",
        before);
    // A false member rejects everything.
    expect_breaking_one_way(before, R"({"allOf":[false]})", "", "constraint_tightened",
                            "the document");
}

TEST(SchemaCompare, RecursiveSchemasTerminateAndReportOnce) {
    const char* tree = R"({"type":"object","properties":{"name":{"type":"string"},
                          "children":{"type":"array","items":{"$ref":"#"}}}})";
    expect_minor(tree, tree);
    const char* tighter = R"({"type":"object","properties":{"name":{"type":"string","minLength":1},
                             "children":{"type":"array","items":{"$ref":"#"}}}})";
    expect_breaking_one_way(tree, tighter, "/name", "constraint_tightened", "'name'");
    // Self-referencing allOf and $ref loops are cut off rather than followed forever.
    expect_minor(R"({"allOf":[{"$ref":"#"}]})", R"({"allOf":[{"$ref":"#"}]})");
    expect_minor(R"({"$ref":"#/definitions/a","definitions":{"a":{"$ref":"#/definitions/a"}}})",
                 "{}");
}

TEST(SchemaCompare, SeveralChangesAreSortedByPointerThenRule) {
    const char* before = R"({"type":"object","properties":{
        "b":{"type":["string","null"],"enum":["x","y",null]},
        "a":{"type":"object","properties":{"z":{},"y":{}}},
        "c":{"maxItems":5,"items":{"type":"string"}}}})";
    const char* after =
        R"({"type":"object","required":["c"],"additionalProperties":false,"properties":{
        "b":{"type":"string","enum":["x"]},
        "a":{"type":"object","properties":{}},
        "c":{"maxItems":4,"items":{"type":"integer"}}}})";
    const std::vector<std::pair<std::string, std::string>> expected = {
        {"", "additional_properties_closed"},
        {"/a/y", "property_removed"},
        {"/a/z", "property_removed"},
        {"/b", "enum_value_removed"},
        {"/b", "type_narrowed"},
        {"/c", "constraint_tightened"},
        {"/c", "property_newly_required"},
        {"/c/*", "type_changed"},
    };
    const auto changes = diff(before, after);
    std::vector<std::pair<std::string, std::string>> actual;
    for (const auto& change : changes) actual.emplace_back(change.pointer, change.rule);
    EXPECT_EQ(actual, expected) << ::testing::PrintToString(changes);
    EXPECT_EQ(diff(before, after), changes) << "the same diff twice gives the same order";
}

TEST(SchemaCompare, PlacementContractAgainstItself) {
    for (const char* contract :
         {"contracts/placement/request.schema.json", "contracts/placement/response.schema.json"}) {
        SCOPED_TRACE(contract);
        const json::value schema = read_contract(contract);
        ASSERT_TRUE(schema.is_object());
        EXPECT_EQ(breaking_changes(schema, schema), std::vector<BreakingChange>{});
    }
}

TEST(SchemaCompare, PlacementContractWithANewRequiredInputField) {
    const json::value before = read_contract("contracts/placement/request.schema.json");
    json::value after = before;
    json::object& input = after.at_pointer("/definitions/input").as_object();
    input["properties"].as_object()["policy_holder"] = json::object{{"type", "string"}};
    input["required"].as_array().emplace_back("policy_holder");
    const auto changes = breaking_changes(before, after);
    ASSERT_TRUE(
        is_single(changes, "/input/policy_holder", "property_newly_required", "'policy_holder'"));
    EXPECT_EQ(changes.front().message, "property 'policy_holder' is newly required");
    // Going back drops the field, which is breaking; it being no longer required is not.
    EXPECT_TRUE(is_single(breaking_changes(after, before), "/input/policy_holder",
                          "property_removed", "'policy_holder'"));
}

}  // namespace
}  // namespace engined::versions
