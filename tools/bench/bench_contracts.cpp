// A submit's contract check: the placement request schema against the golden `pure_bundle_ca`
// request (1.3 KB) and the contract's example request (14 KB, 15 offerings), judged by valijson
// alone, as every submit was before, and by ContractValidator, whose acceptance check answers
// for a conforming document without valijson. See docs/performance.md.
#include "contracts/contract_validator.hpp"
#include "contracts/validator_judges.hpp"

#include <benchmark/benchmark.h>
#include <boost/json.hpp>

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

namespace {

namespace contracts = engined::contracts;

boost::json::value read_json(const std::string& relative) {
    std::ifstream in(ENGINED_SOURCE_DIR "/" + relative);
    if (!in) throw std::runtime_error("cannot read " + relative);
    std::ostringstream text;
    text << in.rdbuf();
    return boost::json::parse(text.str());
}

const contracts::ContractValidator& validator() {
    static const contracts::ContractValidator placement(
        read_json("contracts/placement/request.schema.json"));
    return placement;
}

const boost::json::value& document(int which) {
    static const boost::json::value small =
        read_json("tests/golden/placement/pure_bundle_ca.input.json");
    static const boost::json::value large = read_json("contracts/placement/example_request.json");
    return which == 0 ? small : large;
}

void BM_ValijsonAlone(benchmark::State& state) {
    const boost::json::value& request = document(static_cast<int>(state.range(0)));
    for (auto _ : state) {
        if (contracts::ValidatorJudges::valijson_conforms(validator(), request) != true)
            state.SkipWithError("the document does not conform");
    }
}
BENCHMARK(BM_ValijsonAlone)->Arg(0)->Arg(1);

void BM_ContractValidator(benchmark::State& state) {
    const boost::json::value& request = document(static_cast<int>(state.range(0)));
    for (auto _ : state) {
        if (!validator().validate(request).empty())
            state.SkipWithError("the document does not conform");
    }
}
BENCHMARK(BM_ContractValidator)->Arg(0)->Arg(1);

}  // namespace

BENCHMARK_MAIN();
