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
 *
 * Configuration handles. The host turns each engine configuration into a handle once, with
 * `config_new`, and passes that handle to every `execute` of a run resolved to that
 * configuration; `config_free` releases it. A handle belongs to the plugin (its content is the
 * plugin's own, e.g. the parsed configuration); the host only keeps the pointer. The host keeps
 * a bounded number of handles, shared by all of its workers, and calls `config_free` exactly once
 * per handle, after every `execute` that received it has returned.
 *
 * Threading. The host calls a plugin from several worker threads at once:
 *   - `execute` may run concurrently with itself, also for the same handle: a plugin treats a
 *     handle as read-only once `config_new` returned it (or guards what it changes itself);
 *   - `validate_config`, `validate_dataset`, `canonicalize_dataset`, `config_new` and
 *     `config_free` may run concurrently with each other and with `execute` on other handles;
 *   - the host services of one run (`engined_host_services`) are called only from the thread that
 *     runs that `execute`; they and the Lua state behind them are never shared across threads.
 *
 * Versioning policy. ENGINED_PLUGIN_ABI_VERSION is the major version; ENGINED_PLUGIN_ABI_MINOR the
 * minor one.
 *   - A minor change is additive: a new field appended to the end of `engined_host_services` or
 *     `engined_engine_descriptor` (a new host service, a new optional plugin function). Both
 *     structs start with `abi_version` and `struct_size`, so each side sees which fields the other
 *     was built with: a plugin uses a host service only when ENGINED_HAS_FIELD says the host's table
 *     has it, and the host treats a descriptor field past the plugin's struct_size as absent (NULL).
 *     A plugin built for an older minor therefore keeps loading, and a newer plugin on an older host
 *     too, as long as it can do without what that host lacks. Where a newer field replaces an
 *     older one's job, the host falls back to the older field for a plugin without the newer one
 *     (3.0 plugins: see `canonicalize_dataset`).
 *   - A major change (a field removed, moved or retyped; a call whose meaning changes) bumps
 *     ENGINED_PLUGIN_ABI_VERSION. The host serves plugins of its own major version only: a plugin
 *     built for another major is refused at load time with a log line naming both versions
 *     ("plugin refused", e.g. "built for plugin ABI 2; this host serves ABI 3: rebuild it against
 *     this engine_plugin.h"); engined starts without that engine type.
 */
#ifndef ENGINED_ENGINE_PLUGIN_H
#define ENGINED_ENGINE_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The major version, bumped on any incompatible change to the structs or functions below.
 * 2: host service load_dataset (carrier pools and other large, immutable inputs).
 * 3: configuration handles (config_new, config_free; execute takes the handle), the results key
 *    and the dataset validator in the descriptor, struct_size in both tables. */
#define ENGINED_PLUGIN_ABI_VERSION 3u

/* The minor version, bumped on each additive change (see the versioning policy above).
 * 3.1: canonicalize_dataset in the descriptor (the plugin turns the records of a dataset file into
 *      its canonical records; the host knows the file's framing, not the records' vocabulary). */
#define ENGINED_PLUGIN_ABI_MINOR 1u

/* Whether the table `table` (a pointer to a struct starting with abi_version and struct_size)
 * was built with `field`, i.e. whether reading it is safe. */
#define ENGINED_HAS_FIELD(table, type, field) \
    ((table)->struct_size >= offsetof(type, field) + sizeof(((type*)0)->field))

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
    /* sizeof(engined_host_services) as the host was built: which services it has. */
    uint32_t struct_size;
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
     * dataset family ("pool": a pool, whose JSON is the array of records this engine type's
     * canonicalize_dataset answered at import, in id order) and `id`
     * its content hash, which the host wrote into the run request (e.g. {"pool": {"snapshot": …}}).
     * Content never changes for an id, so a plugin may cache what it parsed, keyed by id.
     * ENGINED_DATASET_NOT_FOUND when the host has no such dataset (*result holds a message).
     */
    engined_status (*load_dataset)(void* host, const char* kind, const char* id,
                                   engined_buffer* result);
} engined_host_services;

typedef struct engined_run_request {
    /* The run body as accepted by the API: {"input": {...}, "offerings": [...]}. */
    const char* request_json;
    size_t request_len;
} engined_run_request;

/* A configuration as the plugin prepared it (config_new); opaque to the host. */
typedef struct engined_config engined_config;

typedef struct engined_engine_descriptor {
    uint32_t abi_version;
    /* sizeof(engined_engine_descriptor) as the plugin was built: which fields it has. */
    uint32_t struct_size;
    /* e.g. "placement"; static storage. */
    const char* engine_type;
    /* The plugin's own version string; static storage. */
    const char* plugin_version;
    /* Where a run's ranked results are in the execute result and in the API's run object:
     * "solutions" or "candidates"; static storage. */
    const char* results_key;

    /*
     * Checks an engine configuration for this engine type. Always fills *out with
     * {"errors":[{"path": "<JSON Pointer>", "message": "..."}]} (empty when valid).
     */
    engined_status (*validate_config)(const char* config_json, size_t config_len,
                                      engined_buffer* out);

    /*
     * Prepares a configuration (one the host validated with validate_config) for any number of
     * runs. On ENGINED_OK, *config holds the plugin's handle and *out is left empty. On
     * ENGINED_RUN_FAILED, *config is NULL and *out holds {"code": "...", "message": "...",
     * "details": [...]}, which fails every run resolved to this configuration.
     */
    engined_status (*config_new)(const char* config_json, size_t config_len,
                                 engined_config** config, engined_buffer* out);

    /* Releases a handle config_new returned; called once, when no execute uses it any more. */
    void (*config_free)(engined_config* config);

    /*
     * Executes one run with the handle of the configuration it resolved to. On ENGINED_OK, *out
     * holds the result:
     *   {"status": "completed" | "degraded", "stage": "...", "output": {...},
     *    "<results_key>": [...]}
     * On ENGINED_RUN_FAILED, *out holds {"code": "...", "message": "...", "details": [...]}.
     */
    engined_status (*execute)(const engined_host_services* host, const engined_config* config,
                              const engined_run_request* request, engined_buffer* out);

    /* Releases a buffer this plugin filled. */
    void (*release_buffer)(engined_buffer* buffer);

    /*
     * Optional (NULL when the engine reads no datasets). Checks the records of a dataset of
     * family `kind` (e.g. "pool") that runs of this engine type will read, before the host
     * accepts it: `records_json` is the JSON array of records the operator's file parsed into.
     * Fills *out with {"errors":[{"index": <record, or -1 for the whole dataset>, "message": "..."}]}
     * (empty when the engine can read every record) and returns ENGINED_OK;
     * ENGINED_DATASET_NOT_FOUND (*out empty) when the engine reads no datasets of that kind.
     * A host of ABI 3.1 or later calls it only for a plugin without `canonicalize_dataset`, and
     * then stores the records as the file gave them.
     */
    engined_status (*validate_dataset)(const char* kind, const char* records_json,
                                       size_t records_len, engined_buffer* out);

    /*
     * Optional, ABI 3.1 (NULL when absent; absent too for a plugin built for 3.0, whose
     * struct_size ends before it). Turns the records of a dataset file of family `kind` into the
     * records runs of this engine type will read, before the host accepts the dataset. The host
     * reads the file's framing and hands over `records_json`, a JSON array with one element per
     * record in file order (at most 100,000, from a file of at most 64 MiB), shaped by `format`:
     *   "json": each element as the file's JSON gave it (any JSON value);
     *   "csv":  an object per data row mapping every column of the header row to the cell's text,
     *           trimmed ("" for an empty cell), so the plugin also sees which columns exist.
     * Fills *out with {"records": [...], "errors": [...]} and returns ENGINED_OK:
     *   - "records": the canonical records, one per input record in the same order, each an
     *     object with a string "id" (the host refuses repeated ids and stores the records sorted
     *     by id, so that a dataset's content hash does not depend on the order of its rows);
     *   - "errors": [{"index": <record, or -1 for the dataset as a whole, e.g. a CSV header>,
     *     "message": "..."}], in record order; when not empty the host refuses the dataset,
     *     naming the file line of the first one, and ignores "records".
     * ENGINED_DATASET_NOT_FOUND (*out empty) when the engine reads no datasets of that kind.
     * A host without this field (3.0) uses `validate_dataset`; a plugin that canonicalises
     * should still offer `validate_dataset` for such hosts.
     */
    engined_status (*canonicalize_dataset)(const char* kind, const char* format,
                                           const char* records_json, size_t records_len,
                                           engined_buffer* out);
} engined_engine_descriptor;

/*
 * The entry point. The host passes the ABI (major) version it speaks; a plugin returns its
 * descriptor (whose abi_version and struct_size the host checks) or NULL when it cannot serve
 * that host. The pointer stays valid until the library is unloaded.
 */
typedef const engined_engine_descriptor* (*engined_plugin_entry_fn)(uint32_t host_abi_version);

#ifdef __cplusplus
}
#endif

#endif /* ENGINED_ENGINE_PLUGIN_H */
