#include "versions/pin.hpp"

#include <charconv>

namespace engined::versions {
namespace {

// Digits only, and no leading zero ("01", "00"): one version has one spelling. from_chars refuses
// what overflows an int.
std::optional<int> parse_number(std::string_view digits) {
    if (digits.empty() || (digits.size() > 1 && digits.front() == '0')) return std::nullopt;
    for (const char c : digits) {
        if (c < '0' || c > '9') return std::nullopt;
    }
    int value = 0;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (ec != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
    return value;
}

}  // namespace

std::optional<Pin> parse_pin(std::string_view text) {
    const auto dot = text.find('.');
    if (dot == std::string_view::npos) return std::nullopt;
    const std::string_view major_text = text.substr(0, dot);
    const std::string_view minor_text = text.substr(dot + 1);
    const auto major = parse_number(major_text);
    if (!major) return std::nullopt;
    if (minor_text == "x") return Pin{*major, std::nullopt};
    const auto minor = parse_number(minor_text);
    if (!minor) return std::nullopt;
    return Pin{*major, *minor};
}

}  // namespace engined::versions
