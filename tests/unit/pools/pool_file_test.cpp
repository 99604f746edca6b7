#include "pools/pool_file.hpp"

#include "common/json_text.hpp"
#include "plugin/plugin_registry.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <string>

namespace engined::pools {
namespace {

// A plugin loaded from `path` for the tests (the registry outlives them).
const plugin::LoadedPlugin& loaded(const std::string& path, const std::string& engine_type) {
    static plugin::PluginRegistry registry;
    if (const auto* plugin = registry.find(engine_type)) return *plugin;
    const std::string refusal = registry.load(path);
    if (!refusal.empty()) throw std::runtime_error(engine_type + " refused: " + refusal);
    return *registry.find(engine_type);
}

// The plugin whose carrier vocabulary the pool files below are written in: each file is read
// through it, as `enginectl pools import` reads one.
const plugin::LoadedPlugin& entity_analysis() {
    return loaded(
        (std::filesystem::path(ENGINED_BINARY_DIR) / "plugins" / "entity_analysis.so").string(),
        "entity_analysis");
}

constexpr const char* kHeader = "id,name,states,lines\n";
constexpr const char* kRow = "car_1,Harbor Mutual,NY,cyber:preferred\n";

std::string canonical(const boost::json::array& carriers) {
    return canonical_json(carriers);
}

// One carrier object in JSON, with `extra` members (",\"x\": 1") added to a valid minimum.
std::string json_carrier(const std::string& id, const std::string& extra = "") {
    return R"({"id": ")" + id + R"(", "name": "Harbor Mutual", "states": ["NY"],
               "lines": [{"line": "cyber", "appetite": "preferred"}])" +
           extra + "}";
}

// Expects parse_pool_file to refuse `text` at `line` with a message containing `part`.
void expect_refused(const std::string& text, PoolFormat format, std::size_t line,
                    const std::string& part) {
    try {
        parse_pool_file(text, format, entity_analysis());
        ADD_FAILURE() << "accepted:\n" << text;
    } catch (const PoolFileError& error) {
        EXPECT_EQ(error.line(), line) << error.what();
        EXPECT_NE(std::string(error.what()).find(part), std::string::npos)
            << error.what() << "\nexpected: " << part;
        EXPECT_EQ(std::string(error.what()),
                  "line " + std::to_string(line) + ": " + error.detail());
    }
}

// A CSV with the minimal columns plus `column`, whose single row has `value` there.
std::string csv_with(const std::string& column, const std::string& value) {
    return "id,name,states,lines," + column + "\ncar_1,Harbor Mutual,NY,cyber:preferred," + value +
           "\n";
}

void expect_csv_accepts(const std::string& column, const std::string& value) {
    EXPECT_NO_THROW(parse_pool_file(csv_with(column, value), PoolFormat::csv, entity_analysis()))
        << column << " = " << value;
}

void expect_csv_refuses(const std::string& column, const std::string& value,
                        const std::string& part) {
    expect_refused(csv_with(column, value), PoolFormat::csv, 2, part);
}

TEST(PoolFormat, ComesFromTheExtension) {
    EXPECT_EQ(pool_format_for("carriers.csv"), PoolFormat::csv);
    EXPECT_EQ(pool_format_for("dir.v2/CARRIERS.JSON"), PoolFormat::json);
    EXPECT_THROW(pool_format_for("carriers.txt"), std::invalid_argument);
    EXPECT_THROW(pool_format_for("csv"), std::invalid_argument);
}

TEST(PoolName, AllowsLettersDigitsThreeMarksAndColonsUpTo64) {
    // Pool names may be namespaced with ':' ("carriers:all").
    EXPECT_TRUE(is_pool_name("carriers:all"));
    EXPECT_TRUE(is_pool_name(std::string(64, ':')));
    EXPECT_FALSE(is_pool_name(std::string(65, 'a')));
    EXPECT_FALSE(is_pool_name("carriers all"));
}

TEST(PoolCsv, FullRowBecomesTheCanonicalCarrier) {
    const std::string text =
        "synthetic,quote_turnaround_days,claims_satisfaction,commission,pricing_index,employees_"
        "max,employees_min,"
        "revenue_max,revenue_min,avoided_naics,prohibited_naics,lines,states,financial_size,am_"
        "best_rating,name,id\n"
        "TRUE,3,0.82,0.125,1.05,250,10,50000000.0,1e6,7225;238160,453998;111998;21,"
        "umbrella:excluded;general_liability:preferred,TX;CA;DC,VIII,A-,  Summit Specialty "
        "Insurance Co. ,car_1\n";
    const auto carriers = parse_pool_file(text, PoolFormat::csv, entity_analysis());
    const auto expected = boost::json::parse(R"([{
        "id": "car_1", "name": "Summit Specialty Insurance Co.", "am_best_rating": "A-", "financial_size": "VIII",
        "states": ["CA", "DC", "TX"],
        "lines": [{"line": "general_liability", "appetite": "preferred"}, {"line": "umbrella", "appetite": "excluded"}],
        "prohibited_naics": ["111998", "21", "453998"], "avoided_naics": ["238160", "7225"],
        "revenue_min": 1000000, "revenue_max": 50000000, "employees_min": 10, "employees_max": 250,
        "pricing_index": 1.05, "commission": 0.125, "claims_satisfaction": 0.82, "quote_turnaround_days": 3,
        "synthetic": true}])");
    EXPECT_EQ(canonical(carriers), canonical_json(expected));
    EXPECT_TRUE(carriers[0].at("revenue_min").is_int64()) << "whole numbers are integers";
}

