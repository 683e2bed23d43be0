#include "sim/tools/calibrate/cache_fit.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ostream>
#include <sstream>

#include "models/writer/cold.hpp"
#include "sim/config/loader.hpp"
#include "sim/config/schema.hpp"
#include "sim/io/errors.hpp"
#include "sim/io/json.hpp"
#include "sim/tools/calibrate/btb_fit.hpp"
#include "sim/tools/calibrate/fit.hpp"
#include "sim/tools/calibrate/measured.hpp"

namespace tunsim::calib {

using nlohmann::json;

// The scenario kcold runs: one writer on CPU 0 writing 60-byte frames to a
// plain tap of Linux 6.18 (tun_get_user -> tun_rx_batched with rx_frames 0
// -> netif_receive_skb under local_bh_disable), nobody listening to the
// EtherType (stack drop).
json kcold_scenario() {
  return {{"design", "rx_batched"},
          {"kernel", {{"version", "6.18"}}},
          {"cpus", {{"count", 1}}},
          {"senders", json::array({{{"type", "writer"}, {"cpu", 0}, {"frame_bytes", 60}}})},
          {"stack", {{"type", "drop"}}},
          {"warmup_ms", 0},
          {"duration_ms", 1}};
}

namespace {

double sq_error(const std::vector<double>& model, const std::vector<ColdTarget>& t, bool code) {
  double e = 0;
  for (size_t i = 0; i < t.size(); ++i)
    if ((t[i].code_bytes > 0) == code) e += (model[i] - t[i].minus_warm_ns) * (model[i] - t[i].minus_warm_ns);
  return e;
}

}  // namespace

std::vector<ColdTarget> cold_targets(const json& machine, const std::string& path) {
  const json* kc = json_at(machine, {"summary", "kernel_cold"});
  if (!kc || !kc->is_object())
    throw InputError(path + ": summary.kernel_cold: expected the kernel's cold-path curves (calibrate-machine "
                            "--only kcold)");
  std::vector<ColdTarget> out;
  for (const char* side : {"code", "data"}) {
    const json* pts = json_at(*kc, {side});
    if (!pts || !pts->is_array())
      throw InputError(path + ": summary.kernel_cold." + side + ": expected an array of points");
    for (size_t i = 0; i < pts->size(); ++i) {
      const json& p = (*pts)[i];
      const json *b = json_at(p, {"bytes"}), *v = json_at(p, {"minus_warm_ns"});
      std::string where = path + ": summary.kernel_cold." + side + "[" + std::to_string(i) + "]";
      if (!b || !b->is_number() || b->get<double>() <= 0 || b->get<double>() > 1e9)
        throw InputError(where + ".bytes: expected a number of bytes in (0, 1e9]");
      if (!v || !v->is_number() || !std::isfinite(v->get<double>()) || std::fabs(v->get<double>()) > 1e7)
        throw InputError(where + ".minus_warm_ns: expected a number of ns");
      double bytes = b->get<double>();
      out.push_back({side[0] == 'c' ? bytes : 0, side[0] == 'd' ? bytes : 0, v->get<double>()});
    }
  }
  return out;
}

std::vector<double> cold_tolerances(const json& machine, const std::vector<ColdTarget>& targets) {
  std::vector<double> tol;
  const json* runs = json_at(machine, {"kernel_cold", "runs"});
  for (const ColdTarget& t : targets) {
    if (t.tolerance_ns >= 0) {
      tol.push_back(t.tolerance_ns);
      continue;
    }
    double lo = INFINITY, hi = -INFINITY;
    for (const char* layout : {"jump", "seq"}) {
      const json* rs = runs ? json_at(*runs, {layout}) : nullptr;
      for (const json& r : rs && rs->is_array() ? *rs : json::array()) {
        const json* pts = json_at(r, {"points"});
        for (const json& pt : pts && pts->is_array() ? *pts : json::array()) {
          const json *c = json_at(pt, {"code_bytes"}), *d = json_at(pt, {"data_bytes"}),
                     *v = json_at(pt, {"minus_warm_ns"}), *ok = json_at(pt, {"write_ns", "trusted"});
          if (!c || !d || !v || !c->is_number() || !d->is_number() || !v->is_number() || !ok || !ok->is_boolean() ||
              !ok->get<bool>() || c->get<double>() != t.code_bytes || d->get<double>() != t.data_bytes)
            continue;
          lo = std::min(lo, v->get<double>());
          hi = std::max(hi, v->get<double>());
        }
      }
    }
    tol.push_back(10 + (hi > lo ? (hi - lo) / 2 : 0));
  }
  return tol;
}

std::vector<double> model_minus_warm(const json& scenario, const std::vector<ColdTarget>& targets) {
  return model_minus_warm(build_config(scenario, "kcold scenario", ".").params, targets);
}

std::vector<double> model_minus_warm(const Params& p, const std::vector<ColdTarget>& targets) {
  std::vector<ColdPoint> pts{{0, 0}};
  for (const ColdTarget& t : targets)
    // codegen.h's lines are 64 bytes, each with sites_per_line taken branches.
    pts.push_back({t.code_bytes, t.data_bytes, std::ceil(t.code_bytes / 64) * t.sites_per_line});
  std::vector<double> ns = cold_write_ns(p, pts);
  std::vector<double> out;
  for (size_t i = 1; i < ns.size(); ++i) out.push_back(ns[i] - ns[0]);
  return out;
}

double ipi_latency_from_wakeup(double latency_ns, double no_waiter_ns, double context_switch_ns) {
  if (context_switch_ns < 0) context_switch_ns = find_param("costs.context_switch_ns")->def.get<double>();
  return std::max(0.0, latency_ns - no_waiter_ns - context_switch_ns);
}

json measured_kcold_scenario(const json& machine, const std::string& path) {
  return measured_params(machine, path).scenario;
}

json cache_from_machine(const std::string& path, std::ostream& report, bool accept_misfit) {
  return cache_from_machine(read_json_file(path), path, report, accept_misfit);
}

json cache_from_machine(const json& m, const std::string& path, std::ostream& report, bool accept_misfit) {
  const json* s = summary_of(m, path);
  Setter out = measured_params(m, path);
  auto num = [&](std::initializer_list<const char*> keys) -> const json* {
    const json* v = json_at(*s, keys);
    return v && v->is_number() && std::isfinite(v->get<double>()) && v->get<double>() >= 0 ? v : nullptr;
  };
  // The branch-target level, where the file has its curves (part "btb"):
  // geometry and costs from the generated code's own curves.
  std::vector<ColdTarget> measured = cold_targets(m, path);
  const CacheParams geo = build_config(out.scenario, path + " (kcold scenario)", ".").params.cache;
  const double l1i = geo.l1i.size_bytes, l2 = geo.l2.size_bytes;
  const bool btb = has_branch_sites(*s);
  json loop;
  if (btb) {
    BtbIcacheFit b = btb_from_icache(*s, path, l1i, geo.l1i.ways, geo.l1i.line_bytes);
    const std::string from = "fitted to summary.branch_sites.icache (icache.c with 1, 2, 4 taken branches a line; "
                             "grid: ways 1-32, entries 256-65536 step 64, least squares for the costs; rms " +
                             fmt("%.2f", b.rms_ns) + " ns a line over " + std::to_string(b.points) + " points)";
    out.set("cache.btb.miss_ns", std::round(b.miss_ns * 1000) / 1000, "ns", from);
    out.set("cache.ifetch.l2_ns", std::round(b.ifetch_l2_ns * 1000) / 1000, "ns",
            from + ": a line missing L1i whose branch was predicted");
    report << "branch targets from " << path << ", the icache loops: " << fmt("%.2f", b.miss_ns)
           << " ns a missing site, L1i miss " << fmt("%.2f", b.ifetch_l2_ns) << " ns a line (the loop's own knee: "
           << b.entries << " entries, " << b.ways << " ways; rms " << fmt("%.2f", b.rms_ns) << " ns a line over "
           << b.points << " points)\n";
    loop = {{"entries", b.entries}, {"ways", b.ways}, {"miss_ns", b.miss_ns}, {"ifetch_l2_ns", b.ifetch_l2_ns},
            {"rms_ns_per_line", b.rms_ns}, {"points", b.points}};
  }
  // The fit: L1 set concentration k and footprint scale s, for code and
  // data separately (a code polluter leaves the data lines alone and the
  // other way round).  Without the branch-target level, code points only up
  // to twice the L1i: beyond, the polluter also wipes branch-target state,
  // and the kernel's curve keeps rising where the model's has reached its
  // plateau.  With it, the code points are the part's curves at 1, 2 and 4
  // sites a line, every size, and the kernel's sites a line are fitted too.
  std::vector<ColdTarget> all;
  for (const ColdTarget& x : measured)
    if (!btb || x.code_bytes == 0) all.push_back(x);
  if (btb)
    for (const ColdTarget& x : btb_cold_targets(*s, path)) all.push_back(x);
  std::vector<ColdTarget> t;
  auto fitted = [l1i, btb](const ColdTarget& x) {
    return x.data_bytes > 0 || (btb ? x.sites_per_line <= kMaxFittedSitesPerLine : x.code_bytes <= 2 * l1i);
  };
  for (const ColdTarget& x : all)
    if (fitted(x)) t.push_back(x);
  if (btb && std::none_of(t.begin(), t.end(), [](const ColdTarget& x) { return x.code_bytes > 0; }))
    throw InputError(path + ": summary.branch_sites.kernel_cold: expected points of 1 or 2 taken branches a line "
                            "(the curves the code side is fitted to)");
  json fit = json::object();
  report << "cache fit on " << path << ": " << t.size() << " kcold points (" << all.size() - t.size()
         << (btb ? " code points of more than 2 branches a line" : " code points beyond 2 x L1i") << " left out)\n";
  // A kernel data line's refetch: the dependent price, or (where skbwalk
  // measured it) the overlapped one; the data curve chooses.
  const json *ov2 = num({"skb_reread_ns_per_line", "l2"}), *ovl = num({"skb_reread_ns_per_line", "llc"});
  // The sides share L2 and the LLC (a large code polluter takes data lines
  // out of L2 too, at the data side's price): each is fitted with the
  // other's latest values, again until neither changes (at most 4 rounds).
  // The first round leaves out the points at or beyond half the L2, where
  // the sides meet: it starts the others near both sides' values.
  std::ostringstream side_report;
  for (int round = 0; round < 4; ++round) {
    const json before = out.params;
    side_report.str("");
    std::vector<ColdTarget> tr;
    for (const ColdTarget& x : t)
      if (round > 0 || x.code_bytes + x.data_bytes < l2 / 2) tr.push_back(x);
    for (const char* side : {"icache", "dcache"}) {
      const bool code = side[0] == 'i';
      std::string lv = code ? "l1i" : "l1d";
      size_t n = 0;
      for (const ColdTarget& x : tr) n += (x.code_bytes > 0) == code;
      Params p = build_config(out.scenario, path + " (kcold scenario)", ".").params;
      double best = INFINITY, bk = 1, bs = 1, bsites = 0;
      bool overlapped = false;
      if (code && btb) {
        std::vector<ColdTarget> tc;
        for (const ColdTarget& x : tr)
          if (x.code_bytes > 0) tc.push_back(x);
        CodeFit f = fit_code_with_btb(p, tc);
        best = f.sq_error, bk = f.concentration, bs = f.scale, bsites = f.sites_per_line;
        const std::string from = "fitted to summary.branch_sites.kernel_cold (a single pass of the polluter, as "
                                 "kcold; grid: entries 512-16384 step 512, ways 1-16)";
        out.set("cache.btb.entries", f.entries, "", from);
        out.set("cache.btb.ways", f.ways, "", from);
        side_report << "  branch targets from the kcold curves: " << f.entries << " entries, " << f.ways << " ways\n";
      } else {
        for (int price = 0; price < (!code && ov2 && ovl ? 2 : 1); ++price) {
          p.cache.kdata_l2_ns = price ? ov2->get<double>() : -1;
          p.cache.kdata_llc_ns = price ? ovl->get<double>() : -1;
          for (int ki = 0; ki <= 28; ++ki) {
            for (int si = 0; si <= 175; ++si) {
              double k = 1 + 0.25 * ki, scale = 0.5 + 0.02 * si;
              (code ? p.cache.l1i : p.cache.l1d).concentration = k;
              (code ? p.cache.icache_scale : p.cache.dcache_scale) = scale;
              double e = sq_error(model_minus_warm(p, tr), tr, code);
              if (e < best - 1e-9) best = e, bk = k, bs = scale, overlapped = price;
            }
          }
        }
      }
      bs = std::round(bs * 100) / 100;
      bsites = std::round(bsites * 100) / 100;
      double rms = std::sqrt(best / std::max<size_t>(1, n));
      std::string src = code && btb ? "summary.branch_sites.kernel_cold" : std::string("summary.kernel_cold.") +
                                                                               (code ? "code" : "data");
      out.set("cache." + lv + ".concentration", bk, "", "fitted to " + src + " (grid 1..8 step 0.25)");
      out.set(std::string("cache.footprint_scale.") + side, bs, "", "fitted to " + src + " (grid 0.5..4 step 0.02)");
      fit[side] = {{"concentration", bk}, {"footprint_scale", bs}, {"rms_residual_ns", rms}, {"points", n}};
      side_report << "  " << side << ": concentration " << bk << ", footprint scale " << bs;
      if (code && btb) {
        out.set("cache.btb.kernel_sites_per_line", bsites, "",
                "fitted to " + src + " (its product with the footprint scale on a grid 0.1..6 step 0.1)");
        fit[side]["kernel_sites_per_line"] = bsites;
        fit[side]["btb_entries"] = out.params["cache.btb.entries"]["value"];
        fit[side]["btb_ways"] = out.params["cache.btb.ways"]["value"];
        fit["btb_icache_loops"] = loop;
        side_report << ", kernel branch sites a line " << bsites;
      }
      if (!code && ov2 && ovl) {
        const std::string why = std::string("the kcold data curve's fit chose the ") +
                                (overlapped ? "overlapped price (summary.skb_reread_ns_per_line." : "dependent price "
                                              "(the hit_ns differences) over skbwalk's overlapped one (") +
                                (overlapped ? "" : "summary.skb_reread_ns_per_line.") + "{l2,llc})";
        out.set("cache.kernel_data.l2_ns", overlapped ? ov2->get<double>() : -1, "ns", why);
        out.set("cache.kernel_data.llc_ns", overlapped ? ovl->get<double>() : -1, "ns", why);
        fit[side]["data_price"] = overlapped ? "overlapped" : "dependent";
        side_report << ", data lines priced " << (overlapped ? "overlapped (skbwalk)" : "dependent (chase)");
      }
      side_report << ", rms residual " << fmt("%.1f", rms) << " ns over " << n << " points\n";
    }
    if (out.params == before) break;
  }
  report << side_report.str();
  std::vector<double> pred = model_minus_warm(out.scenario, all), tol = cold_tolerances(m, all);
  json pts = json::array();
  report << "  point (code, data bytes): kernel cold - warm, model, tolerance, ns\n";
  std::string missed;
  size_t n_missed = 0;
  for (size_t i = 0; i < all.size(); ++i) {
    const bool in_fit = fitted(all[i]);
    const bool miss = in_fit && std::fabs(pred[i] - all[i].minus_warm_ns) > tol[i];
    pts.push_back({{"code_bytes", all[i].code_bytes}, {"data_bytes", all[i].data_bytes},
                   {"kernel_ns", all[i].minus_warm_ns}, {"model_ns", pred[i]}, {"tolerance_ns", tol[i]}});
    if (btb && all[i].code_bytes > 0) pts.back()["sites_per_line"] = all[i].sites_per_line;
    report << "    " << fmt("%.0f", all[i].code_bytes)
           << (btb && all[i].code_bytes > 0 ? fmt(" (%g a line)", all[i].sites_per_line) : "") << ", "
           << fmt("%.0f", all[i].data_bytes) << ": "
           << fmt("%.0f", all[i].minus_warm_ns) << ", " << fmt("%.1f", pred[i]) << ", " << fmt("%.0f", tol[i])
           << (in_fit ? (miss ? "  missed" : "") : "  (not fitted)") << "\n";
    if (miss && n_missed++ == 0)
      missed = std::string(all[i].code_bytes > 0 ? "code " : "data ") +
               fmt("%.0f", all[i].code_bytes + all[i].data_bytes) + " bytes: kernel " +
               fmt("%.0f", all[i].minus_warm_ns) + " ns, model " + fmt("%.0f", pred[i]) + " (tolerance " +
               fmt("%.0f", tol[i]) + ")";
  }
  // A model that cannot follow this machine's curves would put another
  // CPU's cache into every cost fitted with it: refused, not written;
  // or, asked for (a check on a CPU no calibration describes), kept and
  // marked, so that nothing takes it for a calibration of that CPU.
  const std::string misfit = "the cache model fitted to it misses " + std::to_string(n_missed) + " of " +
                             std::to_string(t.size()) + " points beyond their tolerance (first: " + missed + ")";
  if (n_missed && !accept_misfit)
    throw InputError(path + ": kernel_cold: " + misfit +
                     ": its set-associative form does not describe this CPU's cold-path curves "
                     "(docs/calibration.md, \"Which CPU a calibration describes\")");
  if (n_missed)
    report << "warning: " << path << ": kernel_cold: " << misfit
           << "; kept (--accept-cache-misfit): the calibration is marked as not describing this CPU\n";
  fit["method"] = std::string(
      "kcold replayed on the model (models/writer/cold.cpp, Linux 6.18 plain tap, stack drop); least squares of "
      "cold - warm over a grid of the L1 concentration and the footprint scale, code and data separately; ") +
      (btb ? "code: the branch-site curves (1, 2, 4 taken branches a line), the kernel's sites a line fitted too"
           : "code points beyond 2 x L1i left out");
  if (n_missed) fit["misfit"] = {{"missed", n_missed}, {"fitted", t.size()}, {"first", missed}};
  fit["points"] = pts;
  return {{"parameters", out.params}, {"fit", fit}};
}

}  // namespace tunsim::calib
