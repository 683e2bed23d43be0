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

struct Setter {
  json params = json::object();
  json scenario = kcold_scenario();
  void set(const std::string& key, double v, const std::string& unit, const std::string& from) {
    params[key] = {{"value", v}, {"from", from}};
    if (!unit.empty()) params[key]["unit"] = unit;
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.17g", v);
    apply_set(scenario, key + "=" + buf);
  }
};

// Footprint names in the machine file's summary -> the model's paths.
struct FpMap {
  const char* path;     // cache.footprints.PATH
  const char* sampled;  // summary.icache_footprints key (icache_bytes_estimate)
  const char* data;     // summary.dcache_footprints_bytes key (without_tables)
};
constexpr FpMap kFootprints[] = {
    {"syscall", "syscall", "syscall"},
    {"tun_get_user", "tun_get_user", "tun_get_user"},
    {"softirq", "softirq", "softirq"},
    {"netif_receive_skb", "netif_receive_skb", "netif_receive_skb"},
    {"stack_drop", "stack_drop", "stack"},
    {"stack_bridge", "stack_bridge", "stack_bridge"},
};

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

namespace {

const json* summary_of(const json& m, const std::string& path) {
  if (!m.is_object() || m.value("format", "") != "tunsim-machine/1")
    throw InputError(path + ": format: expected \"tunsim-machine/1\" (scripts/calibrate-machine's output)");
  const json* s = json_at(m, {"summary"});
  if (!s || !s->is_object()) throw InputError(path + ": summary: expected an object");
  return s;
}

// What the machine file measured, set on the kcold scenario: everything
// but the fitted parameters.
Setter measured_params(const json& m, const std::string& path) {
  const json* s = summary_of(m, path);
  Setter out;
  auto num = [&](std::initializer_list<const char*> keys, const std::string& where) -> const json* {
    const json* v = json_at(*s, keys);
    if (!v || v->is_null()) return nullptr;
    if (!v->is_number() || !std::isfinite(v->get<double>()) || v->get<double>() < 0)
      throw InputError(path + ": summary." + where + ": expected a non-negative number");
    return v;
  };
  // Geometry (cpuid); the LLC's size is the share the chase found.
  for (const char* lv : {"l1i", "l1d", "l2", "llc"}) {
    std::string b = std::string("cache.") + lv;
    for (const char* f : {"size_bytes", "ways", "line_bytes"}) {
      if (std::string(lv) == "llc" && std::string(f) == "size_bytes") continue;
      if (const json* v = num({"cache", lv, f}, std::string("cache.") + lv + "." + f))
        out.set(b + "." + f, v->get<double>(), f[0] == 'w' ? "" : "bytes",
                std::string("summary.cache.") + lv + "." + f);
    }
  }
  if (const json* v = num({"llc_effective_bytes", "value"}, "llc_effective_bytes.value"))
    out.set("cache.llc.size_bytes", v->get<double>(), "bytes", "summary.llc_effective_bytes");
  for (const char* lv : {"l1d", "l2", "llc"})
    if (const json* v = num({"data_latency_ns", lv}, std::string("data_latency_ns.") + lv))
      out.set(std::string("cache.") + lv + ".hit_ns", v->get<double>(), "ns",
              std::string("summary.data_latency_ns.") + lv);
  if (const json* v = num({"data_latency_ns", "memory"}, "data_latency_ns.memory"))
    out.set("cache.memory_ns", v->get<double>(), "ns", "summary.data_latency_ns.memory");
  // Instruction fetch: the mean of the two layouts (kernel code lies between).
  for (auto [key, field] : {std::pair{"l2_ns", "l1i_miss_l2_hit"}, {"llc_ns", "l2_miss_llc_hit"},
                            {"memory_ns", "memory"}}) {
    const json *j = num({"icache_miss_ns_per_line", "jump", field}, std::string("icache_miss_ns_per_line.jump.") + field),
               *q = num({"icache_miss_ns_per_line", "seq", field}, std::string("icache_miss_ns_per_line.seq.") + field);
    if (j && q)
      out.set(std::string("cache.ifetch.") + key, (j->get<double>() + q->get<double>()) / 2, "ns",
              std::string("mean of summary.icache_miss_ns_per_line.{jump,seq}.") + field);
  }
  // A reread skb's lines out of L1d and out of L2 (skbwalk.c,
  // calibrate-machine part "skbwalk").
  for (auto [key, field] : {std::pair{"l2_ns", "l2"}, {"llc_ns", "llc"}})
    if (const json* v = num({"skb_reread_ns_per_line", field}, std::string("skb_reread_ns_per_line.") + field))
      out.set(std::string("cache.skb_reread.") + key, v->get<double>(), "ns",
              std::string("summary.skb_reread_ns_per_line.") + field +
                  " (skbwalk.c, SLAB_FREELIST_RANDOM order over hot a line, p10; median of its trusted runs)");
  // A walk of skbs the other CPU wrote (skbwalk.c --writer-cpu, the same
  // part).
  if (const json* v = num({"skb_remote_walk_ns_per_line", "value"}, "skb_remote_walk_ns_per_line.value"))
    out.set("cache.skb_remote_walk_ns", v->get<double>(), "ns",
            "summary.skb_remote_walk_ns_per_line (skbwalk.c --writer-cpu, SLAB_FREELIST_RANDOM order over hot a "
            "line, p10; median of its trusted runs)");
  // One move of a line the other CPU wrote (remotermw.c, calibrate-machine
  // part "linexfer", which runs it beside linexfer).
  if (const json* v = num({"line_move_ns", "value"}, "line_move_ns.value"))
    out.set("costs.cacheline_transfer_ns", v->get<double>(), "ns",
            "summary.line_move_ns (remotermw.c, p10; median of its trusted runs)");
  // A wake-up on the waker's own CPU and a context switch (ctxswitch.c,
  // calibrate-machine part "ctxswitch").
  const json* cs_measured = num({"ctxswitch_ns", "context_switch"}, "ctxswitch_ns.context_switch");
  if (cs_measured)
    out.set("costs.context_switch_ns", cs_measured->get<double>(), "ns",
            "summary.ctxswitch_ns.context_switch (ctxswitch.c context_switch_ns, p10, mean over CPUs)");
  if (const json* w = num({"ctxswitch_ns", "wakeup_local"}, "ctxswitch_ns.wakeup_local"))
    out.set("costs.wakeup_local_ns", w->get<double>(), "ns",
            "summary.ctxswitch_ns.wakeup_local (ctxswitch.c wakeup_local_ns, p10, mean over CPUs)");
  // The wake-up of a thread sleeping on the idle other CPU (wakeup.c,
  // calibrate-machine part "wakeup"): the waker's cost is costs.ipi_ns; the
  // thread runs `latency` after the waker's FUTEX_WAKE, which includes one
  // system call's entry and exit (no_waiter: a kernel-to-kernel wake-up
  // makes none) and the idle CPU's context switch (costs.context_switch_ns:
  // this machine's, else its default): the rest is costs.ipi_latency_ns.
  if (const json* w = num({"wakeup_ns", "waker"}, "wakeup_ns.waker"))
    out.set("costs.ipi_ns", w->get<double>(), "ns", "summary.wakeup_ns.waker (wakeup.c waker_ns, p10)");
  const json* lat = num({"wakeup_ns", "latency"}, "wakeup_ns.latency");
  const json* nw = num({"wakeup_ns", "no_waiter"}, "wakeup_ns.no_waiter");
  if (lat && nw) {
    double cs = cs_measured ? cs_measured->get<double>() : find_param("costs.context_switch_ns")->def.get<double>();
    out.set("costs.ipi_latency_ns", ipi_latency_from_wakeup(lat->get<double>(), nw->get<double>(), cs), "ns",
            "summary.wakeup_ns.latency - summary.wakeup_ns.no_waiter - costs.context_switch_ns (" +
                std::string(cs_measured ? "summary.ctxswitch_ns.context_switch " : "default ") + fmt("%.1f", cs) +
                ")");
  }
  for (const FpMap& f : kFootprints) {
    std::string b = std::string("cache.footprints.") + f.path;
    if (const json* v = num({"icache_footprints", f.sampled, "icache_bytes_estimate"},
                            std::string("icache_footprints.") + f.sampled + ".icache_bytes_estimate"))
      out.set(b + ".icache_bytes", std::round(v->get<double>()), "bytes",
              std::string("summary.icache_footprints.") + f.sampled + ".icache_bytes_estimate");
    if (const json* v = num({"dcache_footprints_bytes", f.data, "without_tables"},
                            std::string("dcache_footprints_bytes.") + f.data + ".without_tables"))
      out.set(b + ".dcache_bytes", std::round(v->get<double>()), "bytes",
              std::string("summary.dcache_footprints_bytes.") + f.data + ".without_tables");
  }
  const json *gro = num({"icache_footprints", "netif_receive_skb_napi_gro", "icache_bytes_estimate"},
                        "icache_footprints.netif_receive_skb_napi_gro.icache_bytes_estimate"),
             *nrs = num({"icache_footprints", "netif_receive_skb", "icache_bytes_estimate"},
                        "icache_footprints.netif_receive_skb.icache_bytes_estimate");
  if (gro && nrs)
    out.set("cache.footprints.gro.icache_bytes", std::max(0.0, std::round(gro->get<double>() - nrs->get<double>())),
            "bytes", "summary.icache_footprints: netif_receive_skb_napi_gro - netif_receive_skb");
  if (const json* v = num({"icache_footprints", "vhost", "icache_bytes_upper"}, "icache_footprints.vhost"))
    out.set("cache.footprints.vhost.icache_bytes", v->get<double>(), "bytes",
            "summary.icache_footprints.vhost.icache_bytes_upper (an estimate: no vhost-net here)");

  return out;
}

}  // namespace

