// JSON the server produced itself or already accepted (stored columns, plugin results, Lua
// arguments): parsed with a generous nesting bound, so that anything a request was allowed to
// carry in is never refused on the way out.
#pragma once

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/value.hpp>
#include <boost/system/error_code.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace engined {

// JSON trees that live no longer than one call (a request's body, a run's result), allocated from
// one bump allocator instead of a malloc and a free per value. The first `FirstBlockBytes` are
// inside the arena itself (declare it on the stack); a larger tree continues in heap blocks, all
// freed with the arena. Trees using storage() must not outlive it.
template <std::size_t FirstBlockBytes>
class JsonArena {
public:
    JsonArena() = default;
    JsonArena(const JsonArena&) = delete;
    JsonArena& operator=(const JsonArena&) = delete;

    boost::json::storage_ptr storage() noexcept { return boost::json::storage_ptr(&resource_); }

private:
    alignas(std::max_align_t) unsigned char first_block_[FirstBlockBytes];
    boost::json::monotonic_resource resource_{first_block_, FirstBlockBytes};
};

// `storage`: where the tree is allocated (e.g. a run's arena); default: the heap.
boost::json::value parse_internal_json(std::string_view text, boost::system::error_code& ec,
                                       boost::json::storage_ptr storage = {});

// Throws boost::system::system_error when `text` is not JSON.
boost::json::value parse_internal_json(std::string_view text);

// Whether parse_internal_json would read `text`, found without building its tree.
bool is_internal_json(std::string_view text);

// Reading text known to be JSON (it parsed) without building its tree, for what a tree does not
// keep: where each part stands in the text. `at` is an offset into `text`.
// Past the whitespace starting at `at`.
std::size_t json_whitespace_end(std::string_view text, std::size_t at);
// Past the string whose opening quote is at `at`.
std::size_t json_string_end(std::string_view text, std::size_t at);
// What the string `token` (its quotes included) says, its escapes decoded.
std::string json_string_value(std::string_view token);

// One member of a JSON object as it stands in the object's text.
struct MemberText {
    std::string_view key;    // as written between its quotes (it has no escape)
    std::string_view value;  // the value's text, as written
};

// The members of the JSON object `text`, in order, read without building a tree. `text` must be
// JSON (is_internal_json). nullopt when it is not an object, or when one of its keys has an
// escape or comes twice: read such an object with parse_internal_json.
std::optional<std::vector<MemberText>> object_member_texts(std::string_view text);

// Where `text` stops being JSON because a serialiser wrote a double that is not finite
// (Boost.JSON writes Infinity, -Infinity and NaN, which no JSON parser reads back): the byte
// offset; nullopt when `text` parses or fails for another reason.
std::optional<std::size_t> non_finite_number_at(std::string_view text);

// Serialises in member order, numbers in their shortest round-trip form ("0.25"): what the API
// answers with.
std::string compact_json(const boost::json::value& value);
// The same for an object, which as an argument above would be copied into a value first.
std::string compact_json(const boost::json::object& object);

// Serialises with object keys sorted at every level: equal content gives equal text, so the
// text can be hashed (content hashes of configurations and release bundles).
std::string canonical_json(const boost::json::value& value);
std::string canonical_json(const boost::json::object& object);

// The same ordering, indented for files people read and diff (versions/ bundles).
std::string pretty_json(const boost::json::value& value);

// A member name as one JSON Pointer token (RFC 6901): '~' becomes "~0", '/' becomes "~1".
std::string json_pointer_token(std::string_view name);

// `text` with every byte that is not part of well-formed UTF-8 replaced by U+FFFD. The
// serialisers copy string bytes as they are, so text taken from a request line or header (not
// checked like a JSON body) passes through this before it goes into an answer.
std::string valid_utf8(std::string_view text);

// Characters (Unicode code points) in UTF-8 `text`: what a length limit on a JSON string counts,
// so that a label in Greek or with emoji gets the same limit as one in ASCII.
std::size_t utf8_length(std::string_view text);

// `text` cut to at most `max_bytes` bytes at a character boundary, followed by the marker
// "…[truncated N bytes]" naming how many bytes were cut; unchanged when it fits. Bounds error
// messages and reasons that scripts and plugins hand back, so a run's stored answer stays small.
std::string truncated_text(std::string_view text, std::size_t max_bytes);

// The longest error message the server keeps or answers with before truncated_text cuts it: a
// run's error, a configuration check's verdict.
inline constexpr std::size_t kMaxErrorMessageBytes = 8192;

// The offset of the first byte of `text` that is not part of well-formed UTF-8, or npos when
// all of it is.
std::size_t invalid_utf8_offset(std::string_view text);

}  // namespace engined
