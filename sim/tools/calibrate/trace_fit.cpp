#include "sim/tools/calibrate/trace_fit.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <optional>
#include <ostream>
#include <set>
#include <tuple>

#include "sim/config/calibration_file.hpp"
#include "sim/config/schema.hpp"
#include "sim/io/errors.hpp"
#include "sim/io/files.hpp"
#include "sim/io/json.hpp"
#include "sim/tools/calibrate/cache_fit.hpp"
#include "sim/tools/calibrate/cpu_id.hpp"
#include "sim/tools/calibrate/fit.hpp"
#include "sim/tools/calibrate/intervals.hpp"
#include "sim/tools/calibrate/penalties.hpp"
#include "sim/tools/calibrate/sidecar.hpp"

namespace tunsim::calib {

using nlohmann::json;
namespace fs = std::filesystem;

namespace {
std::string unit_of(int p) { return p == kCopy ? "ns/byte" : "ns"; }

// A calibration of the cache model alone, from a machine measurement.
json machine_only(const std::string& machine, const json& cache, const std::string& name, std::ostream& report) {
  json m = read_json_file(machine);
  json host = m.value("host", json::object());
  auto str = [&](const char* k) { return host.contains(k) && host[k].is_string() ? host[k] : json(nullptr); };
  json cal;
  cal["format"] = kCalibrationFormat;
  cal["name"] = name;
  cal["provenance"] = {{"source", "machine"},
                       {"inputs", json::array({machine})},
                       {"kernel", str("kernel")},
                       {"cpu_model", str("cpu_model")},
                       {"hz", nullptr},
                       {"captured", m.contains("started") ? m["started"] : json(nullptr)},
                       {"date", utc_now()},
                       {"tool", std::string("tunsim ") + TUNSIM_VERSION + " calibrate --machine"}};
  cal["provenance"].update(cpu_provenance({}, machine, report, cache));
  cal["parameters"] = cache["parameters"];
  cal["unidentified"] = json::array();
  cal["fit"] = {{"cache", cache["fit"]}};
  cal["measurements"] = json::object();
  return cal;
}

// The split of a NET_RX softirq by perf samples (capture-trace --perf-paths)
// of an IFF_NAPI single writer: the priors of softirq_ns, napi_poll_ns and
// gro_ns, in ns of the fitted interval, or null when `w` has no softirq
// interval (a plain tap).  The samples say what share of the softirq each
// path takes; the interval that identifies the sum runs from softirq_entry's
// timestamp to softirq_exit's, so it holds about one of the softirq path's
// two events (half of each) and every other event whole: the softirq path
// counts without half its event time.  The per-packet paths' samples (GRO,
// netif_receive_skb and the drop) include work outside the
// netif_receive_skb..kfree_skb interval that identifies netif_receive_skb_ns
// + stack_drop_ns (the list walk before the event, the events themselves,
// the skb's free after kfree_skb's): all of that is per packet; the free
// is costs.skb_free_ns (identified by the plain captures' kfree_skb ..
// sys_exit), the rest before delivery gro_ns, so gro_ns gets the per-packet
// share less that interval's median and less skb_free_ns's default.
json receive_split(const Workload& w, const std::vector<Observation>& o) {
  const Observation *sirq = nullptr, *rx = nullptr;
  for (auto& x : o) {
    if (x.name == "softirq_net_rx_ns p50") sirq = &x;
    if (x.name == "netif_receive_skb..kfree_skb_ns p50") rx = &x;
  }
  if (!sirq || !rx) return nullptr;
  auto sampled = [&](const char* key, bool half_events) {
    auto it = w.perf_paths.find(key);
    if (it == w.perf_paths.end())
      throw InputError(w.sidecar_path + ": perf_paths.paths: expected " + key + ", found nothing");
    // A path no sample landed in took less than about one sample's worth of
    // time per frame: half of it stands in (a zero would fix the cost at 0).
    if (it->second.samples == 0) return w.perf_sample_ns_per_frame / 2;
    return it->second.ns_per_frame - (half_events ? it->second.events_ns_per_frame / 2 : 0);
  };
  double s = sampled("costs.softirq_ns", true), p = sampled("costs.napi_poll_ns", false);
  double pkt = sampled("costs.gro_ns", false) + sampled("costs.netif_receive_skb_ns", false) +
               sampled(w.bridge ? "costs.bridge_forward_ns" : "costs.stack_drop_ns", false);
  double total = s + p + pkt;
  if (!(total > 0) || !std::isfinite(total))
    throw InputError(w.sidecar_path + ": perf_paths: expected sampled time in the NET_RX softirq's paths "
                     "(softirq, napi_poll, gro, netif_receive_skb, the drop), found none");
  double k = sirq->value / total;
  // No prior below half a sample's worth (a zero would fix the cost at 0).
  double floor = w.perf_sample_ns_per_frame / 2 * k;
  json priors = {{param_key(kSoftirq), std::max(s * k, floor)},
                 {param_key(kNapiPoll), std::max(p * k, floor)},
                 {param_key(kGro), std::max(pkt * k - rx->value - param_default(kSkbFree), floor)}};
  std::string summary = "per softirq " + fmt("%.0f", s) + ", per poll " + fmt("%.0f", p) + ", per packet " +
                        fmt("%.0f", pkt) + " ns a frame sampled; scaled to the interval's " +
                        fmt("%.0f", sirq->value) + " ns: softirq " + fmt("%.1f", s * k) + ", napi_poll " +
                        fmt("%.1f", p * k) + ", gro " + fmt("%.1f", priors[param_key(kGro)].get<double>()) +
                        " (the per-packet share less netif_receive_skb..kfree_skb's " + fmt("%.0f", rx->value) +
                        " and skb_free_ns's default " + fmt("%.0f", param_default(kSkbFree)) + ")";
  return {{"sampled_ns_per_frame", {{"softirq (half its events)", s}, {"napi_poll", p}, {"per packet", pkt}}},
          {"softirq_interval_ns", sirq->value},
          {"netif_receive_skb_kfree_skb_ns", rx->value},
          {"priors", priors},
          {"summary", summary}};
}
}  // namespace

json calibrate_from_traces(const std::vector<std::string>& traces, const std::string& out_path,
                           const std::string& name, const std::string& bin, std::ostream& report,
                           const CaptureOptions& capture, bool allow_coarse, const std::string& machine,
                           const std::vector<std::string>& split_from, bool accept_cache_misfit) {
  std::optional<OutputFile> out;  // opened before anything is read or fitted: in a folder that does
  if (!out_path.empty()) out.emplace(out_path);  // not exist it failed after the fit and its report
  auto written = [&](const json& cal) {
    if (!out) return cal;
    check_calibration(cal, out_path);
    out->write(dump_json(cal) + "\n");
    out->commit();
    report << "wrote " << out_path << "\n";
    return cal;
  };
  json cache;
  std::vector<std::string> cache_sets;
  if (!machine.empty()) {
    cache = cache_from_machine(machine, report, accept_cache_misfit);
    for (auto& [k, v] : cache["parameters"].items()) cache_sets.push_back(k + "=" + dump_json(v["value"], -1));
    if (traces.empty()) return written(machine_only(machine, cache, name, report));
  }
  if (traces.empty()) throw InputError("calibrate: expected at least one TRACE (or --machine FILE, --kmod FILE)");
  std::vector<Observation> obs;
  std::set<std::string> kernels, cpus, dates;
  std::vector<std::pair<std::string, std::string>> cpu_signatures;  // per trace: its sidecar's cpu_signature
  std::set<int> hzs;
  json inputs = json::array(), measurements = json::object(), perf_by_trace = json::object();
  // Per trace: the writer's time between write() calls outside the traced
  // system call, value and standard error; it sets costs.writer_user_ns.
  std::vector<std::pair<double, double>> outside;
  std::vector<double> line_move;  // one line's move, measured at capture time, per trace (Workload::move_ns)
  std::set<std::string> move_sources;
  // The same, per line of a 6-line burst, and per line of a walk of skbs the other CPU wrote.
  std::vector<double> line_burst, remote_walk;
  // costs.spread.*: interval / its trace's median, pooled over the traces.
  std::vector<double> spread_process, spread_softirq;
  // The priors of softirq_ns, napi_poll_ns and gro_ns from the NET_RX split of each capture with
  // perf samples (receive_split), summed over those captures, and their number.
  std::vector<double> perf_sum(kParams, 0.0);
  int perf_traces = 0;
  // --split-from: sidecars with samples, by workload label.
  std::map<std::string, Workload> split;
  std::set<std::string> split_used;
  for (const std::string& f : split_from) {
    Workload s = read_sidecar(f);
    if (s.perf_paths.empty())
      throw InputError(printable(f, 200) + ": --split-from: expected a sidecar with perf_paths (capture-trace "
                       "--perf-paths), found none");
    if (!split.emplace(s.label(), s).second)
      throw InputError(printable(f, 200) + ": --split-from: a second sidecar of workload " + s.label() +
                       " (give one per workload)");
  }
  for (const std::string& t : traces) {
    if (t != "-" && !fs::exists(t)) throw InputError(printable(t, 200) + ": no such trace file");
    if (t == "-") throw InputError("calibrate: standard input cannot be a TRACE (each trace is read more than once)");
    Workload w = workload_of_trace(t, capture, report);
    if (w.slab_events)
      throw InputError(t + ": captured with --slab-events: the kmem tracepoints' own cost is in every interval the "
                       "fit reads (capture it again without them)");
    if (w.cpus.size() != 1)
      throw InputError(t + ": " + std::to_string(w.cpus.size()) +
                       " writer threads: the fit uses single-writer traces only (their per-event cost is a "
                       "fixed sum of costs; with several writers batching depends on timing)");
    if (!w.rps_cpus.empty())
      throw InputError(t + ": RPS steers its frames to another CPU's backlog: the fit uses captures whose frames are "
                       "received where they are written (one of them is checked against the model, never fitted)");
    report << "trace " << t << " (" << w.label() << ", " << w.frames_written << " writes, kernel "
           << printable(w.kernel, 80) << ")\n";
    Intervals iv = extract_intervals(t, w, true);
    w.timestamp_resolution_ns = std::max(w.timestamp_resolution_ns, static_cast<double>(iv.resolution_ns));
    check_resolution(t, w.timestamp_resolution_ns, allow_coarse, "calibrate");
    std::vector<Observation> o = observations_for(w, iv);
    measure_penalties(w, o, bin, report, cache_sets);
    if (w.perf_paths.empty()) {
      auto it = split.find(w.label());
      if (it != split.end()) {
        w.perf_paths = it->second.perf_paths;
        w.perf_sample_ns_per_frame = it->second.perf_sample_ns_per_frame;
        split_used.insert(w.label());
        report << "  its NET_RX softirq split by the perf samples of " << it->second.sidecar_path
               << " (--split-from)\n";
      }
    }
    if (!w.perf_paths.empty()) {
      json rec = receive_split(w, o);
      if (!rec.is_null()) {
        ++perf_traces;
        for (int p : {kSoftirq, kNapiPoll, kGro}) perf_sum[p] += rec["priors"][param_key(p)].get<double>();
        report << "  perf samples split its NET_RX softirq: " << rec["summary"].get<std::string>() << "\n";
        rec.erase("summary");
        perf_by_trace[w.label()] = rec;
      }
    }
    if (w.mode == "plain") add_ratios(iv.write, spread_process);
    if (w.mode == "napi") add_ratios(iv.softirq, spread_softirq);
    double wp50, wse, pp50, pse;
    robust_median(iv.write, w.timestamp_resolution_ns, wp50, wse);
    json m = {{"write_ns_p50", wp50}, {"write_samples", iv.write.size()}};
    if (iv.period.size() >= 5) {
      robust_median(iv.period, w.timestamp_resolution_ns, pp50, pse);
      m["write_period_ns_p50"] = pp50;
      m["outside_write_ns_p50"] = pp50 - wp50;
      outside.emplace_back(pp50 - wp50, std::sqrt(pse * pse + wse * wse));
      report << "  per write outside sys_enter..sys_exit (user loop, syscall entry/exit beyond the "
                "tracepoints): "
             << fmt("%.0f", pp50 - wp50) << " ns (period p50 " << fmt("%.0f", pp50) << " - write p50 "
             << fmt("%.0f", wp50) << "): sets costs.writer_user_ns\n";
    }
    for (auto& x : o) m[x.name] = {{"median_ns", x.value}, {"stderr_ns", x.stderr_ns},
                                   {"samples", x.samples}, {"cache_penalty_ns", x.penalty}};
    std::vector<double>* none = nullptr;
    for (auto [v, key, to] : {std::tuple{w.line_transfer_ns, "line_transfer_ns", none},
                              {w.line_move_ns, "line_move_ns", none}, {w.line_burst_ns, "line_burst_ns", &line_burst},
                              {w.skb_remote_walk_ns, "skb_remote_walk_ns", &remote_walk}}) {
      if (v > 0) m[key] = v;
      if (v > 0 && to) to->push_back(v);
    }
    if (w.move_ns() > 0) {
      line_move.push_back(w.move_ns());
      move_sources.insert(w.move_source());
    }
    measurements[w.label()] = m;
    obs.insert(obs.end(), o.begin(), o.end());
    inputs.push_back(t);
    if (!w.kernel.empty()) kernels.insert(w.kernel);
    if (!w.cpu_model.empty()) cpus.insert(w.cpu_model);
    cpu_signatures.emplace_back(t, w.cpu_signature);
    if (!w.date.empty()) dates.insert(w.date);
    if (w.hz > 0) hzs.insert(w.hz);
  }
  // The split of the sums the traces identify: in the proportions of the
  // priors, the NET_RX softirq's split by the samples (averaged over the
  // captures that have them) for its three costs, the defaults (the
  // convention) for every other cost.
  std::vector<double> prior(kParams);
  std::vector<bool> prior_sampled(kParams, false);
  for (int p = 0; p < kParams; ++p) {
    prior_sampled[p] = perf_sum[p] > 0;
    prior[p] = prior_sampled[p] ? perf_sum[p] / perf_traces : param_default(p);
  }
  for (auto& [label, s] : split)
    if (!split_used.count(label))
      throw InputError(printable(s.sidecar_path, 200) + ": --split-from: its workload " + label +
                       " is none of the traces' without samples of their own");
  FitResult r = solve(obs, prior);

  report << "\nobservations (medians; value = sum of costs + cache penalty + residual):\n";
  char line[256];
  std::snprintf(line, sizeof line, "  %-16s %-34s %7s %10s %8s %9s %10s %9s\n", "trace", "observation", "n",
                "median", "stderr", "penalty", "predicted", "residual");
  report << line;
  for (size_t i = 0; i < obs.size(); ++i) {
    std::snprintf(line, sizeof line, "  %-16s %-34s %7zu %10.1f %8.1f %9.1f %10.1f %9.1f\n", obs[i].trace.c_str(),
                  obs[i].name.c_str(), obs[i].samples, obs[i].value, obs[i].stderr_ns, obs[i].penalty,
                  obs[i].value - r.residual[i], r.residual[i]);
    report << line;
  }
  if (perf_traces > 0) {
    report << "\nperf samples of " << perf_traces << " of " << traces.size()
           << " captures (capture-trace --perf-paths) set the split of softirq_ns, napi_poll_ns and gro_ns; "
              "priors:\n";
    for (int p : r.params)
      report << "  " << param_key(p) << " " << fmt("%.4g", prior[p]) << " " << unit_of(p)
             << (prior_sampled[p] ? " (sampled)" : " (default)") << "\n";
  }
  report << "\nparameters (value +- standard error; * = not identified, split "
         << (perf_traces > 0 ? "in the proportions of the perf samples (s) or of the defaults" : "by the convention")
         << "):\n";
  std::vector<std::string> unidentified;
  json params = json::object();
  for (int p : r.params) {
    bool pinned = std::find(r.pinned.begin(), r.pinned.end(), p) != r.pinned.end();
    std::snprintf(line, sizeof line, "  %-30s %10.4g +- %-9.3g %-7s (default %g)%s\n", param_key(p), r.value[p],
                  r.stderr_ns[p], unit_of(p).c_str(), param_default(p),
                  pinned ? " * pinned to 0 (the split made it negative)"
                         : (r.identified[p] ? "" : (prior_sampled[p] ? " * (s)" : " *")));
    report << line;
    params[param_key(p)] = {{"value", r.value[p]}, {"stderr", r.stderr_ns[p]}, {"unit", unit_of(p)}};
    if (!r.identified[p]) unidentified.push_back(param_key(p));
  }
  // A cost the traces identify that came out negative cannot be written (a
  // cost is >= 0): the traces contradict the model's layout, most often
  // because the host ran the captures at different speeds (e.g. a 1500-byte
  // write() median below the 60-byte one makes the copy's cost per byte
  // negative).
  for (int p : r.params)
    if (r.value[p] < 0) {
      std::string ins;
      for (size_t i = 0; i < obs.size(); ++i)
        if (obs[i].coef[p] != 0)
          ins += (ins.empty() ? "" : ", ") + obs[i].trace + " " + obs[i].name + " " + fmt("%.0f", obs[i].value);
      throw InputError("calibrate: " + std::string(param_key(p)) + " is identified by the traces and came out " +
                       fmt("%.4g", r.value[p]) + " " + unit_of(p) + " (from " + ins +
                       " ns): the captures contradict each other or the model's layout (was the host's speed "
                       "the same for all of them?); nothing written");
    }
  if (!outside.empty()) {
    // Inverse-variance weighted mean of the per-trace measurements.
    double sw = 0, swx = 0;
    for (auto& [v, se] : outside) {
      double w = 1.0 / std::max(se * se, 1.0);
      sw += w;
      swx += w * v;
    }
    double v = std::max(0.0, swx / sw), se = std::sqrt(1.0 / sw);
    params["costs.writer_user_ns"] = {{"value", v}, {"stderr", se}, {"unit", "ns"}};
    std::snprintf(line, sizeof line, "  %-30s %10.4g +- %-9.3g %-7s (measured directly: write period - write)\n",
                  "costs.writer_user_ns", v, se, "ns");
    report << line;
  }
  for (auto [key, v] : {std::pair{"costs.spread.process", &spread_process}, {"costs.spread.softirq", &spread_softirq}}) {
    if (v->size() < 200) continue;
    std::vector<double> tab = spread_table(*v, kSpreadPoints);
    // A table a scenario would refuse cannot be written: a quantile above the
    // parameter's range means more than 1/(2 kSpreadPoints) of the intervals
    // were stretched that much (preemption, interrupts): the host, not the
    // kernel's code.
    const ParamDecl* decl = find_param(key);
    for (int i = 0; i < kSpreadPoints; ++i)
      if (decl && decl->min < decl->max && (tab[i] < decl->min || tab[i] > decl->max))
        throw InputError("calibrate: " + std::string(key) + ": the quantile (" + std::to_string(i) + " + 0.5) / " +
                         std::to_string(kSpreadPoints) + " of " + std::to_string(v->size()) +
                         " intervals over their trace's median is " + fmt("%.3f", tab[i]) + ", outside the [" +
                         fmt("%g", decl->min) + ", " + fmt("%g", decl->max) +
                         "] a scenario accepts: the host stretched that many of them (preemption, interrupts), "
                         "too disturbed to calibrate on; nothing written");
    params[key] = {{"value", tab}, {"samples", v->size()}};
    report << "  " << key << " (measured directly: " << v->size() << " intervals / their trace's median, "
           << "quantiles (i + 0.5) / " << kSpreadPoints << "): ";
    for (double x : tab) report << fmt("%.3f", x) << " ";
    report << "\n";
  }
  // Measured directly by capture-trace (remotermw's move of a line the other
  // CPU wrote, or half of linexfer's bare handoff; linexfer carrying 6
  // written lines for the burst); the median of the captures, half their
  // range as the uncertainty.
  auto join = [](const std::set<std::string>& s, const char* sep = ", ") {
    std::string o;
    for (auto& x : s) o += (o.empty() ? "" : sep) + x;
    return o;
  };
  auto measured_at_capture = [&](std::vector<double>& v, const char* key, const char* how) {
    if (v.empty()) return;
    std::sort(v.begin(), v.end());
    size_t n = v.size();
    double x = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    double spread = (v.back() - v.front()) / 2;
    params[key] = {{"value", x}, {"stderr", spread}, {"unit", "ns"}};
    std::snprintf(line, sizeof line, "  %-30s %10.4g +- %-9.3g %-7s (measured directly at capture: %s)\n", key, x,
                  spread, "ns", how);
    report << line;
  };
  measured_at_capture(line_move, "costs.cacheline_transfer_ns", join(move_sources, "; ").c_str());
  measured_at_capture(line_burst, "costs.cacheline_burst_ns", "ping-pong carrying 6 lines, minus the bare one, / 6");
  measured_at_capture(remote_walk, "cache.skb_remote_walk_ns", "skbwalk.c --writer-cpu: random order over hot / 6");
  report << "\nrank " << r.rank << " of " << r.params.size() << " parameters, " << obs.size()
         << " observations, chi2 " << fmt("%.3g", r.chi2) << " on " << r.dof << " degrees of freedom, residual rms "
         << fmt("%.2f", r.residual_rms_ns) << " ns\n";
  if (!unidentified.empty()) {
    report << "unidentified (the traces determine only these combinations):\n";
    for (size_t i = 0; i < r.combinations.size(); ++i)
      report << "  " << r.combinations[i] << " = " << fmt("%.4g", r.combination_value[i]) << " +- "
             << fmt("%.3g", r.combination_stderr[i]) << "\n";
  }

  json cal;
  cal["format"] = kCalibrationFormat;
  cal["name"] = name;
  cal["provenance"] = {{"source", "trace-fit"},
                       {"inputs", inputs},
                       {"kernel", join(kernels)},
                       {"cpu_model", join(cpus)},
                       {"hz", hzs.size() == 1 ? json(*hzs.begin()) : json(nullptr)},
                       {"captured", join(dates)},
                       {"date", utc_now()},
                       {"tool", std::string("tunsim ") + TUNSIM_VERSION + " calibrate"}};
  cal["provenance"].update(cpu_provenance(cpu_signatures, machine, report, cache));
  if (!machine.empty()) {
    for (auto& [k, v] : cache["parameters"].items()) params[k] = v;
    cal["provenance"]["machine"] = machine;
  }
  if (!split_from.empty()) cal["provenance"]["split_from"] = split_from;
  cal["parameters"] = params;
  cal["unidentified"] = unidentified;
  json resid = json::array();
  for (size_t i = 0; i < obs.size(); ++i) {
    json coef = json::object();
    for (int p = 0; p < kParams; ++p)
      if (obs[i].coef[p] != 0) coef[param_key(p)] = obs[i].coef[p];
    resid.push_back({{"trace", obs[i].trace}, {"observation", obs[i].name}, {"median_ns", obs[i].value},
                     {"stderr_ns", obs[i].stderr_ns}, {"samples", obs[i].samples},
                     {"cache_penalty_ns", obs[i].penalty}, {"coefficients", coef},
                     {"residual_ns", r.residual[i]}});
  }
  cal["fit"] = {
      {"method", "weighted least squares (weights 1/stderr^2) of interval medians, one-sided Jacobi SVD"},
      {"statistic",
       "median of each interval over the events of the workload's shape; stderr from the distribution-free "
       "95% order-statistic interval / 3.92"},
      {"convention",
       "a combination the traces identify is split among its costs by the solution closest to the priors "
       "in sum (x - prior)^2 / prior, i.e. in the proportions of the priors; the priors of softirq_ns, "
       "napi_poll_ns and gro_ns are the NET_RX softirq's split by perf samples of each path when the IFF_NAPI "
       "captures have them (capture-trace --perf-paths; docs/traces.md), averaged over those captures, every "
       "other prior is the cost's default; those costs are "
       "listed under unidentified; an unidentified cost that split makes negative is pinned to 0 "
       "(pinned_to_zero) and the rest re-solved"},
      {"split", [&] {
         json a = json::object();
         for (int p : r.params)
           a[param_key(p)] = {{"prior", prior[p]},
                              {"from", prior_sampled[p] ? "perf samples of the captures' NET_RX softirq" : "the default"}};
         return json{{"priors", a}, {"receive_split_by_capture", perf_by_trace}};
       }()},
      {"identified_combinations", [&] {
         json a = json::array();
         for (size_t i = 0; i < r.combinations.size(); ++i)
           a.push_back({{"combination", r.combinations[i]}, {"value", r.combination_value[i]},
                        {"stderr", r.combination_stderr[i]}});
         return a;
       }()},
      {"pinned_to_zero", [&] { json a = json::array(); for (int p : r.pinned) a.push_back(param_key(p)); return a; }()},
      {"rank", r.rank},
      {"chi2", r.chi2},
      {"dof", r.dof},
      {"stderr_scaled_by_sqrt_chi2_per_dof", r.dof > 0 && r.chi2 > r.dof},
      {"residual_rms_ns", r.residual_rms_ns},
      {"observations", obs.size()},
      {"residuals", resid}};
  if (!machine.empty()) cal["fit"]["cache"] = cache["fit"];
  cal["measurements"] = measurements;
  return written(cal);
}

}  // namespace tunsim::calib
