// The SSRF guard's classifier: which kind of network an IP address belongs to. Only
// public_unicast is deliverable without an operator's allow-list; everything else can reach the
// server's own host, its private network or a cloud metadata service.
#pragma once

#include <boost/asio/ip/address.hpp>

#include <string_view>

namespace engined::net {

enum class AddressClass {
    public_unicast,
    unspecified,      // 0.0.0.0, ::
    loopback,         // 127/8, ::1
    private_network,  // 10/8, 172.16/12, 192.168/16, fc00::/7, fec0::/10
    link_local,       // 169.254/16, fe80::/10
    cgnat,            // 100.64/10
    metadata,  // cloud instance metadata: 169.254.169.254, 169.254.170.2, 100.100.100.200, fd00:ec2::254
    multicast,  // 224/4, ff00::/8
    broadcast,  // 255.255.255.255
    reserved,   // documentation, benchmarking, 0/8, 240/4, IETF assignments, IPv6 outside 2000::/3,
                // 6to4 / Teredo / NAT64 embedding a non-public IPv4 address, ...
};

// IPv4-mapped (::ffff:a.b.c.d) and IPv4-compatible (::a.b.c.d) IPv6 addresses are classified by
// their IPv4 address.
AddressClass classify(const boost::asio::ip::address& address);

std::string_view to_string(AddressClass c);

}  // namespace engined::net
