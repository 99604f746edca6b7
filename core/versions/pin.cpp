#include "versions/pin.hpp"

#include <charconv>

namespace engined::versions {
namespace {

// from_chars refuses what overflows an int, however many leading zeros come first.
std::optional<int> parse_number(std::string_view digits) {
    if (digits.empty()) return std::nullopt;
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
    for (char c : major_text) {
        if (c < '0' || c > '9') return std::nullopt;
    }
    const auto major = parse_number(major_text);
    if (!major) return std::nullopt;
    if (minor_text == "x") return Pin{*major, std::nullopt};
    for (char c : minor_text) {
        if (c < '0' || c > '9') return std::nullopt;
    }
    const auto minor = parse_number(minor_text);
    if (!minor) return std::nullopt;
    return Pin{*major, *minor};
}

}  // namespace engined::versions
