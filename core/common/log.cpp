#include "common/log.hpp"

#include "common/thread_name.hpp"
#include "common/time.hpp"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <thread>

namespace engined::log {
namespace {

// Without a sink, writing costs one atomic load more than writing to stderr.
struct SinkSlot {
    std::mutex mutex;
    Sink sink;
    std::atomic<bool> installed{false};
};

SinkSlot& sink_slot() {
    static SinkSlot slot;
    return slot;
}

bool deliver_to_sink(std::string_view line) {
    SinkSlot& slot = sink_slot();
    if (!slot.installed.load(std::memory_order_acquire)) return false;
    std::lock_guard lock(slot.mutex);
    if (!slot.sink) return false;
    slot.sink(line);
    return true;
}

// Every line goes through one buffer, so lines keep their order. A line written now flushes the
// buffer with it; batched lines wait for a flusher thread (or the next line written now), so that
// a busy server pays one write to stderr per batch instead of one per request.
class StderrWriter {
public:
    ~StderrWriter() {
        {
            std::lock_guard lock(mutex_);
            stopping_ = true;
        }
        wake_.notify_all();
        if (flusher_.joinable()) flusher_.join();
        flush();
    }

    void append(std::string_view line, bool now) {
        {
            std::lock_guard lock(mutex_);
            const bool was_empty = pending_.empty();
            pending_.append(line);
            pending_ += '\n';
            if (!now && pending_.size() < kFlushBytes) {
                if (!flusher_.joinable()) {
                    flusher_ = named_thread("engined-log", [this] { flush_periodically(); });
                }
                // Only the first line of a batch wakes the flusher; it then waits out the delay.
                if (was_empty) wake_.notify_one();
                return;
            }
        }
        flush();
    }

private:
    static constexpr std::size_t kFlushBytes = 64 * 1024;
    static constexpr std::chrono::milliseconds kFlushDelay{50};

    void flush() {
        std::lock_guard writing(write_mutex_);  // batches leave in the order they were taken
        {
            std::lock_guard lock(mutex_);
            writing_.swap(pending_);
        }
        if (writing_.empty()) return;
        std::fwrite(writing_.data(), 1, writing_.size(), stderr);
        writing_.clear();
    }

    void flush_periodically() {
        std::unique_lock lock(mutex_);
        while (!stopping_) {
            wake_.wait(lock, [this] { return stopping_ || !pending_.empty(); });
            wake_.wait_for(lock, kFlushDelay, [this] { return stopping_; });
            lock.unlock();
            flush();
            lock.lock();
        }
    }

    std::mutex mutex_;
    std::condition_variable wake_;
    std::string pending_;
    bool stopping_ = false;
    std::thread flusher_;
    std::mutex write_mutex_;
    std::string writing_;
};

StderrWriter& stderr_writer() {
    static StderrWriter writer;
    return writer;
}

}  // namespace

void set_sink(Sink sink) {
    SinkSlot& slot = sink_slot();
    std::lock_guard lock(slot.mutex);
    slot.sink = std::move(sink);
    slot.installed.store(static_cast<bool>(slot.sink), std::memory_order_release);
}

void append_timestamp_now(std::string& out) {
    // The text up to the second changes once a second: each thread formats it once per second.
    thread_local int64_t cached_second = -1;
    thread_local std::string cached_prefix;  // "2026-11-23T14:47:11."
    const int64_t ms = now_unix_ms();
    const int64_t second = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
    if (second != cached_second) {
        cached_prefix = format_rfc3339_ms(second * 1000);
        cached_prefix.resize(cached_prefix.size() - 4);  // drop "000Z"
        cached_second = second;
    }
    const auto milli = static_cast<int>(ms - second * 1000);
    out += cached_prefix;
    out += static_cast<char>('0' + milli / 100);
    out += static_cast<char>('0' + milli / 10 % 10);
    out += static_cast<char>('0' + milli % 10);
    out += 'Z';
}

std::string timestamp_now() {
    std::string out;
    append_timestamp_now(out);
    return out;
}

void write_line(std::string_view json_object) {
    if (!deliver_to_sink(json_object)) stderr_writer().append(json_object, true);
}

void write_line_batched(std::string_view json_object) {
    if (!deliver_to_sink(json_object)) stderr_writer().append(json_object, false);
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
