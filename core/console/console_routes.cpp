#include "console/console_routes.hpp"

#include "console/embedded_assets.hpp"

#include "common/api_error.hpp"
#include "common/crypto.hpp"

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace engined::console {
namespace {

// Scripts and styles come only from the console's own files: no inline script, no inline style,
// no framing, and the page talks to this server only.
constexpr const char* kContentSecurityPolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src "
    "'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

constexpr std::string_view kIndex = "index.html";

std::string content_type_of(std::string_view name) {
    if (name.ends_with(".html")) return "text/html; charset=utf-8";
    if (name.ends_with(".css")) return "text/css; charset=utf-8";
    if (name.ends_with(".js")) return "text/javascript; charset=utf-8";
    return "application/octet-stream";
}

struct ServedAsset {
    std::string_view bytes;
    std::string content_type;
    std::string etag;  // the content's hash: a new build's files are fetched again at once
};

// Files are not renamed per build, so browsers revalidate each time (no-cache) and get a 304
// while the ETag is unchanged.
http::Response answer(const ServedAsset& asset, const http::Request& request) {
    http::Response response;
    response.content_type = asset.content_type;
    response.headers = {{"Content-Security-Policy", kContentSecurityPolicy},
                        {"X-Content-Type-Options", "nosniff"},
                        {"X-Frame-Options", "DENY"},
                        {"Referrer-Policy", "no-referrer"},
                        {"Cache-Control", "no-cache"},
                        {"ETag", asset.etag}};
    if (request.header("If-None-Match") == asset.etag) {
        response.status = 304;
        return response;
    }
    response.body = std::string(asset.bytes);
    return response;
}

}  // namespace

void register_console_routes(http::Router& router) {
    auto served = std::make_shared<std::vector<std::pair<std::string_view, ServedAsset>>>();
    for (const EmbeddedAsset& asset : kEmbeddedAssets) {
        served->emplace_back(asset.name,
                             ServedAsset{asset.bytes, content_type_of(asset.name),
                                         "\"" + sha256_hex(asset.bytes).substr(0, 32) + "\""});
    }
    auto find = [served](std::string_view name) -> const ServedAsset& {
        for (const auto& [asset_name, asset] : *served) {
            if (asset_name == name) return asset;
        }
        throw ApiError::not_found("the console has no file '" + std::string(name) + "'");
    };

    router.add_sync(http::Method::get, "/console", "",
                    [find](const http::Request& request, const auth::Principal&) {
                        return answer(find(kIndex), request);
                    });
    router.add_sync(http::Method::get, "/console/{file}", "",
                    [find](const http::Request& request, const auth::Principal&) {
                        return answer(find(request.path_param("file")), request);
                    });
}

}  // namespace engined::console
