// handle_tx_copy() (drivers/vhost/net.c, 4.20 ... 6.18.8; the default TX
// path once zerocopy is off, 5.15 here) with vhost_net_build_xdp and
// vhost_tx_batch.
#include <algorithm>
#include <vector>

#include "models/irq/irq.hpp"
#include "models/sched/schedule.hpp"
#include "models/softirq/softirq.hpp"
#include "models/tun/tun.hpp"
#include "models/vhost/vhost.hpp"

namespace tunsim {

namespace {
// vhost_tx_batch(): the XDP buffers to tun in one sendmsg (TUN_MSG_PTR), then
// the heads gathered so far to the used ring in one update
// (vhost_net_signal_used).
void vhost_tx_batch(Ctx& ctx, VhostTx& v) {
  if (!v.batch.empty()) tun_deliver_batch(ctx, ctx.k->queue(v.sp->queue), v.batch);
  if (v.batch_heads) v.vq.add_used(ctx.now, v.batch_heads);
  v.batch_heads = 0;
}

}  // namespace

uint32_t vhost_xdp_frame_sz(uint32_t len, uint32_t hdr) {
  auto align = [](uint32_t x) { return (x + 63) / 64 * 64; };  // SKB_DATA_ALIGN
  return align(len + align(64 + hdr)) + 320;
}

TxResult handle_tx_copy(Ctx& ctx, VhostTx& v) {
  Kernel& k = *ctx.k;
  const Costs& c = k.p.costs;
  const SenderParams& sp = *v.sp;
  TunQueue& tq = k.queue(sp.queue);
  // sock_can_batch: the tap's sndbuf is INT_MAX (and the design takes a batch).
  const bool can_batch = k.p.tun.sndbuf == TunParams::kIntMax && k.p.design->deliver_batch;
  const uint32_t batch_max = static_cast<uint32_t>(k.p.vhost.batch);
  v.vq.materialize(ctx.now);
  ctx.spend(Path::Vhost, c.vhost_notify_ns);
  v.vq.set_notify(false);
  vhost_tx_poll_at_start(ctx, v);  // handle_tx, before handle_tx_copy
  long long total_len = 0;
  int sent = 0;
  for (;;) {
    if (ctx.now >= k.end()) {
      // The run's end is a snapshot: buffers not yet handed to tun are still
      // the guest's (vhost_discard_vq_desc), in flight in its ring.
      std::vector<Skb*> held;
      while (!v.batch.empty()) held.push_back(v.batch.pop_front());
      for (auto it = held.rbegin(); it != held.rend(); ++it) {
        v.vq.unpop(Desc{(*it)->t_origin, 0});
        k.skbs.free(*it);
      }
      return TxResult::Stop;
    }
    if (v.batch_heads == batch_max) vhost_tx_batch(ctx, v);
    v.vq.materialize(ctx.now);
    if (v.vq.empty() && sp.busyloop_timeout_us > 0) {
      vhost_tx_batch(ctx, v);  // 6.18 flushes before busy polling
      vhost_busy_poll(ctx, v);
    }
    if (v.vq.empty()) {
      vhost_tx_batch(ctx, v);  // 6.18 flushes before re-enabling notifications
      if (vhost_ring_empty(ctx, v)) return TxResult::RingEmpty;
      continue;
    }
    Desc d = v.vq.pop();
    ctx.begin_interval();  // a descriptor's work: vhost's analogue of a write()
    ctx.spend(Path::Vhost, c.vhost_desc_ns);
    uint32_t frame = static_cast<uint32_t>(sp.frame_bytes);
    long long len = frame + sp.vnet_hdr_bytes;
    total_len += len;
    uint32_t hash = vhost_flow_hash(v.flow++ % static_cast<uint64_t>(sp.flows));
    const uint32_t frame_sz = vhost_xdp_frame_sz(static_cast<uint32_t>(len), static_cast<uint32_t>(sp.vnet_hdr_bytes));
    if (can_batch && frame_sz <= 4096) {
      // vhost_net_build_xdp copies the packet into a page fragment; the skb
      // tun_xdp_one builds on it is charged here too (build_skb: no
      // sleeping allocation, no socket owner), the batch is handed over later.
      v.batch.push_back(tun_get_user_skb(ctx, sp.queue, frame, hash, d.avail, TunSend{true, nullptr, frame_sz}));
    } else {
      if (can_batch) vhost_tx_batch(ctx, v);  // -ENOSPC: flush, then this one alone
      v.vq.materialize(ctx.now);
      // tx_can_batch(): MSG_MORE while below the byte weight and the ring is not empty.
      bool more = sp.msg_more && total_len < sp.weight_bytes && !v.vq.empty();
      Skb* skb = tun_get_user_skb(ctx, sp.queue, frame, hash, d.avail, TunSend{true, nullptr});
      if (!skb) {
        // sendmsg's -EAGAIN: the descriptor back, the poll re-armed, break;
        // after the loop vhost_tx_batch returns the heads so far.
        TxResult r = vhost_tx_send_failed(ctx, v, d);
        vhost_tx_batch(ctx, v);
        return r;
      }
      tun_deliver(ctx, tq, skb, more);
    }
    ++v.batch_heads;  // vq->heads[nvq->done_idx++]
    ++sent;
    // vhost_exceeds_weight(vq, ++sent_pkts, total_len)
    if (total_len >= sp.weight_bytes || (k.p.vhost.pkt_weight > 0 && sent >= k.p.vhost.pkt_weight)) {
      vhost_tx_batch(ctx, v);
      ++k.rec.vhost_requeues;
      return TxResult::Requeued;
    }
    if (advance_time_events(ctx)) do_softirq(ctx);
    preempt_point(ctx);
    ctx.checkpoint();
  }
}

}  // namespace tunsim