TEST(PoolCsv, EmptyCellsAreAbsentFields) {
    const auto carriers = parse_pool_file(
        "id,name,states,lines,am_best_rating,revenue_min,prohibited_naics\ncar_1,Harbor,*,bop:"
        "acceptable,,,\n",
        PoolFormat::csv, entity_analysis());
    EXPECT_EQ(
        canonical(carriers),
        R"([{"id":"car_1","lines":[{"appetite":"acceptable","line":"bop"}],"name":"Harbor","states":["*"]}])");
}

TEST(PoolCsv, QuotedCellsHoldCommasQuotesAndLineBreaks) {
    const std::string text = std::string(kHeader) +
                             "car_1,\"Harbor, Mutual \"\"East\"\"\",\"NY;\nCA\",cyber:preferred\n"
                             "car_2,\"Summit\",NY,\"bop:preferred;\r\nepli:acceptable\"\r\n";
    const auto carriers = parse_pool_file(text, PoolFormat::csv, entity_analysis());
    ASSERT_EQ(carriers.size(), 2u);
    EXPECT_EQ(carriers[0].at("name"), "Harbor, Mutual \"East\"");
    EXPECT_EQ(canonical_json(carriers[0].at("states")), R"(["CA","NY"])");
    EXPECT_EQ(carriers[1].at("name"), "Summit");
    EXPECT_EQ(carriers[1].at("lines").as_array().size(), 2u);
}

TEST(PoolCsv, RowLinesCountTheLinesInsideQuotedCells) {
    // The row of car_1 spans lines 2 and 3, so car_2 is on line 4.
    const std::string text = std::string(kHeader) + "car_1,Harbor,\"NY;\nCA\",cyber:preferred\n" +
                             "car_2,Summit,NY,cyber:sometimes\n";
    expect_refused(text, PoolFormat::csv, 4,
                   "appetite 'sometimes' for cyber is not one of preferred, acceptable, excluded");
}

TEST(PoolCsv, AcceptsCrLfAByteOrderMarkBlankRowsAndNoFinalNewline) {
    const std::string text =
        "\xEF\xBB\xBFid,name,states,lines\r\n\r\ncar_1,Harbor,NY,cyber:preferred\r\n,,,\r\n"
        "car_2,Summit,CA,bop:preferred";
    EXPECT_EQ(parse_pool_file(text, PoolFormat::csv, entity_analysis()).size(), 2u);
}

