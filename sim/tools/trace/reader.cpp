// Reading trace files: text (plain or gzip-compressed, streamed line by line
// in bounded memory), and the binary formats of trace-cmd and perf, which
// are recognised by their first bytes (sim/tools/trace/binary.cpp).
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <limits>
#include <memory>
#include <vector>

#include <zlib.h>

#include "sim/io/errors.hpp"
#include "sim/io/files.hpp"
#include "sim/tools/trace/binary.hpp"
#include "sim/tools/trace/parse.hpp"

namespace tunsim::trace {

int64_t ParseReport::resolution_ns() const {
  if (events == 0) return 1;
  int64_t r = 1;
  for (int d = max_decimals; d < 9; ++d) r *= 10;
  if (events >= 10 && all_us_multiples && r < 1000) r = 1000;
  return r;
}

void ParseReport::saw_timestamp(int64_t ts_ns, int decimals) {
  if (decimals > max_decimals) max_decimals = decimals;
  if (ts_ns % 1000 != 0) all_us_multiples = false;
}

namespace {
// Feeds one line to the parser and the sink; counts it in `rep`.
void take_line(std::string_view line, const std::string& name, bool lenient, const EventFn& sink, ParseReport& rep,
               TraceEvent& ev) {
  ++rep.lines;
  uint64_t lost = 0;
  int decimals = 0;
  LineKind kind;
  try {
    kind = parse_line(line, ev, lost, &decimals);
  } catch (const ParseFailure& e) {
    std::string msg = name + ":" + std::to_string(rep.lines) + ": " + e.what();
    if (!lenient) throw InputError(msg);
    if (rep.skipped++ == 0) rep.first_skipped = msg;
    return;
  }
  if (kind == LineKind::Lost) rep.lost_events += lost;
  if (kind != LineKind::Event) return;
  // A CPU's events are in time order (its ring buffer's; ftrace's merged
  // text keeps each CPU's order).  A step back was taken as it came: the
  // interval it closed was dropped and the span measured from sorted times.
  if (ev.cpu >= 0) {
    auto c = static_cast<size_t>(ev.cpu);
    if (c >= rep.last_ts_ns.size()) rep.last_ts_ns.resize(c + 1, std::numeric_limits<int64_t>::min());
    if (ev.ts_ns < rep.last_ts_ns[c]) {
      auto secs = [](int64_t ns) {
        char b[40];
        std::snprintf(b, sizeof b, "%lld.%09lld", static_cast<long long>(ns / 1000000000),
                      static_cast<long long>(ns % 1000000000));
        return std::string(b);
      };
      std::string msg = name + ":" + std::to_string(rep.lines) + ": expected CPU " + std::to_string(ev.cpu) +
                        "'s events in time order, found " + secs(ev.ts_ns) + " after " + secs(rep.last_ts_ns[c]);
      if (!lenient) throw InputError(msg);
      if (rep.skipped++ == 0) rep.first_skipped = msg;
      return;
    }
    rep.last_ts_ns[c] = ev.ts_ns;
  }
  ++rep.events;
  rep.saw_timestamp(ev.ts_ns, decimals);
  sink(ev);
}
}  // namespace

ParseReport parse_trace_text(const std::string& text, const std::string& name, bool lenient, const EventFn& sink) {
  ParseReport rep;
  TraceEvent ev;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    take_line(std::string_view(text.data() + pos, nl - pos), name, lenient, sink, rep, ev);
    pos = nl + 1;
  }
  return rep;
}

