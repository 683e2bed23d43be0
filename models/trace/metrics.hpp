// The metrics tunsim reports for a trace of the tun/tap receive path: the same
// code for a kernel trace (`tunsim trace stats`), a simulated trace and the
// simulator's summary ("trace_metrics", fed the very events its --trace
// writes), so that `tunsim diff` can compare any two of them.  Definitions
// are in docs/traces.md.
//
// Use: construct with the device (and optional writer filter), add() every
// event, then finish(); to_json() gives the "trace_metrics" object,
// from_json() reads it back.  Events may arrive out of time order by up to
// kReorderWindow netif_receive_skb events (per-CPU buffers, per-CPU clocks);
// memory does not grow with the number of events.
#pragma once
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "models/stats/dist.hpp"
#include "models/trace/event.hpp"

namespace tunsim {

struct MetricsOptions {
  std::string dev;       // the tap; empty = every device
  std::set<int> pids;    // writer tasks for write_ns; empty = every task
  std::string comm;      // writer task name for write_ns; empty = any
  int64_t write_nr = 1;  // syscall number of write() (x86_64: 1)
};

struct CpuCounts {
  uint64_t packets = 0;          // netif_receive_skb on the device
  uint64_t napi_polls = 0;       // napi_poll on the device
  uint64_t net_rx_softirqs = 0;  // NET_RX softirqs that handled the device
  uint64_t writes = 0;           // completed write() of the writer tasks
  uint64_t drops = 0;            // kfree_skb attributed to the workload
};

class TraceMetrics : public EventSink {
 public:
  static constexpr size_t kReorderWindow = 1 << 16;

  explicit TraceMetrics(MetricsOptions opt = {});

  void add(const TraceEvent& ev);
  void event(const TraceEvent& ev) override { add(ev); }

  // What add() does with each event it counts, one entry per event type:
  // add() checks the CPU (below kMaxCpu) and the softirq vector (NET_RX) and
  // calls these; the simulator's recorder calls them directly, without
  // building a TraceEvent (it knows its CPUs and vector, and whether its
  // device is on_dev()).  `dev_match`: on_dev() of the event's device.
  static constexpr int kMaxCpu = 1 << 16;
  bool on_dev(std::string_view d) const {
    if (opt_.dev.empty()) return true;
    if (d.size() != opt_.dev.size()) return false;
    for (size_t i = 0; i < d.size(); ++i)
      if (d[i] != opt_.dev[i]) return false;
    return true;
  }
  void softirq_entry(int cpu, int64_t ts) { softirq(cpu) = SoftirqState{true, false, ts, 0}; }
  void softirq_exit(int cpu, int64_t ts);
  void napi_poll(int cpu, bool dev_match, int work);
  void gro_receive_entry(bool dev_match, uint64_t skbaddr) {
    if (dev_match) live_skbs_.insert(skbaddr);
  }
  void netif_receive_skb(int cpu, bool dev_match, int64_t ts, uint64_t skbaddr);
  void kfree_skb(int cpu, int pid, uint64_t skbaddr, std::string_view reason);
  // The same two for a caller that keeps, with each skb address, whether it
  // is in the set of skbs received on the device and not freed since (the
  // simulator: a flag in its pool slot, whose address never changes): the
  // flag instead of the set's insert and erase, with the same counts.
  void netif_receive_skb(int cpu, bool dev_match, int64_t ts, bool& live) {
    if (count_rx(cpu, dev_match, ts)) live = true;
  }
  void kfree_skb(int cpu, int pid, bool& live, std::string_view reason) {
    bool was = live;
    live = false;
    count_free(cpu, pid, was, reason);
  }
  void sys_enter(int pid, std::string_view comm, int64_t nr, int64_t ts);
  void sys_exit(int cpu, int pid, int64_t nr, int64_t ts);
  // Flushes the inter-arrival reorder window; call once after the last event.
  void finish();
  // A source of a time (s) before which no more events will come (the
  // simulator's engine_clock): the reorder window then releases what lies
  // before it, asked every kWatermarkEvery netif_receive_skb, and holds
  // about one engine quantum of packets instead of kReorderWindow.  The same
  // times leave in the same order, so the metrics do not change; a trace
  // read from a file has no such source and keeps the window.
  static constexpr uint32_t kWatermarkEvery = 1024;
  void set_watermark(double (*clock)()) { watermark_ = clock; }

