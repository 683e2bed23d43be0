#include "sim/tools/calibrate/intervals.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <ostream>
#include <set>
#include <sstream>

#include "sim/io/errors.hpp"
#include "sim/io/files.hpp"
#include "sim/io/json.hpp"
#include "sim/tools/trace/parse.hpp"

namespace tunsim::calib {

using nlohmann::json;
namespace fs = std::filesystem;

Intervals extract_intervals(const std::string& trace_path, const Workload& w, bool use_tids) {
  std::set<int> tids;
  if (use_tids) tids.insert(w.tids.begin(), w.tids.end());
  struct WriteState {
    int64_t enter = -1;
    int64_t last_enter = -1;
    int64_t last_exit = -1;
    bool switched_out = false;  // since last_exit (sched_switch from the writer)
    int netif = 0, softirq_ok = 0, softirq_other = 0;
    // In the current write: NET_RX raised, its first softirq_entry, its
    // last softirq_exit, the last kfree_skb (-1: none).
    int64_t raise = -1, sirq_entry = -1, sirq_exit = -1, kfree = -1;
  };
  struct CpuState {
    int64_t sirq_entry = -1;
    int netif = 0, polls = 0, work = 0;
    uint64_t rx_skb = 0;
    int64_t rx_ts = -1;
    int rx_pid = -1;
  };
  std::map<int, WriteState> ws;
  std::map<int, CpuState> cs;
  Intervals iv;
  const std::string& dev = use_tids ? w.dev : std::string();
  auto on_dev = [&](const TraceEvent& e) { return dev.empty() || e.dev == dev; };
  auto seen = [&](int pid, int64_t ts) {
    if (tids.count(pid)) keep_earliest(iv.first_seen_ns, pid, ts);
  };
  trace::ParseReport rep = trace::parse_trace_file(trace_path, false, [&](const TraceEvent& e) {
    if (!tids.empty()) {
      seen(e.pid, e.ts_ns);
      if (e.name == "sched_wakeup" || e.name == "sched_switch") seen(e.other_pid, e.ts_ns);
      if (e.name == "sched_switch" && tids.count(e.other_pid)) keep_earliest(iv.first_run_ns, e.other_pid, e.ts_ns);
    }
    switch (e.type) {
      case EventType::SysEnter: {
        if (e.nr != 1 || (!tids.empty() && !tids.count(e.pid))) return;
        WriteState& s = ws[e.pid];
        if (s.last_enter >= 0) iv.period.push_back(static_cast<double>(e.ts_ns - s.last_enter));
        if (s.last_exit >= 0) {
          if (s.switched_out)
            ++iv.switched_gaps_by_cpu[e.cpu];
          else
            iv.user_gap_by_cpu[e.cpu].push_back(static_cast<double>(e.ts_ns - s.last_exit));
        }
        s.switched_out = false;
        s.last_enter = e.ts_ns;
        s.enter = e.ts_ns;
        s.netif = s.softirq_ok = s.softirq_other = 0;
        s.raise = s.sirq_entry = s.sirq_exit = s.kfree = -1;
        return;
      }
      case EventType::SysExit: {
        if (e.nr != 1) return;
        auto it = ws.find(e.pid);
        if (it == ws.end() || it->second.enter < 0) return;
        WriteState& s = it->second;
        bool shape = w.mode == "napi" ? (s.softirq_ok == 1 && s.softirq_other == 0 && s.netif == 1)
                                      : (s.softirq_ok == 0 && s.softirq_other == 0 && s.netif == 1);
        if (shape && e.ret == w.frame_bytes) {
          iv.write.push_back(static_cast<double>(e.ts_ns - s.enter));
          if (w.mode == "napi") {
            if (s.raise >= s.enter && s.sirq_entry >= s.raise && s.sirq_exit >= s.sirq_entry) {
              iv.to_raise.push_back(static_cast<double>(s.raise - s.enter));
              iv.raise_to_entry.push_back(static_cast<double>(s.sirq_entry - s.raise));
              iv.exit_to_exit.push_back(static_cast<double>(e.ts_ns - s.sirq_exit));
            }
          } else if (s.kfree >= s.enter) {
            iv.free_to_exit.push_back(static_cast<double>(e.ts_ns - s.kfree));
          }
        }
        s.enter = -1;
        s.last_exit = e.ts_ns;
        s.switched_out = false;
        return;
      }
      case EventType::SoftirqEntry: {
        if (e.vec != 3) return;
        CpuState& c = cs[e.cpu];
        c.sirq_entry = e.ts_ns;
        c.netif = c.polls = c.work = 0;
        auto it = ws.find(e.pid);
        if (it != ws.end() && it->second.enter >= 0 && it->second.sirq_entry < 0) it->second.sirq_entry = e.ts_ns;
        return;
      }
      case EventType::SoftirqExit: {
        if (e.vec != 3) return;
        CpuState& c = cs[e.cpu];
        if (c.sirq_entry < 0) return;
        bool ok = c.netif == 1 && c.polls == 1 && c.work == 1;
        if (ok) iv.softirq.push_back(static_cast<double>(e.ts_ns - c.sirq_entry));
        auto it = ws.find(e.pid);
        if (it != ws.end() && it->second.enter >= 0) {
          (ok ? it->second.softirq_ok : it->second.softirq_other)++;
          it->second.sirq_exit = e.ts_ns;
        }
        c.sirq_entry = -1;
        return;
      }
      case EventType::NapiPoll: {
        if (!on_dev(e)) return;
        CpuState& c = cs[e.cpu];
        if (c.sirq_entry >= 0) {
          ++c.polls;
          c.work += e.work;
        }
        return;
      }
      case EventType::NetifReceiveSkb: {
        if (!on_dev(e)) return;
        CpuState& c = cs[e.cpu];
        if (c.sirq_entry >= 0) ++c.netif;
        c.rx_skb = e.skbaddr;
        c.rx_ts = e.ts_ns;
        c.rx_pid = e.pid;
        auto it = ws.find(e.pid);
        if (it != ws.end() && it->second.enter >= 0) ++it->second.netif;
        return;
      }
      case EventType::SoftirqRaise: {
        if (e.vec != 3) return;
        auto it = ws.find(e.pid);
        if (it != ws.end() && it->second.enter >= 0 && it->second.raise < 0) it->second.raise = e.ts_ns;
        return;
      }
      case EventType::KfreeSkb: {
        auto wt = ws.find(e.pid);
        if (wt != ws.end() && wt->second.enter >= 0) wt->second.kfree = e.ts_ns;
        CpuState& c = cs[e.cpu];
        if (c.rx_ts >= 0 && e.skbaddr == c.rx_skb && e.pid == c.rx_pid)
          iv.rx.push_back(static_cast<double>(e.ts_ns - c.rx_ts));
        c.rx_ts = -1;
        return;
      }
      default:
        // sched_switch is the switched-out task's event (its pid is prev's).
        if (e.name == "sched_switch") {
          auto it = ws.find(e.pid);
          if (it != ws.end() && it->second.enter < 0) it->second.switched_out = true;
        }
        return;
    }
  });
  iv.resolution_ns = rep.resolution_ns();
  return iv;
}

void check_resolution(const std::string& trace, double resolution_ns, bool allow, const std::string& what) {
  if (allow || resolution_ns <= kFinestRequiredNs) return;
  char res[32];
  std::snprintf(res, sizeof res, "%.0f", resolution_ns);
  throw InputError(printable(trace, 200) + ": expected timestamps resolving " + std::to_string(int(kFinestRequiredNs)) +
                   " ns or better to " + what + ", found a resolution of " + res +
                   " ns (microseconds: the tracefs trace file, plain trace-cmd report or perf script); record "
                   "nanoseconds (trace-cmd report -t, perf script --ns, or give the trace.dat) or pass "
                   "--allow-coarse-timestamps");
}

void robust_median(std::vector<double> v, double resolution_ns, double& median, double& se) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  median = n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
  // Ranks of the distribution-free 95% confidence interval of the median:
  // n/2 -+ 1.96 sqrt(n)/2 (normal approximation of the binomial).
  double h = 0.98 * std::sqrt(static_cast<double>(n));
  long lo = static_cast<long>(std::floor(n / 2.0 - h)), hi = static_cast<long>(std::ceil(n / 2.0 + h));
  lo = std::max(0L, lo);
  hi = std::min(static_cast<long>(n) - 1, hi);
  se = (v[static_cast<size_t>(hi)] - v[static_cast<size_t>(lo)]) / 3.92;
  // The clock may tick coarser than the printed resolution (about 10 ns on a
  // VM whose trace clock prints ns: intervals of 90, 91, 100, 101, 110 ns):
  // the effective quantum is the median gap between adjacent clusters of
  // values over the whole sample, values within 2 ns of each other (the ns
  // rounding of one tick) forming one cluster.
  std::vector<double> gaps;
  double cluster = v[0];
  for (size_t i = 1; i < n; ++i) {
    if (v[i] - v[i - 1] <= 2) continue;
    gaps.push_back(v[i] - cluster);
    cluster = v[i];
  }
  double quantum = std::max(resolution_ns, 1.0);
  if (!gaps.empty()) {
    std::nth_element(gaps.begin(), gaps.begin() + static_cast<long>(gaps.size() / 2), gaps.end());
    quantum = std::max(quantum, gaps[gaps.size() / 2]);
  }
  se = std::max(se, quantum / std::sqrt(12.0));
}
}  // namespace tunsim::calib
