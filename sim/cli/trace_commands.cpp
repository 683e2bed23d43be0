// `tunsim trace stats FILE` and `tunsim trace config SIDECAR|TRACE` (see
// docs/traces.md); diff and calibrate are in diff_commands.cpp.
#include <cstdio>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

#include <filesystem>
#include <iostream>

#include "sim/cli/commands.hpp"
#include "sim/config/calibration_file.hpp"
#include "sim/io/errors.hpp"
#include "sim/io/files.hpp"
#include "sim/io/json.hpp"
#include "sim/io/process.hpp"
#include "sim/tools/calibrate/capture.hpp"
#include "sim/tools/calibrate/cpu_id.hpp"
#include "sim/tools/calibrate/scenario.hpp"
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
  bool text = rep.format == "text" || rep.format == "perf.data";
  o << "trace:   " << path << " (" << (text ? "" : rep.format + ", ") << rep.lines << (text ? " lines, " : " records, ")
    << rep.events << " events";
  if (rep.skipped) o << ", " << rep.skipped << " malformed " << (text ? "lines" : "records") << " skipped; first: "
                     << rep.first_skipped;
  o << ")\n";
  o << "timestamps: " << rep.resolution_ns() << " ns resolution";
  if (rep.resolution_ns() >= 1000)
    o << " (microseconds: ns distributions are rounded; calibrate and cpus.speed refuse it without "
         "--allow-coarse-timestamps)";
  o << "\n";
  if (rep.lost_events) o << "WARNING: the tracer lost " << rep.lost_events << " events\n";
  o << "device:  " << printable(m.dev(), 80) << "\n\n";
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
  bool uniform_speed = false, allow_coarse = false;
  calib::CaptureOptions capture;
};

// --calibration NAME for a generated scenario: a path (contains '/' or ends
// in .json) is made absolute so that the scenario works wherever it is
// written; a bare NAME becomes the absolute path of configs/calibration/
// NAME.json under the current directory.  Either is read and checked here,
// before anything else: a NAME that named no file was written into the
// scenario as it was (which then failed when run), and a file that is no
// calibration was refused after the capture's inference report, in a
// message that did not name --calibration.
std::string resolve_calibration(const std::string& name) {
  namespace fs = std::filesystem;
  if (name.empty()) return name;
  bool is_path = name.find('/') != std::string::npos ||
                 (name.size() > 5 && name.compare(name.size() - 5, 5, ".json") == 0);
  fs::path p = is_path ? fs::path(name) : fs::path("configs") / "calibration" / (name + ".json");
  if (!fs::is_regular_file(p))
    throw InputError("--calibration " + printable(name, 200) + ": expected " +
                     (is_path ? std::string("a calibration file") : "a calibration NAME (" + p.string() + ")") +
                     (fs::exists(p) ? ", found a folder or a special file" : ", found no such file"));
  std::string abs = fs::absolute(p).lexically_normal().string();
  read_calibration(abs, "--calibration");
  return abs;
}

}  // namespace

void add_capture_options(CLI::App* cmd, calib::CaptureOptions& o) {
  const std::string g = "Capture (instead of a sidecar; the rest is inferred from the trace)";
  cmd->add_option("--mode", o.mode, "plain or napi (IFF_NAPI) tap (default: napi when napi_poll runs on the device)")
      ->check(kNonEmpty)
      ->group(g);
  cmd->add_flag("--bridge", o.bridge, "the tap is bridged to a peer (default: its frames are dropped as unhandled)")
      ->group(g);
  cmd->add_option("--writers", o.writers, "writer thread ids, comma separated (default: the tasks whose write() "
                                          "delivered on the device)")
      ->delimiter(',')
      ->check(kPid)
      ->group(g);
  cmd->add_option("--cpus", o.cpus, "the writers' CPUs, one per writer (default: the CPU each wrote from most)")
      ->delimiter(',')
      ->check(int_in(0, 4095))
      ->group(g);
  // The ranges of the sidecar's fields (sim/tools/calibrate/sidecar.cpp): 0
  // given for --frame-bytes, --hz or --nr-cpus was taken for "not given".
  cmd->add_option("--frame-bytes", o.frame_bytes, "bytes per write() (default: the writers' most common count)")
      ->check(int_in(14, 65535))
      ->group(g);
  cmd->add_option("--kernel", o.kernel, "uname -r of the traced kernel (default: unknown, the newest modelled)")
      ->check(kNonEmpty)
      ->group(g);
  cmd->add_option("--dev", o.dev, "the tap (default: the device with the most netif_receive_skb events)")
      ->check(kNonEmpty)
      ->group(g);
  cmd->add_option("--hz", o.hz, "CONFIG_HZ of the traced kernel")->check(int_in(1, 100000))->group(g);
  cmd->add_option("--nr-cpus", o.nr_cpus, "CPUs of the traced machine (default: the highest in the trace + 1)")
      ->check(int_in(1, 4096))
      ->group(g);
  cmd->add_option("--write-nr", o.write_nr, "syscall number of write() (default 1, x86_64)")
      ->check(kSyscall)
      ->group(g);
}

