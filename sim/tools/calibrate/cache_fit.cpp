#include "sim/tools/calibrate/cache_fit.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ostream>

#include "models/writer/cold.hpp"
#include "sim/config/loader.hpp"
#include "sim/config/schema.hpp"
#include "sim/io/errors.hpp"
#include "sim/io/json.hpp"
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
  for (const ColdTarget& t : targets) pts.push_back({t.code_bytes, t.data_bytes});
  std::vector<double> ns = cold_write_ns(p, pts);
  std::vector<double> out;
  for (size_t i = 1; i < ns.size(); ++i) out.push_back(ns[i] - ns[0]);
  return out;
}

double ipi_latency_from_wakeup(double latency_ns, double no_waiter_ns, double context_switch_ns) {
  if (context_switch_ns < 0) context_switch_ns = find_param("costs.context_switch_ns")->def.get<double>();
  return std::max(0.0, latency_ns - no_waiter_ns - context_switch_ns);
}

json cache_from_machine(const std::string& path, std::ostream& report) {
  json m = read_json_file(path);
  if (!m.is_object() || m.value("format", "") != "tunsim-machine/1")
    throw InputError(path + ": format: expected \"tunsim-machine/1\" (scripts/calibrate-machine's output)");
  const json* s = json_at(m, {"summary"});
  if (!s || !s->is_object()) throw InputError(path + ": summary: expected an object");
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

  // The fit: L1 set concentration k and footprint scale s, for code and
  // data separately (a code polluter leaves the data lines alone and the
  // other way round).  Code points up to twice the L1i: beyond, the
  // polluter also wipes branch-predictor and op-cache state the model does
  // not represent, and the kernel's curve keeps rising where the model's
  // has reached its plateau.
  std::vector<ColdTarget> all = cold_targets(m, path);
  double l1i = out.scenario["cache"]["l1i"].value("size_bytes", 32768.0);
  std::vector<ColdTarget> t;
  auto fitted = [l1i](const ColdTarget& x) { return x.data_bytes > 0 || x.code_bytes <= 2 * l1i; };
  for (const ColdTarget& x : all)
    if (fitted(x)) t.push_back(x);
  json fit = json::object();
  report << "cache fit on " << path << ": " << t.size() << " kcold points (" << all.size() - t.size()
         << " code points beyond 2 x L1i left out)\n";
  for (const char* side : {"icache", "dcache"}) {
    bool code = side[0] == 'i';
    std::string lv = code ? "l1i" : "l1d";
    double best = INFINITY, bk = 1, bs = 1;
    Params p = build_config(out.scenario, path + " (kcold scenario)", ".").params;
    for (int ki = 0; ki <= 28; ++ki) {
      for (int si = 0; si <= 175; ++si) {
        double k = 1 + 0.25 * ki, scale = 0.5 + 0.02 * si;
        (code ? p.cache.l1i : p.cache.l1d).concentration = k;
        (code ? p.cache.icache_scale : p.cache.dcache_scale) = scale;
        double e = sq_error(model_minus_warm(p, t), t, code);
        if (e < best - 1e-9) best = e, bk = k, bs = scale;
      }
    }
    bs = std::round(bs * 100) / 100;
    size_t n = 0;
    for (const ColdTarget& x : t) n += (x.code_bytes > 0) == code;
    double rms = std::sqrt(best / std::max<size_t>(1, n));
    out.set("cache." + lv + ".concentration", bk, "",
            std::string("fitted to summary.kernel_cold.") + (code ? "code" : "data") + " (grid 1..8 step 0.25)");
    out.set(std::string("cache.footprint_scale.") + side, bs, "",
            std::string("fitted to summary.kernel_cold.") + (code ? "code" : "data") + " (grid 0.5..4 step 0.02)");
    report << "  " << side << ": concentration " << bk << ", footprint scale " << bs << ", rms residual "
           << fmt("%.1f", rms) << " ns over " << n << " points\n";
    fit[side] = {{"concentration", bk}, {"footprint_scale", bs}, {"rms_residual_ns", rms}, {"points", n}};
  }
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
    report << "    " << fmt("%.0f", all[i].code_bytes) << ", " << fmt("%.0f", all[i].data_bytes) << ": "
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
  fit["method"] =
      "kcold replayed on the model (models/writer/cold.cpp, Linux 6.18 plain tap, stack drop); least squares of "
      "cold - warm over a grid of the L1 concentration and the footprint scale, code and data separately; code "
      "points beyond 2 x L1i left out";
  fit["points"] = pts;
  return {{"parameters", out.params}, {"fit", fit}};
}

}  // namespace tunsim::calib
