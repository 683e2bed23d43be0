#include "sim/io/json.hpp"

#include "sim/io/errors.hpp"
#include "sim/io/files.hpp"

#include <unordered_map>
#include <vector>

namespace tunsim {

namespace {
// Line and column (1-based) of byte offset `pos`; the text's first line is
// line `first_line` (a line of a JSONL file).
std::string where(const std::string& text, size_t pos, size_t first_line = 1) {
  size_t line = first_line, col = 1;
  for (size_t i = 0; i < pos && i < text.size(); ++i) {
    if (text[i] == '\n')
      ++line, col = 1;
    else
      ++col;
  }
  return std::to_string(line) + ":" + std::to_string(col);
}

// The keys of the objects open at a point of a JSON text, innermost last
// (arrays hold none), for parse_json's scan; the text may be invalid JSON,
// which the parser then refuses.
class Objects {
 public:
  void open(bool object) { frames_.push_back({object, true, {}}); }
  void close() {
    if (!frames_.empty()) frames_.pop_back();
  }
  void comma() {
    if (!frames_.empty()) frames_.back().expects_key = true;
  }
  bool expects_key() const { return !frames_.empty() && frames_.back().object && frames_.back().expects_key; }
  // The key in text[open, close] (its quotes) read: "" or, when the object
  // had it already, the error naming both places.
  std::string key(const std::string& text, size_t open, size_t close, const std::string& name, size_t first_line) {
    Frame& f = frames_.back();
    f.expects_key = false;
    std::string raw = text.substr(open, close - open + 1), key = raw.substr(1, raw.size() - 2);
    if (key.find('\\') != std::string::npos) {
      // Escapes: the key they spell ("\u0061" is "a"); one the parser will
      // refuse anyway is taken as written.
      try {
        key = nlohmann::json::parse(raw).get<std::string>();
      } catch (const nlohmann::json::exception&) {
      }
    }
    auto [first, fresh] = f.keys.emplace(key, open);
    if (fresh) return "";
    return name + ":" + where(text, open, first_line) + ": expected each key once in an object, found \"" +
           printable(key, 60) + "\" again (first at " + where(text, first->second, first_line) + ")";
  }

 private:
  struct Frame {
    bool object, expects_key;
    std::unordered_map<std::string, size_t> keys;  // key -> offset of its first opening quote
  };
  std::vector<Frame> frames_;
};
}  // namespace

nlohmann::json parse_json(const std::string& text, const std::string& name, size_t max_depth, size_t first_line) {
  // The parser recurses once per level: refuse deep nesting before it does.
  // And every value costs memory: refuse more of them than a file of this
  // project holds (a value is at most one comma or opening bracket).
  // The parser also keeps the last of two members with the same key
  // ({"duration_ms": 20, "duration_ms": 30} was 30, silently): the keys of
  // each open object are noted here, and a repeated one is the error once
  // the text has parsed (a syntax error comes first: it may be why).
  // A NUL byte is no JSON text anywhere (a string's control bytes are
  // escaped), and nlohmann's lexer takes it for the end of the input: a
  // document followed by NUL and garbage parsed as the document.
  if (size_t nul = text.find('\0'); nul != std::string::npos)
    throw InputError(name + ":" + where(text, nul, first_line) + ": expected JSON text, found a NUL byte");
  size_t depth = 0, values = 0;
  bool in_string = false, escape = false;
  Objects objects;
  size_t key_start = std::string::npos;  // the opening quote of the key being read
  std::string repeated;                  // the first repeated key's error
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (escape)
        escape = false;
      else if (c == '\\')
        escape = true;
      else if (c == '"') {
        in_string = false;
        if (key_start != std::string::npos && repeated.empty()) repeated = objects.key(text, key_start, i, name, first_line);
        key_start = std::string::npos;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
      if (objects.expects_key()) key_start = i;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth)
        throw InputError(name + ":" + where(text, i, first_line) + ": expected JSON nested at most " + std::to_string(max_depth) +
                         " levels deep, found deeper");
      ++values;
      objects.open(c == '{');
    } else if (c == ']' || c == '}') {
      if (depth) --depth;
      objects.close();
    } else if (c == ',') {
      ++values;
      objects.comma();
    }
    if (values > kMaxJsonValues)
      throw InputError(name + ":" + where(text, i, first_line) + ": expected at most " + std::to_string(kMaxJsonValues) +
                       " JSON values, found more");
  }
  try {
    nlohmann::json j = nlohmann::json::parse(text);
    if (!repeated.empty()) throw InputError(repeated);
    return j;
  } catch (const nlohmann::json::parse_error& e) {
    std::string msg = e.what();
    auto pos = msg.find("syntax error");
    size_t byte = e.byte > 0 ? e.byte - 1 : 0;
    throw InputError(name + ":" + where(text, byte, first_line) + ": invalid JSON: " +
                     printable(pos == std::string::npos ? msg : msg.substr(pos), 160));
  } catch (const nlohmann::json::exception& e) {
    // out_of_range.406: a number beyond a double (1e400), "number overflow
    // parsing '1e400'"; the parser gives no position: the first occurrence
    // of that number outside a string is it.
    std::string msg = e.what();
    std::string place;
    size_t q1 = msg.find('\''), q2 = q1 == std::string::npos ? q1 : msg.find('\'', q1 + 1);
    if (q2 != std::string::npos && q2 > q1 + 1) {
      std::string tok = msg.substr(q1 + 1, q2 - q1 - 1);
      bool in_str = false, esc = false;
      for (size_t i = 0; i < text.size() && place.empty(); ++i) {
        char c = text[i];
        if (in_str) {
          if (esc)
            esc = false;
          else if (c == '\\')
            esc = true;
          else if (c == '"')
            in_str = false;
        } else if (c == '"') {
          in_str = true;
        } else if (text.compare(i, tok.size(), tok) == 0) {
          place = ":" + where(text, i, first_line);
        }
      }
    }
    auto pos = msg.find("] ");
    throw InputError(name + place + ": expected a number within the range of a double, found " +
                     printable(pos == std::string::npos ? msg : msg.substr(pos + 2), 160));
  }
}

void check_json_head(const std::string& name, std::string_view head) {
  size_t p = head.find_first_not_of(" \t\r\n");
  if (p == std::string_view::npos) return;
  if (std::string_view("{[\"-0123456789tfn").find(head[p]) == std::string_view::npos)
    throw InputError(name + ":" + where(std::string(head), p) + ": expected JSON, found '" +
                     printable(std::string(head.substr(p, 16)), 16) + "'");
}

nlohmann::json read_json_file(const std::string& path, size_t max_bytes) {
  const std::string name = path == "-" ? "standard input" : printable(path, 200);
  // What cannot start a JSON document stops the reading at once (/dev/zero,
  // a binary file).
  return parse_json(read_file(path, max_bytes, [&](std::string_view head) { check_json_head(name, head); }), name);
}

std::string dump_json(const nlohmann::json& j, int indent) {
  return j.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

const nlohmann::json* json_at(const nlohmann::json& j, std::initializer_list<const char*> keys) {
  const nlohmann::json* p = &j;
  for (const char* k : keys) {
    if (!p->is_object() || !p->contains(k)) return nullptr;
    p = &(*p)[k];
  }
  return p;
}

}  // namespace tunsim
