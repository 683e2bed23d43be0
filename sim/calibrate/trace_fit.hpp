// Calibration of the model's base costs from kernel traces:
// `tunsim calibrate TRACE... -o OUT` and `tunsim trace config SIDECAR`.
//
// Each single-writer trace (with its capture sidecar, docs/traces.md) gives a
// few observation equations: the median of an interval the simulator also
// traces (write() sys_enter..sys_exit, NET_RX softirq entry..exit,
// netif_receive_skb..kfree_skb) equals a sum of base costs (linear in them,
// coefficient = how often the model spends that cost inside the interval)
// plus the cache model's penalty for that interval.  The penalties are
// measured on the simulator itself (same scenario, default costs, cache on
// minus cache off); the same run checks that the equations still match the
// model's layout.  The system is solved by weighted least squares; costs
// the traces cannot separate follow the documented split convention
// (docs/traces.md, "Calibration from traces").
#pragma once
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
  int frame_bytes = 60;
  std::vector<int> cpus, tids;           // one per writer thread
  long long frames_written = 0;
  long long count_per_thread = 0;        // 0 = --duration capture
  double duration_s = 0;                 // requested --duration, 0 if none
  double elapsed_s = 0;
  int nr_cpus = 0;
  int hz = 0;                            // 0 = unknown
  std::string kernel, cpu_model, dev, date, tracer;
  double timestamp_resolution_ns = 1;
  double line_transfer_ns = -1;          // measured at capture (scripts/linexfer.c), -1 = not
  std::string label() const;             // "napi-60-1w" style
};

// PREFIX.trace[.gz] -> PREFIX.json.  Throws InputError when missing.
std::string sidecar_for_trace(const std::string& trace_path);
// Reads and checks a sidecar (format tunsim-capture/1).  Throws InputError.
Workload read_sidecar(const std::string& sidecar_path);

// The modelled kernel.version for a captured kernel release: the newest
// modelled version not after it ("6.18.44" -> "6.4", "6.1.0-26-amd64" -> "6.1").
std::string model_version_of(const std::string& release);

// The simulator scenario for a captured workload (`tunsim trace config`).
// calibration: "" for none, else the scenario's "calibration" value.
nlohmann::json scenario_for(const Workload& w, const std::string& calibration);

// cpus.speed for a capture: on each CPU that ran a writer, writer_user_ns (the
// calibration's median user-space time between writes, measured on the CPUs
// its traces ran on) / the median sys_exit -> sys_enter gap of the writers on
// that CPU in this capture; 1 on the other CPUs.  The gap runs no tun code and
// touches nothing the writers share, so it measures how fast the host ran
// each CPU during the capture.  Explains itself on `report`.
std::vector<double> cpu_speeds_for(const Workload& w, double writer_user_ns, std::ostream& report);

// Fitted parameters, in fit order.
enum Param { kSyscall, kTunGetUser, kSkbAlloc, kCopy, kLock, kNapiSchedule, kSoftirq, kNapiPoll,
             kGro, kNetifReceiveSkb, kStackDrop, kBridgeForward, kParams };
const char* param_key(int p);       // "costs.syscall_ns"
double param_default(int p);        // the schema default (sim/schema.cpp)

// One observation equation: value ~= sum coef[p] * x[p] + penalty.
struct Observation {
  std::string trace;     // workload label
  std::string name;      // "write_ns p50"
  std::vector<double> coef = std::vector<double>(kParams, 0.0);
  double value = 0;      // kernel median, ns
  double stderr_ns = 0;  // standard error of that median
  size_t samples = 0;
  double penalty = 0;    // cache model penalty inside the interval, ns
};

// Per-trace interval samples (ns) of the intervals the equations use.
struct Intervals {
  std::vector<double> write;    // write() of the workload's shape (see .cpp)
  std::vector<double> rx;       // netif_receive_skb -> kfree_skb of the same skb
  std::vector<double> softirq;  // NET_RX softirq with one poll of one packet
  std::vector<double> period;   // sys_enter -> next sys_enter of the same writer
  // sys_exit -> next sys_enter of the same writer, by the CPU it ran on: the
  // writer's user-space loop plus syscall exit/entry, no tun code.
  std::map<int, std::vector<double>> user_gap_by_cpu;
};
// Reads a trace and extracts the intervals of a single-writer workload.
// tids empty: every task's write() counts.  dev empty: any device.
Intervals extract_intervals(const std::string& trace_path, const Workload& w, bool use_tids);

// Median and its distribution-free standard error (95% order-statistic
// interval / 3.92), floored at q/sqrt(12), q = the larger of resolution_ns
// and the clock's effective quantum (median gap between adjacent clusters of
// values, values within 2 ns forming one cluster).  samples must be non-empty.
void robust_median(std::vector<double> v, double resolution_ns, double& median, double& se);

// The equations of one workload with the given interval samples (no penalty).
std::vector<Observation> observations_for(const Workload& w, const Intervals& iv);

struct FitResult {
  std::vector<int> params;                 // parameters present in some equation
  std::vector<double> value, stderr_ns;    // by Param (0 for absent ones)
  std::vector<bool> identified;            // by Param
  std::vector<int> pinned;                 // unidentified costs the split made negative: set to 0
  std::vector<std::string> combinations;   // identified linear combinations, readable
  std::vector<double> combination_value, combination_stderr;  // their fitted values
  std::vector<std::vector<double>> cov;    // covariance of the values, by Param x Param
  std::vector<double> residual;            // per observation: value - penalty - a.x
  double residual_rms_ns = 0, chi2 = 0;
  int rank = 0, dof = 0;
};

// Weighted least squares (weights 1/stderr^2) of the observations.  Among
// the solutions, the one closest to the defaults in the metric
// sum a_p (x_p - d_p)^2 / d_p (a_p: the parameter's smallest coefficient, 1
// for a cost, the frame size for copy_ns_per_byte): a sum the data identify
// is split in proportion to the defaults' contributions to it; an unidentified cost that split makes
// negative is pinned to 0 and the rest re-solved.  Standard errors from the
// pseudo-inverse, scaled by sqrt(chi2/dof) when that exceeds 1.
FitResult solve(const std::vector<Observation>& obs);

// Cache penalties of the equations of `w`, measured on the simulator
// `tunsim_bin`: the scenario with default costs, traced with the cache model
// on and off; penalty = median(on) - median(off).  Also checks that
// median(off) equals the equation's sum of default costs (else the model's
// layout changed and the equations are wrong: SimulationError).
void measure_penalties(const Workload& w, std::vector<Observation>& obs, const std::string& tunsim_bin,
                       std::ostream& report);

// The whole command: reads the traces and sidecars, fits, prints the report,
// writes the tunsim-calibration/1 file to out_path ("" = do not write).
// Returns the calibration JSON.
nlohmann::json calibrate_from_traces(const std::vector<std::string>& traces, const std::string& out_path,
                                     const std::string& name, const std::string& tunsim_bin,
                                     std::ostream& report);

}  // namespace tunsim::calib
