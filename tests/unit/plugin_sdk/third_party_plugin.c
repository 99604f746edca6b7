/*
 * An engine type as a third party builds it: plain C against engine_plugin.h alone, no SDK.
 * "shortlist" ranks the offerings of a run by the weight its configuration gives each one and
 * answers them as "candidates"; its runs may read a "roster" dataset, whose records it checks
 * (each an object with a string "id"), and a "pool" of weighted entries, which it canonicalises
 * when an operator imports one (ABI 3.1): {"id": "<lower case>", "weight": <number>}.
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

/* A growing text, for answers of any size; `failed` once memory ran out. */
struct text {
    char* data;
    size_t size, capacity;
    int failed;
};

static void append(struct text* text, const char* part, size_t len) {
    if (text->failed) return;
    if (text->size + len + 1 > text->capacity) {
        const size_t capacity = (text->size + len + 1) * 2;
        char* grown = realloc(text->data, capacity);
        if (grown == NULL) {
            text->failed = 1;
            return;
        }
        text->data = grown;
        text->capacity = capacity;
    }
    memcpy(text->data + text->size, part, len);
    text->size += len;
    text->data[text->size] = '\0';
}

static void append_text(struct text* text, const char* part) {
    append(text, part, strlen(part));
}

/* The end of the JSON value starting at `at` (one past it), skipping nested values and strings:
 * the host hands over valid, compact JSON, so a crude scan is enough for this test engine. */
static size_t value_end(const char* json, size_t len, size_t at) {
    int depth = 0, in_string = 0;
    for (; at < len; ++at) {
        const char c = json[at];
        if (in_string) {
            if (c == '\\')
                ++at;
            else if (c == '"')
                in_string = 0;
        } else if (c == '"') {
            in_string = 1;
        } else if (c == '{' || c == '[') {
            ++depth;
        } else if (c == '}' || c == ']') {
            if (depth == 0) return at;
            if (--depth == 0) return at + 1;
        } else if (c == ',' && depth == 0) {
            return at;
        }
    }
    return at;
}

/* Where the value of member "name" starts within the object json[from, to), or 0. */
static size_t member(const char* json, size_t from, size_t to, const char* name) {
    char key[32];
    snprintf(key, sizeof key, "\"%s\":", name);
    const size_t key_len = strlen(key);
    for (size_t at = from; at + key_len <= to; ++at) {
        if (memcmp(json + at, key, key_len) == 0) return at + key_len;
    }
    return 0;
}

/* One entry of a pool, canonical, appended to `records`; else why not, appended to `errors`. */
static void canonical_entry(const char* json, size_t from, size_t to, long index,
                            struct text* records, struct text* errors) {
    char message[128] = "";
    const size_t id = json[from] == '{' ? member(json, from, to, "id") : 0;
    const size_t weight = id ? member(json, from, to, "weight") : 0;
    char id_text[65] = "";
    double value = 0;
    if (json[from] != '{') {
        snprintf(message, sizeof message, "expected an entry object");
    } else if (id == 0 || json[id] != '"') {
        snprintf(message, sizeof message, "an entry needs a string id");
    } else {
        size_t length = 0;
        while (id + 1 + length < to && json[id + 1 + length] != '"' && length < 64) {
            const char c = json[id + 1 + length];
            id_text[length++] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
        }
        id_text[length] = '\0';
        /* A CSV cell is text ("2.5"), a JSON member a number (2.5): the same weight. */
        const size_t number = weight && json[weight] == '"' ? weight + 1 : weight;
        char* end = NULL;
        value = weight ? strtod(json + number, &end) : 0;
        if (length == 0 || json[id + 1 + length] != '"') {
            snprintf(message, sizeof message, "id is not 1 to 64 characters");
        } else if (weight == 0 || end == json + number || (*end != '"' && number != weight) ||
                   value < 0) {
            snprintf(message, sizeof message, "weight: expected a number of at least 0");
        }
    }
    char part[192];
    if (message[0] != '\0') {
        snprintf(part, sizeof part, "%s{\"index\":%ld,\"message\":\"%s\"}",
                 errors->size > 1 ? "," : "", index, message);
        append_text(errors, part);
    } else {
        snprintf(part, sizeof part, "%s{\"id\":\"%s\",\"weight\":%.17g}",
                 records->size > 1 ? "," : "", id_text, value);
        append_text(records, part);
    }
}

/* A pool of weighted entries: each record (a JSON object, or a CSV row of id and weight cells)
 * becomes {"id", "weight"} with the id in lower case and the weight a number. */
static engined_status canonicalize_dataset(const char* kind, const char* format,
                                           const char* records_json, size_t records_len,
                                           engined_buffer* out) {
    (void)format; /* both arrive as JSON; canonical_entry reads a number or the text of one */
    out->data = NULL;
    out->size = 0;
    if (strcmp(kind, "pool") != 0) return ENGINED_DATASET_NOT_FOUND;
    struct text records = {NULL, 0, 0, 0}, errors = {NULL, 0, 0, 0};
    append_text(&records, "[");
    append_text(&errors, "[");
    long index = 0;
    for (size_t at = 1; at < records_len && records_json[at] != ']'; ++index) {
        const size_t end = value_end(records_json, records_len, at);
        canonical_entry(records_json, at, end, index, &records, &errors);
        at = end < records_len && records_json[end] == ',' ? end + 1 : end;
    }
    append_text(&records, "]");
    append_text(&errors, "]");
    struct text answer = {NULL, 0, 0, 0};
    append_text(&answer, "{\"records\":");
    append_text(&answer, records.failed ? "[]" : records.data);
    append_text(&answer, ",\"errors\":");
    append_text(&answer, errors.failed ? "[]" : errors.data);
    append_text(&answer, "}");
    const int failed = records.failed || errors.failed || answer.failed;
    free(records.data);
    free(errors.data);
    if (failed) {
        free(answer.data);
        return ENGINED_RUN_FAILED;
    }
    out->data = answer.data;
    out->size = answer.size;
    return ENGINED_OK;
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
                                                     validate_dataset,
                                                     canonicalize_dataset};

__attribute__((visibility("default"))) const engined_engine_descriptor* engined_plugin_entry(
    uint32_t host_abi_version) {
    return host_abi_version == ENGINED_PLUGIN_ABI_VERSION ? &descriptor : NULL;
}
