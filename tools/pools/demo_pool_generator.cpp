// engined-demo-pool — writes the synthetic carrier pool the repository ships as its demo
// (SPEC §7): invented carriers with market-like distributions, each marked "synthetic": true.
// The same arguments give the same bytes everywhere: the generator and every mapping from its
// integers to values are written out here, using only IEEE arithmetic (no standard-library
// distributions, whose output differs between library versions, and no libm transcendentals).
//
// usage: engined-demo-pool [--count N] [--seed S] [--out FILE]
#include "common/json_text.hpp"
#include "pools/pool_file.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <iostream>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace {

constexpr std::size_t kDefaultCount = 1873;
constexpr uint64_t kDefaultSeed = 1873;
// About 1.2 KB a carrier pretty-printed: more would not fit a pool file (64 MiB).
constexpr std::size_t kMaxCount = 50'000;

// SplitMix64 (Steele, Lea, Flood 2014): tiny, fast, and fully specified by its constants.
class Random {
public:
    explicit Random(uint64_t seed) : state_(seed) {}

    uint64_t next() {
        uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return z ^ (z >> 31);
    }

    // [0, 1) from the top 53 bits: exact in a double.
    double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
    double uniform(double low, double high) { return low + (high - low) * uniform(); }
    std::size_t below(std::size_t count) {
        return static_cast<std::size_t>(uniform() * static_cast<double>(count));
    }
    int between(int low, int high) {
        return low + static_cast<int>(below(static_cast<std::size_t>(high - low + 1)));
    }
    bool chance(double probability) { return uniform() < probability; }

    // Irwin-Hall: the sum of twelve uniforms is close to normal and needs no log or cos.
    double normal(double mean, double deviation) {
        double sum = 0;
        for (int i = 0; i < 12; ++i) sum += uniform();
        return mean + deviation * (sum - 6.0);
    }

    template <typename T, std::size_t N>
    const T& any_of(const std::array<T, N>& values) {
        return values[below(N)];
    }

private:
    uint64_t state_;
};

template <typename T>
struct Weighted {
    T value;
    int weight;
};

template <typename T, std::size_t N>
const T& pick(Random& random, const std::array<Weighted<T>, N>& table) {
    int total = 0;
    for (const auto& entry : table) total += entry.weight;
    int ticket = static_cast<int>(random.below(static_cast<std::size_t>(total)));
    for (const auto& entry : table) {
        if (ticket < entry.weight) return entry.value;
        ticket -= entry.weight;
    }
    return table.back().value;
}

// To the nearest 1/parts: dividing by the integer gives the double closest to k/parts, which
// prints short ("0.69"), where multiplying by a step would give 0.6900000000000001.
double round_to(double value, double parts) {
    return std::round(value * parts) / parts;
}
double clip(double value, double low, double high) {
    return value < low ? low : (value > high ? high : value);
}

// --- Lines of business and what each kind of carrier writes.

constexpr std::size_t kLineCount = 10;
constexpr std::array<std::string_view, kLineCount> kLines{"general_liability",
                                                          "professional_liability",
                                                          "workers_compensation",
                                                          "commercial_property",
                                                          "commercial_auto",
                                                          "cyber",
                                                          "directors_officers",
                                                          "umbrella",
                                                          "bop",
                                                          "epli"};
enum Line { gl, pl, wc, property, autos, cyber, dno, umbrella, bop, epli };

// Percent chances that a line is preferred, acceptable or excluded; the rest: not mentioned.
struct Appetite {
    int preferred;
    int acceptable;
    int excluded;
};
constexpr Appetite kOff{0, 0, 35};  // outside the specialty: sometimes excluded outright

enum class Segment { small, middle, large, all };

struct Specialty {
    Line main_line;  // always written, nearly always preferred
    std::array<Appetite, kLineCount> appetites;
    std::array<Weighted<Segment>, 4> segments;
    std::array<std::string_view, 4> descriptors;  // the middle word of the name
    double commission_low;
    double commission_high;
};