namespace {
// How much zlib reads from the file at once (gzbuffer; its output buffer is
// twice that) and how much of the text the readers take per call.  32 KiB
// keeps the three buffers of an open trace below 128 KiB each: the sanitized
// build (docs/fuzzing.md) then takes them from its size-class allocator
// instead of mapping and unmapping fresh pages (TLB shootdowns included) for
// every file, which cost the fuzz harnesses more time than the parser did.
// A larger buffer does not read a trace faster: parsing, not read(), takes
// the time (`tunsim trace stats` of a 67 MB trace, release build, shared
// 2-CPU VM, 2026-12-02, best of 3: 0.86 s plain and 0.94 s gzip-compressed
// with 32 KiB, 0.91 s and 1.02 s with 128 KiB).
constexpr unsigned kZlibBuffer = 1 << 15;
constexpr size_t kChunk = 1 << 15;

// A read buffer left uninitialised (read_chunk fills what it returns).
struct Chunk {
  std::unique_ptr<char[]> p{new char[kChunk]};
  char* data() { return p.get(); }
  size_t size() const { return kChunk; }
  char& operator[](size_t i) { return p[i]; }
};

// Opens a trace for reading with zlib, which reads gzip-compressed and plain
// files alike.
gzFile open_trace(const std::string& path, const std::string& name) {
  int fd = path == "-" ? ::dup(0) : ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw InputError(name + ": cannot open: " + std::strerror(errno));
  struct stat st;
  if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
    ::close(fd);
    throw InputError(name + ": cannot open: is a directory");
  }
  gzFile gz = ::gzdopen(fd, "rb");
  if (!gz) {
    ::close(fd);
    throw InputError(name + ": cannot open");
  }
  ::gzbuffer(gz, kZlibBuffer);
  return gz;
}
struct GzCloser {
  gzFile g;
  ~GzCloser() { ::gzclose(g); }
};
int read_chunk(gzFile gz, Chunk& buf, const std::string& name) {
  int n = ::gzread(gz, buf.data(), static_cast<unsigned>(buf.size()));
  if (n < 0) {
    int err = 0;
    const char* m = ::gzerror(gz, &err);
    throw InputError(name + ": expected a readable (gzip or plain) trace, found a corrupt or truncated one (" +
                     std::string(m ? m : "read error") + ")");
  }
  if (n == 0) {
    // The end of the file.  zlib returns what it could decompress and says
    // Z_BUF_ERROR when the file ended inside a gzip stream: a truncated
    // download or a capture cut short, whose text (up to a line's end or
    // not) must not pass for the whole trace.
    int err = Z_OK;
    ::gzerror(gz, &err);
    if (err == Z_BUF_ERROR)
      throw InputError(name + ": expected a complete gzip file, found one that ends inside its stream (after " +
                       std::to_string(::gztell(gz)) + " bytes of text): truncated?");
  }
  return n;
}

// The rest of a compressed file or of standard input, after `first`, in a
// temporary file: the binary readers need a file they can seek in.
class Spool {
 public:
  Spool(gzFile gz, const char* first, size_t n, Chunk& buf, const std::string& name) {
    char t[] = "/tmp/tunsim-trace-XXXXXX";
    int fd = ::mkstemp(t);
    if (fd < 0) throw InputError(name + ": cannot create a temporary file: " + std::strerror(errno));
    path_ = t;
    size_t total = 0;
    auto put = [&](const char* p, size_t k) {
      total += k;
      if (total > kMaxBinaryTraceBytes) {
        ::close(fd);
        throw InputError(name + ": expected a binary trace of at most " + std::to_string(kMaxBinaryTraceBytes) +
                         " bytes, found a larger one");
      }
      while (k > 0) {
        ssize_t w = ::write(fd, p, k);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
          int e = errno;
          ::close(fd);
          throw InputError(name + ": cannot keep a copy in " + path_ + ": " + std::strerror(e));
        }
        p += w;
        k -= static_cast<size_t>(w);
      }
    };
    try {
      put(first, n);
      for (int k; (k = read_chunk(gz, buf, name)) > 0;) put(buf.data(), static_cast<size_t>(k));
    } catch (...) {
      ::unlink(path_.c_str());
      throw;
    }
    ::close(fd);
  }
  ~Spool() { ::unlink(path_.c_str()); }
  Spool(const Spool&) = delete;
  Spool& operator=(const Spool&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};
}  // namespace

