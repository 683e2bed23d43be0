// `tunsim trace stats FILE` and `tunsim diff A B` (see docs/traces.md).
#include <cstdio>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "sim/commands.hpp"
#include "sim/errors.hpp"
#include "sim/io.hpp"
#include "sim/trace/diff.hpp"
#include "sim/trace/metrics.hpp"

namespace tunsim {
namespace {

using trace::TraceMetrics;

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
    trace::MetricsOptions opt;
    opt.dev = sa->dev;
    opt.pids.insert(sa->pids.begin(), sa->pids.end());
    opt.comm = sa->comm;
    opt.write_nr = sa->write_nr;
    trace::ParseReport rep;
    TraceMetrics m = trace::metrics_from_trace_file(sa->file, opt, sa->lenient, &rep);
    std::string text = sa->json ? m.to_json().dump(2) + "\n" : stats_table(sa->file, m, rep);
    write_file_atomic(sa->out.empty() ? "-" : sa->out, text);
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
    trace::MetricsOptions opt;
    opt.dev = da->dev;
    std::string ka, kb;
    TraceMetrics a = trace::load_metrics(da->a, opt, da->lenient, &ka);
    TraceMetrics b = trace::load_metrics(da->b, opt, da->lenient, &kb);
    auto label = [](const std::string& p, const std::string& k, const TraceMetrics& m) {
      return p + " (" + k + (m.dev().empty() ? "" : ", dev " + m.dev()) + ")";
    };
    trace::DiffResult r = trace::diff_metrics(a, b, tol, label(da->a, ka, a), label(da->b, kb, b));
    if (!da->plot.empty()) trace::plot_cdfs(r, da->plot);
    std::string text = da->json ? r.to_json().dump(2) + "\n" : r.table();
    write_file_atomic(da->out.empty() ? "-" : da->out, text);
    exit_code = r.pass ? 0 : 1;
  });
}

}  // namespace tunsim
