#include "sim/schema.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <set>
#include <sstream>

#include "sim/errors.hpp"

namespace tunsim {

using nlohmann::json;

namespace {

constexpr const char* kEst =
    "order-of-magnitude estimate for a 2-3 GHz x86-64 server core; replace it "
    "with a calibration (tunsim calibrate)";

std::vector<ParamSpec> make_schema() {
  std::vector<ParamSpec> s;
  auto add = [&](ParamSpec p) { s.push_back(std::move(p)); };
  auto num = [&](std::string path, double def, double lo, double hi, std::string kernel,
                 std::string doc, std::string source) {
    add({std::move(path), PType::Num, def, lo, hi, {}, std::move(kernel), std::move(doc),
         std::move(source)});
  };
  auto integer = [&](std::string path, json def, double lo, double hi, std::string kernel,
                     std::string doc, std::string source, bool nullable = false) {
    ParamSpec p{std::move(path), PType::Int, std::move(def), lo, hi, {}, std::move(kernel),
                std::move(doc), std::move(source)};
    p.nullable = nullable;
    add(std::move(p));
  };
  auto boolean = [&](std::string path, json def, std::string kernel, std::string doc,
                     std::string source, bool nullable = false) {
    ParamSpec p{std::move(path), PType::Bool, std::move(def), 0, 0, {}, std::move(kernel),
                std::move(doc), std::move(source)};
    p.nullable = nullable;
    add(std::move(p));
  };
  auto choice = [&](std::string path, json def, std::vector<std::string> choices,
                    std::string kernel, std::string doc, std::string source,
                    bool nullable = false) {
    ParamSpec p{std::move(path), PType::Enum, std::move(def), 0, 0, std::move(choices),
                std::move(kernel), std::move(doc), std::move(source)};
    p.nullable = nullable;
    add(std::move(p));
  };

  // --- scenario -------------------------------------------------------------
  add({"name", PType::Str, "scenario", 0, 0, {}, "", "Scenario name, copied to the summary.", "-"});
  add({"description", PType::Str, "", 0, 0, {}, "", "Free text describing the scenario.", "-"});
  choice("design", "rx_batched",
         {"netif_rx_ni", "v1_napi", "deferred_signal", "rx_batched", "napi_gro"}, "",
         "Batching design replayed (see README: designs).", "the design merged in 4.11");
  integer("seed", 1, 0, 4294967295.0, "", "Seed of every random stream (arrivals).", "-");
  num("duration_ms", 20, 0.001, 1e7, "", "Simulated time, ms.", "long enough for >10^5 packets at 1 Mpps");
  num("warmup_ms", 2, 0, 1e7, "",
      "Packets sent before this time are excluded from latency/throughput statistics, ms.",
      "10% of the default duration");
  add({"calibration", PType::Str, nullptr, 0, 0, {}, "",
       "Calibration to apply (docs/calibration.md): NAME -> calibration/NAME.json beside the "
       "scenario, or a path.",
       "-", true});

  // --- kernel knobs -----------------------------------------------------------
  choice("kernel.version", nullptr, {"4.9", "4.11", "4.15", "6.1", "6.4"}, "",
         "Kernel whose generic behaviour is replayed; null = the design's own (netif_rx_ni, "
         "v1_napi, deferred_signal: 4.9; rx_batched: 4.11; napi_gro: 4.15); "
         "\"6.4\" stands for 6.4 and later (checked against 6.18). Sets the defaults of the "
         "version-dependent knobs below.",
         "kernel-mechanisms.md", true);
  integer("kernel.hz", 250, 100, 1000, "CONFIG_HZ", "Timer tick rate; jiffies = floor(t*HZ).",
          "Debian's kernels are built with CONFIG_HZ=250");
  integer("kernel.netdev_budget", 300, 1, 1000000, "net.core.netdev_budget",
          "Packets one net_rx_action may process before time_squeeze.", "kernel default 300");
  integer("kernel.netdev_budget_usecs", nullptr, 1, 1e9, "net.core.netdev_budget_usecs",
          "net_rx_action time limit in us (4.12+; converted to jiffies, rounded up); null = 2000. "
          "Ignored for 4.9/4.11, whose limit is 2 jiffies.",
          "kernel default 2000 (4.12)", true);
  integer("kernel.dev_weight", 64, 1, 1000000, "net.core.dev_weight",
          "Backlog NAPI weight (process_backlog quota).", "kernel default 64");
  integer("kernel.dev_weight_rx_bias", 1, 1, 1000, "net.core.dev_weight_rx_bias",
          "Backlog weight multiplier (4.12+: dev_rx_weight = dev_weight * bias).", "kernel default 1");
  integer("kernel.netdev_max_backlog", 1000, 1, 1e9, "net.core.netdev_max_backlog",
          "enqueue_to_backlog accepts while input_pkt_queue length <= this.", "kernel default 1000");
  integer("kernel.napi_weight", 64, 1, 1000, "NAPI_POLL_WEIGHT",
          "Weight of the tun NAPI (v1_napi, deferred_signal, napi_gro).", "the patch and IFF_NAPI use 64");
  integer("kernel.max_softirq_restart", 10, 1, 1000, "MAX_SOFTIRQ_RESTART",
          "__do_softirq restarts before handing off to ksoftirqd.", "kernel constant 10");
  num("kernel.max_softirq_time_ms", 2, 0.001, 1000, "MAX_SOFTIRQ_TIME",
      "__do_softirq time limit, ms (msecs_to_jiffies, rounded up).", "kernel constant 2 ms");
  boolean("kernel.ksoftirqd_defers_inline", nullptr, "ksoftirqd_running()",
          "While ksoftirqd is runnable, do_softirq()/irq exit leave pending softirqs to it. null = "
          "true for 4.9-4.15, false for 6.1 and 6.4.",
          "commit 4cd13c21b207 (4.9); the 6.1 value is UNVERIFIED in kernel-mechanisms.md", true);
  boolean("kernel.napi_missed_bit", nullptr, "NAPI_STATE_MISSED",
          "napi_schedule on a scheduled NAPI sets MISSED and completion reschedules (4.11+). "
          "null = by version.",
          "kernel-mechanisms.md section 6", true);
  integer("kernel.gro_normal_batch", nullptr, 0, 1024, "net.core.gro_normal_batch",
          "GRO_NORMAL packets are held in napi->rx_list and delivered by netif_receive_skb_list "
          "in batches of this many (5.4+); 0 = delivered one by one. null = 0 before 6.1, 8 for 6.1 and 6.4.",
          "kernel default 8 (5.4+)", true);
  boolean("kernel.rx_action_restart", nullptr, "sd->in_net_rx_action",
          "A NAPI scheduled on this CPU while net_rx_action runs (a MISSED reschedule, an enqueue "
          "by a poll) does not raise NET_RX: net_rx_action re-splices sd->poll_list and polls it "
          "in the same softirq (goto start) instead of __do_softirq restarting (6.4+). "
          "null = true for 6.4, false before.",
          "Eric Dumazet, net: optimize ____napi_schedule() to avoid extra NET_RX_SOFTIRQ (net-next, "
          "March 2023, first in 6.4)", true);
  integer("kernel.sched.latency_ns", nullptr, 100000, 1e9, "sysctl_sched_latency",
          "CFS target latency; null = 6 ms * (1 + ilog2(ncpus)).", "kernel default scaling (LOG)", true);
  integer("kernel.sched.min_granularity_ns", nullptr, 10000, 1e9, "sysctl_sched_min_granularity",
          "CFS minimum slice; null = 0.75 ms * (1 + ilog2(ncpus)).", "kernel default scaling (LOG)", true);
  integer("kernel.sched.wakeup_granularity_ns", nullptr, 0, 1e9, "sysctl_sched_wakeup_granularity",
          "CFS wake-up preemption granularity; null = 1 ms * (1 + ilog2(ncpus)).",
          "kernel default scaling (LOG)", true);

  // --- tun -------------------------------------------------------------------
  integer("tun.rx_frames", 0, 0, 1e9, "tun->rx_batched (ethtool -C tapX rx-frames N)",
          "rx_batched only: packets queued before a flush; clamped to NAPI_POLL_WEIGHT (64) as "
          "tun_set_coalesce does.",
          "kernel default 0 (no batching)");
  boolean("tun.bh_section", true, "local_bh_disable()/local_bh_enable() around napi_schedule",
          "v1_napi and deferred_signal: schedule the NAPI inside a bh-disabled section so "
          "local_bh_enable runs the poll at once; false = napi_schedule only raises NET_RX (the "
          "review's question b), the poll waits for irq exit or ksoftirqd.",
          "the v1 patch");

  // --- CPUs and cache --------------------------------------------------------
  integer("cpus.count", 2, 1, 256, "", "Host CPUs (SimGrid hosts cpu0..cpuN-1).", "CI machines have 2");
  num("cpus.hz", 2.5e9, 1, 1e11, "", "CPU speed, cycles/s (host speed).", "a 2.5 GHz server core");
  add({"cpus.speed", PType::NumList, json::array(), 0.05, 20, {}, "",
       "Relative speed of each CPU, one number per CPU (1 = the speed the costs describe): every "
       "cost spent on CPU i takes cost / speed[i].  A hypervisor that shares a vCPU's core with "
       "other work, or a lower clock, makes a CPU slower than the one the costs were calibrated "
       "on; `tunsim trace config` sets it from the capture (docs/traces.md).  [] = all 1.",
       "all CPUs as calibrated"});
  add({"rps.cpus", PType::IntList, json::array(), 0, 255, {}, "/sys/class/net/tapX/queues/rx-*/rps_cpus",
       "CPUs that RPS steers backlog packets to (get_rps_cpu: cpus[hash * n >> 32]); [] = RPS off. "
       "Used by the designs that enqueue to a backlog (netif_rx_ni; and netif_receive_skb under RPS).",
       "RPS is off by default"});

  boolean("cache.enabled", true, "", "Cache cost model on/off; off: every path costs its base cost.", "-");
  integer("cache.l1i.size_bytes", 32768, 1024, 1e9, "", "L1 instruction cache capacity.", "32 KiB, Intel since Nehalem");
  integer("cache.l1i.line_bytes", 64, 8, 4096, "", "Cache line.", "x86-64");
  num("cache.l1i.miss_penalty_cycles", 8, 0, 1e6, "", "L1i miss served by L2, effective cycles (next-line prefetch hides part of the ~14-cycle L2 latency).", "estimate: about half the L2 hit latency of ~14 cycles (Skylake)");
  integer("cache.l1d.size_bytes", 32768, 1024, 1e9, "", "L1 data cache capacity.", "32 KiB (Skylake)");
  integer("cache.l1d.line_bytes", 64, 8, 4096, "", "Cache line.", "x86-64");
  num("cache.l1d.miss_penalty_cycles", 14, 0, 1e6, "", "L1d miss served by L2, cycles.", "L2 hit ~14 cycles (Skylake)");
  integer("cache.l2.size_bytes", 1048576, 4096, 1e10, "", "Unified L2 capacity.", "1 MiB (Skylake-SP)");
  integer("cache.l2.line_bytes", 64, 8, 4096, "", "Cache line.", "x86-64");
  num("cache.l2.miss_penalty_cycles", 60, 0, 1e6, "", "L2 miss served by the LLC, cycles.", "LLC hit ~50-70 cycles (Skylake-SP)");
  integer("cache.skb_bytes", 512, 0, 1e6, "sizeof(struct sk_buff) + skb_shared_info",
          "skb metadata bytes touched at allocation and by netif_receive_skb; the stack also reads "
          "min(frame, 128) bytes of headers.",
          "232 + 320 bytes on x86-64 6.1, rounded to cache lines");
  struct Fp { const char* path; int i; int d; };
  for (Fp f : {Fp{"syscall", 3072, 512}, Fp{"vhost", 6144, 1024}, Fp{"tun_get_user", 8192, 512},
               Fp{"softirq", 4096, 512}, Fp{"netif_receive_skb", 6144, 512},
               Fp{"stack", 10240, 1024}, Fp{"receiver", 8192, 1024}}) {
    std::string base = std::string("cache.footprints.") + f.path;
    integer(base + ".icache_bytes", f.i, 0, 1e9, "",
            std::string("Instruction bytes one run of the ") + f.path + " path touches.", kEst);
    integer(base + ".dcache_bytes", f.d, 0, 1e9, "",
            std::string("Non-skb data bytes one run of the ") + f.path + " path touches.", kEst);
  }

  // --- costs -----------------------------------------------------------------
  struct C { const char* key; double def; const char* kernel; const char* doc; };
  for (C c : {
           C{"syscall_ns", 120, "entry_SYSCALL_64 .. sysret", "write()/sendmsg() entry and exit, ns."},
           C{"tun_get_user_ns", 150, "tun_get_user", "Fixed part of tun_get_user, ns."},
           C{"skb_alloc_ns", 80, "tun_alloc_skb", "skb allocation, ns."},
           C{"copy_ns_per_byte", 0.08, "copy_from_iter", "Frame copy, ns per byte."},
           C{"vhost_desc_ns", 150, "handle_tx per descriptor", "vhost_get_vq_desc + used ring update, ns."},
           C{"vhost_notify_ns", 50, "vhost_disable_notify/vhost_enable_notify", "Each, ns."},
           C{"vhost_wakeup_ns", 4000, "eventfd -> vhost_poll_wakeup -> worker running", "Guest kick to worker running, ns."},
           C{"lock_ns", 20, "spin_lock/spin_unlock", "Uncontended skb queue lock pair, ns."},
           C{"backlog_enqueue_ns", 50, "enqueue_to_backlog", "ns."},
           C{"napi_schedule_ns", 20, "napi_schedule", "napi_schedule_prep + ____napi_schedule, ns."},
           C{"softirq_ns", 150, "__do_softirq + net_rx_action", "One softirq round's fixed cost, ns."},
           C{"napi_poll_ns", 30, "napi_poll", "Per poll callback bookkeeping, ns."},
           C{"netif_receive_skb_ns", 100, "__netif_receive_skb_core", "Per packet, ns."},
           C{"gro_ns", 80, "napi_gro_receive", "Per packet, no GRO match, ns."},
           C{"stack_drop_ns", 40, "kfree_skb (unhandled protocol)", "ns."},
           C{"bridge_forward_ns", 500, "br_handle_frame..dev_queue_xmit (noqueue)", "ns."},
           C{"udp_deliver_ns", 600, "ip_rcv..sock_queue_rcv_skb", "ns."},
           C{"recv_ns", 700, "recvmsg", "Receiver application per packet, ns."},
           C{"wakeup_ns", 2000, "try_to_wake_up .. running", "Sleeping thread woken until it runs, ns."},
           C{"context_switch_ns", 1000, "__schedule", "One context switch, ns."},
           C{"ipi_ns", 300, "net_rps_send_ipi", "Sending one RPS IPI, ns."},
           C{"ipi_latency_ns", 1500, "smp_call_function_single_async", "RPS IPI delivery to the remote CPU, ns."},
           C{"guest_tx_ns", 300, "virtio-net start_xmit", "Guest per-packet cost, ns (guest vCPU)."},
           C{"cacheline_transfer_ns", 150, "cache coherence (a line owned by another core)",
             "Touching shared state (a skb queue's lock and head, a NAPI's state, a socket) that another CPU "
             "touched last: the line moves between the cores' caches, ns."},
           C{"writer_user_ns", 300, "user loop + entry/exit outside sys_enter..sys_exit",
             "A writer thread's time between two write() calls, outside the traced system call (its own "
             "loop and the syscall entry/exit work before sys_enter and after sys_exit), ns."},
           C{"guest_kick_ns", 3000, "virtqueue_notify (vmexit)", "Guest kick, ns (guest vCPU)."},
       }) {
    num(std::string("costs.") + c.key, c.def, 0, 1e9, c.kernel, c.doc, kEst);
  }

  // --- senders ---------------------------------------------------------------
  add({"senders", PType::Array, json::array({json::object()}), 0, 0, {}, "",
       "The threads that write into tun: one object per thread.", "one vhost worker"});
  choice("senders.*.type", "vhost", {"vhost", "writer"}, "",
         "vhost: the vhost_net worker (handle_tx, sendmsg with MSG_MORE); writer: a user thread "
         "calling write() on the tun fd (more is always false).",
         "-");
  integer("senders.*.cpu", 1, 0, 255, "taskset", "CPU the thread is pinned to.", "-");
  integer("senders.*.queue", 0, 0, 255, "IFF_MULTI_QUEUE queue index", "tun queue written to.", "-");
  integer("senders.*.frame_bytes", 60, 14, 65535, "", "Frame length, bytes.", "minimum Ethernet frame without FCS");
  integer("senders.*.flows", 1, 1, 1 << 20, "skb->hash",
          "Distinct flow hashes, round robin (RPS steering).", "-");
  integer("senders.*.vhost.weight_bytes", 524288, 1, 1e12, "VHOST_NET_WEIGHT",
          "handle_tx requeues itself after this many bytes.", "0x80000 in 4.11");
  integer("senders.*.vhost.pkt_weight", 0, 0, 1e9, "VHOST_NET_PKT_WEIGHT",
          "Also requeue after this many packets; 0 = no packet weight (4.11).", "256 exists in 4.19");
  num("senders.*.vhost.busyloop_timeout_us", 0, 0, 1e9, "busyloop_timeout (QEMU tap poll-us)",
      "Spin on an empty ring up to this long before re-enabling notifications, us.", "default 0");
  boolean("senders.*.vhost.msg_more", true, "MSG_MORE in handle_tx",
          "Pass MSG_MORE while descriptors remain (4.11); false = never (4.10).", "4.11");
  choice("senders.*.guest.mode", "closed", {"open", "closed"}, "",
         "open: arrivals independent of the host (dropped when the ring is full); closed: the guest "
         "keeps the TX ring full, refilling as vhost consumes.",
         "pktgen in the guest stops its queue on a full ring");
  choice("senders.*.guest.arrival", "bursts", {"constant", "poisson", "bursts"}, "",
         "Open-loop arrival process.", "pktgen-like bursts");
  num("senders.*.guest.rate_mpps", 1.0, 1e-6, 1e4, "", "Open loop: mean offered rate, Mpps.", "-");
  integer("senders.*.guest.burst", 32, 1, 65536, "pktgen burst",
          "Open loop 'bursts': packets per burst, sent back to back at guest_tx_ns.", "-");
  integer("senders.*.guest.ring_size", 256, 2, 32768, "virtio TX queue size", "Descriptors.", "QEMU default tx_queue_size 256");
  num("senders.*.writer.rate_mpps", 0, 0, 1e4, "",
      "Writer: writes per us; 0 = back to back (closed loop).", "-");
  integer("senders.*.writer.count", 0, 0, 1e15, "", "Writer: stop after this many writes; 0 = until the end.", "-");

  // --- receive side ----------------------------------------------------------
  choice("stack.type", "bridge", {"drop", "bridge", "udp"}, "",
         "Work after netif_receive_skb: drop = unknown EtherType (kfree_skb UNHANDLED_PROTO); "
         "bridge = forwarded to a noqueue device; udp = local delivery to a receiver thread.",
         "the default scenario bridges the tap to a noqueue NIC");
  integer("stack.udp.rcvbuf_bytes", 212992, 1, 1e12, "net.core.rmem_default (sk_rcvbuf)",
          "Socket receive buffer; a packet is dropped when sk_rmem_alloc + truesize exceeds it.",
          "kernel default 212992");
  integer("stack.udp.receiver_cpu", 0, 0, 255, "taskset",
          "CPU of the receiver thread (must host no sender).", "-");
  integer("stack.udp.truesize_bytes", nullptr, 1, 1e9, "skb->truesize",
          "Charged per packet against rcvbuf; null = SKB_TRUESIZE(frame) = "
          "roundup64(frame + 64 headroom) + 576.",
          "sizeof(sk_buff)+sizeof(skb_shared_info) on x86-64", true);
  return s;
}


std::string type_name(const ParamSpec& p) {
  std::string t;
  switch (p.type) {
    case PType::Int: t = "an integer"; break;
    case PType::Num: t = "a number"; break;
    case PType::Bool: t = "true or false"; break;
    case PType::Str: t = "a string"; break;
    case PType::Enum: {
      t = "one of";
      for (auto& c : p.choices) t += " \"" + c + "\"";
      break;
    }
    case PType::Array: t = "an array of objects"; break;
    case PType::IntList: t = "an array of integers"; break;
    case PType::NumList: {
      std::ostringstream r;
      r << "an array of numbers in [" << p.min << ", " << p.max << "]";
      t = r.str();
      break;
    }
  }
  if ((p.type == PType::Int || p.type == PType::Num) && p.min < p.max) {
    std::ostringstream r;
    r << " in [" << p.min << ", " << p.max << "]";
    t += r.str();
  }
  if (p.nullable) t += " or null";
  return t;
}

}  // namespace

const std::vector<ParamSpec>& schema() {
  static const std::vector<ParamSpec> s = make_schema();
  return s;
}

const ParamSpec* find_spec(const std::string& gpath) {
  static const std::map<std::string, const ParamSpec*> index = [] {
    std::map<std::string, const ParamSpec*> m;
    for (auto& p : schema()) m[p.path] = &p;
    return m;
  }();
  auto it = index.find(gpath);
  return it == index.end() ? nullptr : it->second;
}

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j)
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