void register_trace_commands(CLI::App& app) {
  auto* tr = app.add_subcommand("trace", "Kernel trace tools (see docs/traces.md)");
  tr->require_subcommand(1);
  auto sa = std::make_shared<StatsArgs>();
  auto* stats = tr->add_subcommand(
      "stats", "Metrics of a kernel or simulated trace (ftrace, trace-cmd report or trace.dat, perf script or "
               "perf.data; .gz ok)");
  stats->add_option("FILE", sa->file, "trace file: text (.gz ok), trace.dat or perf.data; - = standard input")
      ->required()
      ->check(kPath);
  stats->add_option("--dev", sa->dev, "device (default: the one with most netif_receive_skb events)")->check(kNonEmpty);
  stats->add_option("--pid", sa->pids, "writer task ids whose write() calls are timed, comma separated or repeated (default: all)")
      ->delimiter(',')
      ->check(kPid);
  stats->add_option("--comm", sa->comm, "writer task name whose write() calls are timed (default: any)")->check(kNonEmpty);
  stats->add_option("--write-nr", sa->write_nr, "syscall number of write() (default 1, x86_64)")->check(kSyscall);
  stats->add_flag("--lenient", sa->lenient, "skip and count malformed lines instead of failing");
  stats->add_flag("--json", sa->json, "print the trace_metrics JSON object");
  stats->add_option("-o,--output", sa->out, "write the output to this file instead of stdout")->check(kPath);
  stats->callback([sa] {
    // Opened before the trace is read, as run opens its outputs before the
    // run: -o in a folder that does not exist failed after the whole trace.
    OutputFile out(sa->out.empty() ? "-" : sa->out);
    MetricsOptions opt;
    opt.dev = sa->dev;
    opt.pids.insert(sa->pids.begin(), sa->pids.end());
    opt.comm = sa->comm;
    opt.write_nr = sa->write_nr;
    trace::ParseReport rep;
    TraceMetrics m = trace::metrics_from_trace_file(sa->file, opt, sa->lenient, &rep);
    nlohmann::json j = m.to_json();
    // Only when they say something: the summary's trace_metrics (1 ns text)
    // and trace stats of its --trace stay the same object.
    if (rep.resolution_ns() != 1) j["timestamp_resolution_ns"] = rep.resolution_ns();
    if (rep.format != "text") j["trace_format"] = rep.format;
    std::string shown = sa->file == "-" ? "standard input" : printable(sa->file, 200);
    out.write(sa->json ? dump_json(j) + "\n" : stats_table(shown, m, rep));
    out.commit();
  });

  auto ca = std::make_shared<ConfigArgs>();
  auto* tconf = tr->add_subcommand(
      "config", "Print the simulator scenario of a captured workload (its capture sidecar, or the capture "
                "described by the options below and inferred from the trace)");
  tconf->add_option("SIDECAR", ca->sidecar,
                    "capture sidecar PREFIX.json, or a trace (its sidecar beside it, if any); - = standard input")
      ->required()
      ->check(kPath);
  tconf->add_option("-o,--output", ca->out, "write the scenario to this file instead of stdout")->check(kPath);
  tconf->add_option("--calibration", ca->calibration,
                    "calibration NAME (configs/calibration/NAME.json) or path to put in the scenario; when it "
                    "has costs.writer_user_ns, cpus.speed is set from the capture's writer user time per CPU")
      ->check(kPath);
  tconf->add_flag("--uniform-speed", ca->uniform_speed,
                  "leave cpus.speed out: every CPU as fast as the calibration's");
  tconf->add_flag("--allow-coarse-timestamps", ca->allow_coarse,
                  "measure cpus.speed from a trace with microsecond timestamps too");
  add_capture_options(tconf, ca->capture);
  tconf->callback([ca] {
    const std::string cal = resolve_calibration(ca->calibration);
    // Opened before the capture is read (as trace stats' -o).
    OutputFile out(ca->out.empty() ? "-" : ca->out);
    std::string side = ca->sidecar;
    auto is_json = [](const std::string& p) { return p.size() >= 5 && p.compare(p.size() - 5, 5, ".json") == 0; };
    calib::Workload w;
    std::unique_ptr<trace::StdinTraceCopy> in;
    if (side == "-") {
      // A sidecar (JSON) or a trace on standard input.
      std::string head;
      char c;
      while (head.size() < 1 && ::read(0, &c, 1) == 1)
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r') head += c;
      if (head == "{") {
        w = calib::read_sidecar_text(head + read_file("-", calib::kMaxSidecarBytes), "standard input");
      } else {
        in = std::make_unique<trace::StdinTraceCopy>(head);
        w = calib::workload_of_trace(in->path(), ca->capture, std::cerr);
      }
    } else if (is_json(side)) {
      w = calib::read_sidecar(side);
      if (ca->capture.given())
        throw InputError("trace config: the options describing a capture apply to a trace, not to a sidecar (" +
                         printable(side, 200) + ")");
    } else {
      w = calib::workload_of_trace(side, ca->capture, std::cerr);
    }
    nlohmann::json s = calib::scenario_for(w, cal);
    // -1 without a calibration file (calibration_value checks).
    double user_ns = ca->uniform_speed ? -1 : calib::calibration_value(cal, "costs.writer_user_ns");
    // Both the writer CPUs' speeds and the writers' starts come from the
    // capture's trace: read once, when either needs it (the speeds refuse a
    // sidecar without its trace; the starts then stay at 0).
    const bool writers = w.cpus.size() > 1 && w.tids.size() == w.cpus.size();
    std::optional<calib::Intervals> iv;
    if (user_ns > 0 || (writers && calib::has_trace(w))) iv = calib::capture_intervals(w);
    if (user_ns > 0) {
      std::ostringstream why;
      std::vector<double> speed = calib::cpu_speeds_for(w, *iv, user_ns, why, ca->allow_coarse);
      s["cpus"]["speed"] = speed;
      s["description"] = s["description"].get<std::string>() +
                         " cpus.speed: each writer CPU's speed during the capture, the calibration's "
                         "writer user time over this capture's (tunsim trace config).";
      std::cerr << "tunsim trace config: cpus.speed from " << printable(w.trace_path, 200) << ":\n" << why.str();
    }
    if (writers) {
      std::ostringstream starts;
      std::vector<double> start;
      if (iv)
        start = calib::writer_starts_for(w, *iv, starts);
      else
        starts << "the capture's trace (" << (w.trace_path.empty() ? std::string("none named") : w.trace_path)
               << ") is not there: every writer starts at 0\n";
      for (size_t i = 0; i < start.size(); ++i)
        if (start[i] > 0) s["senders"][i]["writer"]["start_us"] = start[i];
      if (!start.empty())
        s["description"] = s["description"].get<std::string>() +
                           " senders.N.writer.start_us: when each writer thread was released, as the capture "
                           "shows (tunsim trace config).";
      std::cerr << "tunsim trace config: writer starts from " << printable(w.trace_path, 200) << ":\n"
                << starts.str();
    }
    if (std::string why = calib::calibration_cpu_mismatch(w.cpu_signature, cal); !why.empty())
      std::cerr << "tunsim: note: " << why << "\n";
    out.write(dump_json(s) + "\n");
    out.commit();
  });
}

}  // namespace tunsim
