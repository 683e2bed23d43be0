// What the harnesses share: the input split into parts, files in a private
// tmpfs folder (the readers under test take paths), and the one rule every
// harness checks: bad input is an InputError, never anything else.
#pragma once
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace fuzzutil {

// The input's parts, split at NUL bytes (at most `max` parts; the last keeps
// any further NULs).
inline std::vector<std::string> split(const uint8_t* data, size_t size, size_t max) {
  std::vector<std::string> parts;
  const char* p = reinterpret_cast<const char*>(data);
  const char* end = p + size;
  while (parts.size() + 1 < max) {
    const char* nul = static_cast<const char*>(std::memchr(p, 0, static_cast<size_t>(end - p)));
    if (!nul) break;
    parts.emplace_back(p, nul);
    p = nul + 1;
  }
  parts.emplace_back(p, end);
  return parts;
}

// A folder of this process in /dev/shm (tmpfs: no disk writes per input),
// removed at exit.
inline const std::string& dir() {
  static const std::string d = [] {
    char t[] = "/dev/shm/tunsim-fuzz-XXXXXX";
    if (!::mkdtemp(t)) std::abort();
    return std::string(t);
  }();
  static const bool cleanup = (std::atexit([] {
                                 std::string cmd = "rm -rf '" + d + "'";
                                 if (std::system(cmd.c_str()) != 0) {
                                 }
                               }),
                               true);
  (void)cleanup;
  return d;
}

// Inputs that name devices or kernel files: reading them may block (a
// terminal, a FIFO) or depend on the machine, which is not what is fuzzed.
inline bool names_system_files(const std::string& s) {
  return s.find("/dev") != std::string::npos || s.find("/proc") != std::string::npos ||
         s.find("/sys") != std::string::npos;
}

// Writes `text` to NAME in that folder and returns its path.
inline std::string file(const std::string& name, const std::string& text) {
  std::string p = dir() + "/" + name;
  int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) std::abort();
  size_t off = 0;
  while (off < text.size()) {
    ssize_t w = ::write(fd, text.data() + off, text.size() - off);
    if (w <= 0) std::abort();
    off += static_cast<size_t>(w);
  }
  ::close(fd);
  return p;
}

// The message of an InputError is what the CLI prints: one line of valid
// UTF-8 without control characters (input shown in it is escaped) and of a
// bounded length (input shown in it is shortened).
inline void check_message(const char* what) {
  std::string m = what;
  if (m.empty() || m.size() > 4096) {
    std::fprintf(stderr, "message of %zu bytes\n", m.size());
    std::abort();
  }
  for (size_t i = 0; i < m.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(m[i]);
    size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    bool ok = len > 0 && i + len <= m.size() && !(len == 1 && (c < 0x20 || c == 0x7f));
    for (size_t k = 1; ok && k < len; ++k) ok = (static_cast<unsigned char>(m[i + k]) >> 6) == 2;
    if (!ok) {
      std::fprintf(stderr, "message with a control or non-UTF-8 byte 0x%02x at %zu: %s\n", c, i, m.c_str());
      std::abort();
    }
    i += len - 1;
  }
}

}  // namespace fuzzutil
