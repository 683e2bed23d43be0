// IFF_NAPI (4.15+): tun_get_user's NAPI enqueue, tun_napi_poll /
// tun_napi_receive.
#include "models/napi/napi.hpp"
#include "models/softirq/softirq.hpp"
#include "models/stack/stack.hpp"
#include "models/tun/tun.hpp"

namespace tunsim {

namespace {
// Append to sk_write_queue under spin_lock_bh; napi_schedule when !more or the
// queue holds more than NAPI_POLL_WEIGHT; local_bh_enable runs the poll.
void deliver(Ctx& ctx, TunQueue& tq, Skb* skb, bool more) {
  Kernel& k = *ctx.k;
  local_bh_disable(ctx);  // spin_lock_bh(&queue->lock)
  ctx.lock(tq.write_queue);
  tq.write_queue.push_back(skb);
  size_t queue_len = tq.write_queue.size();
  if (!more || queue_len > static_cast<size_t>(k.p.kernel.napi_weight)) napi_schedule(ctx, tq.napi);
  local_bh_enable(ctx);
}

// tun_napi_poll() / tun_napi_receive(): splice the whole queue to a local
// list under the lock, napi_gro_receive up to the budget, splice the rest back
// to the head; complete when below the budget.
int poll(Ctx& ctx, TunQueue& tq, int budget) {
  SkbQueue process_queue;
  ctx.lock(tq.write_queue);
  tq.write_queue.splice_tail_into(process_queue);
  int received = 0;
  while (received < budget && !process_queue.empty()) {
    napi_gro_receive(ctx, tq.napi, process_queue.pop_front());
    ++received;
  }
  if (!process_queue.empty()) {
    ctx.lock(tq.write_queue);
    tq.write_queue.splice_head_from(process_queue);
  }
  if (received < budget) napi_complete_done(ctx, tq.napi);
  return received;
}

// tun_sendmsg(TUN_MSG_PTR) with IFF_NAPI (5.15+): tun_xdp_one appends each
// skb to sk_write_queue under its lock; one napi_schedule for the batch
// (no NAPI_POLL_WEIGHT rule), whose poll local_bh_enable runs.
void deliver_batch(Ctx& ctx, TunQueue& tq, SkbQueue& batch) {
  if (batch.empty()) return;
  local_bh_disable(ctx);
  while (!batch.empty()) {
    ctx.lock(tq.write_queue);
    tq.write_queue.push_back(batch.pop_front());
  }
  napi_schedule(ctx, tq.napi);
  local_bh_enable(ctx);
}
}  // namespace

extern const DesignInfo design_napi_gro = {
    "napi_gro", KernelVersion::V4_15,
    "IFF_NAPI: schedule when !more or queue > 64, tun_napi_receive delivers up to the budget and splices the "
    "rest back to the head, MISSED bit, GRO_NORMAL batching from 5.15, a MISSED reschedule polled inside the same "
    "net_rx_action in 6.4+; on 5.15+ a vhost XDP batch is queued whole and scheduled once",
    deliver, poll, deliver_batch};

}  // namespace tunsim