json measured_kcold_scenario(const json& machine, const std::string& path) {
  return measured_params(machine, path).scenario;
}

json cache_from_machine(const std::string& path, std::ostream& report) {
  return cache_from_machine(read_json_file(path), path, report);
}

json cache_from_machine(const json& m, const std::string& path, std::ostream& report) {
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
  // CPU's cache into every cost fitted with it: refused, not written.
  if (n_missed)
    throw InputError(path + ": kernel_cold: the cache model fitted to it misses " + std::to_string(n_missed) + " of " +
                     std::to_string(t.size()) + " points beyond their tolerance (first: " + missed +
                     "): its set-associative form does not describe this CPU's cold-path curves "
                     "(docs/calibration.md, \"Which CPU a calibration describes\")");
  fit["method"] = std::string(
      "kcold replayed on the model (models/writer/cold.cpp, Linux 6.18 plain tap, stack drop); least squares of "
      "cold - warm over a grid of the L1 concentration and the footprint scale, code and data separately; ") +
      (btb ? "code: the branch-site curves (1, 2, 4 taken branches a line), the kernel's sites a line fitted too"
           : "code points beyond 2 x L1i left out");
  fit["points"] = pts;
  return {{"parameters", out.params}, {"fit", fit}};
}

}  // namespace tunsim::calib