// Appetites in kLines order: gl, pl, wc, property, auto, cyber, d&o, umbrella, bop, epli.
const std::array<Weighted<Specialty>, 9> kSpecialties{{
    // standard multiline
    {{gl,
      {{{70, 28, 0},
        {5, 25, 20},
        {45, 40, 5},
        {65, 30, 0},
        {45, 40, 5},
        {10, 40, 10},
        {5, 20, 20},
        {40, 45, 5},
        {50, 35, 5},
        {10, 40, 10}}},
      {{{Segment::small, 35}, {Segment::middle, 40}, {Segment::large, 15}, {Segment::all, 10}}},
      {"Mutual", "Casualty", "General", "National"},
      0.10,
      0.17},
     28},
    // professional lines
    {{pl,
      {{{5, 40, 20},
        {95, 5, 0},
        kOff,
        {0, 10, 40},
        kOff,
        {50, 40, 0},
        {70, 25, 0},
        {5, 20, 30},
        {5, 15, 30},
        {55, 35, 0}}},
      {{{Segment::small, 45}, {Segment::middle, 35}, {Segment::large, 15}, {Segment::all, 5}}},
      {"Professional", "Specialty", "Indemnity", "Assurance"},
      0.12,
      0.20},
     14},
    // contractors' general liability
    {{gl,
      {{{95, 5, 0},
        {0, 10, 50},
        {25, 40, 10},
        {5, 25, 20},
        {30, 40, 10},
        {0, 5, 40},
        kOff,
        {50, 40, 0},
        {5, 20, 20},
        {0, 10, 30}}},
      {{{Segment::small, 55}, {Segment::middle, 35}, {Segment::large, 5}, {Segment::all, 5}}},
      {"Casualty", "Builders", "Contractors", "Indemnity"},
      0.10,
      0.18},
     12},
    // workers' compensation monoline
    {{wc,
      {{kOff, kOff, {100, 0, 0}, kOff, kOff, kOff, kOff, kOff, kOff, kOff}},
      {{{Segment::small, 55}, {Segment::middle, 30}, {Segment::large, 10}, {Segment::all, 5}}},
      {"Compensation", "Employers", "Mutual", "Workforce"},
      0.08,
      0.12},
     10},
    // property
    {{property,
      {{{10, 40, 20}, kOff, kOff, {95, 5, 0}, kOff, kOff, kOff, {0, 20, 20}, {30, 40, 10}, kOff}},
      {{{Segment::small, 30}, {Segment::middle, 45}, {Segment::large, 20}, {Segment::all, 5}}},
      {"Fire", "Fire & Marine", "Property", "Underwriters"},
      0.10,
      0.18},
     8},
    // commercial auto
    {{autos,
      {{{5, 35, 20}, kOff, {5, 25, 20}, kOff, {95, 5, 0}, kOff, kOff, {25, 50, 5}, kOff, kOff}},
      {{{Segment::small, 45}, {Segment::middle, 40}, {Segment::large, 10}, {Segment::all, 5}}},
      {"Transportation", "Fleet", "Motor", "Casualty"},
      0.08,
      0.15},
     6},
    // cyber
    {{cyber,
      {{kOff, {40, 40, 5}, kOff, kOff, kOff, {100, 0, 0}, {15, 35, 10}, kOff, kOff, {10, 30, 10}}},
      {{{Segment::small, 40}, {Segment::middle, 40}, {Segment::large, 15}, {Segment::all, 5}}},
      {"Cyber", "Digital Risk", "Specialty", "Assurance"},
      0.12,
      0.20},
     5},
    // small-business package
    {{bop,
      {{{60, 35, 0},
        {5, 30, 20},
        {40, 40, 5},
        {55, 40, 0},
        {20, 45, 10},
        {10, 45, 10},
        {0, 15, 30},
        {15, 45, 10},
        {95, 5, 0},
        {5, 40, 10}}},
      {{{Segment::small, 85}, {Segment::middle, 10}, {Segment::large, 0}, {Segment::all, 5}}},
      {"Mutual", "Main Street", "Merchants", "Business"},
      0.12,
      0.20},
     12},
    // excess and umbrella
    {{umbrella,
      {{{10, 40, 10}, kOff, kOff, kOff, {0, 20, 30}, kOff, kOff, {100, 0, 0}, kOff, kOff}},
      {{{Segment::small, 10}, {Segment::middle, 45}, {Segment::large, 40}, {Segment::all, 5}}},
      {"Excess", "Surplus Lines", "Excess & Surplus", "Specialty"},
      0.12,
      0.20},
     5},
}};

