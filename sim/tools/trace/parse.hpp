// Line parser for kernel traces of the tun/tap receive path.
//
// Reads the text that ftrace (`trace` with its header comments, `trace_pipe`),
// `trace-cmd report` (with or without the instance prefix, any number of
// timestamp decimals) and `perf script` print for the tracepoints
// irq:softirq_raise/entry/exit, napi:napi_poll, net:netif_receive_skb,
// net:napi_gro_receive_entry/exit, skb:kfree_skb and raw_syscalls:sys_enter/
// sys_exit, with the field formats of the kernel's TP_printk (checked on 6.18).
// Events of other names are returned as EventType::Other and are not errors.
// See docs/traces.md.
#pragma once
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "models/trace/event.hpp"

namespace tunsim::trace {

using tunsim::EventType;
using tunsim::TraceEvent;

// What one line turned out to be.
enum class LineKind {
  Event,    // `ev` was filled
  Header,   // comment, blank line, trace-cmd "cpus=N"/"version = N" header
  Lost,     // "CPU:N [LOST K EVENTS]": `lost` was set to K
};

// Thrown by parse_line for a malformed line; what() is "expected ..., found ...".
struct ParseFailure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The latest timestamp a trace may have, in seconds: every later one is an
// error, since secs * 1e9 + 999999999 must fit the int64 of ns (292 years).
constexpr int64_t kMaxTraceSeconds = 9223372035;

// Parses one line (without its newline).  Throws ParseFailure.  The event's
// text fields are views into `line`.  `decimals` (optional) receives the
// number of digits after the timestamp's decimal point.
LineKind parse_line(std::string_view line, TraceEvent& ev, uint64_t& lost, int* decimals = nullptr);

// The type and fields of an event whose name is set, from the text the
// kernel's TP_printk makes of it ("vec=3 [action=NET_RX]").  Throws
// ParseFailure.  Used for events decoded from a binary trace.
void parse_event_fields(TraceEvent& ev, std::string_view fields);

struct ParseReport {
  uint64_t lines = 0;          // lines read (records of a binary trace)
  uint64_t events = 0;         // lines that were events (any name)
  uint64_t skipped = 0;        // malformed lines skipped (lenient only)
  uint64_t lost_events = 0;    // sum of the tracer's "[LOST K EVENTS]" markers
  std::string first_skipped;   // "FILE:LINE: message" of the first skipped line
  std::string format = "text"; // text | trace.dat | perf.data
  // Timestamp resolution: the most decimals any event's timestamp printed,
  // and whether every event's time in ns was a multiple of 1000.
  int max_decimals = 0;
  bool all_us_multiples = true;
  // Each CPU's last event time so far (the text reader's order check: a
  // CPU's ring buffer is in time order, so a step back is a damaged trace).
  std::vector<int64_t> last_ts_ns;
  // The resolution of the timestamps in ns: 10^(9 - max_decimals) (1000 for
  // the microseconds of the tracefs `trace` file, plain `trace-cmd report`
  // and plain `perf script`), and at least 1000 when there are 10 events or
  // more and every time in ns is a multiple of 1000 (a clock that counts
  // microseconds, printed with 9 decimals).  1 with no events.
  int64_t resolution_ns() const;
  // Counts one event's timestamp.
  void saw_timestamp(int64_t ts_ns, int decimals);
};

using EventFn = std::function<void(const TraceEvent&)>;

// The longest line a trace may have (a line of ftrace text is ~150 bytes).
constexpr size_t kMaxTraceLine = 1 << 16;

// Parses a whole trace text; `name` is used in messages.  A malformed line
// throws InputError "NAME:LINE: expected ..., found ..." unless `lenient`,
// which counts it in ParseReport::skipped instead.
ParseReport parse_trace_text(const std::string& text, const std::string& name, bool lenient, const EventFn& sink);

// Streams a trace file ("-" = standard input) in bounded memory: text, line
// by line, gzip-compressed or not; a binary trace.dat (trace-cmd record or
// extract) decoded through libtracecmd with the kernel's own event formats
// stored in it; a perf.data converted with `perf script --ns` when perf is
// installed (otherwise an InputError saying to run it).  Throws InputError
// naming the file, or `name` when given (a temporary copy of standard input).
ParseReport parse_trace_file(const std::string& path, bool lenient, const EventFn& sink,
                             const std::string& name = "");

// Standard input kept in a temporary file (removed with the object), for
// readers that need two passes: `head` (bytes already read from it), then
// the rest.  Text is checked as it is copied (no line longer than
// kMaxTraceLine), so that /dev/zero stops at once; gzip-compressed and
// binary input is copied as it is.  At most kMaxStdinTraceBytes.
constexpr size_t kMaxStdinTraceBytes = size_t(4) << 30;
class StdinTraceCopy {
 public:
  explicit StdinTraceCopy(const std::string& head = "");
  ~StdinTraceCopy();
  StdinTraceCopy(const StdinTraceCopy&) = delete;
  StdinTraceCopy& operator=(const StdinTraceCopy&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// The whole text of a trace file (gzip-compressed or not), at most max_bytes.
std::string read_trace_text(const std::string& path, size_t max_bytes = size_t(1) << 30);

}  // namespace tunsim::trace