  const std::string& dev() const { return opt_.dev; }
  uint64_t packets() const { return packets_; }
  double duration_s() const;       // last - first netif_receive_skb on the device
  double throughput_mpps() const;  // (packets - 1) / duration_s / 1e6
  // The typical packet rate: 1 / median netif_receive_skb inter-arrival.
  // Unlike throughput_mpps (packets / span) it ignores preemption stalls and
  // the interference tails that, on a shared machine, move the span and the
  // mean from one capture to the next (by 2-77% and up to 20% here).  Read
  // from the binned distribution (bins 2.2% wide).
  double steady_mpps() const;
  const std::map<std::string, uint64_t, std::less<>>& drops() const { return drops_; }
  const Dist& write_ns() const { return write_ns_; }
  const Dist& softirq_net_rx_ns() const { return softirq_ns_; }
  const Dist& napi_poll_work() const { return napi_work_; }
  const Dist& packets_per_softirq() const { return pkts_per_softirq_; }
  const Dist& interarrival_ns() const { return interarrival_ns_; }
  // Per CPU that had any of the events counted.
  std::map<int, CpuCounts> per_cpu() const;
  uint64_t skipped_lines() const { return skipped_lines_; }
  uint64_t lost_events() const { return lost_events_; }
  // netif_receive_skb events that arrived later than the reorder window
  // allows (their inter-arrival was taken against a later packet).
  uint64_t out_of_order() const { return out_of_order_; }
  void set_parse_counts(uint64_t skipped, uint64_t lost) {
    skipped_lines_ = skipped;
    lost_events_ = lost;
  }

  // The "trace_metrics" object:
  // {"dev","duration_s","throughput_mpps","steady_mpps","packets","drops":{REASON:n},
  //  "write_ns","softirq_net_rx_ns","napi_poll_work","packets_per_softirq",
  //  "netif_receive_skb_interarrival_ns" (Dist::to_json each),
  //  "skipped_lines","lost_events","per_cpu":{"CPU":{...}}}
  nlohmann::json to_json() const;
  // Reads what to_json wrote (per_cpu, dev, steady_mpps and lost_events
  // optional); `where` names the file for errors (InputError).
  static TraceMetrics from_json(const nlohmann::json& j, const std::string& where);

  // Names of the distributions in the schema, in report order.
  static const std::vector<std::string>& dist_names();
  const Dist& dist(const std::string& name) const;

 private:
  struct SoftirqState {
    bool active = false;
    bool touched = false;
    int64_t start = 0;
    uint64_t packets = 0;
  };
  // Addresses of skbs received on the device and not yet freed: open
  // addressing, linear probing, backward-shift deletion.
  class AddrSet {
   public:
    void insert(uint64_t a);
    bool erase(uint64_t a);
   private:
    size_t slot(uint64_t a) const;
    std::vector<uint64_t> t_;  // 0 = empty (no skb lives at address 0)
    size_t n_ = 0;
    int shift_ = 64;  // 64 - log2(t_.size()): a slot is the hash's top bits
  };
  // pid -> the sys_enter ts of its write() in progress.  Open addressing
  // over every pid seen (a slot is kept, closed, when its write ends): a
  // vector of the open writes, searched and erased from at each event, cost
  // about 170 instructions a write() with eight writers inside write() at
  // once.
  class OpenWrites {
   public:
    void open(int pid, int64_t ts);
    bool is_open(int pid);  // a write() of pid in progress
    // Closes pid's write in progress: its sys_enter ts, or false when it has none.
    bool close(int pid, int64_t* ts);
   private:
    struct Slot {
      int pid = 0;
      bool used = false;  // pid's slot
      bool open = false;  // a write() of pid in progress since ts
      int64_t ts = 0;
    };
    Slot& find(int pid);  // pid's slot, or the empty one where it goes (t_ not empty)
    void grow();          // twice the slots (at least 16)
    std::vector<Slot> t_;  // a power of two slots, at most half used
    size_t n_ = 0;         // used slots
  };
  bool is_writer(int pid, std::string_view comm) const;
  CpuCounts& cpu(int c) {
    size_t i = static_cast<size_t>(c);
    if (i >= per_cpu_.size()) grow_cpus(i + 1);
    cpu_seen_[i] = 1;
    return per_cpu_[i];
  }
  SoftirqState& softirq(int c) {
    size_t i = static_cast<size_t>(c);
    if (i >= softirq_.size()) softirq_.resize(i + 1);
    return softirq_[i];
  }
  void grow_cpus(size_t n);
  // netif_receive_skb's counts: false (nothing counted) off the device.
  bool count_rx(int c, bool dev_match, int64_t ts);
  // kfree_skb's counts; `received`: the skb was received on the device and
  // not freed since.
  void count_free(int c, int pid, bool received, std::string_view reason);
  void rx_time(int64_t t);
  // The window's oldest time to the inter-arrivals.
  void release_rx() {
    int64_t x = rx_window_[rx_head_++];
    if (released_any_) interarrival_ns_.add(static_cast<double>(x - last_released_));
    last_released_ = x;
    released_any_ = true;
    if (rx_head_ >= kReorderWindow / 8) compact_rx();
  }
  void compact_rx();

