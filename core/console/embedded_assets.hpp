// The console's files as compiled into the binary (generated from core/console/assets/ by
// embed_assets.cmake): a name such as "console.js" and its bytes. Internal to core/console.
#pragma once

#include <span>
#include <string_view>

namespace engined::console {

struct EmbeddedAsset {
    std::string_view name;
    std::string_view bytes;
};

extern const std::span<const EmbeddedAsset> kEmbeddedAssets;

}  // namespace engined::console
