// The intervals of a single-writer trace the calibration's equations use.
#pragma once
#include <cstdint>
#include <iosfwd>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/tools/calibrate/sidecar.hpp"

namespace tunsim::calib {

// Per-trace interval samples (ns) of the intervals the equations use.
struct Intervals {
  std::vector<double> write;    // write() of the workload's shape (see .cpp)
  std::vector<double> rx;       // netif_receive_skb -> kfree_skb of the same skb
  std::vector<double> softirq;  // NET_RX softirq with one poll of one packet
  std::vector<double> period;   // sys_enter -> next sys_enter of the same writer
  // Parts of the writes counted in `write`.  IFF_NAPI: sys_enter -> the
  // write's softirq_raise (NET_RX), that raise -> its softirq_entry, its
  // softirq_exit -> sys_exit.  Plain: kfree_skb of the write's skb ->
  // sys_exit.
  std::vector<double> to_raise, raise_to_entry, exit_to_exit, free_to_exit;
  // sys_exit -> next sys_enter of the same writer, by the CPU it ran on: the
  // writer's user-space loop plus syscall exit/entry, no tun code.  Only
  // gaps in which the writer was not switched out (no sched_switch from it):
  // with threaded NAPI on the writer's CPU the kthread woken by the write
  // runs there, at the write's return, inside about half the gaps.
  std::map<int, std::vector<double>> user_gap_by_cpu;
  // Gaps left out of user_gap_by_cpu because the writer was switched out.
  std::map<int, size_t> switched_gaps_by_cpu;
  // With tids: each writer thread's first appearance in the trace, ns: its
  // first sched_wakeup or sched_switch to it, or its own first event (the
  // threads sleep at tapwriter's go barrier when tracing starts).
  std::map<int, int64_t> first_seen_ns;
  // With tids: each writer thread's earliest sched_switch to it, ns (when it
  // first ran).
  std::map<int, int64_t> first_run_ns;
  int64_t resolution_ns = 1;  // of the trace's timestamps (ParseReport::resolution_ns)
};

// The coarsest timestamp resolution the fits accept without being told:
// write() and softirq intervals are about 1000 ns, so microsecond
// timestamps (the tracefs `trace` file, plain `trace-cmd report`, plain
// `perf script`) move their medians by tens of ns (991 against 929 ns).
constexpr double kFinestRequiredNs = 10;

// m[key] becomes the earlier of its value and t (t when key is not there).
inline void keep_earliest(std::map<int, int64_t>& m, int key, int64_t t) {
  auto [it, fresh] = m.try_emplace(key, t);  // no node made when key is there
  if (!fresh && t < it->second) it->second = t;
}
// Throws InputError naming the trace unless resolution_ns <= kFinestRequiredNs
// or `allow`; `what` is the measurement refused.
void check_resolution(const std::string& trace, double resolution_ns, bool allow, const std::string& what);
// Reads a trace and extracts the intervals of a single-writer workload.
// tids empty: every task's write() counts.  dev empty: any device.
Intervals extract_intervals(const std::string& trace_path, const Workload& w, bool use_tids);

// Median and its distribution-free standard error (95% order-statistic
// interval / 3.92), floored at q/sqrt(12), q = the larger of resolution_ns
// and the clock's effective quantum (median gap between adjacent clusters of
// values, values within 2 ns forming one cluster).  samples must be non-empty.
void robust_median(std::vector<double> v, double resolution_ns, double& median, double& se);

}  // namespace tunsim::calib
