#include "common/log.hpp"

#include "common/time.hpp"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <atomic>
#include <cstdio>
#include <mutex>

namespace engined::log {
namespace {

// Without a sink, writing costs one atomic load more than a bare fwrite.
struct SinkSlot {
    std::mutex mutex;
    Sink sink;
    std::atomic<bool> installed{false};
};
SinkSlot& sink_slot() {
    static SinkSlot slot;
    return slot;
}

}  // namespace

void set_sink(Sink sink) {
    SinkSlot& slot = sink_slot();
    std::lock_guard lock(slot.mutex);
    slot.sink = std::move(sink);
    slot.installed.store(static_cast<bool>(slot.sink), std::memory_order_release);
}

std::string timestamp_now() { return format_rfc3339_ms(now_unix_ms()); }

void write_line(std::string_view json_object) {
    SinkSlot& slot = sink_slot();
    if (slot.installed.load(std::memory_order_acquire)) {
        std::lock_guard lock(slot.mutex);
        if (slot.sink) {
            slot.sink(json_object);
            return;
        }
    }
    // One locked stdio call per line: lines from different threads never interleave.
    flockfile(stderr);
    std::fwrite(json_object.data(), 1, json_object.size(), stderr);
    fputc_unlocked('\n', stderr);
    funlockfile(stderr);
}

void write(std::string_view level, std::string_view message, std::initializer_list<Field> fields) {
    boost::json::object line;
    line["ts"] = timestamp_now();
    line["level"] = level;
    line["msg"] = message;
    for (const Field& field : fields) line[field.key] = field.value;
    write_line(boost::json::serialize(line));
}

}  // namespace engined::log
