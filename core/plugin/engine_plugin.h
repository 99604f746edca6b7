/*
 * engine_plugin.h — the one public header an engine type is built against.
 *
 * Owns the C ABI between engined (the host) and an engine plugin (a shared library loaded with
 * dlopen). Knows nothing of HTTP, SQL or the host's C++ types: data crosses as JSON text and the
 * plain C structs below. A third party builds a new engine type with this header alone.
 *
 * Ownership is written into names: a buffer filled by the plugin is released with the plugin's
 * `release_buffer`; a buffer filled by a host service is released with the host's
 * `release_buffer`. Pointers handed to a call are valid only for the duration of that call.
 * No C++ exception may cross this boundary in either direction.
 */
#ifndef ENGINED_ENGINE_PLUGIN_H
#define ENGINED_ENGINE_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped on any incompatible change to the structs or functions below.
 * 2: host service load_dataset (carrier pools and other large, immutable inputs). */
#define ENGINED_PLUGIN_ABI_VERSION 2u

/* The one symbol every plugin exports (see engined_plugin_entry_fn). */
#define ENGINED_PLUGIN_ENTRY_SYMBOL "engined_plugin_entry"

typedef struct engined_buffer {
    char* data;
    size_t size;
} engined_buffer;

typedef enum engined_status {
    ENGINED_OK = 0,
    /* The run failed; the out buffer holds {"code","message","details"} as JSON. */
    ENGINED_RUN_FAILED = 1,
    /* Host service results. */
    ENGINED_LUA_ERROR = 10,
    ENGINED_LUA_BUDGET_EXCEEDED = 11,
    ENGINED_LUA_MEMORY_EXCEEDED = 12,
    ENGINED_LUA_NO_SUCH_FUNCTION = 13,
    ENGINED_DATASET_NOT_FOUND = 20
} engined_status;

/*
 * Services the host offers a plugin during one run. `host` is opaque and passed back to
 * every call; it is valid only until `execute` returns.
 */
typedef struct engined_host_services {
    uint32_t abi_version;
    void* host;

    /* Whether the run's Lua scorecard defines a global function called `function` (1) or not (0). */
    int (*lua_has_function)(void* host, const char* function);

    /*
     * Calls the scorecard's global `function` with the values of `args_json` (a JSON array) as
     * arguments. On ENGINED_OK, *result holds the JSON text of the first return value (`null` when
     * none). On any other status, *result holds a one-line message (`size` bytes, which may
     * include NUL bytes). Budget and memory breaches are sticky: once either is reported, every
     * later call in the run reports it too. The host bounds what it hands back: the message, and
     * each string in a returned value, is cut past the host's limit (4096 bytes by default) at a
     * character boundary and ends with U+2026 (an ellipsis) and "[truncated N bytes]".
     */
    engined_status (*lua_call)(void* host, const char* function, const char* args_json,
                               size_t args_len, engined_buffer* result);

    /*
     * Records an audit event for `stage` ("FILTER", "ASSEMBLE", ...); `event_json` is an object.
     * A run's trace is bounded (by default 10,000 events and 8 MiB): later events are dropped and
     * counted in a last "trace_truncated" event.
     */
    void (*trace_event)(void* host, const char* stage, const char* event_json, size_t event_len);

    /* The run's reference time, milliseconds since the Unix epoch (fixed for the whole run). */
    int64_t (*now_unix_ms)(void* host);

    /* A monotonic clock in nanoseconds, for stage durations. */
    int64_t (*monotonic_ns)(void* host);

    /* Releases a buffer filled by one of the services above. */
    void (*release_buffer)(void* host, engined_buffer* buffer);

    /*
     * Reads an immutable dataset the run refers to, as JSON text in *result. `kind` names the
     * dataset family ("pool": a carrier pool, whose JSON is an array of carrier objects) and `id`
     * its content hash, which the host wrote into the run request (e.g. {"pool": {"snapshot": …}}).
     * Content never changes for an id, so a plugin may cache what it parsed, keyed by id.
     * ENGINED_DATASET_NOT_FOUND when the host has no such dataset (*result holds a message).
     */
    engined_status (*load_dataset)(void* host, const char* kind, const char* id, engined_buffer* result);
} engined_host_services;

typedef struct engined_run_request {
    /* The run body as accepted by the API: {"input": {...}, "offerings": [...]}. */
    const char* request_json;
    size_t request_len;
    /* The engine configuration the run resolved to (parameters, dimensions, weight profiles). */
    const char* config_json;
    size_t config_len;
} engined_run_request;

typedef struct engined_engine_descriptor {
    uint32_t abi_version;
    /* e.g. "placement"; static storage. */
    const char* engine_type;
    /* The plugin's own version string; static storage. */
    const char* plugin_version;

    /*
     * Checks an engine configuration for this engine type. Always fills *out with
     * {"errors":[{"path": "<JSON Pointer>", "message": "..."}]} (empty when valid).
     */
    engined_status (*validate_config)(const char* config_json, size_t config_len,
                                      engined_buffer* out);

    /*
     * Executes one run. On ENGINED_OK, *out holds the result:
     *   {"status": "completed" | "degraded", "stage": "...", "output": {...},
     *    "solutions": [...] or "candidates": [...]}
     * On ENGINED_RUN_FAILED, *out holds {"code": "...", "message": "...", "details": [...]}.
     */
    engined_status (*execute)(const engined_host_services* host, const engined_run_request* request,
                              engined_buffer* out);

    /* Releases a buffer this plugin filled. */
    void (*release_buffer)(engined_buffer* buffer);
} engined_engine_descriptor;

/*
 * The entry point. The host passes the ABI version it speaks; a plugin returns its descriptor
 * (whose abi_version the host checks) or NULL when it cannot serve that host.
 */
typedef const engined_engine_descriptor* (*engined_plugin_entry_fn)(uint32_t host_abi_version);

#ifdef __cplusplus
}
#endif

#endif /* ENGINED_ENGINE_PLUGIN_H */
