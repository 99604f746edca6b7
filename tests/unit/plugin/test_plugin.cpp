// Deliberately misbehaving engine plugins for the loader and host tests; VARIANT selects one.
#include "engine_plugin.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

void fill(engined_buffer* out, const char* text) {
    out->size = std::strlen(text);
    out->data = static_cast<char*>(std::malloc(out->size + 1));
    std::memcpy(out->data, text, out->size + 1);
}

[[maybe_unused]] engined_status validate(const char*, size_t, engined_buffer* out) {
    fill(out, R"({"errors":[]})");
    return ENGINED_OK;
}

#if VARIANT == 6
void fill(engined_buffer* out, const std::string& text) {
    out->size = text.size();
    out->data = static_cast<char*>(std::malloc(text.size() + 1));
    std::memcpy(out->data, text.data(), text.size() + 1);
}

// `text` as a JSON string literal, every byte kept (a NUL as \u0000).
std::string quoted(const char* text, size_t size) {
    std::string out = "\"";
    for (size_t i = 0; i < size; ++i) {
        const unsigned char c = static_cast<unsigned char>(text[i]);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += static_cast<char>(c);
        } else if (c < 0x20) {
            char escaped[8];
            std::snprintf(escaped, sizeof escaped, "\\u%04x", c);
            out += escaped;
        } else {
            out += static_cast<char>(c);
        }
    }
    return out + "\"";
}

// The number after "name": in the request, or 0.
long request_number(const engined_run_request* request, const char* name) {
    const std::string body(request->request_json, request->request_len);
    const size_t at = body.find(std::string("\"") + name + "\":");
    return at == std::string::npos
               ? 0
               : std::strtol(body.c_str() + at + std::strlen(name) + 3, nullptr, 10);
}

bool request_mode(const engined_run_request* request, const char* mode) {
    const std::string body(request->request_json, request->request_len);
    return body.find(std::string("\"mode\":\"") + mode + "\"") != std::string::npos;
}

// Modes: "lua" calls the scorecard's run() and answers its result (or fails the run with its
// error message), after tracing "trace_events" events of "event_bytes" bytes each;
// "failure" fails the run with a message of "message_bytes" bytes and details (a JSON array) of
// "details_bytes" bytes; "non_finite" answers an
// infinite number, "non_finite_failure" fails with a NaN in the details.
engined_status execute(const engined_host_services* host, const engined_config*,
                       const engined_run_request* request, engined_buffer* out) {
    if (request_mode(request, "non_finite")) {
        fill(out, std::string(R"({"status":"completed","output":{"score":-Infinity}})"));
        return ENGINED_OK;
    }
    if (request_mode(request, "non_finite_failure")) {
        fill(out, std::string(R"({"code":"custom","message":"m","details":[NaN]})"));
        return ENGINED_RUN_FAILED;
    }
    if (request_mode(request, "failure")) {
        const std::string message(static_cast<size_t>(request_number(request, "message_bytes")),
                                  'm');
        const long details_bytes = request_number(request, "details_bytes");
        const std::string details =
            details_bytes < 4
                ? "[]"
                : "[\"" + std::string(static_cast<size_t>(details_bytes - 4), 'd') + "\"]";
        fill(out, R"({"code":"custom","message":)" + quoted(message.data(), message.size()) +
                      R"(,"details":)" + details + "}");
        return ENGINED_RUN_FAILED;
    }
    const long events = request_number(request, "trace_events");
    const long event_bytes = request_number(request, "event_bytes");
    const std::string event =
        R"({"pad":")" +
        std::string(static_cast<size_t>(event_bytes < 10 ? 0 : event_bytes - 10), 'e') + R"("})";
    for (long i = 0; i < events; ++i)
        host->trace_event(host->host, "TEST", event.data(), event.size());
    engined_buffer result{nullptr, 0};
    const engined_status status = host->lua_call(host->host, "run", "[]", 2, &result);
    const std::string text(result.data, result.size);
    host->release_buffer(host->host, &result);
    if (status != ENGINED_OK) {
        fill(out, R"({"code":"lua_error","message":)" + quoted(text.data(), text.size()) +
                      R"(,"details":[]})");
        return ENGINED_RUN_FAILED;
    }
    fill(out, R"({"status":"completed","output":{"returned":)" + text + "}}");
    return ENGINED_OK;
}
#else
[[maybe_unused]] engined_status execute(const engined_host_services* host, const engined_config*,
                                        const engined_run_request*, engined_buffer* out) {
#if VARIANT == 3
    (void)host;
    fill(out, "this is not JSON");
    return ENGINED_OK;
#elif VARIANT == 4
    (void)host;
    fill(
        out,
        R"({"code":"custom_failure","message":"the engine refused this input","details":[{"pointer":"/input","message":"bad"}]})");
    return ENGINED_RUN_FAILED;
#else
    engined_buffer result{nullptr, 0};
    const char* args = "[2, 3]";
    const engined_status status =
        host->lua_call(host->host, "add", args, std::strlen(args), &result);
    // On failure the result holds a message, not JSON: report only the status then.
    char text[256];
    if (status == ENGINED_OK) {
        std::snprintf(text, sizeof text,
                      R"({"status":"completed","output":{"sum":%.*s,"lua_status":0}})",
                      static_cast<int>(result.size), result.data);
    } else {
        std::snprintf(text, sizeof text,
                      R"({"status":"completed","output":{"sum":null,"lua_status":%d}})",
                      static_cast<int>(status));
    }
    host->release_buffer(host->host, &result);
    fill(out, text);
    return ENGINED_OK;
#endif
}
#endif