TEST(PoolCsv, RefusesBrokenQuoting) {
    expect_refused(std::string(kHeader) + kRow + "car_2,\"Summit,NY,cyber:preferred\n",
                   PoolFormat::csv, 3, "a quoted cell is never closed");
    expect_refused(std::string(kHeader) + kRow + "car_2,Sum\"mit,NY,cyber:preferred\n",
                   PoolFormat::csv, 3, "a quote inside an unquoted cell");
    expect_refused(std::string(kHeader) + kRow + "car_2,\"Summit\" Co,NY,cyber:preferred\n",
                   PoolFormat::csv, 3, "text after a closing quote");
}

TEST(PoolCsv, HeaderNamesKnownColumnsOnceAndTheRequiredOnes) {
    const std::string row = "car_1,Harbor,NY,cyber:preferred,1\n";
    expect_refused("id,name,states,lines,revnue_min\n" + row, PoolFormat::csv, 1,
                   "unknown column 'revnue_min'");
    expect_refused("id,name,states,lines,lines\n" + row, PoolFormat::csv, 1,
                   "column 'lines' appears twice");
    expect_refused("id,name,states\ncar_1,Harbor,NY\n", PoolFormat::csv, 1,
                   "the header has no 'lines' column");
    expect_refused("lines,states,name,revenue_min\ncyber:preferred,NY,Harbor,1\n", PoolFormat::csv,
                   1, "the header has no 'id' column");
}

TEST(PoolCsv, EveryRowHasAsManyCellsAsTheHeader) {
    expect_refused(std::string(kHeader) + kRow + "car_2,Summit,NY\n", PoolFormat::csv, 3,
                   "the row has 3 cells, the header names 4 columns");
    expect_refused(std::string(kHeader) + kRow + "car_2,Summit,NY,cyber:preferred,x\n",
                   PoolFormat::csv, 3, "the row has 5 cells");
}

TEST(PoolRules, IdIsRequiredAndUpTo64IdentifierCharacters) {
    EXPECT_NO_THROW(parse_pool_file(
        std::string(kHeader) + std::string(64, 'a') + ",Harbor,NY,cyber:preferred\n",
        PoolFormat::csv, entity_analysis()));
    expect_refused(std::string(kHeader) + std::string(65, 'a') + ",Harbor,NY,cyber:preferred\n",
                   PoolFormat::csv, 2, "is not 1 to 64 characters of A-Z a-z 0-9 _ . -");
    expect_refused(std::string(kHeader) + "car 1,Harbor,NY,cyber:preferred\n", PoolFormat::csv, 2,
                   "id 'car 1' is not");
    expect_refused(std::string(kHeader) + ",Harbor,NY,cyber:preferred\n", PoolFormat::csv, 2,
                   "id is required");
    expect_refused("[" + json_carrier("car_1").replace(2, 2, "ident") + "]", PoolFormat::json, 1,
                   "unknown field 'ident'");
}

TEST(PoolRules, NameIsRequiredAndUpTo200Characters) {
    std::string accented;
    for (int i = 0; i < 200; ++i) accented += "\xC3\xA9";  // é: 200 characters, 400 bytes
    EXPECT_NO_THROW(
        parse_pool_file(std::string(kHeader) + "car_1," + accented + ",NY,cyber:preferred\n",
                        PoolFormat::csv, entity_analysis()));
    expect_refused(std::string(kHeader) + "car_1," + accented + "e,NY,cyber:preferred\n",
                   PoolFormat::csv, 2, "name is 201 characters long, at most 200 allowed");
    expect_refused(std::string(kHeader) + "car_1,\"  \",NY,cyber:preferred\n", PoolFormat::csv, 2,
                   "name is required");
    expect_refused(std::string(kHeader) + "car_1,Harbor\xC3,NY,cyber:preferred\n", PoolFormat::csv,
                   2, "name is not valid UTF-8");
    expect_refused(std::string(kHeader) + "car_1,\"Harbor\nMutual\",NY,cyber:preferred\n",
                   PoolFormat::csv, 2, "name contains a control character");
    expect_refused(R"([{"id": "car_1", "name": 7, "states": ["NY"], "lines": []}])",
                   PoolFormat::json, 1, "name: expected a string, got a number");
    expect_refused(R"([{"id": "car_1", "name": "", "states": ["NY"], "lines": []}])",
                   PoolFormat::json, 1, "name is empty");
}

