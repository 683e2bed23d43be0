// Fit of the kernel module's measurements to the model's parameters, through
// the simulator's own cache model.
//
// The module (kmod/tunsim_calib.c) times batches of b packets in one
// bh-disabled section, per packet, twice: warm (the previous batch just ran
// the same code) and after writing pollute_bytes of data (the sender's
// footprint).  kmod_replay.cpp replays that experiment as the simulator
// charges it (Ctx::spend, CacheModel with the calibration's geometry and
// latencies) for a given footprint and base of a path; the fit searches the
// path's instruction footprint and takes the least-squares base for each,
// first for stack_drop on the kfree_skb series, then for netif_receive_skb
// on the receive series with the drop as fitted.  The module's refill
// latency (miss_latency large - small) is reported beside it; the model's
// own latencies price the misses, as they will in every scenario.
#include "sim/tools/kmod/kmod_fit.hpp"

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <map>
#include <ostream>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "sim/config/calibration_file.hpp"
#include "sim/config/loader.hpp"
#include "sim/io/errors.hpp"
#include "sim/io/files.hpp"
#include "sim/io/json.hpp"
#include "sim/tools/kmod/kmod_input.hpp"
#include "sim/tools/kmod/kmod_replay.hpp"

namespace tunsim {
namespace {

using nlohmann::json;
using kmod::Curves;
using kmod::describe;
using kmod::Experiment;
using kmod::FootprintFit;
using kmod::Reader;
using kmod::Run;
using kmod::Series;
using kmod::read_series;

const char* kFormat = kCalibrationFormat;

double round_to(double v, double unit) { return std::round(v / unit) * unit; }
json finite_or_null(double v, double unit) { return std::isfinite(v) ? json(round_to(v, unit)) : json(nullptr); }

std::string fmt(double v, int prec) {
  std::ostringstream o;
  o << std::fixed << std::setprecision(prec) << v;
  return o.str();
}

struct PathResult {
  std::string path;           // model path name
  std::string cost_key;       // costs.* key of its base
  std::string footprint_key;  // cache.footprints.<path>.icache_bytes
  std::string what;           // what the series is
  Run run;
  Curves measured;
  FootprintFit fit;
  bool base_ok = false;
  // identified: above 2 stderr; written: bounded by the data (identified, or
  // consistent with zero within a finite stderr), so the calibration holds
  // the fitted model; not written: at the search bound or not determined.
  bool footprint_ok = false, footprint_written = false;
  std::string footprint_note;
};

// The built-in default scenario's Params with `values` (parameter key ->
// value) set, as the loader sets a calibration's values.  A key whose
// prefix holds a value, not a group ("cache.footprints" set to a number,
// then "cache.footprints.stack.icache_bytes"), is the input's error.
Params params_with(const std::map<std::string, json>& values, const std::string& where) {
  json scenario = default_scenario();
  for (const auto& [key, value] : values) {
    json* cur = &scenario;
    std::stringstream ss(key);
    std::string part, prefix;
    while (std::getline(ss, part, '.')) {
      if (!cur->is_object() && !cur->is_null())
        throw InputError(where + ": parameters." + printable(key, 200) + ": expected " + printable(prefix, 200) +
                         " to be a group of parameters, found " + describe(cur));
      cur = &(*cur)[part];
      prefix += (prefix.empty() ? "" : ".") + part;
    }
    *cur = value;
  }
  return build_config(scenario, where, ".").params;
}

}  // namespace

void calibrate_from_kmod(const std::string& in_path, const std::string& out_path, std::ostream& report,
                         const std::string& cache_calibration) {
  // Opened before the module's file is read and fitted (as run's outputs):
  // in a folder that does not exist it failed after the whole fit.
  OutputFile out_file(out_path);
  json root = read_json_file(in_path, size_t(16) << 20);
  const std::string in_name = in_path == "-" ? "standard input" : printable(in_path, 200);
  if (!root.is_object()) throw InputError(in_name + ": expected a JSON object, found " + describe(&root));
  Reader r(in_name, root);

  const json* format = r.find("format");
  if (!format || !format->is_string() || format->get<std::string>() != kFormat)
    r.fail("format", std::string("\"") + kFormat + "\"", format);
  const json* source = r.find("provenance.source");
  if (!source || !source->is_string() || source->get<std::string>() != "kmod")
    r.fail("provenance.source", "\"kmod\" (a file written by kmod/tunsim_calib)", source);
  const json& params_in = r.object("parameters");
  for (auto it = params_in.begin(); it != params_in.end(); ++it) {
    const std::string p = "parameters." + it.key();
    if (!it->is_object()) r.fail(p, "an object with value and unit", &*it);
    const json* v = it->contains("value") ? &(*it)["value"] : nullptr;
    if (!v || !v->is_number()) r.fail(p + ".value", "a number", v);
    const json* u = it->contains("unit") ? &(*it)["unit"] : nullptr;
    if (!u || !u->is_string()) r.fail(p + ".unit", "a unit string", u);
  }
  const json* unident_in = r.find("unidentified");
  if (unident_in && !unident_in->is_array()) r.fail("unidentified", "an array of parameter keys", unident_in);
  const json& meas = r.object("measurements");

  // The module's own values, bounded as it writes them: a line of 4.5 bytes
  // was truncated, 1e308 bytes or ns printed as 300 digits, a clock of -1
  // kHz taken for none, and a hypervisor flag of "x" for false.
  const double line_bytes = r.number("measurements.line_bytes");
  if (!(line_bytes >= 8 && line_bytes <= 4096) || line_bytes != std::floor(line_bytes))
    r.fail("measurements.line_bytes", "a cache line size, an integer in 8..4096 bytes",
           r.find("measurements.line_bytes"));
  const double cpu_khz = r.number("measurements.cpu_khz");
  if (!(cpu_khz >= 0 && cpu_khz <= 1e8))
    r.fail("measurements.cpu_khz", "the CPU clock in kHz, 0 (unknown) to 1e8", r.find("measurements.cpu_khz"));
  const json* hyper = r.find("measurements.hypervisor");
  if (hyper && !hyper->is_boolean()) r.fail("measurements.hypervisor", "true or false", hyper);
  const json* errs = r.find("measurements.errors");
  if (errs && !errs->is_object()) r.fail("measurements.errors", "an object (the module's error counts)", errs);
  r.object("measurements.miss_latency");
  auto latency = [&](const std::string& path) {
    double v = r.number(path);
    if (!(v > 0 && v <= 1e6)) r.fail(path, "a latency in ns, above 0 and at most 1e6", r.find(path));
    return v;
  };
  const double lat_small = latency("measurements.miss_latency.small.median_ns");
  const double lat_large = latency("measurements.miss_latency.large.median_ns");
  Experiment e;
  e.pollute_bytes = r.number("measurements.pollute_bytes");
  if (e.pollute_bytes < 65536 || e.pollute_bytes > 67108864)
    r.fail("measurements.pollute_bytes", "the polluting working set, 65536..67108864 bytes (the module's range)",
           r.find("measurements.pollute_bytes"));
  e.frame_bytes = r.number("measurements.netif_receive_skb.frame_bytes");
  if (e.frame_bytes < 14 || e.frame_bytes > 65535)
    r.fail("measurements.netif_receive_skb.frame_bytes", "a frame size in 14..65535 bytes",
           r.find("measurements.netif_receive_skb.frame_bytes"));

  Series recv = read_series(r, "netif_receive_skb");
  Series drop = read_series(r, "kfree_skb");
  if (recv.batch != drop.batch)
    r.fail("measurements.kfree_skb.batch", "the same batch sizes as measurements.netif_receive_skb.batch",
           r.find("measurements.kfree_skb.batch"));
  e.batch = recv.batch;

  // The cache model: the user's calibration's cache.* values, or the defaults.
  std::map<std::string, json> cache_values;  // key -> value
  json cache_entries = json::object();       // key -> the calibration's entry (value, unit, stderr)
  if (!cache_calibration.empty()) {
    Calibration cal = read_calibration(cache_calibration, "calibrate --kmod: the cache calibration");
    for (const auto& [key, value] : cal.values)
      if (key.rfind("cache.", 0) == 0) {
        cache_values[key] = value;
        cache_entries[key] = cal.raw["parameters"][key];
      }
  }
  const std::string cache_name = cache_calibration.empty() ? "the defaults (models/cache/params.cpp)"
                                                           : printable(cache_calibration, 200);
  Params p = params_with(cache_values, cache_name);
  if (!p.cache.enabled) throw InputError(cache_name + ": cache.enabled: expected true (the fit needs the cache model)");

  std::vector<PathResult> paths(2);
  paths[0].path = "stack_drop";
  paths[0].cost_key = "costs.stack_drop_ns";
  paths[0].what = "kfree_skb: the drop of an unhandled EtherType";
  paths[0].run = Run::Drop;
  paths[0].measured = {drop.warm, drop.polluted};
  paths[1].path = "netif_receive_skb";
  paths[1].cost_key = "costs.netif_receive_skb_ns";
  paths[1].what = "netif_receive_skb: receive, skb reread and the drop as fitted";
  paths[1].run = Run::Receive;
  paths[1].measured = {recv.warm, recv.polluted};
  for (auto& pr : paths) {
    pr.footprint_key = "cache.footprints." + pr.path + ".icache_bytes";
    // The drop first; the receive series includes it, with what the
    // calibration will hold for it.
    pr.fit = kmod::fit_footprint(p, e, pr.run, pr.measured);
    const FootprintFit& f = pr.fit;
    pr.base_ok = f.base_ns > 0;
    if (f.at_bound) {
      pr.footprint_note = "the best footprint is the largest searched (" + fmt(f.search_max_bytes, 0) +
                          " bytes, the L2's lines): the refill is larger than any footprint up to the L2 gives";
    } else if (!std::isfinite(f.footprint_stderr_bytes) ||
               f.footprint_bytes + 2 * f.footprint_stderr_bytes > f.search_max_bytes) {
      pr.footprint_note = "not determined: the curves barely change with it (stderr " +
                          fmt(f.footprint_stderr_bytes, 0) + " bytes; is pollute_bytes below the L2 size?)";
    } else if (!(f.footprint_bytes > 2 * f.footprint_stderr_bytes)) {
      pr.footprint_written = true;
      pr.footprint_note = "not significantly above zero (" + fmt(f.footprint_bytes, 0) + " +- " +
                          fmt(f.footprint_stderr_bytes, 0) +
                          " bytes is not above 2 stderr): written, as the curves' best value, and listed as "
                          "unidentified";
    } else {
      pr.footprint_ok = pr.footprint_written = true;
    }
    const size_t k = static_cast<size_t>(pr.run == Run::Drop ? Path::StackDrop : Path::NetifReceiveSkb);
    if (pr.footprint_written) p.cache.icache_bytes[k] = f.footprint_bytes;
    if (pr.base_ok) (pr.run == Run::Drop ? p.costs.stack_drop_ns : p.costs.netif_receive_skb_ns) = f.base_ns;
  }

  // ---- the calibration file ----
  json out;
  out["format"] = kFormat;
  const json* name = r.find("name");
  if (name && !name->is_string()) r.fail("name", "a string (the calibration's name)", name);
  out["name"] = name ? name->get<std::string>() : std::string("kmod");
  json prov;
  prov["source"] = "kmod";
  prov["inputs"] = json::array({in_path == "-" ? std::string("standard input") : in_path});
  const json* pin = r.find("provenance");
  for (const char* key : {"kernel", "cpu_model", "hz"})
    prov[key] = (pin && pin->contains(key)) ? (*pin)[key] : json(nullptr);
  prov["cache_calibration"] = cache_calibration.empty() ? json(nullptr) : json(cache_calibration);
  prov["date"] = utc_now();
  prov["tool"] = std::string("tunsim ") + TUNSIM_VERSION + " calibrate --kmod";
  out["provenance"] = prov;

  json params = params_in;
  std::set<std::string> unident;
  if (unident_in)
    for (const auto& u : *unident_in)
      if (u.is_string()) unident.insert(u.get<std::string>());
  // The cache the fit used goes with the footprints it gave: a scenario
  // takes one calibration.
  for (auto it = cache_entries.begin(); it != cache_entries.end(); ++it) {
    params[it.key()] = *it;
    unident.erase(it.key());
  }
  // unit_round 1 writes an integer (the footprints are integer parameters).
  auto set_param = [&](const std::string& key, double value, double se, const char* unit, double unit_round) {
    json v = unit_round == 1 ? json(static_cast<long long>(std::llround(value))) : json(round_to(value, unit_round));
    params[key] = {{"value", v}, {"unit", unit}};
    if (se >= 0 && std::isfinite(se)) params[key]["stderr"] = round_to(se, unit_round);
    unident.erase(key);
  };
  for (auto& pr : paths) {
    if (pr.base_ok) {
      set_param(pr.cost_key, pr.fit.base_ns, pr.fit.base_stderr_ns, "ns", 0.001);
    } else {
      params.erase(pr.cost_key);
      unident.insert(pr.cost_key);
    }
    if (pr.footprint_written) {
      set_param(pr.footprint_key, pr.fit.footprint_bytes, pr.fit.footprint_stderr_bytes, "bytes", 1);
      if (!pr.footprint_ok) unident.insert(pr.footprint_key);
    } else if (!cache_entries.contains(pr.footprint_key)) {
      params.erase(pr.footprint_key);
      unident.insert(pr.footprint_key);
    }
  }
  // The clock the module measured (x86: the kernel's calibrated cpu_khz).
  if (cpu_khz > 0) {
    set_param("cpus.hz", cpu_khz * 1e3, -1, "Hz", 1);
  } else {
    params.erase("cpus.hz");
    unident.insert("cpus.hz");
  }
  // Files of older modules carried a path-granular refill penalty and a
  // "stack" footprint; neither is a parameter any more.
  for (const char* gone : {"cache.l2.miss_penalty_cycles", "cache.footprints.stack.icache_bytes"}) {
    params.erase(gone);
    unident.erase(gone);
  }
  out["parameters"] = params;
  out["unidentified"] = json(std::vector<std::string>(unident.begin(), unident.end()));

  // ---- the fitted model reproduces the curves ----
  // The calibration as written, loaded as a scenario loads it, replays the
  // experiment through the same calls.
  std::map<std::string, json> written;
  for (auto it = params.begin(); it != params.end(); ++it) written[it.key()] = (*it)["value"];
  const Params pw = params_with(written, in_name + " (the calibration it gives)");
  json replay_rec = json::object();
  double replay_rss = 0, fit_rss = 0;
  int obs = 0;
  std::vector<double> replay_rms;
  for (auto& pr : paths) {
    Curves c = kmod::replay(pw, e, pr.run);
    double rms = kmod::rms_residual(pr.measured, c);
    replay_rms.push_back(rms);
    replay_rss += rms * rms * pr.fit.observations;
    fit_rss += pr.fit.residual_rms_ns * pr.fit.residual_rms_ns * pr.fit.observations;
    obs += pr.fit.observations;
    replay_rec[pr.path] = {{"residual_rms_ns", round_to(rms, 0.001)}, {"warm_ns", c.warm}, {"polluted_ns", c.polluted}};
  }
  const double replay_total = std::sqrt(obs ? replay_rss / obs : 0.0);
  replay_rec["residual_rms_ns"] = round_to(replay_total, 0.001);
  replay_rec["observations"] = obs;

  json fit_paths = json::object();
  for (auto& pr : paths) {
    const FootprintFit& f = pr.fit;
    fit_paths[pr.path] = {
        {"series", pr.what},
        {"base_ns", round_to(f.base_ns, 0.001)},
        {"base_stderr_ns", finite_or_null(f.base_stderr_ns, 0.001)},
        {"footprint_bytes", round_to(f.footprint_bytes, 1)},
        {"footprint_stderr_bytes", finite_or_null(f.footprint_stderr_bytes, 1)},
        {"footprint_identified", pr.footprint_ok},
        {"footprint_written", pr.footprint_written},
        {"footprint_note", pr.footprint_ok ? json(nullptr) : json(pr.footprint_note)},
        {"search_max_bytes", f.search_max_bytes},
        {"residual_rms_ns", round_to(f.residual_rms_ns, 0.001)},
        {"observations", f.observations},
        {"warm_residual_ns", f.warm_residual_ns},
        {"polluted_residual_ns", f.polluted_residual_ns},
    };
  }
  out["fit"] = {
      {"method", "least squares through the cache model (sim/tools/kmod/kmod_replay.cpp)"},
      {"model", "per-packet ns of the module's experiment replayed as the simulator charges it (Ctx::spend, "
                "CacheModel), as a function of the path's icache footprint and base; stack_drop first, then "
                "netif_receive_skb with the drop as fitted"},
      {"cache", cache_calibration.empty() ? json("defaults") : json(cache_calibration)},
      {"pollute_bytes", e.pollute_bytes},
      {"frame_bytes", e.frame_bytes},
      {"module_refill_latency_ns", round_to(lat_large - lat_small, 0.001)},
      {"line_bytes", line_bytes},
      {"cpu_khz", cpu_khz},
      {"residual_rms_ns", round_to(std::sqrt(obs ? fit_rss / obs : 0.0), 0.001)},
      {"observations", obs},
      {"paths", fit_paths},
      {"replay", replay_rec},
  };
  out["measurements"] = meas;
  // What is written must load as a calibration: every parameter a scenario
  // parameter that may be calibrated, in its unit and range.
  check_calibration(out, in_name + " (the calibration it gives)");
  out_file.write(dump_json(out) + "\n");
  out_file.commit();

  // ---- the report ----
  report << "kmod fit of " << in_name;
  if (prov["kernel"].is_string()) report << " (kernel " << prov["kernel"].get<std::string>();
  if (prov["cpu_model"].is_string()) report << ", " << prov["cpu_model"].get<std::string>();
  if (prov["kernel"].is_string()) report << ")";
  report << "\n";
  if (hyper && hyper->is_boolean() && hyper->get<bool>())
    report << "warning: measured under a hypervisor or emulator: these timings describe the "
              "virtual machine, not hardware, and are not a calibration\n";
  report << "cache model: " << cache_name << "; the experiment replayed through it: " << fmt(e.frame_bytes, 0)
         << "-byte frames, " << fmt(e.pollute_bytes, 0) << " bytes written before each polluted batch\n";
  if (line_bytes != p.cache.l1d.line_bytes)
    report << "warning: the module's line is " << fmt(line_bytes, 0) << " bytes, the cache model's "
           << fmt(p.cache.l1d.line_bytes, 0) << ": the cache calibration is of another machine\n";
  report << "module's refill latency (information; the model's latencies price the misses): " << fmt(lat_large, 3)
         << " ns per load over the polluting set - " << fmt(lat_small, 3)
         << " ns over 16 KiB = " << fmt(lat_large - lat_small, 3) << " ns\n";
  report << "\n" << std::left << std::setw(48) << "parameter" << std::right << std::setw(14) << "value"
         << std::setw(12) << "stderr" << "  unit\n";
  for (auto it = params.begin(); it != params.end(); ++it) {
    const json& v = *it;
    const std::string unit = v.contains("unit") && v["unit"].is_string() ? v["unit"].get<std::string>() : "";
    const int prec = unit == "ns/byte" ? 6 : (unit == "bytes" || unit == "Hz") ? 0 : 3;
    report << std::left << std::setw(48) << it.key() << std::right << std::setw(14)
           << (v["value"].is_number() ? fmt(v["value"].get<double>(), prec) : v["value"].dump()) << std::setw(12)
           << (v.contains("stderr") && v["stderr"].is_number() ? fmt(v["stderr"].get<double>(), prec)
                                                                : std::string("-"))
           << "  " << unit << "\n";
  }
  report << "unidentified (as the fit record says, or the defaults):";
  for (const auto& u : unident) report << " " << u;
  report << (unident.empty() ? " none\n" : "\n");

  // A subset of the batch sizes keeps the table small; all residuals are in
  // the fit record of the output file.
  const std::set<int> shown = {1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64};
  for (size_t q = 0; q < paths.size(); ++q) {
    const PathResult& pr = paths[q];
    const FootprintFit& f = pr.fit;
    report << "\n" << pr.path << " (" << pr.what << "): base " << fmt(f.base_ns, 3) << " +- "
           << fmt(f.base_stderr_ns, 3) << " ns/packet, icache footprint " << fmt(f.footprint_bytes, 0) << " +- "
           << fmt(f.footprint_stderr_bytes, 0) << " bytes";
    if (!pr.footprint_ok) report << " (" << (pr.footprint_written ? "" : "not written: ") << pr.footprint_note << ")";
    report << ", residual RMS " << fmt(f.residual_rms_ns, 3) << " ns over " << f.observations << " points\n";
    report << std::setw(5) << "b" << std::setw(11) << "warm" << std::setw(11) << "model" << std::setw(9) << "resid"
           << std::setw(11) << "polluted" << std::setw(11) << "model" << std::setw(9) << "resid\n";
    for (size_t i = 0; i < e.batch.size(); ++i) {
      int b = static_cast<int>(e.batch[i]);
      if (!shown.count(b) && i + 1 != e.batch.size()) continue;
      report << std::setw(5) << b << std::setw(11) << fmt(pr.measured.warm[i], 1) << std::setw(11)
             << fmt(f.model.warm[i], 1) << std::setw(9) << fmt(f.warm_residual_ns[i], 1) << std::setw(11)
             << fmt(pr.measured.polluted[i], 1) << std::setw(11) << fmt(f.model.polluted[i], 1) << std::setw(9)
             << fmt(f.polluted_residual_ns[i], 1) << "\n";
    }
  }
  report << "\nfit residual RMS " << fmt(std::sqrt(obs ? fit_rss / obs : 0.0), 3) << " ns over " << obs
         << " observations\n";
  report << "replay of the experiment with the calibration as written: residual RMS";
  for (size_t q = 0; q < paths.size(); ++q) report << " " << paths[q].path << " " << fmt(replay_rms[q], 3) << " ns,";
  report << " all " << fmt(replay_total, 3) << " ns over " << obs << " observations\n";
  if (out_path != "-") report << "wrote " << out_path << "\n";
}

}  // namespace tunsim