void release(engined_buffer* buffer) {
    std::free(buffer->data);
    buffer->data = nullptr;
    buffer->size = 0;
}

// Configurations this module prepared and has not freed yet: the host frees each handle once,
// after its last run (read by the tests through test_plugin_live_configs).
int live_configs = 0;

// (The ABI-2 variant below has no use for the ABI-3 functions.)
// A configuration holding "refuse" cannot be prepared: every run of it fails with this answer.
[[maybe_unused]] engined_status config_new(const char* config_json, size_t config_len,
                                           engined_config** config, engined_buffer* out) {
    if (std::string(config_json, config_len).find("refuse") != std::string::npos) {
        fill(
            out,
            R"({"code":"config_refused","message":"this configuration cannot be prepared","details":[]})");
        return ENGINED_RUN_FAILED;
    }
    ++live_configs;
    *config = reinterpret_cast<engined_config*>(new int(live_configs));
    return ENGINED_OK;
}

[[maybe_unused]] void config_free(engined_config* config) {
    --live_configs;
    delete reinterpret_cast<int*>(config);
}

#if VARIANT == 8
// As a plugin of ABI 3.0 checks a pool: every record names an id. It has no canonicaliser then;
// the function past its struct_size stands for bytes the host must not read as one.
engined_status validate_pool(const char* kind, const char* records_json, size_t records_len,
                             engined_buffer* out) {
    if (std::strcmp(kind, "pool") != 0) return ENGINED_DATASET_NOT_FOUND;
    const std::string records(records_json, records_len);
    size_t objects = 0, ids = 0;
    for (size_t at = 0; at < records.size(); ++at) {
        if (records[at] == '{') ++objects;
        if (records.compare(at, 5, "\"id\":") == 0) ++ids;
    }
    fill(out, objects == ids ? R"({"errors":[]})"
                             : R"({"errors":[{"index":-1,"message":"a record has no id"}]})");
    return ENGINED_OK;
}

engined_status not_in_abi_3_0(const char*, const char*, const char*, size_t, engined_buffer* out) {
    fill(out, R"({"records":[],"errors":[{"index":-1,"message":"read past struct_size"}]})");
    return ENGINED_OK;
}
#endif

#if VARIANT == 7
// A descriptor laid out as ABI 2 had it, which this host must refuse naming both versions.
struct abi2_descriptor {
    uint32_t abi_version;
    const char* engine_type;
    const char* plugin_version;
    void* validate_config;
    void* execute;
    void (*release_buffer)(engined_buffer*);
};
const abi2_descriptor descriptor = {2u, "test_engine", "0.0.1", nullptr, nullptr, &release};
static_assert(offsetof(abi2_descriptor, abi_version) ==
              offsetof(engined_engine_descriptor, abi_version));
#else
const engined_engine_descriptor descriptor = {
#if VARIANT == 1
    ENGINED_PLUGIN_ABI_VERSION + 1,
#else
    ENGINED_PLUGIN_ABI_VERSION,
#endif
#if VARIANT == 8
    // Built for ABI 3.0: without canonicalize_dataset, which 3.1 appended.
    static_cast<uint32_t>(offsetof(engined_engine_descriptor, canonicalize_dataset)),
#elif VARIANT == 9
    // Built for a later minor version, whose descriptor has grown (the host ignores the rest).
    static_cast<uint32_t>(sizeof(engined_engine_descriptor) + 16),
#else
    sizeof(engined_engine_descriptor),
#endif
    "test_engine", "0.0.1", "solutions", &validate, &config_new, &config_free, &execute, &release,
#if VARIANT == 8
    &validate_pool, &not_in_abi_3_0};
#else
    nullptr, nullptr};
#endif
#endif

}  // namespace

extern "C" __attribute__((visibility("default"))) int test_plugin_live_configs() {
    return live_configs;
}

#if VARIANT != 5
extern "C" __attribute__((visibility("default"))) const engined_engine_descriptor*
engined_plugin_entry(uint32_t host_abi_version) {
#if VARIANT == 2
    (void)host_abi_version;
    return nullptr;
#elif VARIANT == 7
    // As an ABI-2 build answers: its descriptor for host version 2, nothing for any other.
    return host_abi_version == 2u ? reinterpret_cast<const engined_engine_descriptor*>(&descriptor)
                                  : nullptr;
#else
    (void)host_abi_version;
    return &descriptor;
#endif
}
#else
extern "C" __attribute__((visibility("default"))) int not_an_engine_plugin() {
    return descriptor.abi_version != 0;
}
#endif