TEST(PoolCsv, EveryCellAndTheHeaderAreUtf8) {
    expect_refused(std::string(kHeader) + "car_1,Harbor,NY;C\xC3,cyber:preferred\n",
                   PoolFormat::csv, 2, "states is not valid UTF-8");
    expect_refused("id,name\xC3,states,lines\n" + std::string(kRow), PoolFormat::csv, 1,
                   "the header is not valid UTF-8");
}

TEST(PoolRules, RatingAndFinancialSizeComeFromAmBestScales) {
    for (const char* rating : {"A++", "A+", "A", "A-", "B++", "B+", "B", "B-", "C++", "C+", "C",
                               "C-", "D", "E", "F", "S", "NR"}) {
        expect_csv_accepts("am_best_rating", rating);
    }
    expect_csv_refuses("am_best_rating", "AA", "am_best_rating 'AA' is not one of A++, A+,");
    expect_csv_refuses("am_best_rating", "a", "am_best_rating 'a' is not one of");
    expect_csv_refuses(
        "am_best_rating", std::string(1000, 'A'),
        "am_best_rating '" + std::string(60, 'A') + "...' (1000 characters) is not one of");
    expect_csv_accepts("financial_size", "I");
    expect_csv_accepts("financial_size", "XV");
    expect_csv_refuses("financial_size", "XVI", "financial_size 'XVI' is not one of I, II,");
    expect_csv_refuses("financial_size", "8", "financial_size '8' is not one of");
}

TEST(PoolRules, StatesAreUsCodesOrAStarAlone) {
    const auto with_states = [](const std::string& states) {
        return std::string(kHeader) + "car_1,Harbor,\"" + states + "\",cyber:preferred\n";
    };
    EXPECT_NO_THROW(parse_pool_file(with_states("DC;WY;AK"), PoolFormat::csv, entity_analysis()));
    EXPECT_NO_THROW(parse_pool_file(with_states("*"), PoolFormat::csv, entity_analysis()));
    expect_refused(with_states("*;NY"), PoolFormat::csv, 2,
                   "'*' (all states) cannot be combined with state codes");
    expect_refused(with_states("NY;XX"), PoolFormat::csv, 2, "states: 'XX' is not a US state code");
    expect_refused(with_states("ny"), PoolFormat::csv, 2, "states: 'ny' is not a US state code");
    expect_refused(with_states("NY;CA;NY"), PoolFormat::csv, 2, "states lists 'NY' twice");
    expect_refused(with_states(";"), PoolFormat::csv, 2, "states is empty");
    expect_refused(R"([{"id": "a", "name": "A", "states": [], "lines": []}])", PoolFormat::json, 1,
                   "states is empty");
    expect_refused(R"([{"id": "a", "name": "A", "states": "NY", "lines": []}])", PoolFormat::json,
                   1, "states: expected an array, got a string");
}

TEST(PoolRules, LinesAreKnownLinesWithAnAppetiteEachOnce) {
    const auto with_lines = [](const std::string& lines) {
        return std::string(kHeader) + "car_1,Harbor,NY," + lines + "\n";
    };
    EXPECT_NO_THROW(parse_pool_file(
        with_lines("general_liability:preferred;professional_liability:acceptable;workers_"
                   "compensation:excluded;"
                   "commercial_property:preferred;commercial_auto:preferred;cyber:preferred;"
                   "directors_officers:preferred;umbrella:preferred;bop:preferred;epli:preferred"),
        PoolFormat::csv, entity_analysis()));
    expect_refused(with_lines("cyber"), PoolFormat::csv, 2, "lines: 'cyber' is not line:appetite");
    expect_refused(with_lines("marine:preferred"), PoolFormat::csv, 2,
                   "lines: 'marine' is not one of general_liability,");
    expect_refused(with_lines("cyber:maybe"), PoolFormat::csv, 2,
                   "appetite 'maybe' for cyber is not one of");
    expect_refused(with_lines("cyber:preferred;cyber:excluded"), PoolFormat::csv, 2,
                   "lines names cyber twice");
    expect_refused(R"([{"id": "a", "name": "A", "states": ["NY"], "lines": []}])", PoolFormat::json,
                   1, "lines is empty");
    expect_refused(R"([{"id": "a", "name": "A", "states": ["NY"],
                        "lines": [{"line": "bop", "apetite": "preferred"}]}])",
                   PoolFormat::json, 1, "lines: unknown field 'apetite'");
    expect_refused(R"([{"id": "a", "name": "A", "states": ["NY"], "lines": ["bop"]}])",
                   PoolFormat::json, 1,
                   "lines: expected {\"line\", \"appetite\"} objects, got a string");
}

