#include "models/softirq/softirq.hpp"

#include <algorithm>
#include <cmath>

#include "models/backlog/backlog.hpp"
#include "models/irq/irq.hpp"
#include "models/napi/napi.hpp"
#include "models/sched/fair.hpp"
#include "models/sched/schedule.hpp"

namespace tunsim {

void raise_softirq_irqoff(Ctx& ctx) {
  raise_net_rx(ctx);
  // in_interrupt(): hardirq, serving a softirq, or bh disabled.
  Cpu& cpu = *ctx.cpu;
  if (!cpu.in_hardirq && !cpu.in_softirq && cpu.bh_disabled == 0) wakeup_softirqd(ctx);
}

bool ksoftirqd_running(const Cpu& cpu) {
  return cpu.ksoftirqd && (cpu.ksoftirqd->state == Thread::State::Running ||
                           cpu.ksoftirqd->state == Thread::State::Runnable);
}

void wakeup_softirqd(Ctx& ctx) {
  Cpu& cpu = *ctx.cpu;
  if (cpu.ksoftirqd && cpu.ksoftirqd->state == Thread::State::Sleeping) {
    ++cpu.ksoftirqd_wakeups;
    wake_up_process(ctx, cpu.ksoftirqd);  // on this CPU: the local try_to_wake_up
  }
}

void do_softirq_pending(Ctx& ctx) {
  Cpu& cpu = *ctx.cpu;
  if (ctx.k->p.kernel.ksoftirqd_defers_inline && ksoftirqd_running(cpu) &&
      !(ctx.thread && ctx.thread->is_ksoftirqd))
    return;
  __do_softirq(ctx);
}

void __do_softirq(Ctx& ctx) {
  Cpu& cpu = *ctx.cpu;
  Kernel& k = *ctx.k;
  const auto& kp = k.p.kernel;
  double end = k.jiffies_of(ctx.now) + k.softirq_jiffies;
  int max_restart = kp.max_softirq_restart;
  cpu.in_softirq = true;
  // handle_softirqs() before its first handler and after its last (the
  // restart loop re-reads the pending mask inside it: paid once).
  ctx.spend_ns(k.p.costs.softirq_enter_ns);
  for (;;) {
    cpu.net_rx_pending = false;
    k.rec.softirq_entry(ctx.now, cpu.id, ctx.thread);
    ctx.begin_softirq_interval();
    ctx.spend(Path::Softirq, k.p.costs.softirq_ns);
    net_rx_action(ctx);
    k.rec.softirq_exit(ctx.now, cpu.id, ctx.thread);
    advance_time_events(ctx);  // ticks may set need_resched; no softirq runs here
    if (!cpu.net_rx_pending) break;
    if (k.jiffies_of(ctx.now) < end && !cpu.need_resched && --max_restart) {
      ++cpu.softirq_restarts;
      continue;
    }
    wakeup_softirqd(ctx);
    break;
  }
  ctx.spend_ns(k.p.costs.softirq_leave_ns);
  cpu.in_softirq = false;
}

void net_rx_action(Ctx& ctx) {
  Cpu& cpu = *ctx.cpu;
  Kernel& k = *ctx.k;
  const auto& kp = k.p.kernel;
  ++cpu.net_rx_actions;
  // 4.12+: usecs_to_jiffies(netdev_budget_usecs); 4.9/4.11 (no such sysctl): 2 jiffies.
  double time_limit = k.jiffies_of(ctx.now) + k.budget_jiffies;
  int budget = kp.netdev_budget;
  std::vector<Napi*>& list = cpu.scratch_list;
  std::vector<Napi*>& repoll = cpu.scratch_repoll;
  list.clear();
  repoll.clear();
  const bool restart = kp.rx_action_restart;
  if (restart) cpu.in_net_rx_action = true;
  list.swap(cpu.poll_list);
  size_t head = 0;
  for (;;) {
    if (head == list.size()) {
      // 6.4+: a NAPI scheduled during the polls (no NET_RX raised) is polled
      // in this net_rx_action: goto start.
      if (restart && repoll.empty()) {
        cpu.in_net_rx_action = false;
        if (!cpu.poll_list.empty()) {
          cpu.in_net_rx_action = true;
          list.clear();
          list.swap(cpu.poll_list);
          head = 0;
          continue;
        }
      }
      break;
    }
    Napi* n = list[head++];
    // napi_poll(): poll with the full weight, not the remaining budget.
    int weight = n->weight;
    int work = 0;
    ctx.spend_ns(k.p.costs.napi_poll_ns);
    cpu.cache.begin_poll();
    ctx.touch(*n);
    if (n->sched) work = n->poll(ctx, *n, weight);
    k.rec.napi_poll(ctx.now, cpu.id, ctx.thread, n->addr, n->dev, work, weight);
    wake_up_deferred(ctx);  // what the poll's skb frees completed (vhost zerocopy)
    if (work >= weight) {
      // Budget of this NAPI exhausted: flush GRO_NORMAL packets and repoll,
      // unless the poll itself already rescheduled it.
      gro_normal_list(ctx, *n);
      if (std::find(cpu.poll_list.begin(), cpu.poll_list.end(), n) == cpu.poll_list.end()) {
        repoll.push_back(n);
        ++k.rec.napi_repolls;
      }
    }
    budget -= work;
    if (budget <= 0 || k.jiffies_of(ctx.now) >= time_limit) {
      ++cpu.time_squeeze;
      break;
    }
  }
  // list = unpolled rest + sd->poll_list (scheduled meanwhile) + repoll
  list.erase(list.begin(), list.begin() + static_cast<long>(head));
  for (Napi* n : cpu.poll_list) list.push_back(n);
  for (Napi* n : repoll) list.push_back(n);
  cpu.poll_list.swap(list);
  cpu.in_net_rx_action = false;
  if (!cpu.poll_list.empty()) raise_net_rx(ctx);
  net_rps_send_ipis(ctx);
}

}  // namespace tunsim
