// tun_rx_batched() as merged in 4.11 (ethtool -C tapX rx-frames N).
#include "models/softirq/softirq.hpp"
#include "models/stack/stack.hpp"
#include "models/tun/tun.hpp"

namespace tunsim {

namespace {
// Deliver at once (bh off, netif_receive_skb, bh on) when rx_batched is 0 or
// !more and the queue is empty; otherwise under the queue lock: when !more or
// the queue holds rx_batched, splice it out and deliver it and the current
// skb with bh disabled, else append.
void deliver(Ctx& ctx, TunQueue& tq, Skb* skb, bool more) {
  Kernel& k = *ctx.k;
  int rx_batched = k.p.rx_frames;
  ctx.touch(tq.write_queue);  // skb_queue_empty(): lockless read
  if (!rx_batched || (!more && tq.write_queue.empty())) {
    local_bh_disable(ctx);
    netif_receive_skb(ctx, skb, tq.napi.dev);
    local_bh_enable(ctx);
    if (k.rec.in_window(ctx.now)) k.rec.batch.add(1);
    ++k.rec.immediate;
    return;
  }
  ctx.spend_ns(k.p.costs.lock_ns);
  ctx.touch(tq.write_queue);  // spin_lock(&queue->lock)
  if (!more || static_cast<int>(tq.write_queue.size()) == rx_batched) {
    SkbQueue process_queue;
    tq.write_queue.splice_tail_into(process_queue);
    size_t n = process_queue.size() + 1;
    local_bh_disable(ctx);
    while (!process_queue.empty()) netif_receive_skb(ctx, process_queue.pop_front(), tq.napi.dev);
    netif_receive_skb(ctx, skb, tq.napi.dev);
    local_bh_enable(ctx);
    if (k.rec.in_window(ctx.now)) k.rec.batch.add(static_cast<double>(n));
    ++k.rec.flushes;
  } else {
    tq.write_queue.push_back(skb);
  }
}
}  // namespace

extern const DesignInfo design_rx_batched = {
    "rx_batched", KernelVersion::V4_11,
    "tun_rx_batched(): rx_frames 0..64 (clamped as ethtool clamps), immediate delivery when 0 or the queue is "
    "empty and !more, flush of queue + current skb with bh disabled",
    deliver, nullptr};

}  // namespace tunsim
