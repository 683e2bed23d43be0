// The per-CPU backlog and RPS (net/core/dev.c): enqueue_to_backlog,
// process_backlog, get_rps_cpu, the RPS IPIs and their handler.
#pragma once
#include "models/kernel/kernel.hpp"

namespace tunsim {

// Sets up a CPU's backlog NAPI (weight dev_rx_weight, poll process_backlog).
void backlog_init(Kernel& k, Cpu& cpu);
// get_rps_cpu(): the RPS target of this skb, or -1 with RPS off.
// Inline: once a packet.
inline int get_rps_cpu(const Kernel& k, const Skb& skb) {
  const auto& map = k.p.rps_cpus;
  if (map.empty()) return -1;
  // map->cpus[reciprocal_scale(hash, map->len)]
  uint64_t idx = (static_cast<uint64_t>(skb.hash) * map.size()) >> 32;
  return map[static_cast<size_t>(idx)];
}
// enqueue_to_backlog(skb, cpu): accepts while input_pkt_queue length <=
// netdev_max_backlog, schedules the backlog NAPI when the queue was empty
// (locally, or through an RPS IPI for a remote CPU); drops (and frees the
// skb) otherwise.  Returns false on drop.
bool enqueue_to_backlog(Ctx& ctx, Skb* skb, int cpu);
// process_backlog(): the backlog NAPI's poll, quota = its weight.
int process_backlog(Ctx& ctx, Napi& n, int quota);
// net_rps_send_ipi() for every CPU queued by rps_ipi_queued() (at the end of
// net_rx_action and at the start of process_backlog); inline when none is.
void net_rps_send_ipis_queued(Ctx& ctx);
inline void net_rps_send_ipis(Ctx& ctx) {
  if (!ctx.cpu->rps_ipi_list.empty()) net_rps_send_ipis_queued(ctx);
}
// rps_trigger_softirq(): the IPI handler on the target CPU.
void rps_ipi_handler(Ctx& ctx);

}  // namespace tunsim
