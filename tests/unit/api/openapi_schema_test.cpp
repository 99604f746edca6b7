// JSON Schema (draft-07) → OpenAPI 3.0 Schema Object: each draft-only form becomes its OpenAPI
// 3.0 equivalent or is dropped, never admitting less than the contract.
#include "api/openapi.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

namespace engined::api {
namespace {

boost::json::value converted(const char* schema, const std::string& prefix = "") {
    return openapi_schema(boost::json::parse(schema), prefix);
}

TEST(OpenApiSchemaTest, NullInTypeBecomesNullable) {
    EXPECT_EQ(converted(R"({"type": ["string", "null"], "maxLength": 3})"),
              boost::json::parse(R"({"type": "string", "nullable": true, "maxLength": 3})"));
    EXPECT_EQ(converted(R"({"type": "null"})"),
              boost::json::parse(R"({"nullable": true, "enum": [null]})"));
    EXPECT_EQ(converted(R"({"type": ["integer", "string", "null"]})"),
              boost::json::parse(
                  R"({"nullable": true, "anyOf": [{"type": "integer"}, {"type": "string"}]})"));
    // Beside an anyOf of its own, the types become one more constraint.
    EXPECT_EQ(
        converted(
            R"({"type": ["integer", "string"], "anyOf": [{"minimum": 1}, {"minLength": 1}]})"),
        boost::json::parse(R"({"anyOf": [{"minimum": 1}, {"minLength": 1}],
                                     "allOf": [{"anyOf": [{"type": "integer"}, {"type": "string"}]}]})"));
}

TEST(OpenApiSchemaTest, DraftOnlyKeywordsAreConvertedOrDropped) {
    EXPECT_EQ(
        converted(
            R"({"$schema": "http://json-schema.org/draft-07/schema#", "$id": "https://x/y.json",
                           "$comment": "c", "type": "object", "required": [], "if": {}, "then": {},
                           "patternProperties": {"^a": {}}, "propertyNames": {"maxLength": 3},
                           "properties": {"k": {"const": "v", "examples": [1, 2]}}})"),
        boost::json::parse(
            R"({"type": "object", "properties": {"k": {"enum": ["v"], "example": 1}}})"));
    EXPECT_EQ(converted(R"({"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 10})"),
              boost::json::parse(R"({"type": "number", "minimum": 0, "exclusiveMinimum": true,
                                     "maximum": 10, "exclusiveMaximum": true})"));
    EXPECT_EQ(
        converted(R"({"items": [{"type": "string"}, true], "additionalProperties": false})"),
        boost::json::parse(
            R"({"items": {"anyOf": [{"type": "string"}, {}]}, "additionalProperties": false})"));
    EXPECT_EQ(converted(R"({"items": []})"), boost::json::parse(R"({"items": {}})"));
    // Annotations of a kind OpenAPI 3.0 refuses are dropped; the rest is kept.
    EXPECT_EQ(
        converted(
            R"({"description": 7, "title": "t", "maxLength": -1, "minLength": 2, "uniqueItems": "yes",
                           "default": [1], "minimum": "0"})"),
        boost::json::parse(R"({"title": "t", "minLength": 2, "default": [1]})"));
    EXPECT_EQ(converted(R"({"not": false, "x-unit": "usd"})"),
              boost::json::parse(R"({"not": {"not": {}}, "x-unit": "usd"})"));
}

TEST(OpenApiSchemaTest, DefinitionReferencesPointIntoComponents) {
    EXPECT_EQ(converted(R"({"$ref": "#/definitions/state"})", "Request_"),
              boost::json::parse(R"({"$ref": "#/components/schemas/Request_state"})"));
    // OpenAPI 3.0 ignores a reference's siblings: they move beside it into an allOf.
    EXPECT_EQ(
        converted(R"({"$ref": "#/definitions/state", "description": "home"})", "Request_"),
        boost::json::parse(
            R"({"description": "home", "allOf": [{"$ref": "#/components/schemas/Request_state"}]})"));
    EXPECT_EQ(converted(R"({"$ref": "#/definitions/home address"})", "Request_"),
              boost::json::parse(R"({"$ref": "#/components/schemas/Request_home_address"})"));
    // A reference with no component to name admits anything rather than dangle.
    EXPECT_EQ(converted(R"({"$ref": "https://example.com/other.json"})"), boost::json::object{});
    EXPECT_EQ(converted(R"({"$ref": "#/definitions/a/properties/b"})"), boost::json::object{});
}

}  // namespace
}  // namespace engined::api
