#include "quotes.hpp"

#include "sdk_names.hpp"

#include <boost/json/object.hpp>

#include <array>
#include <string>
#include <string_view>

namespace engined::placement {

namespace json = boost::json;

namespace {

constexpr std::array<std::string_view, 3> kOfferingObjects = {"coverage", "constraints",
                                                              "attributes"};
constexpr std::array<std::string_view, 3> kOfferingScalars = {"quality_rating", "pricing_tier",
                                                              "commission"};

bool is_one_of(std::string_view key, const auto& names) {
    for (const std::string_view name : names) {
        if (key == name) {
            return true;
        }
    }
    return false;
}

bool is_line(std::string_view key, const json::value& value) {
    return value.is_object() && !is_one_of(key, kOfferingObjects);
}

std::string slug(std::string_view name) {
    std::string out;
    bool pending_dash = false;
    for (const char c : name) {
        const bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        const bool upper = c >= 'A' && c <= 'Z';
        if (alnum || upper) {
            if (pending_dash && !out.empty()) {
                out += '-';
            }
            pending_dash = false;
            out += upper ? static_cast<char>(c - 'A' + 'a') : c;
        } else {
            pending_dash = true;
        }
    }
    return out;
}

// Copies one member of a quote or line to where it belongs in the offering.
void place_member(std::string_view key, const json::value& value, json::object& offering,
                  json::object& attributes) {
    if (key == "premium_annual") {
        attributes["line_premium_annual"] = value;
    } else if (key == "carrier") {
        offering["provider_name"] = value;
        if (value.is_string()) {
            offering["provider_id"] = slug(value.get_string());
        }
    } else if (is_one_of(key, kOfferingScalars) ||
               (is_one_of(key, kOfferingObjects) && key != "attributes")) {
        offering[key] = value;
    } else if (key == "attributes" && value.is_object()) {
        for (const auto& member : value.get_object()) {
            attributes[member.key()] = member.value();
        }
    } else {
        attributes[key] = value;
    }
}

json::object offering_for_line(const json::object& quote, std::string_view line,
                               const json::object& line_fields, std::size_t quote_index) {
    json::object offering;
    json::object attributes;
    for (const auto& member : quote) {
        if (!is_line(member.key(), member.value())) {
            place_member(member.key(), member.value(), offering, attributes);
        }
    }
    for (const auto& member : line_fields) {
        place_member(member.key(), member.value(), offering, attributes);
    }
    const auto quote_id = find_string(line_fields, "quote_id");
    const auto package_id = find_string(quote, "package_id");
    const std::string package_name =
        package_id ? std::string(*package_id) : "quote-" + std::to_string(quote_index);
    offering["id"] = quote_id ? std::string(*quote_id) : package_name + "/" + std::string(line);
    offering["category"] = line;
    offering["attributes"] = std::move(attributes);
    return offering;
}

}  // namespace

json::array offerings_from_quotes(const json::array& quotes) {
    json::array offerings;
    for (std::size_t i = 0; i < quotes.size(); ++i) {
        const json::object* quote = quotes[i].if_object();
        if (quote == nullptr) {
            continue;
        }
        for (const auto& member : *quote) {
            if (is_line(member.key(), member.value())) {
                offerings.push_back(
                    offering_for_line(*quote, member.key(), member.value().get_object(), i));
            }
        }
    }
    return offerings;
}

}  // namespace engined::placement