TEST(PoolRules, NaicsCodesHaveTwoToSixDigits) {
    expect_csv_accepts("prohibited_naics", "21");
    expect_csv_accepts("prohibited_naics", "453998");
    expect_csv_refuses("prohibited_naics", "2",
                       "prohibited_naics: '2' is not a NAICS code (2 to 6 digits)");
    expect_csv_refuses("prohibited_naics", "4539981", "'4539981' is not a NAICS code");
    expect_csv_refuses("avoided_naics", "72a5", "avoided_naics: '72a5' is not a NAICS code");
    expect_csv_refuses("avoided_naics", "7225;7225", "avoided_naics lists '7225' twice");
    expect_refused("[" + json_carrier("a", R"(, "prohibited_naics": [21])") + "]", PoolFormat::json,
                   1, "prohibited_naics: expected a string, got a number");
    expect_refused(
        "id,name,states,lines,prohibited_naics,avoided_naics\na,A,NY,bop:preferred,21;4811,4811\n",
        PoolFormat::csv, 2, "NAICS '4811' is in both prohibited_naics and avoided_naics");
}

TEST(PoolRules, BandsAreNonNegativeWithMinNotAboveMax) {
    const auto band = [](const std::string& min, const std::string& max) {
        return "id,name,states,lines,revenue_min,revenue_max,employees_min,employees_max\n"
               "car_1,Harbor,NY,cyber:preferred," +
               min + "," + max + ",0,10\n";
    };
    EXPECT_NO_THROW(parse_pool_file(band("5000", "5000"), PoolFormat::csv, entity_analysis()));
    EXPECT_NO_THROW(parse_pool_file(band("0", ""), PoolFormat::csv, entity_analysis()));
    EXPECT_NO_THROW(parse_pool_file(band("", "10"), PoolFormat::csv, entity_analysis()));
    expect_refused(band("5000", "4999.5"), PoolFormat::csv, 2,
                   "revenue_max (4999.5) is below revenue_min (5000)");
    expect_refused(band("-1", ""), PoolFormat::csv, 2, "revenue_min (-1) is negative");
    expect_refused(band("5k", ""), PoolFormat::csv, 2, "revenue_min: expected a number, got '5k'");
    expect_refused(band("nan", ""), PoolFormat::csv, 2,
                   "revenue_min: expected a number, got 'nan'");
    expect_refused(band("inf", ""), PoolFormat::csv, 2,
                   "revenue_min: expected a number, got 'inf'");
    expect_csv_refuses("employees_max", "-0.5", "employees_max (-0.5) is negative");
    expect_refused("[" + json_carrier("a", R"(, "employees_min": 20, "employees_max": 19)") + "]",
                   PoolFormat::json, 1, "employees_max (19) is below employees_min (20)");
    expect_refused("[" + json_carrier("a", R"(, "revenue_min": "5000")") + "]", PoolFormat::json, 1,
                   "revenue_min: expected a number, got a string");
}

TEST(PoolRules, IndicatorsStayInTheirRanges) {
    struct Case {
        const char* column;
        const char* lowest;
        const char* highest;
        const char* below;
        const char* above;
        const char* range;
    };
    for (const Case& c : {Case{"pricing_index", "0.5", "2.0", "0.49", "2.01", "0.5 to 2.0"},
                          Case{"commission", "0", "0.5", "-0.01", "0.51", "0 to 0.5"},
                          Case{"claims_satisfaction", "0", "1", "-0.1", "1.01", "0 to 1"},
                          Case{"quote_turnaround_days", "0", "60", "-1", "60.5", "0 to 60"}}) {
        expect_csv_accepts(c.column, c.lowest);
        expect_csv_accepts(c.column, c.highest);
        expect_csv_refuses(c.column, c.below,
                           std::string(c.column) + " (" + c.below + ") is outside " + c.range);
        expect_csv_refuses(c.column, c.above,
                           std::string(c.column) + " (" + c.above + ") is outside " + c.range);
    }
}

