#include "http/beast_request.hpp"

#include <iterator>

namespace engined::http {

Method to_method(boost::beast::http::verb beast_method) {
    using boost::beast::http::verb;
    switch (beast_method) {
        case verb::get:
            return Method::get;
        case verb::post:
            return Method::post;
        case verb::put:
            return Method::put;
        case verb::patch:
            return Method::patch;
        case verb::delete_:
            return Method::del;
        case verb::head:
            return Method::head;
        case verb::options:
            return Method::options;
        default:
            return Method::other;
    }
}

Request make_request(const BeastRequest& message, std::string request_id) {
    return Request(
        to_method(message.method()), message.target(), message.body(),
        [&message](std::string_view name) -> HeaderField {
            const auto [first, end] =
                message.equal_range(boost::beast::string_view(name.data(), name.size()));
            if (first == end) return {};
            return {{first->value().data(), first->value().size()},
                    static_cast<std::size_t>(std::distance(first, end))};
        },
        std::move(request_id));
}

}  // namespace engined::http
