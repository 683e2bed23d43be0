#include "sim/output/ftrace_writer.hpp"

#include <cinttypes>
#include <cstdio>
#include <limits>

namespace tunsim {

std::string ftrace_line(const TraceEvent& ev) {
  char ts[32];
  std::snprintf(ts, sizeof ts, "%" PRId64 ".%09" PRId64, ev.ts_ns / 1000000000, ev.ts_ns % 1000000000);
  std::string comm(ev.comm);
  std::string flags(ev.flags.empty() ? "....." : ev.flags);
  std::string name(ev.name);
  char head[200];
  std::snprintf(head, sizeof head, "%16s-%-7d [%03d] %s %12s: %s: ", comm.c_str(), ev.pid, ev.cpu, flags.c_str(), ts,
                name.c_str());
  char f[256];
  std::string dev(ev.dev), reason(ev.reason);
  switch (ev.type) {
    case EventType::SoftirqRaise:
    case EventType::SoftirqEntry:
    case EventType::SoftirqExit:
      std::snprintf(f, sizeof f, "vec=%d [action=%s]", ev.vec, ev.vec == kNetRxVec ? "NET_RX" : "?");
      break;
    case EventType::NapiPoll:
      std::snprintf(f, sizeof f, "napi poll on napi struct %016" PRIx64 " for device %s work %d budget %d", ev.napi,
                    dev.c_str(), ev.work, ev.budget);
      break;
    case EventType::NetifReceiveSkb:
      std::snprintf(f, sizeof f, "dev=%s skbaddr=%016" PRIx64 " len=%u", dev.c_str(), ev.skbaddr, ev.len);
      break;
    case EventType::KfreeSkb:
      std::snprintf(f, sizeof f,
                    "skbaddr=%016" PRIx64 " rx_sk=0000000000000000 protocol=%u location=__netif_receive_skb_core "
                    "reason: %s",
                    ev.skbaddr, ev.protocol, reason.c_str());
      break;
    case EventType::SysEnter:
      std::snprintf(f, sizeof f, "NR %" PRId64 " (3, 7f0000000000, %x, 0, 0, 0)", ev.nr, ev.len);
      break;
    case EventType::SysExit:
      std::snprintf(f, sizeof f, "NR %" PRId64 " = %" PRId64, ev.nr, ev.ret);
      break;
    // The formats of 6.18's include/trace/events/sched.h (comm:pid [prio]).
    case EventType::SchedWakeup:
      std::snprintf(f, sizeof f, "%s:%d [120] CPU:%03d", std::string(ev.other_comm).c_str(), ev.other_pid,
                    ev.target_cpu);
      break;
    case EventType::SchedSwitch: {
      // The head names the idle task <idle>-0, the event swapper/CPU:0.
      std::string idle = "swapper/" + std::to_string(ev.cpu);
      std::string prev = ev.pid == 0 ? idle : comm, next = ev.other_pid == 0 ? idle : std::string(ev.other_comm);
      std::snprintf(f, sizeof f, "%s:%d [120] %c ==> %s:%d [120]", prev.c_str(), ev.pid, ev.prev_state, next.c_str(),
                    ev.other_pid);
      break;
    }
    default:
      f[0] = '\0';
  }
  return std::string(head) + f;
}

FtraceWriter::FtraceWriter(const std::string& path) : out_(path) {
  out_.write(
      "# tracer: nop\n"
      "#\n"
      "# simulated by tunsim " TUNSIM_VERSION "; timestamps in seconds of simulated time; the statistics window\n"
      "# (warmup_ms to duration_ms) only\n"
      "#\n"
      "#                                _-----=> irqs-off/BH-disabled\n"
      "#                               / _----=> need-resched\n"
      "#                              | / _---=> hardirq/softirq\n"
      "#                              || / _--=> preempt-depth\n"
      "#                              ||| / _-=> migrate-disable\n"
      "#                              |||| /     delay\n"
      "#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION\n"
      "#              | |         |   |||||     |         |\n");
}

void FtraceWriter::event(const TraceEvent& ev) {
  pending_.push(Rec{ev.ts_ns, ev.cpu, seq_++, ftrace_line(ev)});
  if (clock_) drain(clock_());
}

void FtraceWriter::drain(double upto_s) {
  while (!pending_.empty() && static_cast<double>(pending_.top().ts) < upto_s * 1e9) {
    const std::string& line = pending_.top().line;
    out_.write(line);
    out_.write("\n", 1);
    pending_.pop();
  }
}

void FtraceWriter::finish() {
  drain(std::numeric_limits<double>::infinity());
  out_.finish();
}

void FtraceWriter::commit() {
  finish();
  out_.commit();
}

}  // namespace tunsim