boost::json::array line_appetites(Random& random, const Specialty& specialty) {
    boost::json::array lines;
    for (std::size_t line = 0; line < kLineCount; ++line) {
        const Appetite& odds = specialty.appetites[line];
        const int roll = static_cast<int>(random.below(100));
        std::string_view appetite;
        if (roll < odds.preferred) {
            appetite = "preferred";
        } else if (roll < odds.preferred + odds.acceptable) {
            appetite = "acceptable";
        } else if (roll < odds.preferred + odds.acceptable + odds.excluded) {
            appetite = "excluded";
        }
        if (line == static_cast<std::size_t>(specialty.main_line) && appetite != "preferred")
            appetite = "acceptable";
        if (!appetite.empty()) lines.push_back({{"appetite", appetite}, {"line", kLines[line]}});
    }
    return lines;
}

// --- Where a carrier writes: all states, a region or two, or its home state.

constexpr std::size_t kRegionCount = 8;
const std::array<Weighted<std::vector<std::string_view>>, kRegionCount> kRegions{{
    {{"CT", "MA", "ME", "NH", "RI", "VT"}, 8},
    {{"DC", "DE", "MD", "NJ", "NY", "PA"}, 16},
    {{"AL", "FL", "GA", "KY", "MS", "NC", "SC", "TN", "VA", "WV"}, 20},
    {{"IL", "IN", "MI", "OH", "WI"}, 15},
    {{"IA", "KS", "MN", "MO", "ND", "NE", "SD"}, 9},
    {{"AR", "LA", "OK", "TX"}, 14},
    {{"AZ", "CO", "ID", "MT", "NM", "NV", "UT", "WY"}, 8},
    {{"AK", "CA", "HI", "OR", "WA"}, 10},
}};

enum class Footprint { national, multi_regional, regional, single_state };
constexpr std::array<Weighted<Footprint>, 4> kFootprints{{{Footprint::national, 33},
                                                          {Footprint::multi_regional, 15},
                                                          {Footprint::regional, 37},
                                                          {Footprint::single_state, 15}}};

void add_region(Random& random, const std::vector<std::string_view>& region,
                std::set<std::string_view>& states) {
    states.insert(region[random.below(region.size())]);  // the home state, always written
    for (const auto state : region) {
        if (random.chance(0.85)) states.insert(state);
    }
}

boost::json::array state_list(Random& random, Footprint footprint) {
    if (footprint == Footprint::national) return {"*"};
    std::set<std::string_view> states;
    const auto& home = pick(random, kRegions);
    if (footprint == Footprint::single_state) {
        states.insert(home[random.below(home.size())]);
    } else {
        add_region(random, home, states);
        if (footprint == Footprint::multi_regional)
            add_region(random, pick(random, kRegions), states);
        for (int extra = random.between(0, 3); extra > 0; --extra) {
            const auto& region = kRegions[random.below(kRegionCount)].value;
            states.insert(region[random.below(region.size())]);
        }
    }
    boost::json::array out;
    for (const auto state : states) out.emplace_back(state);
    return out;
}

// --- Financial strength: size class first (larger for wider footprints), then a rating that
// leans on it.

constexpr std::array<std::string_view, 15> kSizes{
    "I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII", "XIII", "XIV", "XV"};
// Positions in kSizes, V (4) to XV (14), mostly VIII to XII as in the market.
constexpr std::array<Weighted<int>, 11> kSizeIndex{{{4, 3},
                                                    {5, 5},
                                                    {6, 9},
                                                    {7, 18},
                                                    {8, 19},
                                                    {9, 17},
                                                    {10, 12},
                                                    {11, 9},
                                                    {12, 4},
                                                    {13, 2},
                                                    {14, 2}}};

