// A small synchronous HTTP/1.1 client over one keep-alive connection: what enginectl, the
// integration tests and the benchmarks use to talk to a server on loopback.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace engined::http {

struct ClientResponse {
    int status = 0;
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;

    // Empty when absent; case-insensitive.
    std::string header(const std::string& name) const;
};

class Client {
public:
    // Connects lazily. A kept-alive connection the server closed while it was idle is replaced
    // before sending. A GET or HEAD whose connection fails during the exchange is retried once on
    // a new connection; other methods report the failure (they may have taken effect).
    Client(std::string host, uint16_t port);
    ~Client();
    Client(Client&&) noexcept;
    Client& operator=(Client&&) noexcept;

    ClientResponse request(const std::string& method, const std::string& target,
                           const std::string& body = {},
                           const std::vector<std::pair<std::string, std::string>>& headers = {});

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace engined::http
