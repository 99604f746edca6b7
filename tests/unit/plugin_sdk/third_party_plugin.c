/*
 * An engine type as a third party builds it: plain C against engine_plugin.h alone, no SDK.
 * "shortlist" ranks the offerings of a run by the weight its configuration gives each one and
 * answers them as "candidates"; its runs may read a "roster" dataset, whose records it checks
 * (each an object with a string "id").
 */
#include "engine_plugin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The configuration, prepared once: how many candidates to answer ({"top": N}). */
struct engined_config {
    long top;
};

static int fill(engined_buffer* out, const char* text) {
    out->size = strlen(text);
    out->data = malloc(out->size + 1);
    if (out->data == NULL) {
        out->size = 0;
        return 0;
    }
    memcpy(out->data, text, out->size + 1);
    return 1;
}

/* The number after "name": in `text` of `len` bytes, or `fallback`. */
static long number_after(const char* text, size_t len, const char* name, long fallback) {
    char key[64];
    snprintf(key, sizeof key, "\"%s\":", name);
    const size_t key_len = strlen(key);
    for (size_t at = 0; at + key_len <= len; ++at) {
        if (memcmp(text + at, key, key_len) == 0) return strtol(text + at + key_len, NULL, 10);
    }
    return fallback;
}

static engined_status validate_config(const char* config_json, size_t config_len,
                                      engined_buffer* out) {
    const long top = number_after(config_json, config_len, "top", 1);
    return fill(out, top >= 1
                         ? "{\"errors\":[]}"
                         : "{\"errors\":[{\"path\":\"/top\",\"message\":\"must be at least 1\"}]}")
               ? ENGINED_OK
               : ENGINED_RUN_FAILED;
}

static engined_status config_new(const char* config_json, size_t config_len,
                                 engined_config** config, engined_buffer* out) {
    *config = malloc(sizeof **config);
    if (*config == NULL)
        return fill(out, "{\"code\":\"out_of_memory\",\"message\":\"no memory\",\"details\":[]}"),
               ENGINED_RUN_FAILED;
    (*config)->top = number_after(config_json, config_len, "top", 1);
    return ENGINED_OK;
}

static void config_free(engined_config* config) {
    free(config);
}

static engined_status execute(const engined_host_services* host, const engined_config* config,
                              const engined_run_request* request, engined_buffer* out) {
    (void)host;
    (void)request;
    char text[512];
    int used = snprintf(text, sizeof text,
                        "{\"status\":\"completed\",\"stage\":\"RANK\",\"output\":{\"top\":%ld},"
                        "\"candidates\":[",
                        config->top);
    for (long rank = 1; rank <= config->top && used < (int)sizeof text - 64; ++rank) {
        used += snprintf(text + used, sizeof text - (size_t)used, "%s{\"rank\":%ld}",
                         rank > 1 ? "," : "", rank);
    }
    snprintf(text + used, sizeof text - (size_t)used, "]}");
    return fill(out, text) ? ENGINED_OK : ENGINED_RUN_FAILED;
}

static void release_buffer(engined_buffer* buffer) {
    free(buffer->data);
    buffer->data = NULL;
    buffer->size = 0;
}

/* A roster is acceptable when each record has an "id": a crude scan is enough for this test
 * engine, which counts records as objects and ids as "id": members. */
static engined_status validate_dataset(const char* kind, const char* records_json,
                                       size_t records_len, engined_buffer* out) {
    out->data = NULL;
    out->size = 0;
    if (strcmp(kind, "roster") != 0) return ENGINED_DATASET_NOT_FOUND;
    long records = 0, ids = 0;
    for (size_t at = 0; at < records_len; ++at) {
        if (records_json[at] == '{') ++records;
        if (at + 5 <= records_len && memcmp(records_json + at, "\"id\":", 5) == 0) ++ids;
    }
    char text[160];
    if (ids == records) {
        snprintf(text, sizeof text, "{\"errors\":[]}");
    } else {
        snprintf(
            text, sizeof text,
            "{\"errors\":[{\"index\":-1,\"message\":\"%ld of %ld roster records have no id\"}]}",
            records - ids, records);
    }
    return fill(out, text) ? ENGINED_OK : ENGINED_RUN_FAILED;
}

static const engined_engine_descriptor descriptor = {ENGINED_PLUGIN_ABI_VERSION,
                                                     sizeof(engined_engine_descriptor),
                                                     "shortlist",
                                                     "1.0.0",
                                                     "candidates",
                                                     validate_config,
                                                     config_new,
                                                     config_free,
                                                     execute,
                                                     release_buffer,
                                                     validate_dataset};

__attribute__((visibility("default"))) const engined_engine_descriptor* engined_plugin_entry(
    uint32_t host_abi_version) {
    return host_abi_version == ENGINED_PLUGIN_ABI_VERSION ? &descriptor : NULL;
}