int size_index(Random& random, Footprint footprint) {
    int index = pick(random, kSizeIndex);
    if (footprint == Footprint::national && random.chance(0.6)) index += 2;
    if (footprint == Footprint::single_state && random.chance(0.6)) index -= 2;
    return std::clamp(index, 4, 14);
}

// Best first; a notch is one step along this list.
constexpr std::array<std::string_view, 8> kRatingScale{"A++", "A+", "A", "A-",
                                                       "B++", "B+", "B", "B-"};
constexpr std::array<Weighted<int>, 8> kRatingIndex{
    {{0, 4}, {1, 13}, {2, 37}, {3, 28}, {4, 9}, {5, 5}, {6, 3}, {7, 1}}};

std::string_view rating(Random& random, int size) {
    int notch = pick(random, kRatingIndex);
    if (size >= 11 && notch > 0 && random.chance(0.4)) --notch;
    if (size <= 5 && notch < 7 && random.chance(0.4)) ++notch;
    return kRatingScale[static_cast<std::size_t>(notch)];
}

// --- Appetite for industries: NAICS codes refused outright, and codes written reluctantly.

struct NaicsRule {
    std::vector<std::string_view> codes;
    double chance;
};
const std::array<NaicsRule, 7> kProhibited{{
    {{"111998", "453998"}, 0.55},  // cannabis growers and dispensaries
    {{"21"}, 0.20},                // mining, quarrying, oil and gas extraction
    {{"4811", "4812"}, 0.25},      // aviation
    {{"332994"}, 0.10},            // small arms manufacturing
    {{"7132"}, 0.08},              // gambling
    {{"1133"}, 0.12},              // logging
    {{"486"}, 0.10},               // pipelines
}};
const std::array<NaicsRule, 6> kAvoided{{
    {{"7225"}, 0.15},    // restaurants
    {{"238160"}, 0.20},  // roofing contractors
    {{"484"}, 0.12},     // trucking
    {{"6231"}, 0.10},    // nursing homes
    {{"722410"}, 0.10},  // bars
    {{"238910"}, 0.08},  // demolition and site preparation
}};

template <std::size_t N>
boost::json::array naics_codes(Random& random, const std::array<NaicsRule, N>& rules,
                               std::string_view spared) {
    std::set<std::string_view> codes;
    for (const auto& rule : rules) {
        if (!random.chance(rule.chance)) continue;
        for (const auto code : rule.codes) {
            if (code != spared) codes.insert(code);
        }
    }
    boost::json::array out;
    for (const auto code : codes) out.emplace_back(code);
    return out;
}

// --- Size of the accounts a carrier takes.

struct Band {
    std::optional<int64_t> revenue_min, revenue_max, employees_min, employees_max;
};

Band band(Random& random, Segment segment) {
    constexpr int64_t M = 1'000'000;
    switch (segment) {
        case Segment::small:
            return {
                random.chance(0.5) ? std::optional<int64_t>(0) : std::nullopt,
                std::array<int64_t, 5>{2'500'000, 5 * M, 10 * M, 15 * M, 25 * M}[random.below(5)],
                std::nullopt, std::array<int64_t, 4>{25, 50, 100, 250}[random.below(4)]};
        case Segment::middle:
            return {std::array<int64_t, 3>{5 * M, 10 * M, 25 * M}[random.below(3)],
                    std::array<int64_t, 3>{250 * M, 500 * M, 1000 * M}[random.below(3)],
                    std::array<int64_t, 3>{25, 50, 100}[random.below(3)],
                    std::array<int64_t, 3>{1000, 2500, 5000}[random.below(3)]};
        case Segment::large:
            return {std::array<int64_t, 3>{100 * M, 250 * M, 500 * M}[random.below(3)],
                    std::nullopt, std::array<int64_t, 3>{250, 500, 1000}[random.below(3)],
                    std::nullopt};
        case Segment::all:
            break;
    }
    return {};
}