TEST(PoolRules, SyntheticIsABoolean) {
    expect_csv_accepts("synthetic", "true");
    expect_csv_accepts("synthetic", "FALSE");
    expect_csv_refuses("synthetic", "yes", "synthetic: expected true or false, got 'yes'");
    expect_refused("[" + json_carrier("a", R"(, "synthetic": "true")") + "]", PoolFormat::json, 1,
                   "synthetic: expected true or false, got a string");
}

TEST(PoolRules, JsonNullIsAnAbsentOptionalField) {
    const auto carriers = parse_pool_file(
        "[" + json_carrier("a", R"(, "revenue_max": null, "am_best_rating": null)") + "]",
        PoolFormat::json, entity_analysis());
    EXPECT_FALSE(carriers[0].as_object().contains("revenue_max"));
    expect_refused(R"([{"id": "a", "name": null, "states": ["NY"], "lines": []}])",
                   PoolFormat::json, 1, "name is required");
}

TEST(PoolRules, IdsAreUniqueInThePool) {
    const std::string csv = std::string(kHeader) + "car_0007,Harbor,NY,cyber:preferred\n" +
                            "car_0008,Summit,NY,cyber:preferred\n" +
                            "car_0007,Again,NY,cyber:preferred\n";
    expect_refused(csv, PoolFormat::csv, 4, "line 4: id 'car_0007' repeats line 2");
    const std::string json =
        "[\n" + json_carrier("car_0007") + ",\n" + json_carrier("car_0007") + "\n]";
    expect_refused(json, PoolFormat::json, 4, "carriers[1]: id 'car_0007' repeats line 2");
}

TEST(PoolRules, APoolHasAtLeastOneCarrier) {
    expect_refused("", PoolFormat::csv, 1, "the file is empty");
    expect_refused(kHeader, PoolFormat::csv, 1, "the pool has no records");
    expect_refused("[]", PoolFormat::json, 1, "the pool has no records");
    expect_refused(R"({"carriers": []})", PoolFormat::json, 1, "the pool has no records");
}

TEST(PoolRules, APoolHoldsAtMost100000Carriers) {
    std::string text = kHeader;
    for (std::size_t i = 0; i < kMaxPoolRecords; ++i)
        text += "c" + std::to_string(i) + ",C,NY,bop:preferred\n";
    EXPECT_EQ(parse_pool_file(text, PoolFormat::csv, entity_analysis()).size(), kMaxPoolRecords);
    text += "one_more,C,NY,bop:preferred\n";
    expect_refused(text, PoolFormat::csv, kMaxPoolRecords + 2,
                   "a pool holds at most 100000 records");
}

TEST(PoolRules, AFileHoldsAtMost64MiB) {
    std::string text = std::string(kHeader) + "car_1,Harbor,NY,cyber:preferred";
    text.resize(kMaxPoolFileBytes, ' ');  // trailing spaces: trimmed from the last cell
    EXPECT_EQ(parse_pool_file(text, PoolFormat::csv, entity_analysis()).size(), 1u);
    text += ' ';
    expect_refused(text, PoolFormat::csv, 1, "a pool file holds at most 64 MiB");
}

TEST(PoolJson, BothShapesGiveTheSameCarriers) {
    const std::string array = "[" + json_carrier("b") + "," + json_carrier("a") + "]";
    const auto from_array = parse_pool_file(array, PoolFormat::json, entity_analysis());
    const auto from_object =
        parse_pool_file(R"({"carriers": )" + array + "}", PoolFormat::json, entity_analysis());
    EXPECT_EQ(canonical(from_array), canonical(from_object));
    ASSERT_EQ(from_array.size(), 2u);
    EXPECT_EQ(from_array[0].at("id"), "a") << "carriers come in id order";
}

