#include "common/json_text.hpp"

#include <boost/json/parse.hpp>

namespace engined {
namespace {

boost::json::parse_options internal_options() {
    boost::json::parse_options options;
    options.max_depth = 1024;
    return options;
}

}  // namespace

boost::json::value parse_internal_json(std::string_view text, boost::system::error_code& ec) {
    return boost::json::parse(text, ec, {}, internal_options());
}

boost::json::value parse_internal_json(std::string_view text) {
    boost::system::error_code ec;
    boost::json::value value = parse_internal_json(text, ec);
    if (ec) throw boost::system::system_error(ec);
    return value;
}

}  // namespace engined
