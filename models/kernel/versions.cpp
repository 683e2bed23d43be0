// The one table of version-dependent defaults.  A parameter declared
// versioned() takes, when the scenario leaves it null, the value of the
// newest step not after the scenario's kernel.version.  null as a value means
// the kernel of that version has no such knob (the model then follows the
// older code path, which the parameter's doc names).
#include "models/kernel/version.hpp"

namespace tunsim {

const std::vector<VersionedDefault>& versioned_defaults() {
  using V = KernelVersion;
  static const std::vector<VersionedDefault> t = {
      {"kernel.netdev_budget_usecs",
       {{V::V4_9, nullptr}, {V::V4_15, 2000}},
       "net_rx_action: 4.9/4.11 stop after 2 jiffies (time_limit = jiffies + 2); from 4.12 after "
       "usecs_to_jiffies(netdev_budget_usecs), sysctl default 2000"},
      {"kernel.dev_weight_rx_bias",
       {{V::V4_9, nullptr}, {V::V4_15, 1}},
       "process_backlog quota: dev_rx_weight = weight_p * dev_weight_rx_bias (sysctl default 1); 4.9 "
       "uses weight_p"},
      {"kernel.ksoftirqd_defers_inline",
       {{V::V4_9, true}, {V::V6_1, false}},
       "do_softirq()/invoke_softirq(): return while ksoftirqd_running() (commit 4cd13c21b207, 4.9); the 6.1 "
       "value is UNVERIFIED in kernel-mechanisms.md"},
      {"kernel.napi_missed_bit",
       {{V::V4_9, false}, {V::V4_11, true}},
       "napi_schedule_prep(): NAPI_STATE_MISSED set on a scheduled NAPI, napi_complete_done() reschedules "
       "(4.11+)"},
      {"kernel.gro_normal_batch",
       {{V::V4_9, 0}, {V::V6_1, 8}},
       "gro_normal_one(): GRO_NORMAL packets held in napi->rx_list up to gro_normal_batch (sysctl default 8, "
       "5.4+)"},
      {"kernel.rx_action_restart",
       {{V::V4_9, false}, {V::V6_4, true}},
       "____napi_schedule(): no NET_RX raised while sd->in_net_rx_action; net_rx_action re-splices "
       "sd->poll_list (goto start) (6.4+)"},
  };
  return t;
}

}  // namespace tunsim
