// The NET_RX softirq engine's knobs (kernel/softirq.c, net/core/dev.c).
#include "models/kernel/params.hpp"

namespace tunsim {

void declare_softirq_params(ParamTable& t) {
  t.add("kernel.netdev_budget", PType::Int, 300)
      .range(1, 1000000)
      .kname("net.core.netdev_budget")
      .means("Packets one net_rx_action may process before time_squeeze.")
      .from("kernel default 300")
      .bind(&Params::kernel, &KernelParams::netdev_budget);
  t.add("kernel.netdev_budget_usecs_default", PType::Enum, nullptr)
      .in({"none", "2000", "2*USEC_PER_SEC/HZ"})
      .versioned()
      .kname("netdev_budget_usecs initialiser")
      .means("The kernel's default of net.core.netdev_budget_usecs: none (4.9/4.11: no sysctl, net_rx_action "
             "stops 2 jiffies after it started), 2000 us (4.12-4.20), or 2 * USEC_PER_SEC / HZ, i.e. 2 jiffies "
             "for any HZ (5.7 on). null = the version's.")
      .from("versions table (docs/model.md)")
      .bind_choice(&Params::kernel, &KernelParams::netdev_budget_usecs_default);
  t.add("kernel.netdev_budget_usecs", PType::Int, nullptr)
      .range(1, 1e9)
      .units("us")
      .computed()
      .kname("net.core.netdev_budget_usecs")
      .means("net_rx_action time limit in us (4.12+; converted to jiffies, rounded up). null = the default "
             "kernel.netdev_budget_usecs_default names (8000 at HZ=250 from 5.7); a value on 4.9/4.11, which have "
             "no such sysctl, applies the 4.12 rule.")
      .from("kernel.netdev_budget_usecs_default")
      .bind(&Params::kernel, &KernelParams::netdev_budget_usecs);
  t.add("kernel.max_softirq_restart", PType::Int, 10)
      .range(1, 1000)
      .kname("MAX_SOFTIRQ_RESTART")
      .means("__do_softirq restarts before handing off to ksoftirqd.")
      .from("kernel constant 10")
      .bind(&Params::kernel, &KernelParams::max_softirq_restart);
  t.add("kernel.max_softirq_time_ms", PType::Num, 2)
      .range(0.001, 1000)
      .units("ms")
      .kname("MAX_SOFTIRQ_TIME")
      .means("__do_softirq time limit, ms (msecs_to_jiffies, rounded up).")
      .from("kernel constant 2 ms")
      .bind(&Params::kernel, &KernelParams::max_softirq_time_ms);
  t.add("kernel.ksoftirqd_defers_inline", PType::Bool, nullptr)
      .versioned()
      .kname("ksoftirqd_running()")
      .means("While ksoftirqd is runnable, do_softirq()/irq exit leave pending softirqs to it. null = the "
             "version's.")
      .from("versions table (docs/model.md)")
      .bind(&Params::kernel, &KernelParams::ksoftirqd_defers_inline);
  t.add("kernel.rx_action_restart", PType::Bool, nullptr)
      .versioned()
      .kname("sd->in_net_rx_action")
      .means("A NAPI scheduled on this CPU while net_rx_action runs (a MISSED reschedule, an enqueue by a poll) "
             "does not raise NET_RX: net_rx_action re-splices sd->poll_list and polls it in the same softirq "
             "(goto start) instead of __do_softirq restarting; likewise an RPS enqueue to another CPU "
             "(napi_schedule_rps) raises nothing here, its IPI goes out at the end of the call (6.4+). null = the "
             "version's.")
      .from("Eric Dumazet, net: optimize ____napi_schedule() to avoid extra NET_RX_SOFTIRQ (net-next, March "
            "2023, first in 6.4)")
      .bind(&Params::kernel, &KernelParams::rx_action_restart);
  declare_cost(t, "softirq_ns", 143.8, &Costs::softirq_ns, "__do_softirq + net_rx_action",
               "One softirq round's fixed cost, ns.")
      .from(kCostTraceFitSplit);
  declare_cost(t, "softirq_enter_ns", 120, &Costs::softirq_enter_ns,
               "local_bh_enable -> do_softirq -> handle_softirqs, up to trace_softirq_entry",
               "Running pending softirqs, before the first handler: leaving the bh-disabled section, softirq "
               "accounting, reading and clearing the pending mask, ns.  Paid once per __do_softirq.")
      .from(kCostTraceFit);
  declare_cost(t, "softirq_leave_ns", 161, &Costs::softirq_leave_ns,
               "handle_softirqs after trace_softirq_exit -> __local_bh_enable",
               "Running pending softirqs, after the last handler: the pending re-check, RCU quiescent state, "
               "softirq accounting, ns.  Paid once per __do_softirq.")
      .from(kCostTraceFit);

  t.finalize([](Params& p, std::vector<std::string>&) {
    KernelParams& k = p.kernel;
    if (k.netdev_budget_usecs != 0) return;  // set by the scenario
    switch (k.netdev_budget_usecs_default) {
      case BudgetUsecsRule::None: break;  // 4.9/4.11: jiffies + 2
      case BudgetUsecsRule::Usecs2000: k.netdev_budget_usecs = 2000; break;
      // net_hotdata / dev.c: 2 * USEC_PER_SEC / HZ ("at least 2 jiffies to guarantee 1 jiffy timeout").
      case BudgetUsecsRule::TwoJiffies: k.netdev_budget_usecs = 2 * 1000000 / k.hz; break;
    }
  });
}

}  // namespace tunsim
