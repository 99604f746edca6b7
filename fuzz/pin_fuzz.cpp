// fuzz_pin: versions::parse_pin against the grammar of SPEC §4 (kPinGrammar: no leading zeros,
// numbers that fit an int). Invariants: a pin is accepted exactly when the text matches the
// grammar; an accepted pin prints back as exactly the text, so one version has one spelling.
#include "fuzz_support.hpp"
#include "versions/pin.hpp"

#include <climits>
#include <regex>

namespace {

using engined::versions::Pin;

constexpr std::string_view kTarget = "fuzz_pin";

// std::regex recurses per character, so the grammar is checked up to this length only; longer
// text still goes through parse_pin for the sanitizers.
constexpr std::size_t kLongestChecked = 256;

std::string printed(const Pin& pin) {
    return std::to_string(pin.major) + "." +
           (pin.minor ? std::to_string(*pin.minor) : std::string("x"));
}

bool fits_int(std::string_view digits) {
    return digits.size() < 10 || (digits.size() == 10 && digits <= std::to_string(INT_MAX));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using engined::fuzz::require;
    const std::string_view text = engined::fuzz::as_text(data, size);
    const auto pin = engined::versions::parse_pin(text);
    if (size > kLongestChecked) return 0;

    static const std::regex grammar(engined::versions::kPinGrammar);
    const std::string owned(text);
    std::smatch parts;
    const bool grammatical = std::regex_match(owned, parts, grammar);
    const std::string_view major_text =
        grammatical ? text.substr(0, text.find('.')) : std::string_view{};
    const std::string_view minor_text =
        grammatical ? text.substr(text.find('.') + 1) : std::string_view{};
    const bool expected =
        grammatical && fits_int(major_text) && (minor_text == "x" || fits_int(minor_text));
    require(pin.has_value() == expected, kTarget,
            std::string(expected ? "refused" : "accepted") + " '" + owned + "'");
    if (!pin) return 0;

    require(printed(*pin) == owned, kTarget,
            "'" + owned + "' printed back as '" + printed(*pin) + "'");
    const auto again = engined::versions::parse_pin(printed(*pin));
    require(again && again->major == pin->major && again->minor == pin->minor, kTarget,
            "'" + printed(*pin) + "' does not parse back to the same pin");
    return 0;
}
