#include "sim/io/json.hpp"

#include "sim/io/errors.hpp"
#include "sim/io/files.hpp"

namespace tunsim {

namespace {
// Line and column (1-based) of byte offset `pos`.
std::string where(const std::string& text, size_t pos) {
  size_t line = 1, col = 1;
  for (size_t i = 0; i < pos && i < text.size(); ++i) {
    if (text[i] == '\n')
      ++line, col = 1;
    else
      ++col;
  }
  return std::to_string(line) + ":" + std::to_string(col);
}
}  // namespace

nlohmann::json parse_json(const std::string& text, const std::string& name, size_t max_depth) {
  // The parser recurses once per level: refuse deep nesting before it does.
  size_t depth = 0;
  bool in_string = false, escape = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (escape)
        escape = false;
      else if (c == '\\')
        escape = true;
      else if (c == '"')
        in_string = false;
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth)
        throw InputError(name + ":" + where(text, i) + ": expected JSON nested at most " + std::to_string(max_depth) +
                         " levels deep, found deeper");
    } else if (c == ']' || c == '}') {
      if (depth) --depth;
    }
  }
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    std::string msg = e.what();
    auto pos = msg.find("syntax error");
    size_t byte = e.byte > 0 ? e.byte - 1 : 0;
    throw InputError(name + ":" + where(text, byte) + ": invalid JSON: " +
                     printable(pos == std::string::npos ? msg : msg.substr(pos), 160));
  } catch (const nlohmann::json::exception& e) {
    // out_of_range.406: a number beyond a double (1e400).
    std::string msg = e.what();
    auto pos = msg.find("] ");
    throw InputError(name + ": invalid JSON: " + printable(pos == std::string::npos ? msg : msg.substr(pos + 2), 160) +
                     " (beyond the range of a double)");
  }
}

nlohmann::json read_json_file(const std::string& path, size_t max_bytes) {
  return parse_json(read_file(path, max_bytes), path == "-" ? "standard input" : printable(path, 200));
}

std::string dump_json(const nlohmann::json& j, int indent) {
  return j.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace tunsim
