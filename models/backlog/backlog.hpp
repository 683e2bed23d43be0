// The per-CPU backlog (net/core/dev.c): enqueue_to_backlog, process_backlog,
// RPS target selection.
#pragma once
#include "models/kernel/kernel.hpp"

namespace tunsim {

// get_rps_cpu(): the RPS target of this skb, or -1 with RPS off.
int get_rps_cpu(const Kernel& k, const Skb& skb);
// enqueue_to_backlog(skb, cpu): accepts while input_pkt_queue length <=
// netdev_max_backlog, schedules the backlog NAPI when the queue was empty
// (locally, or through an RPS IPI for a remote CPU); drops otherwise.
// Returns false on drop.
bool enqueue_to_backlog(Ctx& ctx, Skb skb, int cpu);
// process_backlog(): the backlog NAPI's poll, quota = its weight.
int process_backlog(Ctx& ctx, Napi& n, int quota);

}  // namespace tunsim
