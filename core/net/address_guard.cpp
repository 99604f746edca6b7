#include "net/address_guard.hpp"

#include <array>
#include <cstdint>

namespace engined::net {
namespace {

using boost::asio::ip::address_v4;
using boost::asio::ip::address_v6;

struct V4Range {
    uint32_t network;
    int prefix;
    AddressClass kind;
};

constexpr uint32_t v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
    return (uint32_t{a} << 24) | (uint32_t{b} << 16) | (uint32_t{c} << 8) | uint32_t{d};
}

// First match wins, so single addresses come before the ranges that contain them.
constexpr std::array v4_ranges{
    V4Range{v4(0, 0, 0, 0), 32, AddressClass::unspecified},
    V4Range{v4(255, 255, 255, 255), 32, AddressClass::broadcast},
    V4Range{v4(169, 254, 169, 254), 32, AddressClass::metadata},  // AWS, GCP, Azure, OpenStack, ...
    V4Range{v4(169, 254, 170, 2), 32, AddressClass::metadata},    // AWS ECS task metadata
    V4Range{v4(100, 100, 100, 200), 32, AddressClass::metadata},  // Alibaba Cloud
    V4Range{v4(0, 0, 0, 0), 8, AddressClass::reserved},           // "this network"
    V4Range{v4(10, 0, 0, 0), 8, AddressClass::private_network},
    V4Range{v4(100, 64, 0, 0), 10, AddressClass::cgnat},
    V4Range{v4(127, 0, 0, 0), 8, AddressClass::loopback},
    V4Range{v4(169, 254, 0, 0), 16, AddressClass::link_local},
    V4Range{v4(172, 16, 0, 0), 12, AddressClass::private_network},
    V4Range{v4(192, 0, 0, 0), 24, AddressClass::reserved},    // IETF protocol assignments
    V4Range{v4(192, 0, 2, 0), 24, AddressClass::reserved},    // TEST-NET-1
    V4Range{v4(192, 88, 99, 0), 24, AddressClass::reserved},  // 6to4 relay anycast (deprecated)
    V4Range{v4(192, 168, 0, 0), 16, AddressClass::private_network},
    V4Range{v4(198, 18, 0, 0), 15, AddressClass::reserved},    // benchmarking
    V4Range{v4(198, 51, 100, 0), 24, AddressClass::reserved},  // TEST-NET-2
    V4Range{v4(203, 0, 113, 0), 24, AddressClass::reserved},   // TEST-NET-3
    V4Range{v4(224, 0, 0, 0), 4, AddressClass::multicast},
    V4Range{v4(240, 0, 0, 0), 4, AddressClass::reserved},  // future use
};

AddressClass classify_v4(uint32_t address) {
    for (const auto& range : v4_ranges) {
        const uint32_t mask = range.prefix == 0 ? 0 : ~uint32_t{0} << (32 - range.prefix);
        if ((address & mask) == range.network) return range.kind;
    }
    return AddressClass::public_unicast;
}

using V6Bytes = address_v6::bytes_type;

uint32_t v4_at(const V6Bytes& b, std::size_t offset) {
    return (uint32_t{b[offset]} << 24) | (uint32_t{b[offset + 1]} << 16) |
           (uint32_t{b[offset + 2]} << 8) | uint32_t{b[offset + 3]};
}

bool starts_with(const V6Bytes& b, std::initializer_list<uint8_t> prefix) {
    std::size_t i = 0;
    for (uint8_t byte : prefix) {
        if (b[i++] != byte) return false;
    }
    return true;
}

bool all_zero(const V6Bytes& b, std::size_t from, std::size_t to) {
    for (std::size_t i = from; i < to; ++i) {
        if (b[i] != 0) return false;
    }
    return true;
}

// A translation scheme may carry a public IPv4 address legitimately (NAT64 to a public host);
// carrying any other kind would tunnel past the guard, so it is reserved.
AddressClass embedding(std::initializer_list<uint32_t> embedded) {
    for (uint32_t address : embedded) {
        if (classify_v4(address) != AddressClass::public_unicast) return AddressClass::reserved;
    }
    return AddressClass::public_unicast;
}

AddressClass classify_v6(const address_v6& address) {
    const V6Bytes b = address.to_bytes();
    if (address.is_unspecified()) return AddressClass::unspecified;
    if (address.is_loopback()) return AddressClass::loopback;
    if (address.is_v4_mapped()) return classify_v4(v4_at(b, 12));
    if (all_zero(b, 0, 12)) return classify_v4(v4_at(b, 12));  // IPv4-compatible (deprecated)
    static const address_v6 aws_metadata = boost::asio::ip::make_address_v6("fd00:ec2::254");
    if (address == aws_metadata) return AddressClass::metadata;
    if (b[0] == 0xff) return AddressClass::multicast;
    if ((b[0] & 0xfe) == 0xfc) return AddressClass::private_network;             // fc00::/7
    if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return AddressClass::link_local;  // fe80::/10
    if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0)
        return AddressClass::private_network;  // fec0::/10 site-local
    if (starts_with(b, {0x00, 0x64, 0xff, 0x9b}) && all_zero(b, 4, 12)) {
        return embedding({v4_at(b, 12)});  // 64:ff9b::/96 NAT64
    }
    if (starts_with(b, {0x20, 0x02})) return embedding({v4_at(b, 2)});  // 2002::/16 6to4
    if (starts_with(b, {0x20, 0x01, 0x00, 0x00})) {                     // 2001::/32 Teredo
        return embedding({v4_at(b, 4), ~v4_at(b, 12)});                 // server, client (inverted)
    }
    if (starts_with(b, {0x20, 0x01, 0x0d, 0xb8}))
        return AddressClass::reserved;  // 2001:db8::/32 documentation
    if (starts_with(b, {0x20, 0x01}) && b[2] < 0x02)
        return AddressClass::reserved;  // 2001::/23 IETF assignments
    if (starts_with(b, {0x3f, 0xff}) && b[2] < 0x10)
        return AddressClass::reserved;                                // 3fff::/20 documentation
    if (starts_with(b, {0x5f, 0x00})) return AddressClass::reserved;  // 5f00::/16 SRv6 SIDs
    if ((b[0] & 0xe0) != 0x20) return AddressClass::reserved;         // outside 2000::/3
    return AddressClass::public_unicast;
}

}  // namespace

AddressClass classify(const boost::asio::ip::address& address) {
    if (address.is_v4()) return classify_v4(address.to_v4().to_uint());
    return classify_v6(address.to_v6());
}

std::string_view to_string(AddressClass c) {
    switch (c) {
        case AddressClass::public_unicast:
            return "public_unicast";
        case AddressClass::unspecified:
            return "unspecified";
        case AddressClass::loopback:
            return "loopback";
        case AddressClass::private_network:
            return "private_network";
        case AddressClass::link_local:
            return "link_local";
        case AddressClass::cgnat:
            return "cgnat";
        case AddressClass::metadata:
            return "metadata";
        case AddressClass::multicast:
            return "multicast";
        case AddressClass::broadcast:
            return "broadcast";
        case AddressClass::reserved:
            return "reserved";
    }
    return "unknown";
}

}  // namespace engined::net
