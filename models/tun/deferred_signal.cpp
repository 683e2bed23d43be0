// The review's variant (Michael S. Tsirkin, 9 November 2016, reply to
// "[PATCH 1/3] tuntap: rx batching"): "How about adding the packet to queue
// unconditionally, deferring signalling until we get sendmsg without
// MSG_MORE?"  One queue (sk_write_queue), no private process_queue, every
// packet appended, napi_schedule only on a sendmsg without MSG_MORE.  The
// review does not say how the poll takes packets off that queue: that is
// tun.deferred_poll_lock, by default the kernel's own single-queue poll
// (tun_napi_receive, 4.15 ... 6.18), which splices under one lock.
#include "models/stack/stack.hpp"
#include "models/tun/tun.hpp"

namespace tunsim {

namespace {
// splice: the whole queue onto a local list under the lock, up to the budget
// delivered, the rest spliced back to the head under the lock again.
int poll_splice(Ctx& ctx, TunQueue& tq, int budget) {
  SkbQueue local;
  ctx.lock(tq.write_queue);
  tq.write_queue.splice_tail_into(local);
  int received = 0;
  while (received < budget && !local.empty()) {
    netif_receive_skb(ctx, local.pop_front(), tq.napi.dev);
    ++received;
  }
  if (!local.empty()) {
    ctx.lock(tq.write_queue);
    tq.write_queue.splice_head_from(local);
  }
  return received;
}

// per_packet: skb_dequeue, the queue lock taken for every packet (and once
// more to find the queue empty).
int poll_per_packet(Ctx& ctx, TunQueue& tq, int budget) {
  int received = 0;
  while (received < budget) {
    ctx.lock(tq.write_queue);
    if (tq.write_queue.empty()) break;
    netif_receive_skb(ctx, tq.write_queue.pop_front(), tq.napi.dev);
    ++received;
  }
  return received;
}

// Either way it ends with the v1 patch's complete-then-recheck (4.9 has no
// MISSED bit).
int poll(Ctx& ctx, TunQueue& tq, int budget) {
  int received = ctx.k->p.tun.deferred_poll_lock == PollLock::Splice ? poll_splice(ctx, tq, budget)
                                                                      : poll_per_packet(ctx, tq, budget);
  if (received < budget) tun_poll_complete_recheck(ctx, tq);
  return received;
}
}  // namespace

extern const DesignInfo design_deferred_signal = {
    "deferred_signal", KernelVersion::V4_9,
    "the review's variant: one queue, packets queued unconditionally, signalling deferred to the first sendmsg "
    "without MSG_MORE; the poll splices that queue under one lock as tun_napi_receive does (tun.deferred_poll_lock)",
    tun_queue_then_signal, poll, nullptr};

}  // namespace tunsim
