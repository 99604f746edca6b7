// Classification only: no test here sends traffic to any of these addresses.
#include "net/address_guard.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace engined::net {
namespace {

struct Case {
    std::string address;
    AddressClass expected;
};

void expect_all(const std::vector<Case>& cases) {
    for (const auto& [text, expected] : cases) {
        const auto address = boost::asio::ip::make_address(text);
        EXPECT_EQ(to_string(classify(address)), to_string(expected)) << text;
    }
}

TEST(AddressGuard, ClassifiesIpv4Ranges) {
    using enum AddressClass;
    expect_all({
        {"0.0.0.0", unspecified},
        {"0.1.2.3", reserved},
        {"0.255.255.255", reserved},
        {"127.0.0.1", loopback},
        {"127.255.255.254", loopback},
        {"10.0.0.1", private_network},
        {"10.255.255.255", private_network},
        {"172.16.0.1", private_network},
        {"172.31.255.255", private_network},
        {"172.15.255.255", public_unicast},
        {"172.32.0.0", public_unicast},
        {"192.168.0.1", private_network},
        {"192.168.255.255", private_network},
        {"169.254.0.1", link_local},
        {"169.254.169.254", metadata},
        {"169.254.170.2", metadata},
        {"100.100.100.200", metadata},
        {"100.64.0.1", cgnat},
        {"100.127.255.255", cgnat},
        {"100.63.255.255", public_unicast},
        {"100.128.0.0", public_unicast},
        {"224.0.0.1", multicast},
        {"239.255.255.255", multicast},
        {"255.255.255.255", broadcast},
        {"240.0.0.1", reserved},
        {"255.255.255.254", reserved},
        {"192.0.0.8", reserved},
        {"192.0.2.1", reserved},
        {"198.51.100.7", reserved},
        {"203.0.113.9", reserved},
        {"198.18.0.1", reserved},
        {"198.19.255.255", reserved},
        {"198.20.0.0", public_unicast},
        {"192.88.99.1", reserved},
    });
}

TEST(AddressGuard, ClassifiesIpv6Ranges) {
    using enum AddressClass;
    expect_all({
        {"::", unspecified},
        {"::1", loopback},
        {"fc00::1", private_network},
        {"fd12:3456:789a::1", private_network},
        {"fec0::1", private_network},
        {"fe80::1", link_local},
        {"febf::1", link_local},
        {"ff02::1", multicast},
        {"ff0e::1", multicast},
        {"fd00:ec2::254", metadata},
        {"fd00:ec2::253", private_network},
        {"2001:db8::1", reserved},
        {"3fff::1", reserved},
        {"2001:2::1", reserved},
        {"100::1", reserved},
        {"5f00::1", reserved},
        {"64:ff9b:1::1", reserved},
        {"4000::1", reserved},
    });
}

TEST(AddressGuard, ClassifiesIpv4InIpv6ByTheIpv4Address) {
    using enum AddressClass;
    expect_all({
        {"::ffff:127.0.0.1", loopback},
        {"::ffff:10.1.2.3", private_network},
        {"::ffff:169.254.169.254", metadata},
        {"::ffff:100.64.1.1", cgnat},
        {"::ffff:0.0.0.0", unspecified},
        {"::ffff:8.8.8.8", public_unicast},
        {"::127.0.0.1", loopback},  // IPv4-compatible (deprecated form)
        {"::192.168.1.1", private_network},
        {"::8.8.8.8", public_unicast},
    });
}

TEST(AddressGuard, TranslationPrefixesCarryingANonPublicIpv4AreReserved) {
    using enum AddressClass;
    expect_all({
        {"64:ff9b::127.0.0.1", reserved},
        {"64:ff9b::a9fe:a9fe", reserved},  // 169.254.169.254
        {"64:ff9b::8.8.8.8", public_unicast},
        {"2002:7f00:1::1", reserved},                     // 6to4 of 127.0.0.1
        {"2002:c0a8:101::1", reserved},                   // 6to4 of 192.168.1.1
        {"2002:0808:0808::1", public_unicast},            // 6to4 of 8.8.8.8
        {"2001:0:0808:0808::f5f5:fefe", reserved},        // Teredo, client 10.10.1.1 (inverted)
        {"2001:0:7f00:1::f7f7:f7f7", reserved},           // Teredo, server 127.0.0.1
        {"2001:0:0808:0808::f7f7:f7f7", public_unicast},  // Teredo, server 8.8.8.8, client 8.8.8.8
    });
}

TEST(AddressGuard, PublicExamplesArePublic) {
    expect_all({
        {"8.8.8.8", AddressClass::public_unicast},
        {"1.1.1.1", AddressClass::public_unicast},
        {"93.184.216.34", AddressClass::public_unicast},
        {"2606:4700::1111", AddressClass::public_unicast},
        {"2a00:1450:4001:80e::200e", AddressClass::public_unicast},
    });
}

TEST(AddressGuard, NamesEveryClass) {
    EXPECT_EQ(to_string(AddressClass::public_unicast), "public_unicast");
    EXPECT_EQ(to_string(AddressClass::private_network), "private_network");
    EXPECT_EQ(to_string(AddressClass::metadata), "metadata");
    EXPECT_EQ(to_string(AddressClass::reserved), "reserved");
}

}  // namespace
}  // namespace engined::net
