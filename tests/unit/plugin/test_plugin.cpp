// Deliberately misbehaving engine plugins for the loader and host tests; VARIANT selects one.
#include "engine_plugin.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {

void fill(engined_buffer* out, const char* text) {
    out->size = std::strlen(text);
    out->data = static_cast<char*>(std::malloc(out->size + 1));
    std::memcpy(out->data, text, out->size + 1);
}

engined_status validate(const char*, size_t, engined_buffer* out) {
    fill(out, R"({"errors":[]})");
    return ENGINED_OK;
}

engined_status execute(const engined_host_services* host, const engined_run_request*, engined_buffer* out) {
#if VARIANT == 3
    (void)host;
    fill(out, "this is not JSON");
    return ENGINED_OK;
#elif VARIANT == 4
    (void)host;
    fill(out, R"({"code":"custom_failure","message":"the engine refused this input","details":[{"pointer":"/input","message":"bad"}]})");
    return ENGINED_RUN_FAILED;
#else
    engined_buffer result{nullptr, 0};
    const char* args = "[2, 3]";
    const engined_status status = host->lua_call(host->host, "add", args, std::strlen(args), &result);
    // On failure the result holds a message, not JSON: report only the status then.
    char text[256];
    if (status == ENGINED_OK) {
        std::snprintf(text, sizeof text, R"({"status":"completed","output":{"sum":%.*s,"lua_status":0}})",
                      static_cast<int>(result.size), result.data);
    } else {
        std::snprintf(text, sizeof text, R"({"status":"completed","output":{"sum":null,"lua_status":%d}})",
                      static_cast<int>(status));
    }
    host->release_buffer(host->host, &result);
    fill(out, text);
    return ENGINED_OK;
#endif
}

void release(engined_buffer* buffer) {
    std::free(buffer->data);
    buffer->data = nullptr;
    buffer->size = 0;
}

const engined_engine_descriptor descriptor = {
#if VARIANT == 1
    ENGINED_PLUGIN_ABI_VERSION + 1,
#else
    ENGINED_PLUGIN_ABI_VERSION,
#endif
    "test_engine", "0.0.1", &validate, &execute, &release};

}  // namespace

#if VARIANT != 5
extern "C" __attribute__((visibility("default"))) const engined_engine_descriptor* engined_plugin_entry(
    uint32_t host_abi_version) {
#if VARIANT == 2
    (void)host_abi_version;
    return nullptr;
#else
    (void)host_abi_version;
    return &descriptor;
#endif
}
#else
extern "C" __attribute__((visibility("default"))) int not_an_engine_plugin() { return descriptor.abi_version != 0; }
#endif