TEST(PoolJson, RefusesOtherShapes) {
    expect_refused(R"({"carriers": [], "version": 2})", PoolFormat::json, 1,
                   "unknown top-level field 'version'");
    expect_refused(R"({"carrier": []})", PoolFormat::json, 1, "unknown top-level field 'carrier'");
    expect_refused(R"({"carriers": {}})", PoolFormat::json, 1, "expected an array of carriers");
    expect_refused("42", PoolFormat::json, 1, "expected an array of carriers");
    expect_refused("[" + json_carrier("a") + ", 7]", PoolFormat::json, 2,
                   "carriers[1]: expected a carrier object");
}

// A pretty-printed pool: each carrier starts on the line after "  {" of the one before.
std::string pretty_pool(const std::vector<std::string>& carriers) {
    std::string out = "{\n  \"carriers\": [\n";
    for (std::size_t i = 0; i < carriers.size(); ++i) {
        out += "    " + carriers[i] + (i + 1 < carriers.size() ? ",\n" : "\n");
    }
    return out + "  ]\n}\n";
}

TEST(PoolJson, ReportsTheLineWhereTheBadCarrierStarts) {
    // json_carrier spans two lines, so carrier i starts on line 3 + 2i.
    const std::string text =
        pretty_pool({json_carrier("a"), json_carrier("b"),
                     json_carrier("c", R"(, "revenue_min": 5000, "revenue_max": 1000)")});
    try {
        parse_pool_file(text, PoolFormat::json, entity_analysis());
        ADD_FAILURE() << "accepted";
    } catch (const PoolFileError& error) {
        EXPECT_EQ(error.line(), 7u);
        EXPECT_EQ(error.record_index(), 2u);
        EXPECT_STREQ(error.what(),
                     "line 7: carriers[2]: revenue_max (1000) is below revenue_min (5000)");
    }
}

TEST(PoolJson, ReportsTheLineOfASyntaxErrorAndOfARepeatedKey) {
    expect_refused("[\n" + json_carrier("a") + ",\n{\"id\": \"b\",,}\n]", PoolFormat::json, 4,
                   "JSON syntax error");
    expect_refused("[\n" + json_carrier("a"), PoolFormat::json, 3, "JSON syntax error");
    expect_refused("[" + json_carrier("a") + "] []", PoolFormat::json, 2,
                   "text after the end of the JSON value");
    expect_refused(
        "[\n" + json_carrier("a") + ",\n" + json_carrier("b", ",\n\"name\": \"Twice\"") + "\n]",
        PoolFormat::json, 6, "carriers[1]: field 'name' appears twice");
    expect_refused(R"({"carriers": [)" + json_carrier("a") + R"(],
                       "carriers": []})",
                   PoolFormat::json, 3, "\"carriers\" appears twice");
}

TEST(PoolJson, CsvAndJsonOfTheSameCarriersAreEquivalent) {
    const std::string csv =
        "id,name,am_best_rating,financial_size,states,lines,prohibited_naics,avoided_naics,revenue_"
        "min,revenue_max,"
        "employees_min,employees_max,pricing_index,commission,claims_satisfaction,quote_turnaround_"
        "days,synthetic\n"
        "car_2,\"Keystone Casualty, "
        "Inc.\",A,X,*,workers_compensation:preferred,21,,0,10000000,,50,0.93,0.1,0.8,2,"
        "true\n"
        "car_1,Harbor "
        "Mutual,B++,VII,OH;PA,general_liability:preferred;umbrella:acceptable,,7225,,,5,,1,0.2,1,"
        "10,"
        "false\n";
    const auto from_csv = parse_pool_file(csv, PoolFormat::csv, entity_analysis());
    const auto from_json =
        parse_pool_file(pretty_json(from_csv), PoolFormat::json, entity_analysis());
    EXPECT_EQ(canonical(from_json), canonical(from_csv));
    const auto again = parse_pool_file(R"({"carriers": )" + canonical(from_json) + "}",
                                       PoolFormat::json, entity_analysis());
    EXPECT_EQ(canonical(again), canonical(from_csv));
}

