// Bad input: a config, a trace, a summary, a calibration, a command-line
// value.  Whoever reads it throws InputError with one line naming the file,
// the location (JSON path or line number), what was expected and what was
// found; the CLI prints it and exits with status 2.
#pragma once
#include <cctype>
#include <cstdio>
#include <stdexcept>
#include <string>

namespace tunsim {

struct InputError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Input shown in an InputError's message: valid UTF-8 passes, control
// characters (DEL included) and invalid bytes are escaped as \xNN, and at
// most max_chars characters are shown (then "...").  Here, beside
// InputError, so that models/ can show input too (sim/io/files.hpp exports it).
inline std::string printable(const std::string& s, size_t max_chars = 80) {
  std::string out;
  size_t shown = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (shown >= max_chars) {
      out += "...";
      break;
    }
    unsigned char c = static_cast<unsigned char>(s[i]);
    // A valid UTF-8 sequence passes whole.
    size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    bool ok = len > 0 && i + len <= s.size();
    for (size_t k = 1; ok && k < len; ++k) ok = (static_cast<unsigned char>(s[i + k]) >> 6) == 2;
    if (ok && len == 1 && (c < 0x20 || c == 0x7f)) ok = false;
    if (ok) {
      out.append(s, i, len);
      i += len - 1;
    } else {
      char b[8];
      std::snprintf(b, sizeof b, "\\x%02x", c);
      out += b;
    }
    ++shown;
  }
  return out;
}

// Whether a value from the command line has white space at either end: a
// quoting mistake, refused by every option and --set alike (strtoll and the
// JSON parser each skipped it at one end only).
inline bool has_edge_space(const std::string& s) {
  auto space = [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; };
  return !s.empty() && (space(s.front()) || space(s.back()));
}

// A JSON value of the input, as an error shows it: its JSON text through
// printable (JSON text escapes control characters below 0x20 but leaves
// DEL raw; cutting the text at a byte count could split a UTF-8 sequence).
template <class Json>
std::string printable_json(const Json& v, size_t max_chars = 60) {
  return printable(v.dump(), max_chars);
}

}  // namespace tunsim
