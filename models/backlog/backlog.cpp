#include "models/backlog/backlog.hpp"

#include "models/irq/irq.hpp"
#include "models/napi/napi.hpp"
#include "models/slub/slub.hpp"
#include "models/softirq/softirq.hpp"
#include "models/stack/stack.hpp"

namespace tunsim {

void backlog_init(Kernel& k, Cpu& cpu) {
  const KernelParams& kp = k.p.kernel;
  Napi& n = cpu.backlog;
  n.poll = process_backlog;
  n.owner = &cpu;
  // dev_rx_weight = weight_p * dev_weight_rx_bias (4.11+); weight_p before.
  n.weight = kp.dev_weight * (kp.dev_weight_rx_bias > 0 ? kp.dev_weight_rx_bias : 1);
  n.addr = 0xffff88813bc00000ULL + static_cast<uint64_t>(cpu.id) * 0x40000;  // &per_cpu(softnet_data).backlog
  n.dev = "(no_device)";  // the backlog NAPI has no net_device
}

bool enqueue_to_backlog(Ctx& ctx, Skb* skb, int target) {
  Kernel& k = *ctx.k;
  Cpu& sd = k.cpu(target);
  ctx.spend_ns(k.p.costs.backlog_enqueue_ns);
  ctx.touch(sd.input_pkt_queue);  // rps_lock(sd)
  size_t qlen = sd.input_pkt_queue.size();
  if (qlen <= static_cast<size_t>(k.p.kernel.netdev_max_backlog)) {
    if (qlen == 0 && !sd.backlog.sched) {
      sd.backlog.sched = true;
      if (&sd != ctx.cpu) {
        // napi_schedule_rps -> rps_ipi_queued(): IPI the target at the end of
        // our net_rx_action.  6.4+: no NET_RX raised from inside it (or a
        // threaded poll), whose end sends the IPIs anyway.
        ctx.cpu->rps_ipi_list.push_back(target);
        Cpu& me = *ctx.cpu;
        if (!(k.p.kernel.rx_action_restart && (me.in_net_rx_action || me.in_napi_threaded_poll))) raise_net_rx(ctx);
      } else {
        napi_add_to_poll_list(ctx, sd.backlog);
      }
    }
    sd.input_pkt_queue.push_back(skb);
    return true;
  }
  ++sd.dropped;
  k.rec.drop(ctx.now, "CPU_BACKLOG");
  ctx.sock_wfree(*skb);  // kfree_skb
  slab_free_skb(ctx, *skb);
  k.skbs.free(skb);
  return false;
}

int process_backlog(Ctx& ctx, Napi& n, int quota) {
  Cpu& sd = *static_cast<Cpu*>(n.owner);
  int work = 0;
  net_rps_send_ipis(ctx);
  for (;;) {
    while (!sd.backlog_process_queue.empty()) {
      Skb* skb = sd.backlog_process_queue.pop_front();
      netif_receive_skb_core(ctx, skb, "tap0");
      if (++work >= quota) return work;
    }
    ctx.lock(sd.input_pkt_queue);
    if (sd.input_pkt_queue.empty()) {
      n.sched = false;  // custom __napi_complete: napi->state = 0
      break;
    }
    sd.input_pkt_queue.splice_tail_into(sd.backlog_process_queue);
  }
  return work;
}

void net_rps_send_ipis_queued(Ctx& ctx) {
  Cpu& cpu = *ctx.cpu;
  std::vector<int> targets;
  targets.swap(cpu.rps_ipi_list);
  for (int t : targets) {
    const double arrives = send_ipi(ctx);
    ctx.sync();
    Cpu& remote = ctx.k->cpu(t);
    if (!remote.ipi_pending) {
      remote.ipi_pending = true;
      remote.ipi_at = arrives;
      // An idle CPU: the interrupt takes it when the IPI arrives.
      if (!remote.current && remote.irq && ctx.exec) {
        remote.current = remote.irq;
        ctx.exec->grant(remote.irq, remote.ipi_at);
      }
    }
  }
  targets.clear();
  targets.swap(cpu.rps_ipi_list);  // keep the capacity: no allocation per round
}

void rps_ipi_handler(Ctx& ctx) {
  Cpu& cpu = *ctx.cpu;
  cpu.ipi_pending = false;
  // rps_trigger_softirq: ____napi_schedule(sd, &sd->backlog)
  napi_add_to_poll_list(ctx, cpu.backlog);
}

}  // namespace tunsim
