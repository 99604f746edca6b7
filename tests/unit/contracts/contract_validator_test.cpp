#include "contracts/contract_validator.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace engined::contracts {
namespace {

boost::json::value read_json(const std::string& relative) {
    std::ifstream in(std::string(ENGINED_SOURCE_DIR) + "/" + relative);
    std::ostringstream text;
    text << in.rdbuf();
    return boost::json::parse(text.str());
}

const char* kSchema = R"({
  "type": "object",
  "required": ["input"],
  "properties": {
    "input": {"type": "object", "required": ["state"],
              "properties": {"state": {"type": "string", "pattern": "^[A-Z]{2}$"},
                             "bucket": {"enum": ["a", "b"]}}},
    "offerings": {"type": "array", "items": {"type": "object", "required": ["id"]}}
  }
})";

TEST(ContractValidator, ConformingDocumentHasNoErrors) {
    const ContractValidator validator(boost::json::parse(kSchema));
    EXPECT_TRUE(validator.validate(boost::json::parse(R"({"input":{"state":"NY"}})")).empty());
}

TEST(ContractValidator, ReportsOneLeafPerFailureWithJsonPointers) {
    const ContractValidator validator(boost::json::parse(kSchema));
    const auto errors = validator.validate(boost::json::parse(
        R"({"input":{"state":"New York","bucket":"c"},"offerings":[{"id":"x"},{"name":"y"}]})"));
    std::vector<std::string> pointers;
    for (const auto& error : errors) pointers.push_back(error.pointer);
    EXPECT_EQ(errors.size(), 3u) << ::testing::PrintToString(pointers);
    EXPECT_NE(std::find(pointers.begin(), pointers.end(), "/input/state"), pointers.end());
    EXPECT_NE(std::find(pointers.begin(), pointers.end(), "/input/bucket"), pointers.end());
    EXPECT_NE(std::find(pointers.begin(), pointers.end(), "/offerings/1/id"), pointers.end());
}

// The client is pointed at the member to add, not at the object that lacks it.
TEST(ContractValidator, MissingRequiredFieldIsReportedAtItsOwnPointer) {
    const ContractValidator validator(boost::json::parse(kSchema));
    const auto errors = validator.validate(boost::json::parse(R"({"input":{}})"));
    ASSERT_EQ(errors.size(), 1u);
    EXPECT_EQ(errors[0].pointer, "/input/state");
    EXPECT_NE(errors[0].message.find("state"), std::string::npos);
}

TEST(ContractValidator, RefusesASchemaThatIsNotOne) {
    EXPECT_THROW(ContractValidator(boost::json::parse("[]")), std::invalid_argument);
    EXPECT_THROW(ContractValidator(boost::json::parse(R"({"type": 12})")), std::invalid_argument);
}

TEST(ContractValidator, PointerEscapesSlashAndTilde) {
    EXPECT_EQ(to_json_pointer({"<root>", "[a/b]", "[c~d]", "[3]"}), "/a~1b/c~0d/3");
    EXPECT_EQ(to_json_pointer({"<root>"}), "");
}

TEST(ContractValidator, EveryPlacementFixtureMatchesTheShippedContract) {
    const ContractValidator validator(read_json("contracts/placement/request.schema.json"));
    for (const char* name : {"auto_only_ny", "brokerage_tx_multicarrier",
                             "missing_required_lines_ny", "pure_bundle_ca", "quotes_only_oh"}) {
        const auto errors = validator.validate(
            read_json(std::string("tests/golden/placement/") + name + ".input.json"));
        EXPECT_TRUE(errors.empty())
            << name << ": " << (errors.empty() ? "" : errors[0].pointer + " " + errors[0].message);
    }
}

TEST(ContractValidator, ShippedExamplesMatchTheirSchemas) {
    const ContractValidator request(read_json("contracts/placement/request.schema.json"));
    const ContractValidator response(read_json("contracts/placement/response.schema.json"));
    EXPECT_TRUE(request.validate(read_json("contracts/placement/example_request.json")).empty());
    const auto errors = response.validate(read_json("contracts/placement/example_response.json"));
    EXPECT_TRUE(errors.empty()) << (errors.empty() ? ""
                                                   : errors[0].pointer + " " + errors[0].message);
}

}  // namespace
}  // namespace engined::contracts
