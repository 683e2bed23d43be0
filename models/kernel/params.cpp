// The scenario's own parameters: what is simulated, for how long, on which
// CPUs, and the threads that write into tun.
#include <algorithm>
#include <set>
#include <sstream>

#include "models/kernel/params.hpp"
#include "models/kernel/stall_default.hpp"
#include "models/kernel/stall_partner_default.hpp"

namespace {
// Measured by tunsim calibrate (see costs.spread.*'s provenance).
const std::vector<double> kSpreadProcess = {0.970, 0.979, 0.980, 0.981, 0.990, 0.991, 0.991, 0.991,
                                           1.000, 1.001, 1.002, 1.011, 1.011, 1.022, 1.041, 1.156};
const std::vector<double> kSpreadSoftirq = {0.970, 0.971, 0.981, 0.981, 0.981, 0.989, 0.990, 0.991,
                                           1.000, 1.000, 1.010, 1.019, 1.048, 1.135, 1.462, 1.667};
}  // namespace

namespace tunsim {

int Params::queues() const {
  int q = 0;
  for (auto& s : senders) q = std::max(q, s.queue + 1);
  return q;
}

namespace {
std::string shown(double v) {
  std::ostringstream o;
  o << v;
  return o.str();
}

std::vector<std::string> version_names() {
  std::vector<std::string> v;
  for (KernelVersion k : modelled_versions()) v.push_back(version_name(k));
  return v;
}
}  // namespace

void declare_scenario_params(ParamTable& t) {
  t.add("name", PType::Str, "scenario").means("Scenario name, copied to the summary.").from("-").bind(&Params::name);
  t.add("description", PType::Str, "")
      .means("Free text describing the scenario.")
      .from("-")
      .bind(&Params::description);
  t.add("seed", PType::Int, 1)
      .range(0, 4294967295.0)
      .means("Seed of every random stream (arrivals).")
      .from("-")
      .bind(&Params::seed);
  t.add("duration_ms", PType::Num, 20)
      .range(0.001, 1e7)
      .units("ms")
      .means("Simulated time, ms.")
      .from("long enough for >10^5 packets at 1 Mpps")
      .bind(&Params::duration_ms);
  t.add("warmup_ms", PType::Num, 2)
      .range(0, 1e7)
      .units("ms")
      .means("Packets sent before this time are excluded from latency/throughput statistics, and tracepoints "
             "before it from --trace and the trace metrics, ms.")
      .from("10% of the default duration")
      .bind(&Params::warmup_ms);
  t.add("calibration", PType::Str, nullptr)
      .or_null()
      .means("Calibration to apply (docs/calibration.md): NAME -> calibration/NAME.json beside the scenario, "
             "or a path.")
      .from("-");  // read by the config loader, which resolves the path into Params::calibration
  t.add("kernel.version", PType::Enum, nullptr)
      .in(version_names())
      .or_null()
      .means("Kernel whose generic behaviour is replayed; null = the design's own (tunsim designs). A version "
             "stands for itself and the releases up to the next one modelled; a released kernel's string "
             "(\"6.18.44-amd64\", \"6.5.0\") is taken as the newest modelled version not after it, with a note. "
             "Sets the defaults of the version-dependent knobs (docs/model.md, versions).")
      .from("docs/kernel-mechanisms.md")
      .bind_choice(&Params::kernel, &KernelParams::version);
  t.add("kernel.hz", PType::Int, 250)
      .range(100, 1000)
      .units("Hz")
      .kname("CONFIG_HZ")
      .means("Timer tick rate; jiffies = floor(t*HZ).")
      .from("Debian's kernels are built with CONFIG_HZ=250")
      .bind(&Params::kernel, &KernelParams::hz);

  t.add("senders", PType::Array, nlohmann::json::array({nlohmann::json::object()}))
      .means("The threads that write into tun: one object per thread.")
      .from("one vhost worker");
  t.add("senders.*.type", PType::Enum, "vhost")
      .in({"vhost", "writer"})
      .means("vhost: the vhost_net worker (handle_tx, sendmsg with MSG_MORE); writer: a user thread calling "
             "write() on the tun fd (more is always false).")
      .from("-")
      .bind_sender_choice(&SenderParams::type);
  t.add("senders.*.cpu", PType::Int, 1)
      .range(0, 255)
      .kname("taskset")
      .means("CPU the thread is pinned to.")
      .from("-")
      .bind_sender(&SenderParams::cpu);
  t.add("senders.*.queue", PType::Int, 0)
      .range(0, 255)
      .kname("IFF_MULTI_QUEUE queue index")
      .means("tun queue written to.")
      .from("-")
      .bind_sender(&SenderParams::queue);
  t.add("senders.*.frame_bytes", PType::Int, 60)
      .range(14, 65535)
      .units("bytes")
      .means("Frame length, bytes.")
      .from("minimum Ethernet frame without FCS")
      .bind_sender(&SenderParams::frame_bytes);
  t.add("senders.*.flows", PType::Int, 1)
      .range(1, 1 << 20)
      .kname("skb->hash")
      .means("Distinct flow hashes, round robin (RPS steering).")
      .from("-")
      .bind_sender(&SenderParams::flows);

  t.finalize([](Params& p, std::vector<std::string>&) {
    p.duration_s = p.duration_ms * 1e-3;
    p.warmup_s = p.warmup_ms * 1e-3;
    if (p.warmup_s >= p.duration_s)
      throw ParamError("warmup_ms", "expected less than duration_ms (" + shown(p.duration_ms) + "), found " +
                                        shown(p.warmup_ms));
  });
}

void declare_cpu_params(ParamTable& t) {
  t.add("cpus.count", PType::Int, 2)
      .range(1, 256)
      .means("Host CPUs (SimGrid hosts cpu0..cpuN-1).")
      .from("CI machines have 2")
      .bind(&Params::cpus);
  t.add("cpus.hz", PType::Num, 2.5e9)
      .range(1, 1e11)
      .units("Hz")
      .means("CPU speed, cycles/s (host speed).")
      .from("a 2.5 GHz server core")
      .calibrated()
      .bind(&Params::cpu_hz);
  t.add("cpus.speed", PType::NumList, nlohmann::json::array())
      .range(0.05, 20)
      .means("Relative speed of each CPU, one number per CPU (1 = the speed the costs describe): every cost "
             "spent on CPU i takes cost / speed[i].  A hypervisor that shares a vCPU's core with other work, or "
             "a lower clock, makes a CPU slower than the one the costs were calibrated on; `tunsim trace "
             "config` sets it from the capture (docs/traces.md).  [] = all 1.")
      .from("all CPUs as calibrated")
      .bind(&Params::cpu_speed);
  // The development VM's stolen time (docs/calibration.md, "Stolen time").
  static const std::string stall_runs =
      "measured: scripts/machine/stall.c --seconds 2 on both vCPUs at once, six runs, 2026-12-07 11:57 and 12:01 "
      "UTC (load average 0.5-0.9; AMD EPYC Zen 5 2-vCPU VM, Linux 6.18.44; "
      "results/reference/machine/stall-2026-12-07/summary.json): ";
  t.add("cpus.stall.period_us", PType::Num, 1000.05)
      .range(10, 1e6)
      .units("us")
      .means("How often something outside the kernel takes each CPU away (cpus.stall.ns): a hypervisor's own "
             "timer, which interrupts every vCPU at the same instants.")
      .from(stall_runs + "the median of the twelve records' period, the most common spacing of gaps above 5 us "
                         "(1000.02-1000.08 us)")
      .calibrated()
      .bind(&Params::stall_period_us);
  t.add("cpus.stall.ns", PType::NumList, nlohmann::json(kStallNsDefault))
      .range(0, 1e9)  // up to a whole window of the longest period (1e6 us), less 1 ns: checked below
      .units("ns")
      .means("The time each CPU loses in every period of cpus.stall.period_us to what no kernel trace shows (a "
             "hypervisor running its own work on the vCPU's core, the guest's timer interrupt): N values at the "
             "quantiles (i + 0.5) / N, ascending; each CPU draws one per period (seeded by `seed`, the CPU and "
             "the period; CPUs 2i and 2i+1 together, cpus.stall.partner), and a thread that holds the CPU when the period begins is delayed by it wherever it is "
             "(an idle CPU loses nothing).  The table's tail matters: a window in a few hundred where the host "
             "keeps one vCPU for 0.1-0.6 ms lets the other CPU's writers run far ahead of a NAPI poll the stalled "
             "one owns.  The kernel's own costs are fitted to trace medians, which these windows do not "
             "touch.  A capture brings its own (capture-trace runs stall.c on the writer CPUs; `tunsim trace "
             "config` sets it).  [] = none (bare metal without these interruptions).")
      .from(stall_runs + "per quantile the median of the twelve records' per_period_ns, 1000 quantiles each "
                         "(median 22.7 us a window, p99 78 us, p99.9 283 us, mean 28.3 us: 2.8 % of the time; the "
                         "records' stolen fractions 2.3-4.1 %); 16 quantiles until 2026-12-07 "
                         "(results/reference/machine/stall-2026-12-06b), which left out the tail above 56 us")
      .calibrated()
      .bind(&Params::stall_ns);
  t.add("cpus.stall.partner", PType::NumList, nlohmann::json(kStallPartnerDefault))
      .range(0, 1)
      .means("How the losses of two vCPUs in the same window go together (the host's tick takes both at the same "
             "instant for nearly the same time; now and then it keeps one of them far longer).  CPUs 2i and 2i+1 "
             "are a pair: CPU 2i+1 draws its loss from cpus.stall.ns as a CPU alone does, at quantile "
             "(j + 0.5) / N; CPU 2i then loses, in the same window, quantile partner[k] of the same table, k one "
             "of the slots [j K / N, (j + 1) K / N) of the K values here (ranks in [0, 1], one a measured window "
             "in the order of the other CPU's loss).  A CPU without a partner (the last of an odd count) draws "
             "alone.  [] = every CPU draws alone (independent windows: about three times as many windows where "
             "the two lose more than 46 us apart as measured).")
      .from("measured: pairgaps.c (stall.c's loop on both vCPUs at once, the gaps' times kept), 5 s, 2026-12-07 "
            "11:53 UTC (load average 1.2 falling; AMD EPYC Zen 5 2-vCPU VM, Linux 6.18.44), 4801 whole windows "
            "of 1000.05 us without a switch: scripts/machine/stall_pairs.py, "
            "results/reference/machine/stall-2026-12-07/partner.json (|lost0 - lost1| p50 3.3 us, p90 9.8, p99 "
            "37.7 in the record; drawn through this table 3.4, 10.3, 33.4; drawn independently 9.3, 27.4, 81.6)")
      .calibrated()
      .bind(&Params::stall_partner);
  declare_cost(t, "cacheline_transfer_ns", 111.3, &Costs::cacheline_transfer_ns,
               "cache coherence (a line owned by another core)",
               "Touching shared state (a skb queue's lock and head, a NAPI's state, a socket, a slab's freelist) "
               "that another CPU touched last: one move of the line from the other core's cache, ns.")
      .from("measured: scripts/machine/remotermw.c (a locked read-modify-write on a line the other vCPU wrote, "
            "minus the same on an owned line), 2026-12-03 16:44 UTC on the 2 vCPUs of the development machine "
            "(AMD EPYC VM, vCPUs on two CCDs, load average 0.0-0.2): median of 4 runs 109.9-111.9 ns, "
            "results/reference/machine/remotermw-2026-12-03/summary.json (linexfer's handoff, two moves, "
            "158-161 ns in the same minutes)");
  declare_cost(t, "cacheline_burst_ns", 41.7, &Costs::cacheline_burst_ns,
               "cache coherence (a buffer written by another core)",
               "Reading a buffer another CPU just wrote (the lines of an skb built on that CPU), per line: the "
               "core fetches the lines together and overlaps their transfers, so a burst of n lines costs about "
               "n x this, not n x cacheline_transfer_ns, ns.")
      .from("measured: scripts/linexfer.c --lines 6 minus --lines 0 (one-way handoffs that carry 6 lines the "
            "sender wrote, against the bare handoff), / 6: median of 4 pairs 242.9-265.9 ns, 2026-12-02 09:34 UTC "
            "on the 2 vCPUs of the development machine (AMD EPYC VM, bare handoff 202-222 ns, load average 7.7)");
  struct Spread {
    const char* name;
    std::vector<double> Costs::*field;
    std::vector<double> def;
    const char* where;
    const char* interval;
    const char* from;
  };
  for (const Spread& sp : {
           Spread{"process", &Costs::spread_process, kSpreadProcess, "process context (system calls, vhost, a "
                  "writer's netif_receive_skb under local_bh_disable)",
                  "a write() from sys_enter, a vhost descriptor, a threaded NAPI poll",
                  "write() durations (sys_enter..sys_exit) / their median, single-writer plain tap, 60-byte frames, "
                  "Linux 6.18 (results/reference/plain-60-1w.trace.gz; tunsim calibrate)"},
           Spread{"softirq", &Costs::spread_softirq, kSpreadSoftirq, "softirq context (net_rx_action, NAPI polls, "
                  "ksoftirqd)",
                  "a softirq from softirq_entry",
                  "NET_RX softirq durations of one poll of one packet / their median, single-writer IFF_NAPI tap, "
                  "Linux 6.18 (results/reference/napi-60-1w.trace.gz; tunsim calibrate)"}}) {
    t.add(std::string("costs.spread.") + sp.name, PType::NumList, nlohmann::json(sp.def))
        .range(0.05, 20)
        .means(std::string("Run-to-run variation of every path's base cost in ") + sp.where +
               ": N ratios cost / median at the quantiles (i + 0.5) / N, ascending; one is drawn per interval (" +
               sp.interval + ", seeded by `seed` and the thread) and multiplies the base cost (not the cache "
               "penalty) of every path run in it.  "
               "Without it, CPUs sharing a queue lock into a fixed phase.  [] = constant costs.")
        .from(sp.from)
        .calibrated()
        .bind(&Params::costs, sp.field);
  }

  t.finalize([](Params& p, std::vector<std::string>&) {
    if (!std::is_sorted(p.stall_ns.begin(), p.stall_ns.end()))
      throw ParamError("cpus.stall.ns", "expected values in ascending order (quantiles)");
    for (double v : p.stall_ns)
      if (v >= p.stall_period_us * 1e3)
        throw ParamError("cpus.stall.ns", "expected each value below the period (cpus.stall.period_us = " +
                                              shown(p.stall_period_us) + "), found " + shown(v) + " ns");
    if (!p.cpu_speed.empty() && p.cpu_speed.size() != static_cast<size_t>(p.cpus))
      throw ParamError("cpus.speed", "expected one number per CPU (cpus.count = " + std::to_string(p.cpus) +
                                         "), found " + std::to_string(p.cpu_speed.size()));
    for (size_t i = 0; i < p.senders.size(); ++i) {
      const SenderParams& s = p.senders[i];
      if (s.cpu >= p.cpus)
        throw ParamError("senders." + std::to_string(i) + ".cpu",
                         "expected a CPU in [0, " + std::to_string(p.cpus - 1) + "] (cpus.count is " +
                             std::to_string(p.cpus) + "), found " + std::to_string(s.cpu));
    }
    // A vhost queue has one worker.
    for (size_t a = 0; a < p.senders.size(); ++a)
      for (size_t b = a + 1; b < p.senders.size(); ++b)
        if (p.senders[a].queue == p.senders[b].queue && (p.senders[a].vhost() || p.senders[b].vhost()))
          throw ParamError("senders." + std::to_string(b) + ".queue",
                           "expected a queue no vhost worker uses (queue " + std::to_string(p.senders[b].queue) +
                               " is already served by senders." + std::to_string(a) + ")");
  });
}

}  // namespace tunsim
