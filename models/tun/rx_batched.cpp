// tun_rx_batched() as merged in 4.11 (ethtool -C tapX rx-frames N).
#include "models/softirq/softirq.hpp"
#include "models/stack/stack.hpp"
#include "models/tun/tun.hpp"

namespace tunsim {

// Deliver at once (bh off, netif_receive_skb, bh on) when rx_batched is 0 or
// !more and the queue is empty; otherwise under the queue lock: when !more or
// the queue holds rx_batched, splice it out and deliver it and the current
// skb with bh disabled, else append.
void tun_rx_batched(Ctx& ctx, TunQueue& tq, Skb* skb, bool more) {
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
  ctx.lock(tq.write_queue);  // spin_lock(&queue->lock)
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

void tun_xdp_receive(Ctx& ctx, TunQueue& tq, SkbQueue& batch) {
  // tun_sendmsg(TUN_MSG_PTR): local_bh_disable; tun_xdp_one per buffer, which
  // without IFF_NAPI is netif_receive_skb; local_bh_enable.
  Kernel& k = *ctx.k;
  size_t n = batch.size();
  if (!n) return;
  local_bh_disable(ctx);
  while (!batch.empty()) netif_receive_skb(ctx, batch.pop_front(), tq.napi.dev);
  local_bh_enable(ctx);
  if (k.rec.in_window(ctx.now)) k.rec.batch.add(static_cast<double>(n));
  ++k.rec.flushes;
}

extern const DesignInfo design_rx_batched = {
    "rx_batched", KernelVersion::V4_11,
    "tun_rx_batched(): rx_frames 0..64 (clamped as ethtool clamps), immediate delivery when 0 or the queue is "
    "empty and !more, flush of queue + current skb with bh disabled; on 5.15+ vhost's XDP batches go around it "
    "(as in xdp_batch)",
    tun_rx_batched, nullptr, tun_xdp_receive};

}  // namespace tunsim
