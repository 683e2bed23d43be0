// The review's variant: one queue, packets queued unconditionally, signalling
// deferred to the first sendmsg without MSG_MORE; the poll reads that queue as
// a hardware driver reads its ring.
#include "models/stack/stack.hpp"
#include "models/tun/tun.hpp"

namespace tunsim {

namespace {
// The poll dequeues from the one queue, taking its lock per packet
// (skb_dequeue), then the v1 patch's complete-then-recheck.
int poll(Ctx& ctx, TunQueue& tq, int budget) {
  Kernel& k = *ctx.k;
  int received = 0;
  while (received < budget) {
    ctx.spend_ns(k.p.costs.lock_ns);
    ctx.touch(tq.write_queue);  // skb_dequeue takes the lock per packet
    if (tq.write_queue.empty()) break;
    netif_receive_skb(ctx, tq.write_queue.pop_front(), tq.napi.dev);
    ++received;
  }
  if (received < budget) tun_poll_complete_recheck(ctx, tq);
  return received;
}
}  // namespace

extern const DesignInfo design_deferred_signal = {
    "deferred_signal", KernelVersion::V4_9,
    "the review's variant: one queue, packets queued unconditionally, signalling deferred to the first sendmsg "
    "without MSG_MORE; the poll dequeues from that queue",
    tun_queue_then_signal, poll};

}  // namespace tunsim
