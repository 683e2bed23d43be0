// The one table of version-dependent defaults.  A parameter declared
// versioned() takes, when the scenario leaves it null, the value of the
// newest step not after the scenario's kernel.version.  null as a value means
// the kernel of that version has no such knob (the model then follows the
// older code path, which the parameter's doc names).  Every row follows
// docs/kernel-mechanisms.md, which names the trees read for each version;
// docs/model.md's versions table is generated from this one
// (versions_markdown(); a test keeps it current).
#include "models/kernel/version.hpp"

namespace tunsim {

const std::vector<VersionedDefault>& versioned_defaults() {
  using V = KernelVersion;
  static const std::vector<VersionedDefault> t = {
      {"kernel.ksoftirqd_defers_inline",
       {{V::V4_9, true}, {V::V6_5, false}},
       "`do_softirq`, `invoke_softirq`: return while `ksoftirqd_running()` (read in 4.9.0 ... 6.4.4 and "
       "6.1.192; gone in 6.5.0, 6.6.9, 6.18.8)",
       "inline softirq (bh enable, irq exit) left to ksoftirqd while it is awake"},
      {"kernel.netdev_budget_usecs_default",
       {{V::V4_9, "none"}, {V::V4_15, "2000"}, {V::V5_15, "2*USEC_PER_SEC/HZ"}},
       "`net_rx_action`: time_limit = jiffies + 2 (4.9.0, 4.11.0), else jiffies + "
       "usecs_to_jiffies(netdev_budget_usecs) with the sysctl's default 2000 (4.15.0, 4.20.0) or "
       "2 * USEC_PER_SEC / HZ (5.7.14 ... 6.18.8)",
       "NET_RX time limit of one `net_rx_action` (2 jiffies; 4.15: 2000 us = 1 jiffy at HZ=250)"},
      {"kernel.dev_weight_rx_bias",
       {{V::V4_9, nullptr}, {V::V4_11, 1}},
       "`process_backlog`: quota dev_rx_weight = weight_p * dev_weight_rx_bias, recomputed by "
       "`proc_do_dev_weight` (4.11.0 on; 4.9.0 uses weight_p)",
       "backlog NAPI weight multiplied by `dev_weight_rx_bias`"},
      {"kernel.napi_missed_bit",
       {{V::V4_9, false}, {V::V4_11, true}},
       "`napi_schedule_prep`, `napi_complete_done`: NAPI_STATE_MISSED (4.11.0 on; absent in 4.9.0)",
       "a schedule of a scheduled NAPI sets MISSED and completion reschedules it"},
      {"kernel.gro_normal_batch",
       {{V::V4_9, 0}, {V::V5_15, 8}},
       "`gro_normal_one`, `gro_normal_list`: napi->rx_list up to gro_normal_batch (5.7.14 ... 6.18.8; "
       "absent in 4.20.0)",
       "GRO_NORMAL packets handed to the stack in lists of 8"},
      {"kernel.rx_action_restart",
       {{V::V4_9, false}, {V::V6_4, true}},
       "`____napi_schedule`, `napi_schedule_rps`, `net_rx_action`: sd->in_net_rx_action (6.4.4 on; absent "
       "in 6.1.20, 6.1.192)",
       "no NET_RX raised inside `net_rx_action` (a NAPI or RPS IPI scheduled there is handled in the same call)"},
      {"kernel.napi_schedule_wakes_ksoftirqd",
       {{V::V4_9, false}, {V::V6_18, true}},
       "`____napi_schedule`: raise_softirq_irqoff (6.14.0, 6.18.8; stable 6.1.192, 6.6.87, 6.12.117) instead "
       "of __raise_softirq_irqoff (4.9.0 ... 6.13.2, 6.1.20, 6.6.9)",
       "`napi_schedule` outside a bh-disabled section wakes ksoftirqd"},
      {"tun.threaded",
       {{V::V4_9, false}, {V::V5_15, true}},
       "`____napi_schedule`, `napi_threaded_poll`: NAPI_STATE_THREADED, /sys/class/net/DEV/threaded (5.12.9 ... "
       "6.18.8; absent in 5.7.14)",
       "threaded NAPI exists: `napi_schedule` wakes the NAPI's kthread instead of raising NET_RX (`tun.threaded`, "
       "off by default)",
       true},
      {"kernel.preempt",
       {{V::V4_9, "voluntary"}, {V::V6_18, "none"}},
       "Debian's kernels: CONFIG_PREEMPT_VOLUNTARY (4.x; Debian 12's 6.1.0-57-amd64: PREEMPT_VOLUNTARY with "
       "PREEMPT_DYNAMIC); 6.18: this machine's 6.18.44 (PREEMPT_DYNAMIC, mode none)",
       "preemption model: `might_sleep` reschedules only under voluntary"},
      {"kernel.sched.policy",
       {{V::V4_9, "cfs"}, {V::V6_6, "eevdf-6.6"}, {V::V6_18, "eevdf-6.18"}},
       "`place_entity`, `check_preempt_tick`, `check_preempt_wakeup` (CFS, 4.9.0 ... 6.5.0); `pick_eevdf`, "
       "`update_deadline`, `place_entity` (6.6.9); `__pick_eevdf`, `set_protect_slice`, DELAY_DEQUEUE (6.18.8)",
       "fair scheduling class between the sender, ksoftirqd and NAPI threads"},
      {"kernel.sched.normalized_base_slice_ns",
       {{V::V4_9, nullptr}, {V::V6_6, 750000}, {V::V6_18, 700000}},
       "`normalized_sysctl_sched_base_slice` (6.6.9 ... 6.14.0: 0.75 ms; 6.18.8 and 6.12.117: 0.70 ms), "
       "scaled by `update_sysctl`",
       "EEVDF base slice before CPU-count scaling, ns"},
      {"tun.build_skb",
       {{V::V4_9, false}, {V::V4_15, true}},
       "`tun_can_build_skb`, `tun_build_skb` (4.15.0 on; 4.11.0 always `tun_alloc_skb`)",
       "small frames from a non-blocking sender with sndbuf INT_MAX built in a page fragment (no sleeping "
       "allocation)"},
      {"vhost.experimental_zcopytx",
       {{V::V4_9, true}, {V::V5_15, false}},
       "module parameter `experimental_zcopytx`: 1 in 4.9.0, 4.11.0, 4.15.0, 4.20.0; 0 in 5.7.14 ... 6.18.8",
       "vhost_net TX zerocopy for frames of 256 bytes and more (with the vnet header)"},
      {"vhost.zcopy_pending_limit",
       {{V::V4_9, "ubuf_ring"}, {V::V4_15, "maxpend"}},
       "`handle_tx` (4.9.0, 4.11.0: stall at (upend_idx + num - VHOST_MAX_PEND) % UIO_MAXIOV == done_idx); "
       "`vhost_exceeds_maxpend` (4.15.0 on: copy beyond min(VHOST_MAX_PEND, num / 4) pending)",
       "bound on zerocopy packets in flight"},
      {"vhost.pkt_weight",
       {{V::V4_9, 0}, {V::V5_15, 256}},
       "`vhost_exceeds_weight`: VHOST_NET_PKT_WEIGHT 256 (4.20.0 ... 6.18.8; absent in 4.15.0)",
       "`handle_tx` requeues itself after 256 packets"},
      {"vhost.batch",
       {{V::V4_9, 0}, {V::V5_15, 64}},
       "`handle_tx_copy`, `vhost_net_build_xdp`, `vhost_tx_batch` with VHOST_NET_BATCH 64, `tun_sendmsg` "
       "TUN_MSG_PTR (4.20.0 ... 6.18.8; the default path once zerocopy is off, 5.7.14 on)",
       "vhost copies packets into XDP buffers and sends them to tun 64 per `sendmsg` when sndbuf is INT_MAX"},
      {"vhost.tx_poll_rearm",
       {{V::V4_9, false}, {V::V4_15, true}},
       "`handle_tx`: `vhost_net_disable_vq` at its start, `vhost_discard_vq_desc` and `vhost_net_enable_vq` when "
       "`sendmsg` fails (4.15.0, `handle_tx_copy` and `handle_tx_zerocopy` 5.15.0 ... 6.18.8); 4.9.0, 4.11.0: the "
       "poll stays armed from `vhost_net_set_backend`, the failing send only discards and breaks",
       "after vhost's `sendmsg` gets -EAGAIN (the tap's sndbuf full), `tun_chr_poll` sets SOCKWQ_ASYNC_NOSPACE, so "
       "`tun_sock_write_space` wakes vhost once half the buffer is free"},
  };
  return t;
}

}  // namespace tunsim
