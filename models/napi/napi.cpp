#include "models/napi/napi.hpp"

#include "models/sched/schedule.hpp"
#include "models/softirq/softirq.hpp"
#include "models/stack/stack.hpp"

namespace tunsim {

bool napi_schedule_prep(Ctx& ctx, Napi& n) {
  ctx.touch(n);
  if (n.sched) {
    if (ctx.k->p.kernel.napi_missed_bit) n.missed = true;
    return false;
  }
  n.sched = true;
  return true;
}

void napi_add_to_poll_list(Ctx& ctx, Napi& n) {
  if (n.thread) {
    // Threaded NAPI (5.12+): mark it the thread's and wake the thread; no
    // poll list, no NET_RX.
    n.sched_threaded = true;
    wake_up_process(ctx, n.thread);
    return;
  }
  ctx.cpu->poll_list.push_back(&n);
  if (ctx.cpu->in_net_rx_action) return;  // 6.4+: net_rx_action re-reads the list
  if (ctx.k->p.kernel.napi_schedule_wakes_ksoftirqd)
    raise_softirq_irqoff(ctx);
  else
    raise_net_rx(ctx);
}

bool napi_schedule(Ctx& ctx, Napi& n) {
  ctx.spend_ns(ctx.k->p.costs.napi_schedule_ns);
  if (!napi_schedule_prep(ctx, n)) return false;
  napi_add_to_poll_list(ctx, n);
  return true;
}

void gro_normal_list(Ctx& ctx, Napi& n) {
  if (n.rx_list.empty()) return;
  SkbQueue list;
  n.rx_list.splice_tail_into(list);
  while (!list.empty()) netif_receive_skb(ctx, list.pop_front(), n.dev);
}

bool napi_complete_done(Ctx& ctx, Napi& n) {
  gro_normal_list(ctx, n);
  ctx.touch(n);
  n.sched_threaded = false;
  if (ctx.k->p.kernel.napi_missed_bit && n.missed) {
    n.missed = false;  // SCHED stays set
    napi_add_to_poll_list(ctx, n);
    return false;
  }
  n.sched = false;
  return true;
}

}  // namespace tunsim