namespace {

// Names valid directly under `gprefix` ("" for the top level).
std::set<std::string> children(const std::string& gprefix) {
  std::set<std::string> out;
  for (auto& p : schema()) {
    if (!gprefix.empty() && p.path.compare(0, gprefix.size() + 1, gprefix + ".") != 0) continue;
    std::string rest = gprefix.empty() ? p.path : p.path.substr(gprefix.size() + 1);
    auto dot = rest.find('.');
    std::string name = rest.substr(0, dot);
    if (name != "*") out.insert(name);
  }
  return out;
}

bool has_children(const std::string& gprefix) {
  for (auto& p : schema())
    if (p.path.compare(0, gprefix.size() + 1, gprefix + ".") == 0) return true;
  return false;
}

[[noreturn]] void fail(const std::string& file, const std::string& path, const std::string& what) {
  throw InputError(file + ": " + (path.empty() ? std::string("(top level)") : path) + ": " + what);
}

std::string found(const json& v) {
  std::string d = v.dump();
  if (d.size() > 60) d = d.substr(0, 57) + "...";
  return "found " + d;
}

void check_value(const ParamSpec& p, const json& v, const std::string& file, const std::string& path) {
  if (v.is_null()) {
    if (p.nullable) return;
    fail(file, path, "expected " + type_name(p) + ", " + found(v));
  }
  switch (p.type) {
    case PType::Int:
      if (!v.is_number_integer() && !(v.is_number_float() && std::floor(v.get<double>()) == v.get<double>()))
        fail(file, path, "expected " + type_name(p) + ", " + found(v));
      [[fallthrough]];
    case PType::Num:
      if (!v.is_number()) fail(file, path, "expected " + type_name(p) + ", " + found(v));
      if (p.min < p.max && (v.get<double>() < p.min || v.get<double>() > p.max || std::isnan(v.get<double>())))
        fail(file, path, "expected " + type_name(p) + ", " + found(v));
      break;
    case PType::Bool:
      if (!v.is_boolean()) fail(file, path, "expected " + type_name(p) + ", " + found(v));
      break;
    case PType::Str:
      if (!v.is_string()) fail(file, path, "expected " + type_name(p) + ", " + found(v));
      break;
    case PType::Enum:
      if (!v.is_string() ||
          std::find(p.choices.begin(), p.choices.end(), v.get<std::string>()) == p.choices.end())
        fail(file, path, "expected " + type_name(p) + ", " + found(v));
      break;
    case PType::Array:
      if (!v.is_array()) fail(file, path, "expected " + type_name(p) + ", " + found(v));
      break;
    case PType::IntList:
      if (!v.is_array()) fail(file, path, "expected " + type_name(p) + ", " + found(v));
      for (size_t i = 0; i < v.size(); ++i)
        if (!v[i].is_number_integer() || v[i].get<long long>() < p.min || v[i].get<long long>() > p.max)
          fail(file, path + "." + std::to_string(i), "expected an integer in [0, 255], " + found(v[i]));
      break;
    case PType::NumList:
      if (!v.is_array()) fail(file, path, "expected " + type_name(p) + ", " + found(v));
      for (size_t i = 0; i < v.size(); ++i)
        if (!v[i].is_number() || v[i].get<double>() < p.min || v[i].get<double>() > p.max) {
          std::ostringstream r;
          r << "expected a number in [" << p.min << ", " << p.max << "], ";
          fail(file, path + "." + std::to_string(i), r.str() + found(v[i]));
        }
      break;
  }
}

void walk(const json& j, json& out, const std::string& path, const std::string& gpath,
          const std::string& file);

void fill_object(const json& j, json& out, const std::string& path, const std::string& gpath,
                 const std::string& file) {
  if (!j.is_object()) fail(file, path, "expected an object, " + found(j));
  auto valid = children(gpath);
  for (auto& [k, v] : j.items()) {
    if (!valid.count(k)) {
      // The nearest valid name: one the key is a prefix of (or the other way
      // round) first, then the smallest edit distance.
      std::string best;
      size_t bd = std::numeric_limits<size_t>::max();
      for (auto& c : valid) {
        size_t d = edit_distance(k, c);
        if (c.rfind(k, 0) == 0 || k.rfind(c, 0) == 0) d = std::min<size_t>(d, 1);
        if (d < bd) bd = d, best = c;
      }
      std::string where = path.empty() ? k : path + "." + k;
      std::string msg = "unknown key \"" + k + "\"";
      if (!best.empty() && bd <= std::max<size_t>(3, k.size() / 2))
        msg += "; did you mean \"" + best + "\"?";
      else {
        msg += "; valid keys here:";
        for (auto& c : valid) msg += " " + c;
      }
      fail(file, where, msg);
    }
  }
  for (auto& name : valid) {
    std::string p = path.empty() ? name : path + "." + name;
    std::string g = gpath.empty() ? name : gpath + "." + name;
    if (j.contains(name)) {
      walk(j.at(name), out[name], p, g, file);
    } else if (const ParamSpec* spec = find_spec(g)) {
      if (spec->type == PType::Array) {
        walk(spec->def, out[name], p, g, file);
      } else {
        out[name] = spec->def;
      }
    } else {
      walk(json::object(), out[name], p, g, file);
    }
  }
}

void walk(const json& j, json& out, const std::string& path, const std::string& gpath,
          const std::string& file) {
  const ParamSpec* spec = find_spec(gpath);
  if (spec && spec->type == PType::Array) {
    check_value(*spec, j, file, path);
    if (j.empty()) fail(file, path, "expected at least one element, found []");
    out = json::array();
    for (size_t i = 0; i < j.size(); ++i) {
      json elem = json::object();
      fill_object(j[i], elem, path + "." + std::to_string(i), gpath + ".*", file);
      out.push_back(elem);
    }
    return;
  }
  if (spec) {
    check_value(*spec, j, file, path);
    out = j;
    return;
  }
  if (has_children(gpath) || gpath.empty()) {
    out = json::object();
    fill_object(j, out, path, gpath, file);
    return;
  }
  fail(file, path, "unknown key");
}

}  // namespace

