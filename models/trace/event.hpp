// One tracepoint hit, in the kernel's names: what the simulator emits and what
// the trace parser (sim/tools/trace) reads from a kernel's trace, so that the
// metrics of both are computed by the same code (metrics.hpp).  Text fields
// are views: valid while the event is handed to a consumer.
#pragma once
#include <cstdint>
#include <string_view>

namespace tunsim {

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
  // Written by the simulator's --trace only; the trace parser leaves a
  // kernel trace's sched_wakeup and sched_switch as Other (nothing counts them).
  SchedWakeup,
  SchedSwitch,
  Other,
};

struct TraceEvent {
  EventType type = EventType::Other;
  std::string_view comm;   // task name (may contain '-' and spaces)
  int pid = -1;            // the task's pid (thread id)
  int cpu = -1;
  int64_t ts_ns = 0;       // timestamp, ns
  std::string_view name;   // event name without subsystem ("napi_poll")
  std::string_view flags;  // ftrace's irqs-off/need-resched/hardirq-softirq/preempt column ("..s1."), may be empty
  int vec = -1;            // softirq_*: vector (3 = NET_RX)
  std::string_view dev;    // napi_poll, netif_receive_skb, napi_gro_receive_entry
  uint64_t napi = 0;       // napi_poll: the napi struct address
  int work = 0;            // napi_poll
  int budget = 0;          // napi_poll
  uint64_t skbaddr = 0;    // netif_receive_skb, napi_gro_receive_entry, kfree_skb
  uint32_t len = 0;        // netif_receive_skb, napi_gro_receive_entry (as printed); sys_enter: the write's count
  uint32_t protocol = 0;   // kfree_skb (host order, as printed)
  std::string_view reason; // kfree_skb drop reason ("UNHANDLED_PROTO"); kernels without one: "NOT_SPECIFIED"
  int64_t nr = -1;         // sys_enter/sys_exit: syscall number
  int64_t ret = 0;         // sys_exit: return value
  // sched_wakeup: the woken task and its CPU; sched_switch: the next task (the
  // event's own task is prev) and prev's state ('S' asleep, 'R' preempted,
  // 'X' exited).  An idle CPU's task is swapper/CPU, pid 0.
  std::string_view other_comm;
  int other_pid = 0;
  int target_cpu = -1;
  char prev_state = 'R';
};

constexpr int kNetRxVec = 3;  // NET_RX_SOFTIRQ

// Where events go: the trace metrics, a trace file writer.
struct EventSink {
  virtual ~EventSink() = default;
  virtual void event(const TraceEvent& ev) = 0;
};

}  // namespace tunsim
