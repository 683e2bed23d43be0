// The November 2016 patch ("tuntap: rx batching", v1): sk_write_queue +
// process_queue, tun_poll with weight 64, napi_schedule only without MSG_MORE.
#include "models/napi/napi.hpp"
#include "models/stack/stack.hpp"
#include "models/tun/tun.hpp"

namespace tunsim {

namespace {
// tun_poll(): drain process_queue up to the budget; when empty, splice the
// whole sk_write_queue into it under the lock and loop; below the budget,
// complete and re-check.
int poll(Ctx& ctx, TunQueue& tq, int budget) {
  int received = 0;
  for (;;) {
    while (!tq.process_queue.empty()) {
      netif_receive_skb(ctx, tq.process_queue.pop_front(), tq.napi.dev);
      if (++received >= budget) return received;
    }
    ctx.lock(tq.write_queue);
    if (tq.write_queue.empty()) break;
    tq.write_queue.splice_tail_into(tq.process_queue);
  }
  if (received < budget) tun_poll_complete_recheck(ctx, tq);
  return received;
}
}  // namespace

extern const DesignInfo design_v1_napi = {
    "v1_napi", KernelVersion::V4_9,
    "the seed patch: sk_write_queue + process_queue, tun_poll weight 64, napi_schedule only without MSG_MORE in "
    "a bh-disabled section, complete then re-check; the queue is unbounded (its peak is reported)",
    tun_queue_then_signal, poll, nullptr};

}  // namespace tunsim
