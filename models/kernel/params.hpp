// Typed parameters of a scenario.  Filled from the validated JSON by
// sim/config.cpp; every field's meaning, default and kernel name is in the
// schema (sim/schema.cpp) and docs/config.md.
#pragma once
#include <string>
#include <vector>

#include "models/cache/cache.hpp"

namespace tunsim {

enum class Design { NetifRxNi, V1Napi, DeferredSignal, RxBatched, NapiGro };
const char* design_name(Design d);
bool parse_design(const std::string& s, Design& out);
const std::vector<Design>& all_designs();

enum class KernelVersion { V4_9, V4_11, V4_15, V6_1, V6_4 };

struct KernelParams {
  KernelVersion version = KernelVersion::V4_11;
  int hz = 250;
  int netdev_budget = 300;
  int netdev_budget_usecs = 2000;
  bool time_limit_usecs = false;  // 4.12+: limit = usecs_to_jiffies(budget_usecs); else 2 jiffies
  int dev_weight = 64;
  int dev_weight_rx_bias = 1;
  int netdev_max_backlog = 1000;
  int napi_weight = 64;
  int max_softirq_restart = 10;
  double max_softirq_time_ms = 2;
  bool ksoftirqd_defers_inline = true;
  bool napi_missed_bit = true;
  int gro_normal_batch = 0;
  bool rx_action_restart = false;  // 6.4+: sd->in_net_rx_action, goto start
  double sched_latency_ns = 12e6;
  double sched_min_granularity_ns = 1.5e6;
  double sched_wakeup_granularity_ns = 2e6;
};

struct Costs {  // ns unless named otherwise
  double syscall_ns, tun_get_user_ns, skb_alloc_ns, copy_ns_per_byte;
  double vhost_desc_ns, vhost_notify_ns, vhost_wakeup_ns, lock_ns;
  double backlog_enqueue_ns, napi_schedule_ns, softirq_ns, napi_poll_ns;
  double netif_receive_skb_ns, gro_ns, stack_drop_ns, bridge_forward_ns, udp_deliver_ns;
  double recv_ns, wakeup_ns, context_switch_ns, ipi_ns, ipi_latency_ns;
  double guest_tx_ns, guest_kick_ns, writer_user_ns, cacheline_transfer_ns;
};

enum class GuestMode { Open, Closed };
enum class Arrival { Constant, Poisson, Bursts };

struct GuestParams {
  GuestMode mode = GuestMode::Closed;
  Arrival arrival = Arrival::Bursts;
  double rate_mpps = 1.0;
  int burst = 32;
  int ring_size = 256;
};

struct SenderParams {
  bool vhost = true;  // false: userspace writer
  int cpu = 1;
  int queue = 0;
  int frame_bytes = 60;
  int flows = 1;
  // vhost
  long long weight_bytes = 0x80000;
  int pkt_weight = 0;
  double busyloop_timeout_us = 0;
  bool msg_more = true;
  GuestParams guest;
  // writer
  double writer_rate_mpps = 0;
  long long writer_count = 0;
};

enum class StackType { Drop, Bridge, Udp };

struct StackParams {
  StackType type = StackType::Bridge;
  long long rcvbuf_bytes = 212992;
  int receiver_cpu = 0;
  long long truesize_bytes = -1;  // -1: SKB_TRUESIZE(frame)
};

struct Params {
  std::string name = "scenario";
  std::string source;  // file the scenario came from ("built-in default" otherwise)
  Design design = Design::RxBatched;
  unsigned long long seed = 1;
  double duration_s = 0.02;
  double warmup_s = 0.002;
  std::string calibration;  // resolved path, "" = none
  KernelParams kernel;
  int rx_frames = 0;        // after the ethtool clamp
  int rx_frames_requested = 0;
  bool bh_section = true;
  int cpus = 2;
  double hz = 2.5e9;
  std::vector<double> cpu_speed;  // relative speed of each CPU (empty = all 1)
  double speed_of(int cpu) const {
    return static_cast<size_t>(cpu) < cpu_speed.size() ? cpu_speed[static_cast<size_t>(cpu)] : 1.0;
  }
  std::vector<int> rps_cpus;
  CacheParams cache;
  Costs costs{};
  std::vector<SenderParams> senders;
  StackParams stack;
  int queues() const;
  double cycles(double ns) const { return ns * hz * 1e-9; }
};

}  // namespace tunsim
