// Capture sidecars (format tunsim-capture/1, docs/traces.md): which workload
// a kernel trace is.
#pragma once
#include <cstddef>
#include <iosfwd>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace tunsim::calib {

// A captured workload, from the `tunsim-capture/1` sidecar.
struct Workload {
  std::string sidecar_path, trace_path;  // trace_path "" when not known
  std::string mode;                      // plain | napi
  bool bridge = false;
  bool threaded = false;                 // NAPI polled by its kthread (capture-trace --threaded)
  int napi_thread_cpu = -1;              // the CPU that kthread was pinned to; -1 = not threaded
  std::vector<int> rps_cpus;             // RPS mask of the tap's rx queue (capture-trace --rps-cpus); empty = off
  bool slab_events = false;              // the skb caches' kmem events traced too (capture-trace --slab-events)
  int frame_bytes = 60;
  std::vector<int> cpus, tids;           // one per writer thread
  long long frames_written = 0;
  long long count_per_thread = 0;        // 0 = --duration capture
  double duration_s = 0;                 // requested --duration, 0 if none
  double elapsed_s = 0;
  int nr_cpus = 0;
  int hz = 0;                            // 0 = unknown
  std::string kernel, cpu_model, dev, date, tracer;
  std::string cpu_signature;             // "VENDOR family F model M" (sim/tools/calibrate/cpu_id.hpp), "" = unknown
  double timestamp_resolution_ns = 1;
  double line_transfer_ns = -1;          // measured at capture (scripts/linexfer.c), -1 = not
  double line_burst_ns = -1;             // per line of a 6-line burst (linexfer --lines 6), -1 = not measured
  double line_move_ns = -1;              // one move of a line the other CPU wrote (scripts/machine/remotermw.c), -1 = not
  double skb_remote_walk_ns = -1;        // a line of a walk of skbs the other CPU wrote (skbwalk.c --writer-cpu), -1 = not
  // The wake-up of a sleeper on the idle other CPU, measured at capture
  // (scripts/machine/wakeup.c, p10; all three or none): the waker's cost,
  // the latency from before its call to the sleeper in user space, and a
  // FUTEX_WAKE that wakes nobody.  -1 = not measured.
  double wakeup_waker_ns = -1, wakeup_latency_ns = -1, wakeup_no_waiter_ns = -1;
  // The time a writer CPU loses to what no trace shows (scripts/machine/stall.c
  // at capture: cpus.stall): the period, and its per-period quantile table
  // (empty = not measured).
  double stall_period_us = -1;
  std::vector<double> stall_ns;
  // The most quantiles a stall table has: stall.c's --quantiles bound (its
  // default, 1000), for the capture's sidecar and the machine file alike.
  static constexpr size_t kStallQuantilesMax = 1000;
  // cpus.stall.partner from a pair record: one slot a window (100 s of 1 ms windows).
  static constexpr size_t kStallPartnerMax = 100000;
  bool wakeup_measured() const { return wakeup_waker_ns > 0 && wakeup_latency_ns > 0 && wakeup_no_waiter_ns > 0; }
  // Whether the workload wakes a thread on a CPU no writer uses (the
  // threaded NAPI's kthread, an RPS target): what the wake-up costs apply to.
  bool wakes_other_cpu() const;
  // capture-trace --perf-paths (scripts/perf-paths): the workload tasks'
  // sampled time per frame by cost path ("costs.gro_ns" -> ns per frame and
  // samples); empty when not sampled.  One sample is worth
  // perf_sample_ns_per_frame.
  struct PerfPath {
    double ns_per_frame = 0;
    long long samples = 0;
    double events_ns_per_frame = 0;  // the part spent recording trace events
  };
  std::map<std::string, PerfPath> perf_paths;
  double perf_sample_ns_per_frame = 0;
  bool described = false;                // described on the command line (capture.hpp), not only by a sidecar
  std::string label() const;             // "napi-60-1w" style
  // What costs.cacheline_transfer_ns is for this capture: one move of a
  // line (remotermw, line_move_ns) when measured; else half of linexfer's
  // handoff, which is two moves (the reader's miss, then the writer's
  // upgrade: docs/calibration.md); -1 when neither was measured.
  double move_ns() const {
    if (line_move_ns > 0) return line_move_ns;
    return line_transfer_ns > 0 ? line_transfer_ns / 2 : -1;
  }
  // Where move_ns() comes from, for reports.
  const char* move_source() const {
    return line_move_ns > 0 ? "remotermw: one move of a line the other CPU wrote"
                            : "linexfer's handoff / 2 (a handoff is two moves)";
  }
  // Where the description comes from, for messages: the sidecar, or the trace.
  std::string origin() const;
};

// A writer thread given again: the index of the first entry of tids before
// i that equals tids[i], or tids.size() when none does.  One thread listed
// twice was simulated as two writers, so the sidecar's threads and the
// command line's --writers refuse it (each with its own message).
size_t earlier_tid(const std::vector<int>& tids, size_t i);

// The largest sidecar read (capture-trace writes about 1 KB).
constexpr size_t kMaxSidecarBytes = size_t(1) << 20;

// PREFIX.trace[.gz] -> PREFIX.json.  Throws InputError when missing.
std::string sidecar_for_trace(const std::string& trace_path);
// Reads and checks a sidecar (format tunsim-capture/1; "-" = standard
// input).  Throws InputError.
Workload read_sidecar(const std::string& sidecar_path);
// The same for a sidecar's text read from `path` (its trace_file is
// relative to that path's folder).
Workload read_sidecar_text(const std::string& text, const std::string& path);

}  // namespace tunsim::calib
