// The cache model's geometry, latencies and path footprints.  The defaults
// are the development machine's (an AMD EPYC VM, 2 vCPUs, Linux 6.18),
// measured by scripts/calibrate-machine into
// results/reference/machine/epyc-2vcpu.json (docs/calibration.md says how).
#include <tuple>

#include "models/kernel/params.hpp"

namespace tunsim {

namespace {
constexpr const char* kMachine = "results/reference/machine/epyc-2vcpu.json";
}  // namespace

void declare_cache_params(ParamTable& t) {
  t.add("cache.enabled", PType::Bool, true)
      .means("Cache cost model on/off; off: every path costs its base cost.")
      .from("-")
      .bind(&Params::cache, &CacheParams::enabled);
  struct Level {
    const char* name;
    CacheLevel CacheParams::*field;
    double size, ways, hit_ns;
    const char* what;
    const char* size_from;
    const char* ways_from;
    const char* hit_from;
  };
  for (const Level& l : {
           Level{"l1i", &CacheParams::l1i, 32768, 8, 0, "L1 instruction cache", "cpuid 0x80000005 EDX",
                 "cpuid 0x80000005 EDX", ""},
           Level{"l1d", &CacheParams::l1d, 49152, 12, 1.0935, "L1 data cache", "cpuid 0x80000005 ECX",
                 "cpuid 0x80000005 ECX", "pointer chase, 4-24 KiB plateau"},
           Level{"l2", &CacheParams::l2, 1048576, 8, 3.8159, "unified L2", "cpuid 0x80000006 ECX",
                 "cpuid 0x80000006 ECX", "pointer chase, 96-512 KiB plateau"},
           Level{"llc", &CacheParams::llc, 5745921, 16, 15.5142, "last-level cache (the share this CPU gets)",
                 "pointer chase: where the latency leaves the LLC plateau (cpuid reports the whole socket's L3, 508 MiB)",
                 "estimate: Zen L3s are 16-way; cpuid 0x80000006 says 'see leaf 0x8000001D', which this VM hides",
                 "pointer chase, 2-6 MiB plateau"},
       }) {
    std::string base = std::string("cache.") + l.name;
    t.add(base + ".size_bytes", PType::Int, l.size)
        .range(1024, 1e11)
        .units("bytes")
        .means(std::string(l.what) + ": capacity.")
        .from(std::string(l.size_from) + " (" + kMachine + ")")
        .calibrated()
        .bind(&Params::cache, l.field, &CacheLevel::size_bytes);
    t.add(base + ".ways", PType::Int, l.ways)
        .range(1, 1024)
        .means(std::string(l.what) + ": associativity (lines per set).")
        .from(std::string(l.ways_from) + " (" + kMachine + ")")
        .calibrated()
        .bind(&Params::cache, l.field, &CacheLevel::ways);
    t.add(base + ".line_bytes", PType::Int, 64)
        .range(8, 4096)
        .units("bytes")
        .means(std::string(l.what) + ": line size.")
        .from(std::string("cpuid (") + kMachine + ")")
        .calibrated()
        .bind(&Params::cache, l.field, &CacheLevel::line_bytes);
    if (std::string(l.name) == "l1i" || std::string(l.name) == "l1d")
      t.add(base + ".concentration", PType::Num, std::string(l.name) == "l1d" ? 2.75 : 1.0)
          .range(1, 64)
          .means(std::string(l.what) + ": how unevenly the kernel paths' lines fill its sets: they fall into sets / k "
                 "of them (models/cache/cache.hpp); 1 = spread evenly.")
          .from(std::string("tunsim calibrate --machine: fitted to the kernel's cold-path curves (scripts/machine/"
                            "kcold.c) in ") + kMachine + " (docs/calibration.md, \"Fitting the cache model\")")
          .calibrated()
          .bind(&Params::cache, l.field, &CacheLevel::concentration);
    if (l.hit_ns > 0)
      t.add(base + ".hit_ns", PType::Num, l.hit_ns)
          .range(0, 1e6)
          .units("ns")
          .means(std::string(l.what) + ": latency of a dependent load that hits it.")
          .from(std::string(l.hit_from) + " (" + kMachine + ")")
          .calibrated()
          .bind(&Params::cache, l.field, &CacheLevel::hit_ns);
  }
  t.add("cache.memory_ns", PType::Num, 232.5865)
      .range(0, 1e6)
      .units("ns")
      .means("Latency of a dependent load served by memory.")
      .from(std::string("pointer chase, 190-256 MiB (") + kMachine + "; a VM: the host's memory)")
      .calibrated()
      .bind(&Params::cache, &CacheParams::memory_ns);
  t.add("cache.ifetch.l2_ns", PType::Num, 0.2187)
      .range(0, 1e6)
      .units("ns")
      .means("An instruction line missing L1i and served by L2: its cost, ns.")
      .from(std::string("generated code, L2-resident minus L1i-resident per line, the mean of the random and the "
                        "sequential layouts (kernel code lies between) (") + kMachine + ")")
      .calibrated()
      .bind(&Params::cache, &CacheParams::ifetch_l2_ns);
  t.add("cache.ifetch.llc_ns", PType::Num, 13.1361)
      .range(0, 1e6)
      .units("ns")
      .means("An instruction line missing L2 and served by the LLC: its whole cost, ns.")
      .from(std::string("generated code, LLC-resident minus L1i-resident per line, the mean of the random and the "
                        "sequential layouts (") + kMachine + ")")
      .calibrated()
      .bind(&Params::cache, &CacheParams::ifetch_llc_ns);
  t.add("cache.ifetch.memory_ns", PType::Num, 35.0152)
      .range(0, 1e6)
      .units("ns")
      .means("An instruction line missing the LLC, served by memory: its whole cost, ns.")
      .from(std::string("generated code, 14-16 MiB minus L1i-resident per line, the mean of the random and the "
                        "sequential layouts (") + kMachine + ")")
      .calibrated()
      .bind(&Params::cache, &CacheParams::ifetch_memory_ns);
  t.add("cache.skb_bytes", PType::Int, 320)
      .range(0, 1e6)
      .units("bytes")
      .kname("struct sk_buff (its slab object) + the first line of struct skb_shared_info")
      .means("skb metadata bytes touched at allocation and by netif_receive_skb (a linear skb, as tun builds "
             "them); the stack also reads min(frame, 128) bytes of headers.")
      .from("BTF of Linux 6.18 (/sys/kernel/btf/vmlinux of the development machine, scripts/machine/btf.py "
            "members skb_shared_info, 2026-12-05): sk_buff is 224 bytes in 256-byte objects (skbuff_head_cache is "
            "SLAB_HWCACHE_ALIGN): 4 lines; skb_shared_info starts on a line (SKB_HEAD_ALIGN) and its fields up "
            "to frags[0] end at byte 64 (dataref at 32, frags at 48): 1 line.  __finalize_skb_around clears it "
            "up to dataref; skb_release_data walks frags only below nr_frags, 0 for a linear skb, so its other "
            "4 lines (frags[1..16]) are never touched: 5 lines, 320 bytes (576, all 9 lines, until 2026-12-05)")
      .calibrated()
      .bind(&Params::cache, &CacheParams::skb_bytes);
  t.add("cache.skb_written_bytes", PType::Int, 320)
      .range(0, 1e6)
      .units("bytes")
      .kname("__alloc_skb: memset(skb, 0, offsetof(struct sk_buff, tail)); memset(shinfo, 0, offsetof(struct "
             "skb_shared_info, dataref))")
      .means("skb metadata bytes the CPU that builds an skb writes: when another CPU receives it "
             "(netif_receive_skb), these lines and min(frame, 128) bytes of the frame are dirty in the builder's "
             "cache and come over in one burst, costs.cacheline_burst_ns a line.")
      .from("Linux 6.18 net/core/skbuff.c __alloc_skb/__finalize_skb_around: struct sk_buff (224 bytes by BTF, "
            "in 256-byte slab objects: 4 lines) cleared up to tail, and skb_shared_info cleared up to dataref "
            "(its first line): 5 lines, 320 bytes")
      .bind(&Params::cache, &CacheParams::skb_written_bytes);
  for (auto [level, field, def, evict] :
       {std::tuple{"l2", &CacheParams::skb_reread_l2_ns, 0.408, "98304 (96 KiB, 2 x L1d)"},
        std::tuple{"llc", &CacheParams::skb_reread_llc_ns, 0.857, "2097152 (2 MiB, 2 x L2)"}}) {
    t.add(std::string("cache.skb_reread.") + level + "_ns", PType::Num, def)
        .range(-1, 1e6)
        .units("ns")
        .means(std::string("A line of a reread skb (netif_receive_skb of an skb built on this CPU) that missed ") +
               (std::string(level) == "l2" ? "L1d and came from L2" : "L2 too and came from the LLC") +
               ": its whole cost.  The skb's lines are independent loads, which overlap; negative: priced as "
               "dependent loads (the hit_ns differences), as before 2026-12-05.")
        .from(std::string("scripts/machine/skbwalk.c --cpu 0 --evict-bytes ") + evict +
              ": 64 skbs (a NAPI weight) in SLAB_FREELIST_RANDOM order, their walk's excess over the hot walk a "
              "line, median of 3 runs (2026-12-05 21:05, load average 0.8, on the Zen 5 the other cache defaults "
              "were measured on: AMD family 26 model 2, L1d 48 KiB, L2 1 MiB; "
              "results/reference/machine/skbwalk-2026-12-05-zen5/; two more invocations at 21:06 gave 0.372 and "
              "0.342 out of L1d, 0.889 and 1.085 out of L2, the last with a run refused as disturbed.  Until "
              "2026-12-05 21:10 the defaults were the Zen 1's of 04:41, 0.661 and 1.442: "
              "results/reference/machine/skbwalk-2026-12-05/)")
        .calibrated()
        .bind(&Params::cache, field);
  }
  t.add("cache.skb_remote_walk", PType::Bool, false)
      .kname("netif_receive_skb of an skb another CPU built, after another one in the same __napi_poll")
      .means("Price a NAPI poll's further skbs built on another CPU (after its first, which pays "
             "costs.cacheline_burst_ns a line) at cache.skb_remote_walk_ns a line, as a walk whose loads "
             "overlap; false: every such skb pays the burst.")
      .from("docs/validation.md, \"A poll's walk of remote skbs\" (2026-12-05): on, the model's threaded-NAPI "
            "kthread on the other CPU keeps up where this machine's kernel fell behind (07:37, 08:30: poll-work "
            "KS 0.008 -> 0.057 and 0.069 -> 0.871) and two writers' polls shorten on the round of 00:37 (KS "
            "0.024 -> 0.062); better only at 07:59 (0.595 -> 0.380): off until a measurement says what a short "
            "poll's second skb costs")
      .bind(&Params::cache, &CacheParams::skb_remote_walk);
  t.add("cache.skb_remote_walk_ns", PType::Num, 11.928)
      .range(0, 1e6)
      .units("ns")
      .kname("netif_receive_skb of an skb another CPU built, after another one in the same __napi_poll")
      .means("A line of an skb built on another CPU and read by a NAPI poll right after another such skb (a "
             "threaded NAPI kthread, an RPS backlog or a second writer's NAPI walking skbs the writer's CPU "
             "built), when cache.skb_remote_walk is on: its whole cost; the walk's lines are independent loads "
             "and overlap.  `tunsim trace config` sets a capture's own value (capture-trace measures it with "
             "the line transfer: it depends on where the host placed the vCPUs).")
      .from("scripts/machine/skbwalk.c --cpu 0 --writer-cpu 1: 64 skbs (a NAPI weight) that a thread on CPU 1 "
            "wrote, walked on CPU 0 in SLAB_FREELIST_RANDOM order, their walk's excess over the hot walk a line, "
            "median of 3 runs (2026-12-05 21:05, load average 0.8, on the Zen 5 of the other cache defaults, "
            "results/reference/machine/skbwalk-2026-12-05-zen5/remote-run1..3.json; two more invocations at 21:06 "
            "gave 11.277 and 12.398.  Until 2026-12-05 21:10 the default was the Zen 1's 9.473 of 07:15, when "
            "linexfer 0 1 gave 233 ns a handoff and 39 ns a line of a 6-line burst: "
            "results/reference/machine/skbwalk-2026-12-05/)")
      .calibrated()
      .bind(&Params::cache, &CacheParams::skb_remote_walk_ns);
  for (auto [side, field, def] : {std::tuple{"icache", &CacheParams::icache_scale, 1.14},
                                  std::tuple{"dcache", &CacheParams::dcache_scale, 1.28}}) {
    t.add(std::string("cache.footprint_scale.") + side, PType::Num, def)
        .range(0.25, 8)
        .means(std::string("Every path's ") + side + "_bytes footprint is multiplied by this: sampling sees the "
               "functions a path runs on most packets, not the rare ones, so the sampled footprints are lower "
               "bounds.")
        .from(std::string("tunsim calibrate --machine: fitted to the kernel's cold-path curves (scripts/machine/"
                          "kcold.c) in ") + kMachine + " (docs/calibration.md, \"Fitting the cache model\")")
        .calibrated()
        .bind(&Params::cache, field);
  }
  // Branch targets (models/cache/cache.hpp): not modelled on the shipped
  // CPU; `tunsim calibrate --machine` fits them where the machine file has
  // the branch-site curves (calibrate-machine part "btb").
  const std::string btb_from =
      std::string("not modelled by default (cache.btb.entries 0): ") + kMachine + " (a Zen 5, 2026-12-04) has no "
      "branch-site curves, and its "
      "kcold code curve up to 2 x L1i was followed without one; `tunsim calibrate --machine` fits it from "
      "calibrate-machine's part \"btb\" (icache.c and kcold.c with 1, 2 and 4 taken branches a line; "
      "docs/calibration.md, \"Branch targets\")";
  t.add("cache.btb.entries", PType::Int, 0)
      .range(0, 1e7)
      .means("Branch-target buffer: taken-branch sites it holds; 0: not modelled.")
      .from(btb_from)
      .calibrated()
      .bind(&Params::cache, &CacheParams::btb, &BranchTargets::entries);
  t.add("cache.btb.ways", PType::Int, 1)
      .range(1, 1024)
      .means("Branch-target buffer: sites per set (its associativity as the miss curve sees it).")
      .from(btb_from)
      .calibrated()
      .bind(&Params::cache, &CacheParams::btb, &BranchTargets::ways);
  t.add("cache.btb.miss_ns", PType::Num, 0)
      .range(0, 1e6)
      .units("ns")
      .means("What a taken branch whose target entry was evicted costs a path run (the redirect).")
      .from(btb_from)
      .calibrated()
      .bind(&Params::cache, &CacheParams::btb, &BranchTargets::miss_ns);
  t.add("cache.btb.kernel_sites_per_line", PType::Num, 0)
      .range(0, 16)
      .means("Taken-branch sites per instruction line of a kernel path (its footprint after "
             "cache.footprint_scale.icache).")
      .from(btb_from)
      .calibrated()
      .bind(&Params::cache, &CacheParams::btb, &BranchTargets::kernel_sites_per_line);
  for (auto [level, field] : {std::pair{"l2", &CacheParams::kdata_l2_ns}, {"llc", &CacheParams::kdata_llc_ns}})
    t.add(std::string("cache.kernel_data.") + level + "_ns", PType::Num, -1)
        .range(-1, 1e6)
        .units("ns")
        .means(std::string("A kernel path's data line that missed ") +
               (std::string(level) == "l2" ? "L1d and came from L2" : "L2 too and came from the LLC") +
               ": its whole cost; negative: priced as a dependent load (the hit_ns differences).")
        .from(std::string("-1: ") + kMachine + "'s kcold data curve follows the dependent price (2.7 ns a line "
              "from L2); `tunsim calibrate --machine` chooses between the chase's dependent price and skbwalk's "
              "overlapped one by the kcold data curve (docs/calibration.md, \"Branch targets\")")
        .calibrated()
        .bind(&Params::cache, field);
  // Footprints: distinct bytes of the lines one run of the path touches.
  struct Fp {
    Path path;
    int i, d;
    const char* from;
  };
  const std::string measured = std::string("kernel functions sampled per packet on Linux 6.18, sizes from "
                                           "/proc/kallsyms; types' sizes from BTF (") + kMachine + ")";
  for (Fp f : {Fp{Path::Syscall, 3206, 192, nullptr}, Fp{Path::Vhost, 7936, 1024, "estimate"},
               Fp{Path::TunGetUser, 6963, 3008, nullptr}, Fp{Path::Softirq, 3283, 1472, nullptr},
               Fp{Path::NetifReceiveSkb, 1555, 2816, nullptr}, Fp{Path::Gro, 1965, 512, "gro"},
               Fp{Path::StackDrop, 1869, 1408, nullptr}, Fp{Path::StackBridge, 9792, 6272, nullptr},
               Fp{Path::StackUdp, 9792, 6272, "udp"}, Fp{Path::Receiver, 8192, 1024, "receiver"}}) {
    const char* name = path_name(f.path);
    size_t k = static_cast<size_t>(f.path);
    std::string src = measured;
    if (f.from && std::string(f.from) == "estimate")
      src = std::string("estimate: the sizes of vhost_net's handle_tx functions in /proc/kallsyms (this machine "
                        "has no vhost-net to run; ") + kMachine + "); data: an estimate of 16 lines";
    if (f.from && std::string(f.from) == "gro")
      src = std::string("the IFF_NAPI receive path minus the plain one, as sampled (") + kMachine +
            "); data: an estimate of 8 lines";
    if (f.from && std::string(f.from) == "udp")
      src = "estimate: as the bridge path (local UDP delivery was not sampled)";
    if (f.from && std::string(f.from) == "receiver")
      src = "estimate: recvmsg was not sampled";
    std::string base = std::string("cache.footprints.") + name;
    ParamDecl& di = t.add(base + ".icache_bytes", PType::Int, f.i)
                        .range(0, 1e9)
                        .units("bytes")
                        .means(std::string("Instruction bytes one run of the ") + name + " path touches.")
                        .from(src)
                        .calibrated();
    di.set = [k](Params& p, size_t, const nlohmann::json& v) { p.cache.icache_bytes[k] = v.get<double>(); };
    di.get = [k](const Params& p, size_t) { return nlohmann::json(p.cache.icache_bytes[k]); };
    ParamDecl& dd = t.add(base + ".dcache_bytes", PType::Int, f.d)
                        .range(0, 1e9)
                        .units("bytes")
                        .means(std::string("Non-skb data bytes one run of the ") + name + " path touches.")
                        .from(src)
                        .calibrated();
    dd.set = [k](Params& p, size_t, const nlohmann::json& v) { p.cache.dcache_bytes[k] = v.get<double>(); };
    dd.get = [k](const Params& p, size_t) { return nlohmann::json(p.cache.dcache_bytes[k]); };
  }
}

}  // namespace tunsim