// Expects `engine` to refuse `text` at `line` with exactly `detail`.
void expect_refused_by(const plugin::LoadedPlugin& engine, const std::string& text,
                       PoolFormat format, std::size_t line, const std::string& detail) {
    try {
        parse_pool_file(text, format, engine);
        ADD_FAILURE() << "accepted:\n" << text;
    } catch (const PoolFileError& error) {
        EXPECT_EQ(error.line(), line) << error.what();
        EXPECT_EQ(error.detail(), detail);
    }
}

TEST(PoolEngine, AThirdPartyPluginCanonicalisesAPoolOfItsOwnRecords) {
    const auto& shortlist = loaded(THIRD_PARTY_PLUGIN, "shortlist");
    const auto from_csv = parse_pool_file("weight,id\n2.5,B2\n1,a1\n", PoolFormat::csv, shortlist);
    EXPECT_EQ(canonical(from_csv), R"([{"id":"a1","weight":1},{"id":"b2","weight":2.5}])");
    const auto from_json = parse_pool_file(R"({"carriers": [{"id": "A1", "weight": 1.0},
                                                            {"id": "b2", "weight": 2.5}]})",
                                           PoolFormat::json, shortlist);
    EXPECT_EQ(canonical(from_json), canonical(from_csv));
    // Its records are not carriers, nor carriers its records.
    expect_refused_by(shortlist, "id,weight\na1,heavy\n", PoolFormat::csv, 2,
                      "weight: expected a number of at least 0");
    expect_refused_by(shortlist, "[{\"id\": \"a\", \"weight\": 1},\n{\"weight\": 2}]",
                      PoolFormat::json, 2, "carriers[1]: an entry needs a string id");
    expect_refused_by(shortlist, std::string(kHeader) + kRow, PoolFormat::csv, 2,
                      "weight: expected a number of at least 0");
    expect_refused_by(entity_analysis(), "id,weight\na1,1\n", PoolFormat::csv, 1,
                      "unknown column 'weight'; columns are id, name, am_best_rating, "
                      "financial_size, states, lines, prohibited_naics, avoided_naics, "
                      "revenue_min, revenue_max, employees_min, employees_max, pricing_index, "
                      "commission, claims_satisfaction, quote_turnaround_days, synthetic");
}

TEST(PoolEngine, IdsMustBeUniqueAsTheEngineCanonicalisedThem) {
    // "A1" and "a1" are one id to this engine, which writes ids in lower case.
    expect_refused_by(loaded(THIRD_PARTY_PLUGIN, "shortlist"), "id,weight\nA1,1\na1,2\n",
                      PoolFormat::csv, 3, "id 'a1' repeats line 2");
}

TEST(PoolEngine, APluginOfAbi30ValidatesAndTheRecordsAreKeptAsTheFileGaveThem) {
    const auto& older = loaded(ABI_3_0_PLUGIN, "test_engine");
    EXPECT_EQ(canonical(parse_pool_file(R"([{"id": "b", "x": 1}, {"id": "a"}])", PoolFormat::json,
                                        older)),
              R"([{"id":"a"},{"id":"b","x":1}])");
    EXPECT_EQ(canonical(parse_pool_file("id,x\nb,1\na,\n", PoolFormat::csv, older)),
              R"([{"id":"a","x":""},{"id":"b","x":"1"}])");
    expect_refused_by(older, R"([{"x": 1}])", PoolFormat::json, 1, "a record has no id");
}

TEST(PoolEngine, AnEngineTypeThatReadsNoPoolsIsNamed) {
    const auto& placement =
        loaded((std::filesystem::path(ENGINED_BINARY_DIR) / "plugins" / "placement.so").string(),
               "placement");
    try {
        parse_pool_file(std::string(kHeader) + kRow, PoolFormat::csv, placement);
        ADD_FAILURE() << "placement read a pool";
    } catch (const EngineReadsNoPools& error) {
        EXPECT_STREQ(error.what(), "engine type 'placement' reads no pools");
    }
}

}  // namespace
}  // namespace engined::pools
