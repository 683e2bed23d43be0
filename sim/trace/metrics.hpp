// The metrics tunsim reports for a trace of the tun/tap receive path, the same
// for a kernel trace (`tunsim trace stats`), a simulated trace and the
// simulator's summary ("trace_metrics"), so that `tunsim diff` can compare
// any two of them.  Definitions are in docs/traces.md.
//
// Use: construct with the device (and optional writer filter), add() every
// event in trace order, then finish(); to_json() gives the "trace_metrics"
// object, from_json() reads it back.
#pragma once
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/stats/dist.hpp"
#include "sim/trace/parse.hpp"

namespace tunsim::trace {

struct MetricsOptions {
  std::string dev;             // the tap; empty = every device
  std::set<int> pids;          // writer tasks for write_ns; empty = every task
  std::string comm;            // writer task name for write_ns; empty = any
  int64_t write_nr = 1;        // syscall number of write() (x86_64: 1)
};

struct CpuCounts {
  uint64_t packets = 0;          // netif_receive_skb on the device
  uint64_t napi_polls = 0;       // napi_poll on the device
  uint64_t net_rx_softirqs = 0;  // NET_RX softirqs that handled the device
  uint64_t writes = 0;           // completed write() of the writer tasks
  uint64_t drops = 0;            // kfree_skb attributed to the workload
};

class TraceMetrics {
 public:
  explicit TraceMetrics(MetricsOptions opt = {});

  void add(const TraceEvent& ev);
  // Computes the inter-arrival distribution; call once after the last event.
  void finish();

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
  const std::map<std::string, uint64_t>& drops() const { return drops_; }
  const Dist& write_ns() const { return write_ns_; }
  const Dist& softirq_net_rx_ns() const { return softirq_ns_; }
  const Dist& napi_poll_work() const { return napi_work_; }
  const Dist& packets_per_softirq() const { return pkts_per_softirq_; }
  const Dist& interarrival_ns() const { return interarrival_ns_; }
  const std::map<int, CpuCounts>& per_cpu() const { return per_cpu_; }
  uint64_t skipped_lines() const { return skipped_lines_; }
  uint64_t lost_events() const { return lost_events_; }
  void set_parse_report(const ParseReport& r) {
    skipped_lines_ = r.skipped;
    lost_events_ = r.lost_events;
  }

  // The "trace_metrics" object:
  // {"dev","duration_s","throughput_mpps","packets","drops":{REASON:n},
  //  "write_ns","softirq_net_rx_ns","napi_poll_work","packets_per_softirq",
  //  "netif_receive_skb_interarrival_ns" (Dist::to_json each),
  //  "skipped_lines","lost_events","per_cpu":{"CPU":{...}}}
  nlohmann::json to_json() const;
  // Reads what to_json wrote (per_cpu, dev and lost_events optional); `where`
  // names the file for errors (InputError).
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
  bool on_dev(const std::string& d) const { return opt_.dev.empty() || d == opt_.dev; }
  bool is_writer(const TraceEvent& ev) const;

  MetricsOptions opt_;
  uint64_t packets_ = 0;
  int64_t first_rx_ = 0, last_rx_ = 0;
  double duration_override_ = -1;  // set by from_json
  double throughput_override_ = -1;
  std::map<std::string, uint64_t> drops_;
  Dist write_ns_{Dist::Kind::Log};
  Dist softirq_ns_{Dist::Kind::Log};
  Dist napi_work_{Dist::Kind::Integer};
  Dist pkts_per_softirq_{Dist::Kind::Integer};
  Dist interarrival_ns_{Dist::Kind::Log};
  std::vector<int64_t> rx_times_;
  std::map<int, CpuCounts> per_cpu_;
  std::map<int, SoftirqState> softirq_;
  std::unordered_map<int, int64_t> write_start_;   // pid -> sys_enter ts
  std::unordered_set<uint64_t> live_skbs_;         // received on the device, not yet freed
  uint64_t skipped_lines_ = 0, lost_events_ = 0;
  bool finished_ = false;
};

// Counts netif_receive_skb events per device: the default device of
// `trace stats` is the one with the most.
std::map<std::string, uint64_t> count_devices(const std::string& text, const std::string& name,
                                              bool lenient);

// Parses a trace file and computes its metrics.  When opt.dev is empty the
// device with the most netif_receive_skb events is chosen (InputError when
// the trace has none).  `report` (optional) receives the parse counts.
TraceMetrics metrics_from_trace_file(const std::string& path, MetricsOptions opt, bool lenient,
                                     ParseReport* report = nullptr);
// The same for trace text already read from `path` (named in errors).
TraceMetrics metrics_from_trace_text(const std::string& text, const std::string& path, MetricsOptions opt,
                                     bool lenient, ParseReport* report = nullptr);

}  // namespace tunsim::trace
