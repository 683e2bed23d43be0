// What the models report as they run: counters and streaming distributions of
// the summary, and the tracepoint events.  Every event inside the statistics
// window [warmup, end] goes to the trace metrics (the summary's
// "trace_metrics", computed by the same code as `tunsim trace stats` computes
// from a kernel trace) and, with --trace, to the sink that writes them.
// Memory does not grow with the simulated duration.
#pragma once
#include <cmath>
#include <cstdint>
#include <map>
#include <string>

#include "models/kernel/skb.hpp"
#include "models/stats/dist.hpp"
#include "models/trace/metrics.hpp"

namespace tunsim {

struct Thread;

struct Recorder {
  double warmup = 0, end = 0;
  EventSink* sink = nullptr;  // --trace
  TraceMetrics metrics{MetricsOptions{"tap0", {}, {}, 1}};

  // conservation counters (whole run)
  uint64_t delivered = 0;                  // completed netif_receive_skb
  std::map<std::string, uint64_t> dropped;  // before netif_receive_skb, by reason
  std::map<std::string, uint64_t> dropped_window;  // the same, dropped in the window
  // fate after netif_receive_skb
  uint64_t unhandled_proto = 0, bridge_forwarded = 0, udp_queued = 0, udp_rcvbuf_dropped = 0;
  // window statistics
  uint64_t delivered_window = 0;
  uint64_t after_end = 0;  // delivered or dropped after the window's end (the run's last moments)
  uint64_t bytes_window = 0;
  Dist latency_ns{Dist::Kind::Log};
  Dist batch{Dist::Kind::Integer};  // packets per NAPI poll (any NAPI) or per rx_batched flush
  uint64_t napi_polls = 0, budget_exhausted = 0, napi_repolls = 0;
  uint64_t flushes = 0, immediate = 0;  // rx_batched
  uint64_t vhost_requeues = 0, vhost_notify_races = 0;
  uint64_t line_transfers = 0;  // lines found in another CPU's cache: shared state, and skbs built there
  uint64_t lock_spins = 0;      // a queue lock found held by another CPU (spun on)
  uint64_t slab_remote_frees = 0;  // skbs freed on another CPU than their builder's (models/slub)

  bool in_window(double t) const { return t >= warmup && t <= end; }

  // Tracepoints, in the kernel's names.  `task` nullptr: interrupt context
  // of an idle CPU.  `flags`: ftrace's context column.
  // softirq_raise: for --trace only (the trace metrics count none), inline.
  void softirq_raise(double t, int cpu, const Thread* task, const char* flags) {
    if (sink) trace_softirq_raise(t, cpu, task, flags);
  }
  // The events of every softirq and poll inline: in the window, their trace
  // metrics, and the event built for a --trace.
  void softirq_entry(double t, int cpu, const Thread* task) {
    if (!in_window(t)) return;
    metrics.softirq_entry(cpu, trace_ns(t));
    if (sink) trace_softirq_entry(t, cpu, task);
  }
  void softirq_exit(double t, int cpu, const Thread* task) {
    if (!in_window(t)) return;
    metrics.softirq_exit(cpu, trace_ns(t));
    if (sink) trace_softirq_exit(t, cpu, task);
  }
  void napi_poll(double t, int cpu, const Thread* task, uint64_t napi, const char* dev, int work, int budget) {
    if (!in_window(t)) return;
    batch.add(work);
    ++napi_polls;
    if (work >= budget) ++budget_exhausted;
    metrics.napi_poll(cpu, dev_match(dev), work);
    if (sink) trace_napi_poll(t, cpu, task, napi, dev, work, budget);
  }
  void netif_receive_skb(double t, int cpu, const Thread* task, const char* flags, const Skb& skb,
                         const char* dev) {
    if (!in_window(t)) return;
    metrics.netif_receive_skb(cpu, dev_match(dev), trace_ns(t), skb.metrics_live);
    if (sink) trace_netif_receive_skb(t, cpu, task, flags, skb, dev);
  }
  void kfree_skb(double t, int cpu, const Thread* task, const char* flags, const Skb& skb, const char* reason);
  void sys_enter(double t, int cpu, const Thread* task, uint32_t len);
  void sys_exit(double t, int cpu, const Thread* task, uint32_t len);
  // The scheduler's tracepoints, for --trace only (the trace metrics count
  // neither).  sched_wakeup: traced on the CPU that enqueues `woken` by the
  // task running there (`by`; nullptr or an interrupt: the idle task).
  // sched_switch: traced by `prev` (nullptr: the idle task) on its CPU.
  // Inline: without a --trace they cost a test, not a call.
  void sched_wakeup(double t, int cpu, const Thread* by, const Thread& woken) {
    if (sink) trace_sched_wakeup(t, cpu, by, woken);
  }
  void sched_switch(double t, int cpu, const Thread* prev, const Thread* next) {
    if (sink) trace_sched_switch(t, cpu, prev, next);
  }

