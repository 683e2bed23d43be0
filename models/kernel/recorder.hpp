// What the models report as they run: counters and streaming distributions
// (always), and per-event tracepoint records for an optional sink (only when
// the user asked for --trace; the sink that formats and writes them lives in
// sim/).  Memory does not grow with the simulated duration.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "sim/stats/dist.hpp"

namespace tunsim {

struct Skb;
struct Thread;

// One tracepoint record, in the kernel's names.  `fields` is the TP_printk
// text.  `flags` is ftrace's irqs-off/need-resched/hardirq-softirq/preempt
// column (e.g. "..s1.").
struct TraceSink {
  virtual ~TraceSink() = default;
  virtual void event(double t, int cpu, const Thread* task, const char* flags, const char* name,
                     const std::string& fields) = 0;
};

struct Recorder {
  double warmup = 0, end = 0;
  TraceSink* sink = nullptr;

  // conservation counters (whole run)
  uint64_t delivered = 0;  // completed netif_receive_skb
  std::map<std::string, uint64_t> dropped;   // before netif_receive_skb, by reason
  // fate after netif_receive_skb
  uint64_t unhandled_proto = 0, bridge_forwarded = 0, udp_queued = 0, udp_rcvbuf_dropped = 0;
  // window statistics
  uint64_t delivered_window = 0;
  uint64_t bytes_window = 0;
  Dist latency_ns{Dist::Kind::Log};
  Dist batch{Dist::Kind::Integer};            // packets per NAPI poll or per rx_batched flush
  Dist write_ns{Dist::Kind::Log};             // sys_enter -> sys_exit of write()/sendmsg
  Dist softirq_net_rx_ns{Dist::Kind::Log};    // softirq_entry -> exit, vec NET_RX
  Dist napi_poll_work{Dist::Kind::Integer};
  Dist packets_per_softirq{Dist::Kind::Integer};
  Dist interarrival_ns{Dist::Kind::Log};      // between netif_receive_skb events
  uint64_t napi_polls = 0, budget_exhausted = 0, napi_repolls = 0;
  uint64_t flushes = 0, immediate = 0;        // rx_batched
  uint64_t vhost_kicks = 0, vhost_requeues = 0, vhost_notify_races = 0;
  uint64_t line_transfers = 0;  // shared state found in another CPU's cache

  bool in_window(double t) const { return t >= warmup && t <= end; }

  // Per-CPU state of the tracepoint-derived metrics.
  struct CpuTrace {
    double softirq_entry = -1;
    uint64_t packets_in_softirq = 0;
  };
  std::vector<CpuTrace> cpu_trace;
  double last_receive = -1;

  void softirq_raise(double t, int cpu, const Thread* task, const char* flags);
  void softirq_entry(double t, int cpu, const Thread* task);
  void softirq_exit(double t, int cpu, const Thread* task);
  void napi_poll(double t, int cpu, const Thread* task, uint64_t napi_id, const std::string& dev,
                 int work, int budget);
  void netif_receive_skb(double t, int cpu, const Thread* task, const char* flags, const Skb& skb,
                         const std::string& dev);
  // The end of netif_receive_skb (protocol work included): delivered.
  void delivered_end(double t, const Skb& skb);
  void kfree_skb(double t, int cpu, const Thread* task, const char* flags, const Skb& skb,
                 const char* reason);
  void sys_enter(double t, int cpu, const Thread* task, uint32_t len);
  void sys_exit(double t, int cpu, const Thread* task, double t_enter, uint32_t len);
  void drop(const char* reason) { ++dropped[reason]; }
};

}  // namespace tunsim
