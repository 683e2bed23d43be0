// The typed parameters of a scenario: plain storage, filled by the config
// loader from the declarations in each model's params.cpp (param_table()),
// which hold every default, range, unit and source.  A field set from a null
// value (nullable parameters) is zero; the model's finalizer derives it.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "models/cache/cache.hpp"
#include "models/kernel/param.hpp"
#include "models/kernel/version.hpp"

namespace tunsim {

struct DesignInfo;  // models/tun/design.hpp

// The default of net.core.netdev_budget_usecs (net_rx_action's time limit).
enum class BudgetUsecsRule { None, Usecs2000, TwoJiffies };
// The preemption model (CONFIG_PREEMPT_NONE / _VOLUNTARY / PREEMPT, or the
// boot mode of PREEMPT_DYNAMIC).
enum class Preempt { None, Voluntary, Full };
// The fair class's policy: CFS (4.9-6.5), EEVDF as in 6.6, EEVDF as in 6.18.
enum class SchedPolicy { Cfs, Eevdf66, Eevdf618 };

struct KernelParams {
  KernelVersion version;
  int hz;  // CONFIG_HZ
  int netdev_budget;
  BudgetUsecsRule netdev_budget_usecs_default;
  int netdev_budget_usecs;  // 0: no such sysctl (4.9/4.11: 2 jiffies)
  int dev_weight;
  int dev_weight_rx_bias;  // 0: no such sysctl (4.9: dev_weight)
  int netdev_max_backlog;
  int napi_weight;
  int max_softirq_restart;
  double max_softirq_time_ms;
  bool ksoftirqd_defers_inline;
  bool napi_missed_bit;
  int gro_normal_batch;
  bool rx_action_restart;
  bool napi_schedule_wakes_ksoftirqd;  // ____napi_schedule uses raise_softirq_irqoff (6.14+)
  bool slab_remote_free;  // SLUB's free of another CPU's objects is __slab_free (models/slub)
  Preempt preempt;
  SchedPolicy sched_policy;
  double sched_latency_ns, sched_min_granularity_ns, sched_wakeup_granularity_ns;
  double sched_normalized_base_slice_ns, sched_base_slice_ns;  // EEVDF
};

// The review's variant's poll: splice the queue under one lock as
// tun_napi_receive does, or dequeue each packet under the lock.
enum class PollLock { Splice, PerPacket };

struct TunParams {
  bool build_skb;        // tun_can_build_skb exists (4.15+)
  long long sndbuf;      // the tap's sk_sndbuf (TUNSETSNDBUF); INT_MAX by default
  bool threaded;         // /sys/class/net/tapX/threaded: NAPI polled by a kthread (5.12+)
  int napi_thread_cpu;   // CPU of that kthread (-1: the queue's first sender's)
  PollLock deferred_poll_lock;
  static constexpr long long kIntMax = 2147483647;
};

enum class ZcopyLimit { UbufRing, MaxPend };

struct VhostParams {  // vhost_net's module parameters and constants
  bool experimental_zcopytx;
  ZcopyLimit zcopy_pending_limit;
  int pkt_weight;  // VHOST_NET_PKT_WEIGHT; 0 = none (4.x)
  int batch;       // VHOST_NET_BATCH; 0 = no XDP batching (4.x)
  bool tx_poll_rearm;  // 4.15+: vhost_net_disable_vq in handle_tx, vhost_net_enable_vq on a send error
};

struct Costs {  // ns unless named otherwise; each declared by the model that spends it
  double syscall_ns, tun_get_user_ns, skb_alloc_ns, copy_ns_per_byte;
  double vhost_desc_ns, vhost_notify_ns, vhost_wakeup_ns, lock_ns;
  double backlog_enqueue_ns, napi_schedule_ns, softirq_ns, napi_poll_ns;
  double softirq_enter_ns, softirq_leave_ns, skb_free_ns;
  double slab_new_ns, slab_new_page_ns, slab_put_partial_ns, slab_discard_ns, slab_discard_page_ns;
  double netif_receive_skb_ns, gro_ns, stack_drop_ns, bridge_forward_ns, udp_deliver_ns;
  double recv_ns, wakeup_ns, context_switch_ns, wakeup_local_ns, ipi_ns, ipi_latency_ns;
  double guest_tx_ns, guest_kick_ns, writer_user_ns, cacheline_transfer_ns, cacheline_burst_ns;
  // Run-to-run variation of every path's base cost: quantiles of cost /
  // median at (i + 0.5) / N, in process context and in softirq context
  // (Ctx::spend draws one per path run); empty = constant costs.
  std::vector<double> spread_process, spread_softirq;
};

enum class GuestMode { Open, Closed };
enum class Arrival { Constant, Poisson, Bursts };

struct GuestParams {
  GuestMode mode;
  Arrival arrival;
  double rate_mpps;
  int burst;
  double burst_phase;  // fraction of the period; < 0: drawn from the seed
  int ring_size;
  int descs_per_packet;  // descriptors one packet takes in the TX ring
};

enum class SenderType { Vhost, Writer };

struct SenderParams {
  SenderType type;
  int cpu;
  int queue;
  int frame_bytes;
  int flows;
  // vhost
  long long weight_bytes;
  double busyloop_timeout_us;
  bool msg_more;
  int vnet_hdr_bytes;  // virtio-net header in front of each frame, counted in len
  GuestParams guest;
  // writer
  double writer_rate_mpps;
  long long writer_count;
  double writer_start_us;  // its first write(): a new task woken at this time
  double user_code_bytes, user_data_bytes;  // what the writer's user space touches between writes
  bool vhost() const { return type == SenderType::Vhost; }
};

enum class StackType { Drop, Bridge, Udp };

struct StackParams {
  StackType type;
  long long rcvbuf_bytes;
  int receiver_cpu;
  long long truesize_bytes;  // 0: the skb's own (Skb::truesize)
};

struct Params {
  std::string name, description;
  std::string source;       // file the scenario came from ("built-in default" otherwise)
  std::string calibration;  // resolved path, "" = none
  const DesignInfo* design = nullptr;
  unsigned long long seed;
  double duration_ms, warmup_ms;
  double duration_s, warmup_s;  // derived
  KernelParams kernel;
  int rx_frames;  // after the ethtool clamp
  int rx_frames_requested;
  bool bh_section;
  TunParams tun;
  VhostParams vhost;
  int cpus;
  double cpu_hz;                  // cycles per second of a CPU at speed 1
  std::vector<double> cpu_speed;  // relative speed of each CPU (empty = all 1)
  double stall_period_us;         // cpus.stall.period_us
  std::vector<double> stall_ns;   // cpus.stall.ns: quantile table of the time lost in a period
  std::vector<double> stall_partner;  // cpus.stall.partner: CPU 2i's quantile given CPU 2i+1's (models/irq)
  std::vector<int> rps_cpus;
  CacheParams cache;
  Costs costs;
  std::vector<SenderParams> senders;
  StackParams stack;

