// vhost_net's handle_tx() as in 4.11 (drivers/vhost/net.c).
#pragma once
#include "models/guest/guest.hpp"
#include "models/kernel/kernel.hpp"

namespace tunsim {

struct VhostTx {
  Virtqueue vq;
  const SenderParams* sp;
  uint64_t flow = 0;
  VhostTx(const SenderParams& s, const Costs& c, uint64_t seed) : vq(s.guest, c, seed), sp(&s) {}
};

enum class TxResult {
  RingEmpty,  // notifications re-enabled, nothing available: sleep until a kick
  Requeued,   // VHOST_NET_WEIGHT (or the packet weight) reached: vhost_poll_queue
  Stop,       // past the end of the simulation
};

// One handle_tx() call in the worker's context: notifications off while
// draining; per descriptor one sendmsg with MSG_MORE while bytes so far <
// VHOST_NET_WEIGHT and the ring is not empty; re-enable notifications on an
// empty ring with the race re-check; optional busy polling.
TxResult handle_tx(Ctx& ctx, VhostTx& v);
// When a sleeping worker runs again: the guest's next kick plus the wake-up.
double vhost_wake_time(Ctx& ctx, VhostTx& v);
// The worker thread's body (worker.cpp): starts asleep until the first kick.
void vhost_worker(Ctx& ctx, VhostTx& v);

}  // namespace tunsim