  MetricsOptions opt_;
  uint64_t packets_ = 0;
  int64_t first_rx_ = 0, last_rx_ = 0;
  double duration_override_ = -1;  // set by from_json
  double throughput_override_ = -1;
  std::map<std::string, uint64_t, std::less<>> drops_;
  // The entry of drops_ the last kfree_skb counted: a model or trace frees
  // most skbs for one reason, and comparing it once costs less than the
  // map's descent.  A copy or a move of the metrics forgets it (the entry
  // belongs to the other map).
  struct LastDrop {
    std::map<std::string, uint64_t, std::less<>>::iterator it;
    bool valid = false;
    LastDrop() = default;
    LastDrop(const LastDrop&) {}
    LastDrop& operator=(const LastDrop&) {
      valid = false;
      return *this;
    }
  };
  LastDrop last_drop_;
  Dist write_ns_{Dist::Kind::Log};
  Dist softirq_ns_{Dist::Kind::Log};
  Dist napi_work_{Dist::Kind::Integer};
  Dist pkts_per_softirq_{Dist::Kind::Integer};
  Dist interarrival_ns_{Dist::Kind::Log};
  // netif_receive_skb times not yet turned into inter-arrivals, sorted;
  // the oldest leave once the window is full.  [rx_head_, end) is the
  // window; released times are dropped every kReorderWindow / 8, and the
  // capacity is reserved at the first time, so the vector never grows by
  // copying.  It used to grow by doubling and drop released times only
  // every kReorderWindow: each copy faulted in fresh pages, about 480 of
  // the 735 page faults of a 100 ms point in `tunsim batch` (docs/model.md,
  // "Speed").
  std::vector<int64_t> rx_window_;
  size_t rx_head_ = 0;
  int64_t last_released_ = 0;
  bool released_any_ = false;
  uint64_t out_of_order_ = 0;
  double (*watermark_)() = nullptr;
  uint32_t since_watermark_ = 0;
  std::vector<CpuCounts> per_cpu_;
  std::vector<char> cpu_seen_;
  std::vector<SoftirqState> softirq_;
  OpenWrites write_start_;
  AddrSet live_skbs_;
  uint64_t skipped_lines_ = 0, lost_events_ = 0;
  bool finished_ = false;
};

// The entries of the events every packet or poll has, inline: the simulator's
// recorder calls them from another file, and the call cost more than some
// of them do.
inline void TraceMetrics::softirq_exit(int c, int64_t ts) {
  SoftirqState& s = softirq(c);
  if (!s.active) return;  // entry before the trace
  if (s.touched && ts >= s.start) {
    softirq_ns_.add(static_cast<double>(ts - s.start));
    pkts_per_softirq_.add(static_cast<double>(s.packets));
    cpu(c).net_rx_softirqs++;
  }
  s.active = false;
}

inline void TraceMetrics::napi_poll(int c, bool dev_match, int work) {
  if (!dev_match) return;
  napi_work_.add(work);
  cpu(c).napi_polls++;
  if (SoftirqState& s = softirq(c); s.active) s.touched = true;
}

// A pid's home slot is its low bits: pids are handed out in sequence, so the
// few writers of a trace rarely share one, and no hash is computed.
inline TraceMetrics::OpenWrites::Slot& TraceMetrics::OpenWrites::find(int pid) {
  size_t mask = t_.size() - 1;
  size_t i = static_cast<size_t>(static_cast<uint32_t>(pid)) & mask;
  while (t_[i].used && t_[i].pid != pid) i = (i + 1) & mask;
  return t_[i];
}

inline void TraceMetrics::OpenWrites::open(int pid, int64_t ts) {
  if ((n_ + 1) * 2 > t_.size()) grow();
  Slot& s = find(pid);
  if (!s.used) {
    s.used = true;
    s.pid = pid;
    ++n_;
  }
  s.open = true;
  s.ts = ts;
}

inline bool TraceMetrics::OpenWrites::is_open(int pid) { return !t_.empty() && find(pid).open; }

inline bool TraceMetrics::OpenWrites::close(int pid, int64_t* ts) {
  if (t_.empty()) return false;
  Slot& s = find(pid);
  if (!s.open) return false;
  s.open = false;
  *ts = s.ts;
  return true;
}

// Every task is a writer unless the options name pids or a comm.
inline void TraceMetrics::sys_enter(int pid, std::string_view comm, int64_t nr, int64_t ts) {
  if (nr != opt_.write_nr || !((opt_.pids.empty() && opt_.comm.empty()) || is_writer(pid, comm))) return;
  write_start_.open(pid, ts);
}

inline void TraceMetrics::sys_exit(int c, int pid, int64_t nr, int64_t ts) {
  if (nr != opt_.write_nr) return;
  int64_t start;
  if (!write_start_.close(pid, &start)) return;
  if (ts >= start) {
    write_ns_.add(static_cast<double>(ts - start));
    cpu(c).writes++;
  }
}

inline bool TraceMetrics::count_rx(int c, bool dev_match, int64_t ts) {
  if (!dev_match) return false;
  if (packets_ == 0 || ts < first_rx_) first_rx_ = ts;
  if (packets_ == 0 || ts > last_rx_) last_rx_ = ts;
  packets_++;
  rx_time(ts);
  cpu(c).packets++;
  if (SoftirqState& s = softirq(c); s.active) {
    s.touched = true;
    s.packets++;
  }
  return true;
}

inline void TraceMetrics::netif_receive_skb(int c, bool dev_match, int64_t ts, uint64_t skbaddr) {
  if (count_rx(c, dev_match, ts)) live_skbs_.insert(skbaddr);
}

}  // namespace tunsim
