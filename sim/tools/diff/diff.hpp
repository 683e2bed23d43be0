// `tunsim diff`: compares the trace metrics of two sources (kernel trace,
// simulated trace, summary JSON) metric by metric against tolerances.
#pragma once
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "models/trace/metrics.hpp"
#include "sim/tools/trace/parse.hpp"

namespace tunsim::trace {

using tunsim::Dist;
using tunsim::MetricsOptions;
using tunsim::TraceMetrics;

// Tolerances.  Scalars (duration_s, throughput_mpps, packets, drops.REASON):
// a bound on |B - A| / |A|.  Distributions: keys "ks" (bound on the KS
// statistic), "wasserstein" (bound in the metric's unit), "mean", "p50",
// "p99" (relative bounds).  File form:
//   {"throughput_mpps": 0.10, "napi_poll_work": {"ks": 0.2, "p50": 0.05}}
// Command-line form: "throughput_mpps=0.1", "napi_poll_work.ks=0.2", or
// "napi_poll_work=0.2" (a bare number on a distribution is its KS bound).
struct Tolerances {
  std::map<std::string, double> scalar;
  std::map<std::string, std::map<std::string, double>> dist;
  std::optional<double> ks_max;  // KS bound for every distribution without one

  void add_file(const std::string& path);
  void add_spec(const std::string& spec);  // one --tol argument
  // --ks-max VALUE: a bound as --tol's (NaN or a negative one is an error,
  // not "no bound").
  void set_ks_max(const std::string& value);
};

struct ScalarRow {
  std::string name;
  double a = 0, b = 0, rel_err = 0;
  std::optional<double> tol;
  bool ok = true;
};

struct DistRow {
  std::string name;
  Dist a, b;
  double ks = 0, wasserstein = 0;
  std::map<std::string, double> tol;   // key -> bound (after ks_max applied)
  std::vector<std::string> failed;     // keys out of tolerance
  bool ok = true;
};

struct DiffResult {
  std::string a_label, b_label;
  std::vector<ScalarRow> scalars;
  std::vector<DistRow> dists;
  bool pass = true;

  // Metrics that had a tolerance (0: nothing was checked).
  size_t checked() const;
  nlohmann::json to_json() const;
  std::string table() const;
};

// Relative error (b - a) / |a|; 0 when both are 0, +inf when only a is 0.
double relative_error(double a, double b);

DiffResult diff_metrics(const TraceMetrics& a, const TraceMetrics& b, const Tolerances& tol,
                        const std::string& a_label, const std::string& b_label);

// The largest summary or trace_metrics JSON read (a summary is ~100 KB).
constexpr size_t kMaxSummaryBytes = size_t(16) << 20;

// Loads the metrics of a diff operand: a summary JSON (object with
// "trace_metrics"), a bare trace_metrics object, or else a trace file.
// `kind` (optional) receives "summary", "trace_metrics" or "trace", and
// `report` (optional) a trace's parse counts.  "-" is standard input.
TraceMetrics load_metrics(const std::string& path, const MetricsOptions& opt, bool lenient,
                          std::string* kind = nullptr, trace::ParseReport* report = nullptr);

// A PNG or SVG (by out_path's extension) of the overlaid CDFs of every
// distribution with samples on both sides, made by /usr/bin/python3 and
// scripts/plot-cdf.py (matplotlib) in a temporary file: its bytes, for the
// caller to write to out_path as any other output (sim/io/files.hpp).
// Throws InputError on failure.
std::string plot_cdfs(const DiffResult& r, const std::string& out_path);
// out_path's extension is one plot_cdfs makes (InputError if not).
void check_plot_path(const std::string& out_path);

}  // namespace tunsim::trace