void add_band(const Band& band, boost::json::object& carrier) {
    if (band.revenue_min) carrier["revenue_min"] = *band.revenue_min;
    if (band.revenue_max) carrier["revenue_max"] = *band.revenue_max;
    if (band.employees_min) carrier["employees_min"] = *band.employees_min;
    if (band.employees_max) carrier["employees_max"] = *band.employees_max;
}

// --- Names: a place-like stem, the specialty's word, a company form.

constexpr std::array<std::string_view, 40> kStems{
    "Harbor",     "Summit",    "Granite",   "Keystone",    "Prairie",    "Cedar",       "Pinnacle",
    "Meridian",   "Ironwood",  "Bluestem",  "Copperline",  "Redwood",    "Northgate",   "Lakeshore",
    "Tidewater",  "Highland",  "Riverbend", "Stonebridge", "Fairhaven",  "Brightwater", "Oakmont",
    "Silverpine", "Windward",  "Crescent",  "Beacon",      "Anchor",     "Sentinel",    "Heritage",
    "Frontier",   "Evergreen", "Juniper",   "Bayview",     "Clearwater", "Hollowbrook", "Westbrook",
    "Northfield", "Ridgeview", "Maplewood", "Sandstone",   "Thornbury"};
constexpr std::array<std::string_view, 25> kPrefixes{
    "Ash",   "Birch", "Copper", "Elm",   "Fox",  "Glen",   "Hart", "Iron",   "Kings",
    "Lark",  "Mill",  "North",  "Oak",   "Pine", "Quarry", "Red",  "Silver", "Stone",
    "Thorn", "West",  "Wood",   "Brook", "Clay", "Dover",  "Eagle"};
constexpr std::array<std::string_view, 20> kSuffixes{
    "field", "ford",  "gate", "haven", "hill", "mont", "ridge", "stead",  "view", "wood",
    "brook", "crest", "dale", "point", "port", "side", "water", "bridge", "land", "wick"};
constexpr std::array<std::string_view, 7> kForms{
    "",           " Insurance Co.", " Insurance Company", " Group",
    " Companies", " of America",    " Insurance Exchange"};

// One draw per statement: the operands of + may be evaluated in either order, which would
// make the names depend on the compiler. A large --count runs out of combinations; the
// carrier's number then keeps the name unique.
std::string carrier_name(Random& random, const Specialty& specialty, std::size_t number,
                         std::set<std::string>& taken) {
    for (int attempt = 0;; ++attempt) {
        std::string name;
        if (random.chance(0.4)) {
            name = random.any_of(kStems);
        } else {
            name = random.any_of(kPrefixes);
            name += random.any_of(kSuffixes);
        }
        name += " ";
        name += random.any_of(specialty.descriptors);
        name += random.any_of(kForms);
        if (attempt >= 16) name += " No. " + std::to_string(number);
        if (taken.insert(name).second) return name;
    }
}

// --- One carrier, then the pool.

boost::json::object carrier(Random& random, std::size_t number, std::size_t id_width,
                            std::set<std::string>& names) {
    const Specialty& specialty = pick(random, kSpecialties);
    const Footprint footprint = pick(random, kFootprints);
    const Segment segment = pick(random, specialty.segments);
    const int size = size_index(random, footprint);
    const std::string_view best_rating = rating(random, size);
    std::string id = std::to_string(number);
    id = "demo_" + std::string(id_width > id.size() ? id_width - id.size() : 0, '0') + id;

    boost::json::object out;
    out["id"] = id;
    out["name"] = carrier_name(random, specialty, number, names);
    out["am_best_rating"] = best_rating;
    out["financial_size"] = kSizes[static_cast<std::size_t>(size)];
    out["states"] = state_list(random, footprint);
    out["lines"] = line_appetites(random, specialty);
    const std::string_view spared =
        specialty.main_line == autos ? "484" : "";  // truckers are their business
    if (auto codes = naics_codes(random, kProhibited, ""); !codes.empty())
        out["prohibited_naics"] = codes;
    if (auto codes = naics_codes(random, kAvoided, spared); !codes.empty())
        out["avoided_naics"] = codes;
    add_band(band(random, segment), out);
    out["pricing_index"] = round_to(clip(random.normal(1.0, 0.12), 0.5, 2.0), 100);
    out["commission"] =
        round_to(random.uniform(specialty.commission_low, specialty.commission_high), 200);
    const double quality =
        best_rating.substr(0, 2) == "A+" ? 0.04 : (best_rating[0] == 'B' ? -0.05 : 0.0);
    out["claims_satisfaction"] =
        round_to(clip(random.normal(0.78 + quality, 0.07), 0.4, 0.98), 100);
    const int turnaround = segment == Segment::large    ? random.between(7, 21)
                           : segment == Segment::middle ? random.between(3, 10)
                                                        : random.between(1, 5);
    out["quote_turnaround_days"] = turnaround;
    out["synthetic"] = true;
    return out;
}