  double speed_of(int cpu) const {
    return static_cast<size_t>(cpu) < cpu_speed.size() ? cpu_speed[static_cast<size_t>(cpu)] : 1.0;
  }
  int queues() const;
  double cycles(double ns) const { return ns * cpu_hz * 1e-9; }
};

// Where a cost's default comes from (docs/calibration.md, "Default costs").
// Costs of code this machine cannot run (vhost, the guest, a receiver
// socket) are estimates; the others were measured on the development
// machine (AMD EPYC, 2-vCPU KVM guest, Linux 6.18, HZ 250).
inline constexpr const char* kCostEstimate =
    "estimate for a 2-3 GHz x86-64 server core (not measurable on the development machine); replace it with a "
    "calibration (tunsim calibrate)";
// The trace fit: the committed 6.18 captures fix sums of costs; each sum is
// split in proportion to the earlier estimates (fit.cpp's convention).
inline constexpr const char* kCostTraceFit =
    "measured: tunsim calibrate --machine results/reference/machine/epyc-2vcpu.json of the captures "
    "results/reference/{plain-60-1w,napi-60-1w,bridge-plain-60-1w} (Linux 6.18, AMD EPYC 2-vCPU VM, captured "
    "2026-11-25, fitted 2026-12-04 with the IFF_NAPI write in its parts and the plain write's kfree_skb .. "
    "sys_exit); the captures fix sums of costs, split in proportion to the earlier estimates";
// The trace fit's sum softirq + napi_poll + gro, split by perf samples of
// each path instead of the convention (docs/calibration.md).
inline constexpr const char* kCostTraceFitSplit =
    "measured: tunsim calibrate --machine results/reference/machine/epyc-2vcpu.json of the captures "
    "results/reference/{plain-60-1w,napi-60-1w,bridge-plain-60-1w} (Linux 6.18, AMD EPYC 2-vCPU VM, captured "
    "2026-11-25) --split-from results/reference/validation-2026-12-03-perf/napi-60.json: the captures fix "
    "softirq + napi_poll + gro, split as perf sampled the paths of that IFF_NAPI capture (2026-12-03)";
inline constexpr const char* kCostAtomics =
    "measured: scripts/machine/atomics.c on the development machine (AMD EPYC 2-vCPU VM, 2026-12-02), "
    "results/reference/machine/epyc-2vcpu.json summary.atomics_ns";

// A calibratable cost costs.KEY in ns (or ns/byte), >= 0.
inline ParamDecl& declare_cost(ParamTable& t, const char* key, double def, double Costs::*field,
                               const char* kernel, const char* doc) {
  std::string k = key;
  bool per_byte = k.find("per_byte") != std::string::npos;
  return t.add("costs." + k, PType::Num, def)
      .range(0, 1e9)
      .units(per_byte ? "ns/byte" : "ns")
      .kname(kernel)
      .means(doc)
      .from(kCostEstimate)
      .calibrated()
      .bind(&Params::costs, field);
}

template <class... M>
ParamDecl& ParamDecl::bind_sender(M... m) {
  set = [m...](Params& p, size_t i, const nlohmann::json& v) { assign(chain(p.senders[i], m...), v); };
  get = [m...](const Params& p, size_t i) {
    return value_of(chain(const_cast<Params&>(p).senders[i], m...));
  };
  return *this;
}

template <class... M>
ParamDecl& ParamDecl::bind_sender_choice(M... m) {
  auto names = choices;
  set = [m..., names](Params& p, size_t i, const nlohmann::json& v) {
    auto& f = chain(p.senders[i], m...);
    f = static_cast<std::decay_t<decltype(f)>>(index_of(names, v.get<std::string>()));
  };
  get = [m..., names](const Params& p, size_t i) {
    return nlohmann::json(names[static_cast<size_t>(chain(const_cast<Params&>(p).senders[i], m...))]);
  };
  return *this;
}

}  // namespace tunsim
