// Reading JSON the one way every command does it: bounded in size and
// nesting depth, numbers beyond a double refused, and every failure one
// InputError naming the file, the line and column, and what was wrong.
#pragma once
#include <cstddef>
#include <initializer_list>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace tunsim {

constexpr size_t kMaxJsonDepth = 64;
constexpr size_t kMaxJsonBytes = size_t(64) << 20;
// The most values (array elements, object members) a document may have: a
// summary with every histogram holds about 10^5.
constexpr size_t kMaxJsonValues = size_t(1) << 20;

// Parses `text` read from `name` (a file, "--set a.b", ...).  Deeper than
// max_depth, more than kMaxJsonValues values and numbers beyond a double
// are InputErrors naming the place, NAME:LINE:COLUMN, where the text's first
// line is first_line (a line of a JSONL file: its number in the file).
nlohmann::json parse_json(const std::string& text, const std::string& name, size_t max_depth = kMaxJsonDepth,
                          size_t first_line = 1);
// Reads and parses a JSON file ("-" = standard input), at most max_bytes; a
// file whose first byte cannot start JSON is refused without reading on.
nlohmann::json read_json_file(const std::string& path, size_t max_bytes = kMaxJsonBytes);
// The first bytes read of a JSON (or JSON-lines) file `name`: what cannot
// start a JSON text is an InputError at once, naming line and column
// (/dev/zero, a binary file), before the rest is read.
void check_json_head(const std::string& name, std::string_view head);
// Serialises for output; bytes that are not UTF-8 (a device name from a
// trace) are replaced, never an error.
std::string dump_json(const nlohmann::json& j, int indent = 2);
// The member at the path `keys` (object keys, outermost first), or nullptr
// where a level is missing or not an object.
const nlohmann::json* json_at(const nlohmann::json& j, std::initializer_list<const char*> keys);

}  // namespace tunsim
