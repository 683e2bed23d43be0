#include "models/vhost/vhost.hpp"

#include <algorithm>
#include <cmath>

#include "models/irq/irq.hpp"
#include "models/sched/schedule.hpp"
#include "models/softirq/softirq.hpp"
#include "models/tun/tun.hpp"

namespace tunsim {

uint32_t vhost_flow_hash(uint64_t flow) {
  uint64_t z = (flow + 1) * 0x9e3779b97f4a7c15ULL;
  return static_cast<uint32_t>(z >> 32);
}

void vhost_busy_poll(Ctx& ctx, VhostTx& v) {
  double end = ctx.now + v.sp->busyloop_timeout_us * 1e-6;
  double next = v.vq.next_avail();
  double target = std::min(end, next);
  while (ctx.now < target && !ctx.cpu->need_resched) {
    double step = std::min(target, ctx.cpu->next_tick) - ctx.now;
    ctx.spend_ns(std::max(step, 0.0) * 1e9);
    if (advance_time_events(ctx)) do_softirq(ctx);
  }
  v.vq.materialize(ctx.now);
}

bool vhost_ring_empty(Ctx& ctx, VhostTx& v) {
  Kernel& k = *ctx.k;
  const Costs& c = k.p.costs;
  // vhost_enable_notify() re-reads the avail index: a descriptor added
  // meanwhile (the race) means disable again and go on.
  ctx.spend(Path::Vhost, c.vhost_notify_ns);
  v.vq.materialize(ctx.now);
  if (!v.vq.empty()) {
    ++k.rec.vhost_notify_races;
    ctx.spend_ns(c.vhost_notify_ns);
    return false;
  }
  v.vq.set_notify(true);
  return true;
}

void vhost_net_disable_vq(Ctx& ctx, VhostTx& v) {
  TunQueue& tq = ctx.k->queue(v.sp->queue);
  if (tq.write_space_waiter == &v.tx_poll) tq.write_space_waiter = nullptr;  // vhost_poll_stop
}

void vhost_net_enable_vq(Ctx& ctx, VhostTx& v) {
  TunQueue& tq = ctx.k->queue(v.sp->queue);
  if (tq.write_space_waiter == &v.tx_poll) return;  // vhost_poll_start: poll->wqh already set
  tq.write_space_waiter = &v.tx_poll;
  // tun_chr_poll: tun_sock_writeable, or test_and_set_bit(SOCKWQ_ASYNC_NOSPACE)
  // and tun_sock_writeable again (the flag's line: the socket's).  Nothing
  // frees an skb between the two tests here, so the second gives the first's
  // answer.
  if (tq.wmem_line.shared) ctx.take_socket_lines(tq);
  if (sock_writeable(*ctx.k, tq))
    vhost_poll_queue(v);  // vhost_poll_start: the mask at once
  else
    tq.async_nospace = true;
}

void vhost_tx_poll_at_start(Ctx& ctx, VhostTx& v) {
  TunQueue& tq = ctx.k->queue(v.sp->queue);
  if (ctx.now < ctx.k->end()) tq.write_space_wait_since = -1;  // (the run's end wakes it only to stop)
  if (ctx.k->p.vhost.tx_poll_rearm)
    vhost_net_disable_vq(ctx, v);
  else if (!tq.write_space_waiter)
    tq.write_space_waiter = &v.tx_poll;  // armed since vhost_net_set_backend, never stopped
}

TxResult vhost_tx_send_failed(Ctx& ctx, VhostTx& v, const Desc& d) {
  v.vq.unpop(d);  // vhost_discard_vq_desc(vq, 1)
  ctx.k->queue(v.sp->queue).write_space_wait_since = ctx.now;
  if (ctx.k->p.vhost.tx_poll_rearm) vhost_net_enable_vq(ctx, v);
  return TxResult::WriteSpace;
}

bool vhost_uses_tx_copy(const Kernel& k) { return k.p.vhost.batch > 0 && !vhost_zcopy_enabled(k); }

TxResult handle_tx(Ctx& ctx, VhostTx& v) {
  Kernel& k = *ctx.k;
  if (vhost_uses_tx_copy(k)) return handle_tx_copy(ctx, v);
  const Costs& c = k.p.costs;
  const SenderParams& sp = *v.sp;
  TunQueue& tq = k.queue(sp.queue);
  const bool zcopy = vhost_zcopy_enabled(k);
  v.vq.materialize(ctx.now);  // what the guest added (and kicked for) while we slept
  ctx.spend(Path::Vhost, c.vhost_notify_ns);
  v.vq.set_notify(false);  // vhost_disable_notify
  vhost_tx_poll_at_start(ctx, v);
  long long total_len = 0;
  int pkts = 0;
  for (;;) {
    if (ctx.now >= k.end()) return TxResult::Stop;
    if (zcopy) vhost_zerocopy_signal_used(ctx, v);  // release DMA-done buffers first
    if (vhost_zcopy_stall(k, v)) return TxResult::Stalled;
    v.vq.materialize(ctx.now);
    if (v.vq.empty() && sp.busyloop_timeout_us > 0) vhost_busy_poll(ctx, v);
    if (v.vq.empty()) {
      if (vhost_ring_empty(ctx, v)) return TxResult::RingEmpty;
      continue;
    }
    Desc d = v.vq.pop();
    ctx.begin_interval();  // a descriptor's work: vhost's analogue of a write()
    ctx.spend(Path::Vhost, c.vhost_desc_ns);
    uint32_t frame = static_cast<uint32_t>(sp.frame_bytes);
    // len = msg_data_left(): the frame and the vnet header the tap parses.
    long long len = frame + sp.vnet_hdr_bytes;
    bool zcopy_used = zcopy && len >= kVhostGoodcopyLen && vhost_zcopy_slot_free(k, v);
    ZcSlot* slot = zcopy_used ? vhost_zcopy_take(v) : nullptr;
    total_len += len;
    v.vq.materialize(ctx.now);
    bool more = sp.msg_more && total_len < sp.weight_bytes && !v.vq.empty() && !vhost_exceeds_maxpend(k, v);
    uint32_t hash = vhost_flow_hash(v.flow++ % static_cast<uint64_t>(sp.flows));
    Skb* skb = tun_get_user_skb(ctx, sp.queue, frame, hash, d.avail, TunSend{true, slot});
    if (!skb) {
      // sendmsg failed (-EAGAIN): the ubuf slot back (upend_idx - 1, its
      // reference put), then as every version does.
      if (slot) vhost_zcopy_untake(v);
      return vhost_tx_send_failed(ctx, v, d);
    }
    tun_deliver(ctx, tq, skb, more);
    if (!zcopy_used)
      v.vq.add_used(ctx.now);  // vhost_add_used_and_signal
    else
      vhost_zerocopy_signal_used(ctx, v);
    ++pkts;
    if (total_len >= sp.weight_bytes || (k.p.vhost.pkt_weight > 0 && pkts >= k.p.vhost.pkt_weight)) {
      ++k.rec.vhost_requeues;
      return TxResult::Requeued;
    }
    // Ticks and wake-ups on this CPU; a tick's irq_exit runs pending softirqs.
    if (advance_time_events(ctx)) do_softirq(ctx);
    preempt_point(ctx);
    ctx.checkpoint();
  }
}

double vhost_wake_time(Ctx& ctx, VhostTx& v) {
  double next = v.vq.next_avail();
  return next + ctx.k->p.costs.vhost_wakeup_ns * 1e-9;
}

}  // namespace tunsim
