#include "models/backlog/backlog.hpp"

#include "models/napi/napi.hpp"
#include "models/softirq/softirq.hpp"
#include "models/stack/stack.hpp"

namespace tunsim {

int get_rps_cpu(const Kernel& k, const Skb& skb) {
  const auto& map = k.p.rps_cpus;
  if (map.empty()) return -1;
  // map->cpus[reciprocal_scale(hash, map->len)]
  uint64_t idx = (static_cast<uint64_t>(skb.hash) * map.size()) >> 32;
  return map[static_cast<size_t>(idx)];
}

bool enqueue_to_backlog(Ctx& ctx, Skb skb, int target) {
  Kernel& k = *ctx.k;
  Cpu& sd = k.cpu(target);
  ctx.spend_ns(k.p.costs.backlog_enqueue_ns);
  ctx.touch(sd.input_pkt_queue);  // rps_lock(sd)
  size_t qlen = sd.input_pkt_queue.size();
  if (qlen <= static_cast<size_t>(k.p.kernel.netdev_max_backlog)) {
    if (qlen == 0 && !sd.backlog.sched) {
      sd.backlog.sched = true;
      if (&sd != ctx.cpu) {
        // rps_ipi_queued(): IPI the target at the end of our net_rx_action.
        ctx.cpu->rps_ipi_list.push_back(target);
        raise_net_rx(ctx);
      } else {
        napi_add_to_poll_list(ctx, sd.backlog);
      }
    }
    sd.input_pkt_queue.push_back(std::move(skb));
    return true;
  }
  ++sd.dropped;
  k.rec.drop("CPU_BACKLOG");
  return false;
}

int process_backlog(Ctx& ctx, Napi& n, int quota) {
  Kernel& k = *ctx.k;
  Cpu& sd = k.cpu(n.index);
  int work = 0;
  net_rps_send_ipis(ctx);
  for (;;) {
    while (!sd.backlog_process_queue.empty()) {
      Skb skb = sd.backlog_process_queue.pop_front();
      netif_receive_skb_core(ctx, skb, "tap0");
      if (++work >= quota) return work;
    }
    ctx.spend_ns(k.p.costs.lock_ns);
    ctx.touch(sd.input_pkt_queue);
    if (sd.input_pkt_queue.empty()) {
      n.sched = false;  // custom __napi_complete: napi->state = 0
      break;
    }
    sd.input_pkt_queue.splice_tail_into(sd.backlog_process_queue);
  }
  return work;
}

}  // namespace tunsim