StdinTraceCopy::StdinTraceCopy(const std::string& head) {
  const std::string name = "standard input";
  char t[] = "/tmp/tunsim-stdin-XXXXXX";
  int fd = ::mkstemp(t);
  if (fd < 0) throw InputError(name + ": cannot create a temporary file: " + std::strerror(errno));
  path_ = t;
  std::string pending = head;
  char buf[1 << 16];
  bool checked = false, text = false;
  size_t total = 0, line_len = 0, lines = 1;
  try {
    for (;;) {
      size_t n = 0;
      if (!pending.empty()) {
        n = std::min(pending.size(), sizeof buf);
        std::memcpy(buf, pending.data(), n);
        pending.erase(0, n);
      } else {
        ssize_t r = ::read(0, buf, sizeof buf);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) throw InputError(name + ": cannot read: " + std::strerror(errno));
        if (r == 0) break;
        n = static_cast<size_t>(r);
      }
      if (!checked) {
        // gzip (1f 8b) or a binary trace is copied unchecked.
        std::string_view h(buf, n);
        text = !(n >= 2 && static_cast<unsigned char>(buf[0]) == 0x1f && static_cast<unsigned char>(buf[1]) == 0x8b) &&
               binary_format(h) == BinaryFormat::None;
        checked = true;
      }
      total += n;
      if (total > kMaxStdinTraceBytes)
        throw InputError(name + ": expected a trace of at most " + std::to_string(kMaxStdinTraceBytes) +
                         " bytes, found more");
      for (size_t i = 0; text && i < n; ++i) {
        if (buf[i] == '\n') {
          line_len = 0;
          ++lines;
        } else if (++line_len > kMaxTraceLine) {
          throw InputError(name + ":" + std::to_string(lines) + ": expected a line of at most " +
                           std::to_string(kMaxTraceLine) + " bytes, found a longer one (not a text trace?)");
        }
      }
      for (size_t off = 0; off < n;) {
        ssize_t w = ::write(fd, buf + off, n - off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) throw InputError(name + ": cannot keep a copy in " + path_ + ": " + std::strerror(errno));
        off += static_cast<size_t>(w);
      }
    }
  } catch (...) {
    ::close(fd);
    ::unlink(path_.c_str());
    throw;
  }
  ::close(fd);
}

StdinTraceCopy::~StdinTraceCopy() { ::unlink(path_.c_str()); }

std::string read_trace_text(const std::string& path, size_t max_bytes) {
  std::string name = path == "-" ? "standard input" : printable(path, 200);
  gzFile gz = open_trace(path, name);
  GzCloser closer{gz};
  std::string out;
  Chunk buf;
  for (int n; (n = read_chunk(gz, buf, name)) > 0;) {
    if (out.size() + static_cast<size_t>(n) > max_bytes)
      throw InputError(name + ": expected at most " + std::to_string(max_bytes) + " bytes of trace text");
    out.append(buf.data(), static_cast<size_t>(n));
  }
  return out;
}

namespace {
ParseReport parse_stream(const std::string& path, const std::string& name, bool lenient, const EventFn& sink,
                         bool allow_binary) {
  gzFile gz = open_trace(path, name);
  GzCloser closer{gz};
  ParseReport rep;
  TraceEvent ev;
  std::string line;
  Chunk buf;
  bool first = true;
  for (;;) {
    int n = read_chunk(gz, buf, name);
    if (n == 0) break;
    bool at_start = first;
    first = false;
    if (at_start && allow_binary) {
      // zlib hands over what it read whole: a short read of the first bytes
      // only happens at the end of the file.
      BinaryFormat f = binary_format(std::string_view(buf.data(), static_cast<size_t>(n)));
      if (f != BinaryFormat::None) {
        if (path != "-" && ::gzdirect(gz)) return parse_binary_trace(f, path, name, lenient, sink);
        Chunk more;
        Spool copy(gz, buf.data(), static_cast<size_t>(n), more, name);
        return parse_binary_trace(f, copy.path(), name, lenient, sink);
      }
    }
    size_t start = 0;
    for (size_t i = 0; i < static_cast<size_t>(n); ++i) {
      if (buf[i] != '\n') continue;
      if (line.empty()) {
        take_line(std::string_view(buf.data() + start, i - start), name, lenient, sink, rep, ev);
      } else {
        line.append(buf.data() + start, i - start);
        take_line(line, name, lenient, sink, rep, ev);
        line.clear();
      }
      start = i + 1;
    }
    line.append(buf.data() + start, static_cast<size_t>(n) - start);
    if (line.size() > kMaxTraceLine)
      throw InputError(name + ":" + std::to_string(rep.lines + 1) + ": expected a line of at most " +
                       std::to_string(kMaxTraceLine) + " bytes, found a longer one (not a text trace?)");
  }
  if (!line.empty()) take_line(line, name, lenient, sink, rep, ev);
  return rep;
}
}  // namespace

ParseReport parse_trace_file(const std::string& path, bool lenient, const EventFn& sink, const std::string& name) {
  return parse_stream(path, !name.empty() ? name : path == "-" ? "standard input" : printable(path, 200), lenient,
                      sink, true);
}

ParseReport parse_text_file(const std::string& path, const std::string& name, bool lenient, const EventFn& sink) {
  return parse_stream(path, name, lenient, sink, false);
}

}  // namespace tunsim::trace