boost::json::array demo_pool(std::size_t count, uint64_t seed) {
    Random random(seed);
    std::set<std::string> names;
    const std::size_t id_width = std::max<std::size_t>(4, std::to_string(count).size());
    boost::json::array carriers;
    for (std::size_t i = 1; i <= count; ++i)
        carriers.push_back(carrier(random, i, id_width, names));
    return carriers;
}

// --- Command line.

struct Options {
    std::size_t count = kDefaultCount;
    uint64_t seed = kDefaultSeed;
    std::string out;  // empty: stdout
};

uint64_t whole_number(const std::string& text, const std::string& option) {
    std::size_t used = 0;
    uint64_t value = 0;
    try {
        value = std::stoull(text, &used);
    } catch (const std::exception&) {
        used = 0;
    }
    if (used == 0 || used != text.size() || text[0] == '-') {
        throw std::invalid_argument(option + " takes a whole number, not '" + text + "'");
    }
    return value;
}

Options parse_options(const std::vector<std::string>& args) {
    Options options;
    for (std::size_t i = 0; i < args.size(); ++i) {
        if (i + 1 >= args.size())
            throw std::invalid_argument("unknown or incomplete option '" + args[i] + "'");
        const std::string& value = args[++i];
        if (args[i - 1] == "--count") {
            options.count = whole_number(value, "--count");
            if (options.count < 1 || options.count > kMaxCount) {
                throw std::invalid_argument(
                    "--count is 1 to 50000 (a larger pool does not fit a pool file)");
            }
        } else if (args[i - 1] == "--seed") {
            options.seed = whole_number(value, "--seed");
        } else if (args[i - 1] == "--out") {
            options.out = value;
        } else {
            throw std::invalid_argument("unknown option '" + args[i - 1] + "'");
        }
    }
    return options;
}

void write_file(const std::string& path, const std::string& text) {
    std::ofstream file(path, std::ios::binary | std::ios::trunc);
    file << text;
    file.close();
    if (!file) throw std::runtime_error("cannot write " + path);
}

}  // namespace

int main(int argc, char** argv) {
    Options options;
    try {
        options = parse_options(std::vector<std::string>(argv + 1, argv + argc));
    } catch (const std::invalid_argument& error) {
        std::cerr << "engined-demo-pool: " << error.what()
                  << "\nusage: engined-demo-pool [--count N] [--seed S] [--out FILE]\n";
        return 2;
    }
    try {
        const boost::json::object pool{{"carriers", demo_pool(options.count, options.seed)}};
        const std::string text = engined::pretty_json(pool);
        // What this writes must import: a generator bug stops here, not at an operator's import.
        // The carriers are the entity_analysis engine's, so its plugin (where engined finds
        // plugins) reads them.
        engined::plugin::PluginRegistry registry;
        const std::string refusal =
            registry.load(engined::plugin::find_plugins_dir({}) / "entity_analysis.so");
        if (!refusal.empty()) throw std::runtime_error("the entity_analysis plugin " + refusal);
        engined::pools::parse_pool_file(text, engined::pools::PoolFormat::json,
                                        *registry.find("entity_analysis"));
        if (options.out.empty()) {
            std::cout << text;
        } else {
            write_file(options.out, text);
        }
        return 0;
    } catch (const std::exception& error) {
        std::cerr << "engined-demo-pool: " << error.what() << "\n";
        return 1;
    }
}