json validate_and_fill(const json& j, const std::string& file) {
  json out = json::object();
  walk(j, out, "", "", file);
  return out;
}

void apply_set(json& j, const std::string& assignment) {
  auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0)
    throw InputError("--set " + assignment + ": expected path.to.key=VALUE");
  std::string path = assignment.substr(0, eq);
  std::string raw = assignment.substr(eq + 1);
  json value;
  try {
    value = json::parse(raw);
  } catch (const json::parse_error&) {
    value = raw;
  }
  json* cur = &j;
  std::stringstream ss(path);
  std::string part;
  std::vector<std::string> parts;
  while (std::getline(ss, part, '.')) parts.push_back(part);
  for (size_t i = 0; i < parts.size(); ++i) {
    const std::string& k = parts[i];
    if (k.empty()) throw InputError("--set " + assignment + ": empty component in path");
    bool digits = std::all_of(k.begin(), k.end(), ::isdigit);
    bool last = i + 1 == parts.size();
    if (digits && (cur->is_array() || cur->is_null())) {
      size_t idx = std::stoul(k);
      if (cur->is_null()) *cur = json::array();
      if (idx > cur->size())
        throw InputError("--set " + assignment + ": index " + k + " skips elements (array has " +
                         std::to_string(cur->size()) + ")");
      if (idx == cur->size()) cur->push_back(json::object());
      cur = &(*cur)[idx];
    } else {
      if (cur->is_null()) *cur = json::object();
      if (!cur->is_object())
        throw InputError("--set " + assignment + ": " + k + " is not inside an object");
      cur = &(*cur)[k];
    }
    if (last) *cur = value;
  }
}

std::string config_reference_markdown() {
  std::ostringstream o;
  o << "# Scenario configuration reference\n\n"
       "Generated by `tunsim config-reference` from the schema in `sim/schema.cpp`; do not edit by "
       "hand.  Keys are dotted paths (`senders.*` is any element of the `senders` array), the "
       "same syntax `tunsim run --set` takes.  Unknown keys are rejected.\n\n"
       "| key | type | default | kernel name | meaning | default from |\n|---|---|---|---|---|---|\n";
  for (auto& p : schema()) {
    std::string def = p.def.is_null() ? "null" : p.def.dump();
    if (p.type == PType::Array) def = "see below";
    std::string t = type_name(p);
    o << "| `" << p.path << "` | " << t << " | `" << def << "` | " << (p.kernel.empty() ? "" : "`" + p.kernel + "`")
      << " | " << p.doc << " | " << p.source << " |\n";
  }
  return o.str();
}

}  // namespace tunsim
