// Fit of the kernel module's measurements to the model's parameters.
//
// The model (docs/model.md) charges one run of a path its base cost plus the
// refill misses of its footprint.  The module times batches of b packets in
// one bh-disabled section, per packet, twice: warm (the previous batch just
// ran the same code) and after writing a working set larger than the cache
// (the sender's footprint).  After the pollution the first packet of a batch
// refills the path's footprint, so
//     polluted(b) = base + M / b,   warm(b) = base,
//     M = ceil(footprint / line) * penalty_cycles / hz.
// base and M are identified by least squares over both series; M alone only
// gives the product footprint x penalty.  The module measures the penalty
// directly (latency of a dependent load over the polluting set minus over a
// 16 KiB set), while nothing measures a footprint independently, so the
// footprint is solved given that penalty.
#include "sim/tools/kmod/kmod_fit.hpp"

#include <algorithm>
#include <cmath>
#include <ctime>
#include <iomanip>
#include <ostream>
#include <set>
#include <sstream>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "sim/config/calibration_file.hpp"
#include "sim/io/errors.hpp"
#include "sim/tools/kmod/kmod_input.hpp"
#include "sim/io/files.hpp"
#include "sim/io/json.hpp"

namespace tunsim {
namespace {

using nlohmann::json;
using kmod::Reader;
using kmod::Series;
using kmod::read_series;

const char* kFormat = kCalibrationFormat;
using kmod::describe;

double round_to(double v, double unit) { return std::round(v / unit) * unit; }

struct PathResult {
  std::string path;             // model path name
  std::string cost_key;         // costs.* key of its base
  std::string footprint_key;    // cache.footprints.<path>.icache_bytes
  std::string what;             // what the series is
  Series series;
  BatchFit fit;
  bool base_ok = false, footprint_ok = false;
  double footprint = 0, footprint_stderr = 0;
  std::string footprint_note;
};

std::string fmt(double v, int prec) {
  std::ostringstream o;
  o << std::fixed << std::setprecision(prec) << v;
  return o.str();
}

}  // namespace

BatchFit fit_batch_series(const std::vector<double>& batch, const std::vector<double>& warm,
                          const std::vector<double>& polluted) {
  // Design matrix rows (1, x): warm x = 0, polluted x = 1/b.
  const size_t n = batch.size();
  double s1 = 0, sx = 0, sxx = 0, sy = 0, sxy = 0;
  auto add = [&](double x, double y) {
    s1 += 1;
    sx += x;
    sxx += x * x;
    sy += y;
    sxy += x * y;
  };
  for (size_t i = 0; i < n; ++i) {
    add(0.0, warm[i]);
    add(1.0 / batch[i], polluted[i]);
  }
  const double det = s1 * sxx - sx * sx;
  BatchFit f;
  f.observations = static_cast<int>(2 * n);
  if (det <= 0) throw std::invalid_argument("fit_batch_series: the batch sizes give a singular fit");
  f.base_ns = (sxx * sy - sx * sxy) / det;
  f.refill_ns = (s1 * sxy - sx * sy) / det;
  double rss = 0;
  for (size_t i = 0; i < n; ++i) {
    double rw = warm[i] - f.base_ns;
    double rp = polluted[i] - (f.base_ns + f.refill_ns / batch[i]);
    f.warm_residual_ns.push_back(rw);
    f.polluted_residual_ns.push_back(rp);
    rss += rw * rw + rp * rp;
  }
  f.residual_rms_ns = std::sqrt(rss / (2.0 * n));
  if (2 * n > 2) {
    // cov = sigma^2 (X'X)^-1, sigma^2 = RSS / (observations - parameters)
    double sigma2 = rss / (2.0 * n - 2.0);
    f.base_stderr_ns = std::sqrt(sigma2 * sxx / det);
    f.refill_stderr_ns = std::sqrt(sigma2 * s1 / det);
  }
  return f;
}

void calibrate_from_kmod(const std::string& in_path, const std::string& out_path,
                         std::ostream& report) {
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

  const double line_bytes = r.number("measurements.line_bytes");
  if (line_bytes <= 0) r.fail("measurements.line_bytes", "a positive number", r.find("measurements.line_bytes"));
  const double cpu_khz = r.number("measurements.cpu_khz");
  const json* hyper = r.find("measurements.hypervisor");
  r.object("measurements.miss_latency");
  const double lat_small = r.number("measurements.miss_latency.small.median_ns");
  const double lat_large = r.number("measurements.miss_latency.large.median_ns");
  auto se_of = [&](const std::string& which) {
    double mad = r.number("measurements.miss_latency." + which + ".mad_ns");
    double n = r.number("measurements.miss_latency." + which + ".samples");
    return n >= 2 ? 1.2533 * 1.4826 * mad / std::sqrt(n) : 0.0;
  };
  const double penalty_ns = lat_large - lat_small;
  const double penalty_se = std::hypot(se_of("large"), se_of("small"));

  // Receive minus drop isolates __netif_receive_skb_core; the drop alone is
  // the stack path for an unhandled EtherType.
  Series recv = read_series(r, "netif_receive_skb");
  Series drop = read_series(r, "kfree_skb");
  if (recv.batch != drop.batch)
    r.fail("measurements.kfree_skb.batch", "the same batch sizes as measurements.netif_receive_skb.batch",
           r.find("measurements.kfree_skb.batch"));

  std::vector<PathResult> paths(2);
  paths[0].path = "netif_receive_skb";
  paths[0].cost_key = "costs.netif_receive_skb_ns";
  paths[0].what = "netif_receive_skb minus kfree_skb";
  paths[0].series.batch = recv.batch;
  for (size_t i = 0; i < recv.batch.size(); ++i) {
    paths[0].series.warm.push_back(recv.warm[i] - drop.warm[i]);
    paths[0].series.polluted.push_back(recv.polluted[i] - drop.polluted[i]);
  }
  paths[1].path = "stack_drop";
  paths[1].cost_key = "costs.stack_drop_ns";
  paths[1].what = "kfree_skb (drop of an unhandled EtherType)";
  paths[1].series = drop;

  for (auto& p : paths) {
    p.footprint_key = "cache.footprints." + p.path + ".icache_bytes";
    p.fit = fit_batch_series(p.series.batch, p.series.warm, p.series.polluted);
    p.base_ok = p.fit.base_ns > 0;
    if (penalty_ns <= 0) {
      p.footprint_note = "no refill penalty measured (miss_latency large <= small)";
    } else if (p.fit.refill_ns <= 2 * p.fit.refill_stderr_ns || p.fit.refill_ns < 0.01 * penalty_ns) {
      // Not significantly above zero (2 standard errors), or less than a
      // hundredth of one line's refill: round-off, not a footprint.
      p.footprint_note = "no refill cost visible after the pollution (M = " + fmt(p.fit.refill_ns, 3) +
                         " +- " + fmt(p.fit.refill_stderr_ns, 3) + " ns is not above 2 stderr and " +
                         fmt(0.01 * penalty_ns, 3) + " ns)";
    } else {
      p.footprint_ok = true;
      double lines = p.fit.refill_ns / penalty_ns;
      p.footprint = lines * line_bytes;
      double rel = std::hypot(p.fit.refill_stderr_ns / p.fit.refill_ns, penalty_se / penalty_ns);
      p.footprint_stderr = p.footprint * rel;
    }
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
  for (const char* k : {"kernel", "cpu_model", "hz"})
    prov[k] = (pin && pin->contains(k)) ? (*pin)[k] : json(nullptr);
  prov["date"] = utc_now();
  prov["tool"] = std::string("tunsim ") + TUNSIM_VERSION + " calibrate --kmod";
  out["provenance"] = prov;

  json params = params_in;
  std::set<std::string> unident;
  if (unident_in)
    for (const auto& u : *unident_in)
      if (u.is_string()) unident.insert(u.get<std::string>());
  // unit_round 1 writes an integer (the footprints are integer parameters).
  auto set_param = [&](const std::string& key, double value, double se, const char* unit,
                       double unit_round) {
    json v = unit_round == 1 ? json(static_cast<long long>(std::llround(value)))
                             : json(round_to(value, unit_round));
    params[key] = {{"value", v}, {"unit", unit}};
    if (se >= 0) params[key]["stderr"] = round_to(se, unit_round);
    unident.erase(key);
  };
  for (auto& p : paths) {
    if (p.base_ok) {
      set_param(p.cost_key, p.fit.base_ns, p.fit.base_stderr_ns, "ns", 0.001);
    } else {
      params.erase(p.cost_key);
      unident.insert(p.cost_key);
    }
    if (p.footprint_ok) {
      set_param(p.footprint_key, p.footprint, p.footprint_stderr, "bytes", 1);
    } else {
      params.erase(p.footprint_key);
      unident.insert(p.footprint_key);
    }
  }
  // The penalty is converted to cycles at the measured clock; the model
  // converts cycles back to time at cpus.hz, so the calibration sets both.
  if (cpu_khz > 0) {
    set_param("cpus.hz", cpu_khz * 1e3, -1, "Hz", 1);
  } else {
    params.erase("cpus.hz");
    unident.insert("cpus.hz");
  }
  // The refill penalty the module measured solves the footprints above; it
  // is not a parameter (the cache model's latencies come from the machine
  // calibration), and files of older modules that carried it drop it.
  const double penalty_cycles = penalty_ns * cpu_khz / 1e6;
  params.erase("cache.l2.miss_penalty_cycles");
  unident.erase("cache.l2.miss_penalty_cycles");
  params.erase("cache.footprints.stack.icache_bytes");
  unident.erase("cache.footprints.stack.icache_bytes");
  out["parameters"] = params;
  out["unidentified"] = json(std::vector<std::string>(unident.begin(), unident.end()));

  double rss = 0;
  int obs = 0;
  json fit_paths = json::object();
  for (auto& p : paths) {
    rss += p.fit.residual_rms_ns * p.fit.residual_rms_ns * p.fit.observations;
    obs += p.fit.observations;
    fit_paths[p.path] = {
        {"series", p.what},
        {"base_ns", round_to(p.fit.base_ns, 0.001)},
        {"base_stderr_ns", round_to(p.fit.base_stderr_ns, 0.001)},
        {"refill_ns", round_to(p.fit.refill_ns, 0.001)},
        {"refill_stderr_ns", round_to(p.fit.refill_stderr_ns, 0.001)},
        {"residual_rms_ns", round_to(p.fit.residual_rms_ns, 0.001)},
        {"observations", p.fit.observations},
        {"footprint_bytes", p.footprint_ok ? json(std::llround(p.footprint)) : json(nullptr)},
        {"footprint_note", p.footprint_ok ? json(nullptr) : json(p.footprint_note)},
        {"warm_residual_ns", p.fit.warm_residual_ns},
        {"polluted_residual_ns", p.fit.polluted_residual_ns},
    };
  }
  out["fit"] = {
      {"method", "least-squares"},
      {"model", "per-packet ns(b) = base + M/b after pollution, base when warm; "
                "footprint = M / penalty_ns * line_bytes"},
      {"solved_for", "footprint given the measured penalty"},
      {"penalty_ns", round_to(penalty_ns, 0.001)},
      {"penalty_stderr_ns", round_to(penalty_se, 0.001)},
      {"line_bytes", line_bytes},
      {"cpu_khz", cpu_khz},
      {"residual_rms_ns", round_to(std::sqrt(obs ? rss / obs : 0.0), 0.001)},
      {"observations", obs},
      {"paths", fit_paths},
  };
  out["measurements"] = meas;
  // What is written must load as a calibration: every parameter a scenario
  // parameter that may be calibrated, in its unit and range.
  check_calibration(out, in_name + " (the calibration it gives)");
  write_file_atomic(out_path, dump_json(out) + "\n");

  // ---- the report ----
  report << "kmod fit of " << in_name;
  if (prov["kernel"].is_string()) report << " (kernel " << prov["kernel"].get<std::string>();
  if (prov["cpu_model"].is_string()) report << ", " << prov["cpu_model"].get<std::string>();
  if (prov["kernel"].is_string()) report << ")";
  report << "\n";
  if (hyper && hyper->is_boolean() && hyper->get<bool>())
    report << "warning: measured under a hypervisor or emulator: these timings describe the "
              "virtual machine, not hardware, and are not a calibration\n";
  report << "refill penalty: " << fmt(lat_large, 3) << " ns per load over the polluting set - "
         << fmt(lat_small, 3) << " ns over 16 KiB = " << fmt(penalty_ns, 3) << " +- "
         << fmt(penalty_se, 3) << " ns";
  if (cpu_khz > 0) report << " = " << fmt(penalty_cycles, 1) << " cycles at " << fmt(cpu_khz / 1e3, 0) << " MHz";
  report << "\nsolved: footprint given that penalty (the fit sees only M = lines x penalty; the "
            "module measures the penalty, nothing measures a footprint)\n";
  if (cpu_khz > 0)
    report << "note: cpus.hz is set to the measured " << fmt(cpu_khz * 1e3, 0)
           << " Hz so that the penalty converts back to the same time; a scenario that sets "
              "cpus.hz itself changes the refill time in proportion\n";
  report << "\n" << std::left << std::setw(48) << "parameter" << std::right << std::setw(14)
         << "value" << std::setw(12) << "stderr" << "  unit\n";
  for (auto it = params.begin(); it != params.end(); ++it) {
    const json& v = *it;
    const std::string unit = v["unit"].get<std::string>();
    const int prec = unit == "ns/byte" ? 6 : (unit == "bytes" || unit == "Hz") ? 0 : 3;
    report << std::left << std::setw(48) << it.key() << std::right << std::setw(14)
           << fmt(v["value"].get<double>(), prec) << std::setw(12)
           << (v.contains("stderr") && v["stderr"].is_number() ? fmt(v["stderr"].get<double>(), prec)
                                                                : std::string("-"))
           << "  " << unit << "\n";
  }
  report << "unidentified (keep their defaults):";
  for (const auto& u : unident) report << " " << u;
  report << (unident.empty() ? " none\n" : "\n");

  // A subset of the batch sizes keeps the table small; all residuals are in
  // the fit record of the output file.
  const std::set<int> shown = {1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64};
  for (auto& p : paths) {
    report << "\n" << p.path << " path (" << p.what << "): base " << fmt(p.fit.base_ns, 3) << " +- "
           << fmt(p.fit.base_stderr_ns, 3) << " ns/packet, M " << fmt(p.fit.refill_ns, 3) << " +- "
           << fmt(p.fit.refill_stderr_ns, 3) << " ns/batch";
    if (p.footprint_ok)
      report << " = " << fmt(p.fit.refill_ns / penalty_ns, 1) << " lines = " << fmt(p.footprint, 0)
             << " bytes";
    else
      report << "; footprint unidentified: " << p.footprint_note;
    report << ", residual RMS " << fmt(p.fit.residual_rms_ns, 3) << " ns over "
           << p.fit.observations << " points\n";
    report << std::setw(5) << "b" << std::setw(12) << "warm" << std::setw(10) << "resid"
           << std::setw(12) << "polluted" << std::setw(12) << "fit" << std::setw(10) << "resid\n";
    for (size_t i = 0; i < p.series.batch.size(); ++i) {
      int b = static_cast<int>(p.series.batch[i]);
      if (!shown.count(b) && i + 1 != p.series.batch.size()) continue;
      report << std::setw(5) << b << std::setw(12) << fmt(p.series.warm[i], 1) << std::setw(10)
             << fmt(p.fit.warm_residual_ns[i], 1) << std::setw(12) << fmt(p.series.polluted[i], 1)
             << std::setw(12) << fmt(p.fit.base_ns + p.fit.refill_ns / b, 1) << std::setw(10)
             << fmt(p.fit.polluted_residual_ns[i], 1) << "\n";
    }
  }
  report << "\nresidual RMS " << fmt(std::sqrt(obs ? rss / obs : 0.0), 3) << " ns over " << obs
         << " observations\n";
  if (out_path != "-") report << "wrote " << out_path << "\n";
}

}  // namespace tunsim
