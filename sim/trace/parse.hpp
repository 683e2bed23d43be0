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

namespace tunsim::trace {

enum class EventType {
  SoftirqRaise,
  SoftirqEntry,
  SoftirqExit,
  NapiPoll,
  NetifReceiveSkb,
  GroReceiveEntry,
  GroReceiveExit,
  KfreeSkb,
  SysEnter,
  SysExit,
  Other,
};

// One parsed trace line.  Only the fields of the event's type are set.
struct TraceEvent {
  EventType type = EventType::Other;
  std::string comm;     // task name as printed (may contain '-' and spaces)
  int pid = -1;         // the task's pid (thread id)
  int cpu = -1;
  int64_t ts_ns = 0;    // timestamp in ns (the printed seconds, any decimals)
  std::string name;     // event name without subsystem ("napi_poll")
  int vec = -1;         // softirq_*: vector (3 = NET_RX)
  std::string dev;      // napi_poll, netif_receive_skb, napi_gro_receive_entry
  int work = 0;         // napi_poll
  int budget = 0;       // napi_poll
  uint64_t skbaddr = 0; // netif_receive_skb, napi_gro_receive_entry, kfree_skb
  uint32_t len = 0;     // netif_receive_skb, napi_gro_receive_entry
  uint32_t protocol = 0;  // kfree_skb (host order, as printed)
  std::string reason;   // kfree_skb drop reason ("UNHANDLED_PROTO"); kernels
                        // without a reason field give "NOT_SPECIFIED"
  int64_t nr = -1;      // sys_enter/sys_exit: syscall number
  int64_t ret = 0;      // sys_exit: return value
};

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

// Parses one line (without its newline).  Throws ParseFailure.
LineKind parse_line(std::string_view line, TraceEvent& ev, uint64_t& lost);

struct ParseReport {
  uint64_t lines = 0;          // lines read
  uint64_t events = 0;         // lines that were events (any name)
  uint64_t skipped = 0;        // malformed lines skipped (lenient only)
  uint64_t lost_events = 0;    // sum of the tracer's "[LOST K EVENTS]" markers
  std::string first_skipped;   // "FILE:LINE: message" of the first skipped line
};

using EventSink = std::function<void(const TraceEvent&)>;

// Parses a whole trace text; `name` is used in messages.  A malformed line
// throws InputError "NAME:LINE: expected ..., found ..." unless `lenient`,
// which counts it in ParseReport::skipped instead.
ParseReport parse_trace_text(const std::string& text, const std::string& name, bool lenient,
                             const EventSink& sink);

// Reads a trace file (gzip-compressed when it starts with the gzip magic;
// decompressed by `gzip -dc`).  Throws InputError naming the file.
std::string read_trace_file(const std::string& path);

}  // namespace tunsim::trace
