// core/versions — version pins and the schema comparator that numbers releases. pin.hpp owns the pin grammar of
// SPEC §4: "<major>.<minor>" is exact, "<major>.x" is the newest minor of that major.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace engined::versions {

struct Pin {
    int major = 0;
    std::optional<int> minor;  // none: "<major>.x"
};

inline constexpr const char* kPinGrammar = "^(0|[1-9]\\d*)\\.(0|[1-9]\\d*|x)$";

// nullopt when `text` does not match kPinGrammar (no leading zeros, so one version has one
// spelling) or a number does not fit an int.
std::optional<Pin> parse_pin(std::string_view text);

}  // namespace engined::versions
