// The observation equations of the trace calibration and their least-squares fit.
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

#include "sim/tools/calibrate/intervals.hpp"
#include "sim/tools/calibrate/sidecar.hpp"

namespace tunsim::calib {

// Fitted parameters, in fit order.
enum Param { kSyscall, kTunGetUser, kSkbAlloc, kCopy, kLock, kNapiSchedule, kSoftirq, kNapiPoll,
             kGro, kNetifReceiveSkb, kStackDrop, kBridgeForward, kSoftirqEnter, kSoftirqLeave, kSkbFree,
             kParams };
const char* param_key(int p);       // "costs.syscall_ns"
double param_default(int p);        // the declared default (the model's params.cpp)

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
// The same with other priors than the defaults (by Param, each > 0): an
// identified sum is split in proportion to prior[p] times its coefficient
// (e.g. the sampled time of each path, capture-trace --perf-paths).
FitResult solve(const std::vector<Observation>& obs, const std::vector<double>& prior);

// printf-style formatting of one number.
std::string fmt(const char* f, double v);

// costs.spread.*: each sample of `v` divided by the median of `v`, appended
// to `out`.
void add_ratios(const std::vector<double>& v, std::vector<double>& out);
// The N quantiles at (i + 0.5) / N of `ratios` (linear interpolation between
// order statistics), rounded to 1e-3.
constexpr int kSpreadPoints = 16;
std::vector<double> spread_table(std::vector<double> ratios, int n);

}  // namespace tunsim::calib
