#include "sim/tools/calibrate/measured.hpp"

#include <algorithm>
#include <cmath>

#include "sim/config/loader.hpp"
#include "sim/config/schema.hpp"
#include "sim/io/errors.hpp"
#include "sim/io/json.hpp"
#include "sim/tools/calibrate/fit.hpp"

namespace tunsim::calib {

using nlohmann::json;

void Setter::set(const std::string& key, double v, const std::string& unit, const std::string& from) {
  set(key, json(v), unit, from);
}

void Setter::set(const std::string& key, const json& v, const std::string& unit, const std::string& from) {
  params[key] = {{"value", v}, {"from", from}};
  if (!unit.empty()) params[key]["unit"] = unit;
  apply_set(scenario, key + "=" + v.dump());
}

namespace {

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

const char* const kSlabFrom =
    " (capture-trace --drain-every bursts, trace-segments --bursts, scripts/machine/slub.py; captures' median)";

}  // namespace

const json* summary_of(const json& m, const std::string& path) {
  if (!m.is_object() || !m.contains("format") || m["format"] != "tunsim-machine/1")
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
  // Parts measured untraced and, as root, traced too (ctxswitch, wakeup):
  // summary.KEY.traced, true when the file has it (an object).
  auto has_traced = [&](const char* key) {
    const json* t = json_at(*s, {key, "traced"});
    if (t && !t->is_null() && !t->is_object())
      throw InputError(path + ": summary." + key + ".traced: expected an object");
    return t && t->is_object();
  };
  // summary.KEY.traced.FIELD, or summary.KEY.FIELD.
  auto measured = [&](const char* key, bool traced, const char* field) {
    return traced ? num({key, "traced", field}, std::string(key) + ".traced." + field)
                  : num({key, field}, std::string(key) + "." + field);
  };
  // A wake-up on the waker's own CPU and a context switch (ctxswitch.c,
  // calibrate-machine part "ctxswitch").  The model's costs describe a
  // kernel traced as captured (its paths are fitted to captures, and it is
  // compared with them), where every switch writes a sched_switch event and
  // every wake-up a sched_wakeup: the traced values (ctxswitch.c
  // --trace-instance, run as root) where the machine file has them, else
  // the untraced ones, which leave the two events' cost out.
  const json* cs_measured = measured("ctxswitch_ns", false, "context_switch");
  const bool cs_traced = has_traced("ctxswitch_ns");
  for (auto [param, field] : {std::pair{"costs.context_switch_ns", "context_switch"}, {"costs.wakeup_local_ns",
                                                                                       "wakeup_local"}}) {
    const json* v = measured("ctxswitch_ns", cs_traced, field);
    if (!v) continue;
    out.set(param, v->get<double>(), "ns",
            std::string("summary.ctxswitch_ns.") + (cs_traced ? "traced." : "") + field + " (ctxswitch.c " +
                field + "_ns, p10, mean over CPUs, " +
                (cs_traced ? "with capture-trace's task events on)" : "untraced: no traced run in the file)"));
  }
  // The wake-up of a thread sleeping on the idle other CPU (wakeup.c,
  // calibrate-machine part "wakeup"): the waker's cost is costs.ipi_ns; the
  // thread runs `latency` after the waker's FUTEX_WAKE, which includes one
  // system call's entry and exit (no_waiter: a kernel-to-kernel wake-up
  // makes none) and the idle CPU's context switch: the rest is
  // costs.ipi_latency_ns.  Traced (the woken CPU's sched_wakeup in the
  // latency, as in a capture) when the file has wakeup.c's and
  // ctxswitch.c's traced runs, the switch then the traced one; else all
  // three untraced (the switch this machine's, else the default).
  const bool wake_traced = has_traced("wakeup_ns") && cs_traced;
  const std::string wk = wake_traced ? "wakeup_ns.traced" : "wakeup_ns";
  if (const json* w = measured("wakeup_ns", wake_traced, "waker"))
    out.set("costs.ipi_ns", w->get<double>(), "ns",
            "summary." + wk + ".waker (wakeup.c waker_ns, p10" + (wake_traced ? ", traced)" : ")"));
  const json* lat = measured("wakeup_ns", wake_traced, "latency");
  const json* nw = measured("wakeup_ns", wake_traced, "no_waiter");
  if (lat && nw) {
    const json* csw = wake_traced ? measured("ctxswitch_ns", true, "context_switch") : cs_measured;
    double cs = csw ? csw->get<double>() : find_param("costs.context_switch_ns")->def.get<double>();
    out.set("costs.ipi_latency_ns", ipi_latency_from_wakeup(lat->get<double>(), nw->get<double>(), cs), "ns",
            "summary." + wk + ".latency - summary." + wk + ".no_waiter - costs.context_switch_ns (" +
                (csw ? std::string("summary.ctxswitch_ns.") + (wake_traced ? "traced." : "") + "context_switch "
                     : std::string("default ")) +
                fmt("%.1f", cs) + ")");
  }
  // SLUB's slow paths (scripts/machine/slub.py: calibrate-machine part "slub").
  for (const char* k :
       {"slab_new_ns", "slab_new_page_ns", "slab_put_partial_ns", "slab_discard_ns", "slab_discard_page_ns"})
    if (const json* v = num({"slab_ns", k}, std::string("slab_ns.") + k))
      out.set(std::string("costs.") + k, v->get<double>(), "ns", std::string("summary.slab_ns.") + k + kSlabFrom);
  // The time each CPU loses to what no trace shows (stall.c: part "stall").
  if (const json* v = num({"stall", "period_us"}, "stall.period_us")) {
    const json* t = json_at(*s, {"stall", "ns"});
    if (!t || !t->is_array() || t->empty() || t->size() > Workload::kStallQuantilesMax ||
        !std::all_of(t->begin(), t->end(), [](const json& x) { return x.is_number() && x.get<double>() >= 0; }))
      throw InputError(path + ": summary.stall.ns: expected an array of 1 to " +
                       std::to_string(Workload::kStallQuantilesMax) + " non-negative numbers");
    out.set("cpus.stall.period_us", v->get<double>(), "us", "summary.stall.period_us (stall.c, median of the records)");
    out.set("cpus.stall.ns", *t, "ns", "summary.stall.ns (stall.c, per quantile the median of the records)");
    // The two CPUs' windows together (pairgaps.c and stall_pairs.py, the same part).
    if (const json* pr = json_at(*s, {"stall", "partner"})) {
      if (!pr->is_array() || pr->empty() || pr->size() > Workload::kStallPartnerMax ||
          !std::all_of(pr->begin(), pr->end(),
                       [](const json& x) { return x.is_number() && x.get<double>() >= 0 && x.get<double>() <= 1; }))
        throw InputError(path + ": summary.stall.partner: expected an array of 1 to " +
                         std::to_string(Workload::kStallPartnerMax) + " ranks in [0, 1]");
      out.set("cpus.stall.partner", *pr, "",
              "summary.stall.partner (pairgaps.c on both CPUs at once, scripts/machine/stall_pairs.py)");
    }
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

}  // namespace tunsim::calib