  // The end of netif_receive_skb (protocol work included): delivered.
  // Inline: once a packet.
  void delivered_end(double t, const Skb& skb) {
    ++delivered;
    if (t > end) ++after_end;
    if (in_window(t)) {
      ++delivered_window;
      bytes_window += skb.len;
    }
    // Whole ns, as a trace would give them: their sum is exact, so the summary
    // does not depend on the order in which CPUs' packets are counted.
    if (skb.measured && t <= end) latency_ns.add(round_half_away((t - skb.t_origin) * 1e9));
  }
  void drop(double t, const char* reason) {
    ++dropped[reason];
    if (in_window(t)) ++dropped_window[reason];
    if (t > end) ++after_end;
  }

 private:
  // To the ns, as ftrace prints it (t >= 0: round half up).
  static int64_t trace_ns(double t) { return static_cast<int64_t>(t * 1e9 + 0.5); }
  // std::round (half away from zero), inline: libm's is a call of about 20
  // instructions, once a delivered packet.  For 1 <= x < 2^52 the truncation
  // converts exactly through int64 and x - r is exact (r <= x < 2r), so
  // comparing it with 0.5 rounds as std::round does; other x go to std::round.
  static double round_half_away(double x) {
    if (x >= 1 && x < 4503599627370496.0) {
      double r = static_cast<double>(static_cast<int64_t>(x));
      return x - r >= 0.5 ? r + 1 : r;
    }
    return std::round(x);
  }
  void trace_netif_receive_skb(double t, int cpu, const Thread* task, const char* flags, const Skb& skb,
                               const char* dev);
  void trace_softirq_entry(double t, int cpu, const Thread* task);
  void trace_softirq_exit(double t, int cpu, const Thread* task);
  void trace_napi_poll(double t, int cpu, const Thread* task, uint64_t napi, const char* dev, int work, int budget);
  void trace_softirq_raise(double t, int cpu, const Thread* task, const char* flags);
  void trace_sched_wakeup(double t, int cpu, const Thread* by, const Thread& woken);
  void trace_sched_switch(double t, int cpu, const Thread* prev, const Thread* next);
  // The event, stamped with its time, CPU and task, to the --trace sink.
  void write(double t, int cpu, const Thread* task, TraceEvent& ev);
  // metrics.on_dev(dev), remembered for the last two device pointers asked
  // about: a poll's events alternate between the NAPI's device (the backlog's
  // "(no_device)") and the packet's.
  bool dev_match(const char* dev) {
    if (dev == match_dev_[0]) return match_[0];
    if (dev == match_dev_[1]) return match_[1];
    return dev_match_new(dev);
  }
  bool dev_match_new(const char* dev);  // a pointer not among the two
  const char* match_dev_[2] = {nullptr, nullptr};
  bool match_[2] = {false, false};
  int match_next_ = 0;  // the entry a miss replaces
};

}  // namespace tunsim
