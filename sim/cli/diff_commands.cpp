// `tunsim diff A B` and `tunsim calibrate` (see docs/traces.md,
// docs/calibration.md).
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sim/cli/commands.hpp"
#include "sim/io/errors.hpp"
#include "sim/io/files.hpp"
#include "sim/io/json.hpp"
#include "sim/io/process.hpp"
#include "sim/tools/calibrate/capture.hpp"
#include "sim/tools/calibrate/trace_fit.hpp"
#include "sim/tools/diff/diff.hpp"
#include "sim/tools/kmod/kmod_fit.hpp"

namespace tunsim {
namespace {

struct CalibrateArgs {
  std::vector<std::string> traces, split_from;
  std::string out, name, kmod, machine, cache_calibration;
  bool allow_coarse = false, accept_cache_misfit = false;
  calib::CaptureOptions capture;
};

// The writer tasks of one side of a diff.
struct Writers {
  std::vector<int> pids;
  std::string comm;
  bool given() const { return !pids.empty() || !comm.empty(); }
};

struct DiffArgs {
  std::string a, b, dev, tol_file, plot, out;
  std::vector<std::string> tols;
  Writers both, a_only, b_only;
  int64_t write_nr = 1;
  std::string ks_max;  // as given: checked with the tolerances
  bool lenient = false, json = false;
};

void add_writer_options(CLI::App* cmd, Writers& w, const std::string& prefix, const std::string& which) {
  cmd->add_option(prefix + "pid", w.pids, "writer task ids whose write() calls are timed in " + which +
                                              ", comma separated or repeated (default: every task)")
      ->delimiter(',')
      ->check(kPid);
  cmd->add_option(prefix + "comm", w.comm, "writer task name whose write() calls are timed in " + which +
                                               " (default: any)")
      ->check(kNonEmpty);
}

}  // namespace

void register_diff_commands(CLI::App& app, int& exit_code) {
  auto cal = std::make_shared<CalibrateArgs>();
  auto* calc = app.add_subcommand(
      "calibrate",
      "Fit the model's costs to single-writer kernel traces (or the kernel module's output, --kmod) and "
      "write a tunsim-calibration/1 file (docs/calibration.md, docs/traces.md)");
  calc->add_option("TRACE", cal->traces,
                   "kernel traces (text, .gz, trace.dat or perf.data), each with its sidecar PREFIX.json or "
                   "described by the capture options below")
      ->check(kPath);
  calc->add_option("-o,--output", cal->out, "calibration file to write (atomically; - = standard output)")
      ->check(kPath);
  calc->add_option("--name", cal->name, "calibration name (default: the output file's stem)")->check(kNonEmpty);
  calc->add_option("--kmod", cal->kmod, "fit the kernel module's measurements in FILE (- = standard input)")
      ->check(kPath);
  calc->add_option("--cache-calibration", cal->cache_calibration,
                   "with --kmod: the cache geometry and latencies (and the footprints not fitted) from this "
                   "calibration file instead of the defaults")
      ->check(kPath);
  calc->add_flag("--allow-coarse-timestamps", cal->allow_coarse,
                 "fit traces with microsecond timestamps too (their medians are rounded)");
  calc->add_option("--machine", cal->machine,
                   "the cache model from a machine measurement (scripts/calibrate-machine), fitted to its kernel "
                   "cold-path curves; with TRACE..., the traces' cache penalties use it")
      ->check(kPath);
  calc->add_flag("--accept-cache-misfit", cal->accept_cache_misfit,
                 "with --machine: keep a cache fit that misses the machine's kernel cold-path curves (refused "
                 "otherwise), marked in provenance.cache_model.misfit: a check on a CPU the cache model does not "
                 "describe, never a calibration of it");
  calc->add_option("--split-from", cal->split_from,
                   "capture sidecars with perf samples (capture-trace --perf-paths) of the same workloads: a "
                   "TRACE without samples of its own splits its sums by those of the sidecar with its label")
      ->check(kPath);
  add_capture_options(calc, cal->capture);
  calc->callback([cal] {
    // The report goes where the calibration does not.
    std::ostream& report = cal->out == "-" ? std::cerr : std::cout;
    if (!cal->kmod.empty()) {
      if (!cal->traces.empty() || !cal->machine.empty() || !cal->split_from.empty())
        throw InputError("calibrate: give either TRACE... (and --machine FILE, --split-from) or --kmod FILE, not both");
      if (cal->capture.given()) throw InputError("calibrate --kmod: the capture options apply to traces");
      if (cal->out.empty()) throw InputError("calibrate --kmod: expected -o OUT");
      calibrate_from_kmod(cal->kmod, cal->out, report, cal->cache_calibration);
      return;
    }
    if (!cal->cache_calibration.empty())
      throw InputError("calibrate: --cache-calibration applies to --kmod (traces take --machine FILE)");
    if (cal->accept_cache_misfit && cal->machine.empty())
      throw InputError("calibrate: --accept-cache-misfit applies to the cache fit of --machine FILE");
    // (A trace given twice was fitted as two captures of its workload.)
    check_distinct_inputs("TRACE", cal->traces);
    check_distinct_inputs("--split-from", cal->split_from);
    std::string name = cal->name;
    if (name.empty())
      name = cal->out.empty() || cal->out == "-" ? "unnamed" : std::filesystem::path(cal->out).stem().string();
    calib::calibrate_from_traces(cal->traces, cal->out, name, self_exe(), report, cal->capture, cal->allow_coarse,
                                 cal->machine, cal->split_from, cal->accept_cache_misfit);
  });

  auto da = std::make_shared<DiffArgs>();
  auto* diff = app.add_subcommand(
      "diff", "Compare the trace metrics of two traces or summary JSONs; exit 1 when out of tolerance");
  diff->add_option("A", da->a, "reference: kernel trace, simulated trace or summary JSON (- = standard input)")
      ->required()
      ->check(kPath);
  diff->add_option("B", da->b, "compared: kernel trace, simulated trace or summary JSON (- = standard input)")
      ->required()
      ->check(kPath);
  diff->add_option("--tol", da->tols,
                   "tolerance METRIC=REL (scalars) or DIST.KEY=X (KEY: ks, wasserstein, mean, p50, p99)");
  diff->add_option("--tol-file", da->tol_file, "JSON tolerance file (docs/traces.md)")->check(kPath);
  diff->add_option("--ks-max", da->ks_max, "KS bound for every distribution without its own")->check(kNonEmpty);
  diff->add_option("--dev", da->dev, "device in both traces (default: each trace's busiest)")->check(kNonEmpty);
  add_writer_options(diff, da->both, "--", "both traces");
  add_writer_options(diff, da->a_only, "--a-", "A (instead of --pid/--comm)");
  add_writer_options(diff, da->b_only, "--b-", "B (instead of --pid/--comm)");
  diff->add_option("--write-nr", da->write_nr, "syscall number of write() (default 1, x86_64)")->check(kSyscall);
  diff->add_option("--plot", da->plot, "write overlaid CDFs to this .png or .svg")->check(kPath);
  diff->add_flag("--lenient", da->lenient, "skip and count malformed trace lines");
  diff->add_flag("--json", da->json, "print the comparison as JSON");
  diff->add_option("-o,--output", da->out, "write the output to this file instead of stdout")->check(kPath);
  diff->callback([da, &exit_code] {
    if (da->a == "-" && da->b == "-") throw InputError("diff - -: only one operand can be standard input");
    check_distinct_outputs({{"-o", da->out}, {"--plot", da->plot}});
    // Both outputs opened before the traces are read, both written out
    // before either appears (as run's, sim/cli/simulate.cpp): the plot was
    // written, whole, before -o naming a folder that does not exist failed.
    std::optional<OutputFile> plot_file;
    if (!da->plot.empty()) {
      trace::check_plot_path(da->plot);
      plot_file.emplace(da->plot);
    }
    OutputFile out_file(da->out.empty() ? "-" : da->out);
    trace::Tolerances tol;
    // --tol FILE is accepted too when the argument names an existing .json file.
    for (const auto& t : da->tols) {
      if (t.find('=') != std::string::npos)
        tol.add_spec(t);
      else if (t == "-" || std::filesystem::exists(t))
        tol.add_file(t);
      else  // ("throughput_mpps: cannot open" for a bound without its value)
        throw InputError("--tol " + printable(t, 100) + ": expected METRIC=BOUND or a tolerance file, found neither");
    }
    if (!da->tol_file.empty()) tol.add_file(da->tol_file);
    if (!da->ks_max.empty()) tol.set_ks_max(da->ks_max);
    struct Side {
      TraceMetrics m;
      std::string label;
    };
    auto load = [&](const std::string& path, const Writers& own, const char* which) {
      const Writers& w = own.given() ? own : da->both;
      MetricsOptions opt;
      opt.dev = da->dev;
      opt.pids.insert(w.pids.begin(), w.pids.end());
      opt.comm = w.comm;
      opt.write_nr = da->write_nr;
      std::string kind;
      trace::ParseReport rep;
      Side s{trace::load_metrics(path, opt, da->lenient, &kind, &rep), ""};
      std::string shown = path == "-" ? "standard input" : printable(path, 200);
      s.label = shown + " (" + kind + (s.m.dev().empty() ? "" : ", dev " + printable(s.m.dev(), 40));
      if (kind == "trace") {
        s.label += ", " + std::to_string(rep.resolution_ns()) + " ns timestamps";
        if (rep.resolution_ns() >= 1000)
          std::cerr << "tunsim diff: note: " << which << " has microsecond timestamps: its ns distributions are "
                    << "rounded to whole microseconds\n";
      } else if (w.given()) {
        std::cerr << "tunsim diff: note: " << which << " is a " << kind
                  << ": its write() times were computed when it was written; --pid/--comm apply to traces only\n";
      }
      s.label += ")";
      return s;
    };
    Side a = load(da->a, da->a_only, "A");
    Side b = load(da->b, da->b_only, "B");
    trace::DiffResult r = trace::diff_metrics(a.m, b.m, tol, a.label, b.label);
    if (plot_file) plot_file->write(trace::plot_cdfs(r, da->plot));
    out_file.write(da->json ? dump_json(r.to_json()) + "\n" : r.table());
    if (plot_file) plot_file->finish();
    out_file.finish();
    if (plot_file) plot_file->commit();
    out_file.commit();
    exit_code = r.pass ? 0 : 1;
  });
}

}  // namespace tunsim
