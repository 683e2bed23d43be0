// `tunsim trace stats FILE`, `tunsim trace config SIDECAR`, `tunsim diff A B`
// and `tunsim calibrate` (see docs/traces.md).
#include <cstdio>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

#include <filesystem>
#include <iostream>

#include "sim/cli/commands.hpp"
#include "sim/io/errors.hpp"
#include "sim/io/files.hpp"
#include "sim/io/json.hpp"
#include "sim/io/process.hpp"
#include "sim/tools/calibrate/scenario.hpp"
#include "sim/tools/calibrate/trace_fit.hpp"
#include "sim/tools/diff/diff.hpp"
#include "sim/tools/kmod/kmod_fit.hpp"
#include "sim/tools/trace/stats.hpp"

namespace tunsim {
namespace {

using tunsim::TraceMetrics;

std::string num(double v, const char* f = "%.6g") {
  char b[64];
  std::snprintf(b, sizeof b, f, v);
  return b;
}

std::string stats_table(const std::string& path, const TraceMetrics& m, const trace::ParseReport& rep) {
  std::ostringstream o;
  char line[256];
  o << "trace:   " << path << " (" << rep.lines << " lines, " << rep.events << " events";
  if (rep.skipped) o << ", " << rep.skipped << " malformed lines skipped; first: " << rep.first_skipped;
  o << ")\n";
  if (rep.lost_events) o << "WARNING: the tracer lost " << rep.lost_events << " events\n";
  o << "device:  " << m.dev() << "\n\n";
  std::snprintf(line, sizeof line, "%-20s %s\n", "packets", std::to_string(m.packets()).c_str());
  o << line;
  std::snprintf(line, sizeof line, "%-20s %s\n", "duration_s", num(m.duration_s()).c_str());
  o << line;
  std::snprintf(line, sizeof line, "%-20s %s\n", "throughput_mpps", num(m.throughput_mpps()).c_str());
  o << line;
  std::snprintf(line, sizeof line, "%-20s %s\n", "steady_mpps", num(m.steady_mpps()).c_str());
  o << line;
  if (m.drops().empty()) o << "drops                none\n";
  for (auto& [r, n] : m.drops()) {
    std::snprintf(line, sizeof line, "drops.%-14s %llu\n", r.c_str(), static_cast<unsigned long long>(n));
    o << line;
  }
  o << "\n";
  std::snprintf(line, sizeof line, "%-34s %8s %10s %10s %10s %10s %10s %10s\n", "distribution",
                "count", "mean", "min", "p50", "p90", "p99", "max");
  o << line;
  for (const auto& name : TraceMetrics::dist_names()) {
    const Dist& d = m.dist(name);
    std::snprintf(line, sizeof line, "%-34s %8llu %10s %10s %10s %10s %10s %10s\n", name.c_str(),
                  static_cast<unsigned long long>(d.count()), num(d.mean(), "%.4g").c_str(),
                  num(d.min(), "%.4g").c_str(), num(d.quantile(0.5), "%.4g").c_str(),
                  num(d.quantile(0.9), "%.4g").c_str(), num(d.quantile(0.99), "%.4g").c_str(),
                  num(d.max(), "%.4g").c_str());
    o << line;
  }
  o << "\n";
  std::snprintf(line, sizeof line, "%-6s %10s %10s %16s %10s %10s\n", "cpu", "packets", "napi_polls",
                "net_rx_softirqs", "writes", "drops");
  o << line;
  for (auto& [cpu, c] : m.per_cpu()) {
    std::snprintf(line, sizeof line, "%-6d %10llu %10llu %16llu %10llu %10llu\n", cpu,
                  static_cast<unsigned long long>(c.packets),
                  static_cast<unsigned long long>(c.napi_polls),
                  static_cast<unsigned long long>(c.net_rx_softirqs),
                  static_cast<unsigned long long>(c.writes), static_cast<unsigned long long>(c.drops));
    o << line;
  }
  return o.str();
}

struct StatsArgs {
  std::string file, dev, comm, out;
  std::vector<int> pids;
  int64_t write_nr = 1;
  bool lenient = false, json = false;
};

struct ConfigArgs {
  std::string sidecar, out, calibration;
  bool uniform_speed = false;
};

// costs.writer_user_ns of a calibration file, or -1 when it has none.
double calibrated_writer_user_ns(const std::string& path) {
  nlohmann::json c = read_json_file(path, size_t(16) << 20);
  const nlohmann::json* v = nullptr;
  if (c.is_object() && c.contains("parameters") && c["parameters"].is_object() &&
      c["parameters"].contains("costs.writer_user_ns"))
    v = &c["parameters"]["costs.writer_user_ns"];
  if (!v || !v->is_object() || !v->contains("value") || !(*v)["value"].is_number()) return -1;
  double x = (*v)["value"].get<double>();
  return x > 0 ? x : -1;
}

struct CalibrateArgs {
  std::vector<std::string> traces;
  std::string out, name, kmod, machine;
};

// --calibration NAME for a generated scenario: a path (contains '/' or ends
// in .json) is made absolute so that the scenario works wherever it is
// written; a bare NAME whose configs/calibration/NAME.json exists under the
// current directory becomes that file's absolute path; anything else is kept.
std::string resolve_calibration(const std::string& name) {
  namespace fs = std::filesystem;
  if (name.empty()) return name;
  bool is_path = name.find('/') != std::string::npos ||
                 (name.size() > 5 && name.compare(name.size() - 5, 5, ".json") == 0);
  if (is_path) {
    if (!fs::exists(name)) throw InputError("--calibration: " + name + ": no such file");
    return fs::absolute(name).lexically_normal().string();
  }
  fs::path p = fs::path("configs") / "calibration" / (name + ".json");
  if (fs::exists(p)) return fs::absolute(p).lexically_normal().string();
  return name;
}

struct DiffArgs {
  std::string a, b, dev, tol_file, plot, out;
  std::vector<std::string> tols;
  double ks_max = -1;
  bool lenient = false, json = false;
};

}  // namespace

void register_trace_commands(CLI::App& app, int& exit_code) {
  auto* tr = app.add_subcommand("trace", "Kernel trace tools (see docs/traces.md)");
  tr->require_subcommand(1);
  auto sa = std::make_shared<StatsArgs>();
  auto* stats = tr->add_subcommand(
      "stats", "Metrics of a kernel or simulated trace (ftrace, trace-cmd report, perf script; .gz ok)");
  stats->add_option("FILE", sa->file, "trace file")->required();
  stats->add_option("--dev", sa->dev, "device (default: the one with most netif_receive_skb events)");
  stats->add_option("--pid", sa->pids, "writer task ids whose write() calls are timed, comma separated or repeated (default: all)")
      ->delimiter(',');
  stats->add_option("--comm", sa->comm, "writer task name whose write() calls are timed (default: any)");
  stats->add_option("--write-nr", sa->write_nr, "syscall number of write() (default 1, x86_64)");
  stats->add_flag("--lenient", sa->lenient, "skip and count malformed lines instead of failing");
  stats->add_flag("--json", sa->json, "print the trace_metrics JSON object");
  stats->add_option("-o,--output", sa->out, "write the output to this file instead of stdout");
  stats->callback([sa] {
    MetricsOptions opt;
    opt.dev = sa->dev;
    opt.pids.insert(sa->pids.begin(), sa->pids.end());
    opt.comm = sa->comm;
    opt.write_nr = sa->write_nr;
    trace::ParseReport rep;
    TraceMetrics m = trace::metrics_from_trace_file(sa->file, opt, sa->lenient, &rep);
    std::string text = sa->json ? dump_json(m.to_json()) + "\n" : stats_table(sa->file, m, rep);
    write_file_atomic(sa->out.empty() ? "-" : sa->out, text);
  });

  auto ca = std::make_shared<ConfigArgs>();
  auto* tconf = tr->add_subcommand(
      "config", "Print the simulator scenario of a captured workload (from its capture sidecar)");
  tconf->add_option("SIDECAR", ca->sidecar, "capture sidecar PREFIX.json (or the trace beside it)")->required();
  tconf->add_option("-o,--output", ca->out, "write the scenario to this file instead of stdout");
  tconf->add_option("--calibration", ca->calibration,
                    "calibration NAME (configs/calibration/NAME.json) or path to put in the scenario; when it "
                    "has costs.writer_user_ns, cpus.speed is set from the capture's writer user time per CPU");
  tconf->add_flag("--uniform-speed", ca->uniform_speed,
                  "leave cpus.speed out: every CPU as fast as the calibration's");
  tconf->callback([ca] {
    std::string side = ca->sidecar;
    if (side.size() < 5 || side.compare(side.size() - 5, 5, ".json") != 0) side = calib::sidecar_for_trace(side);
    calib::Workload w = calib::read_sidecar(side);
    std::string cal = resolve_calibration(ca->calibration);
    nlohmann::json s = calib::scenario_for(w, cal);
    double user_ns = ca->uniform_speed || cal.empty() || !std::filesystem::exists(cal)
                         ? -1 : calibrated_writer_user_ns(cal);
    if (user_ns > 0) {
      std::ostringstream why;
      std::vector<double> speed = calib::cpu_speeds_for(w, user_ns, why);
      s["cpus"]["speed"] = speed;
      s["description"] = s["description"].get<std::string>() +
                         " cpus.speed: each writer CPU's speed during the capture, the calibration's "
                         "writer user time over this capture's (tunsim trace config).";
      std::cerr << "tunsim trace config: cpus.speed from " << w.trace_path << ":\n" << why.str();
    }
    write_file_atomic(ca->out.empty() ? "-" : ca->out, dump_json(s) + "\n");
  });

  auto cal = std::make_shared<CalibrateArgs>();
  auto* calc = app.add_subcommand(
      "calibrate",
      "Fit the model's costs to single-writer kernel traces (or the kernel module's output, --kmod) and "
      "write a tunsim-calibration/1 file (docs/calibration.md, docs/traces.md)");
  calc->add_option("TRACE", cal->traces, "kernel traces PREFIX.trace[.gz], each with its sidecar PREFIX.json");
  calc->add_option("-o,--output", cal->out, "calibration file to write (atomically)");
  calc->add_option("--name", cal->name, "calibration name (default: the output file's stem)");
  calc->add_option("--kmod", cal->kmod, "fit the kernel module's measurements in FILE instead of traces");
  calc->add_option("--machine", cal->machine,
                   "the cache model from a machine measurement (scripts/calibrate-machine), fitted to its kernel "
                   "cold-path curves; with TRACE..., the traces' cache penalties use it");
  calc->callback([cal] {
    if (!cal->kmod.empty()) {
      if (!cal->traces.empty() || !cal->machine.empty())
        throw InputError("calibrate: give either TRACE... (and --machine FILE) or --kmod FILE, not both");
      if (cal->out.empty()) throw InputError("calibrate --kmod: expected -o OUT");
      calibrate_from_kmod(cal->kmod, cal->out, std::cout);
      return;
    }
    std::string name = cal->name;
    if (name.empty())
      name = cal->out.empty() ? "unnamed" : std::filesystem::path(cal->out).stem().string();
    calib::calibrate_from_traces(cal->traces, cal->out, name, self_exe(), std::cout, cal->machine);
  });

  auto da = std::make_shared<DiffArgs>();
  auto* diff = app.add_subcommand(
      "diff", "Compare the trace metrics of two traces or summary JSONs; exit 1 when out of tolerance");
  diff->add_option("A", da->a, "reference: kernel trace, simulated trace or summary JSON")->required();
  diff->add_option("B", da->b, "compared: kernel trace, simulated trace or summary JSON")->required();
  diff->add_option("--tol", da->tols,
                   "tolerance METRIC=REL (scalars) or DIST.KEY=X (KEY: ks, wasserstein, mean, p50, p99)");
  diff->add_option("--tol-file", da->tol_file, "JSON tolerance file (docs/traces.md)");
  diff->add_option("--ks-max", da->ks_max, "KS bound for every distribution without its own");
  diff->add_option("--dev", da->dev, "device in both traces (default: each trace's busiest)");
  diff->add_option("--plot", da->plot, "write overlaid CDFs to this .png or .svg");
  diff->add_flag("--lenient", da->lenient, "skip and count malformed trace lines");
  diff->add_flag("--json", da->json, "print the comparison as JSON");
  diff->add_option("-o,--output", da->out, "write the output to this file instead of stdout");
  diff->callback([da, &exit_code] {
    trace::Tolerances tol;
    // --tol FILE is accepted too when the argument names an existing .json file.
    for (const auto& t : da->tols) {
      if (t.find('=') == std::string::npos)
        tol.add_file(t);
      else
        tol.add_spec(t);
    }
    if (!da->tol_file.empty()) tol.add_file(da->tol_file);
    if (da->ks_max >= 0) tol.ks_max = da->ks_max;
    MetricsOptions opt;
    opt.dev = da->dev;
    std::string ka, kb;
    TraceMetrics a = trace::load_metrics(da->a, opt, da->lenient, &ka);
    TraceMetrics b = trace::load_metrics(da->b, opt, da->lenient, &kb);
    auto label = [](const std::string& p, const std::string& k, const TraceMetrics& m) {
      return p + " (" + k + (m.dev().empty() ? "" : ", dev " + m.dev()) + ")";
    };
    trace::DiffResult r = trace::diff_metrics(a, b, tol, label(da->a, ka, a), label(da->b, kb, b));
    if (!da->plot.empty()) trace::plot_cdfs(r, da->plot);
    std::string text = da->json ? dump_json(r.to_json()) + "\n" : r.table();
    write_file_atomic(da->out.empty() ? "-" : da->out, text);
    exit_code = r.pass ? 0 : 1;
  });
}

}  // namespace tunsim
