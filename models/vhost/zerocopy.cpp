// vhost_net TX zerocopy (drivers/vhost/net.c, 4.9.0 ... 4.15.0 on by
// default): a packet of at least VHOST_GOODCOPY_LEN bytes (with the vnet
// header) lends the guest's buffer to the skb, and its descriptor goes back
// to the guest only when the skb's data is released.
#include <algorithm>

#include "models/vhost/vhost.hpp"

namespace tunsim {

namespace {
// vhost_zerocopy_callback(): mark the head done, drop the reference, and
// queue the TX work when nothing else is pending or every 16th time.
void vhost_zerocopy_callback(Ubuf* u) {
  auto* slot = static_cast<ZcSlot*>(u);
  VhostTx& v = *slot->v;
  slot->done = true;
  --v.inflight;
  uint32_t cnt = v.inflight + 1;  // ubufs->refcount after vhost_net_ubuf_put
  if (cnt <= 1 || cnt % 16 == 0) vhost_poll_queue(v);
}

// vhost_poll_wakeup() of the TX poll: EPOLLOUT is in its mask.
void vhost_tx_poll_wakeup(WaitEntry* w) { vhost_poll_queue(*static_cast<TxPoll*>(w)->v); }
}  // namespace

void vhost_poll_queue(VhostTx& v) {
  v.poll_queued = true;
  if (v.k && v.worker) v.k->deferred_wakeups.push_back(v.worker);
}

VhostTx::VhostTx(const SenderParams& s, const Costs& c, uint64_t seed) : vq(s.guest, c, seed), sp(&s) {
  for (auto& h : heads) {
    h.v = this;
    h.callback = vhost_zerocopy_callback;
  }
  tx_poll.v = this;
  tx_poll.func = vhost_tx_poll_wakeup;
}

bool vhost_zcopy_enabled(const Kernel& k) { return k.p.vhost.experimental_zcopytx; }

bool vhost_zcopy_slot_free(const Kernel& k, const VhostTx& v) {
  if (k.p.vhost.zcopy_pending_limit == ZcopyLimit::MaxPend) return !vhost_exceeds_maxpend(k, v);
  return (v.upend_idx + 1) % kUioMaxIov != v.done_idx;  // 4.9/4.11: the ubuf ring is not full
}

ZcSlot* vhost_zcopy_take(VhostTx& v) {
  ZcSlot* s = &v.heads[v.upend_idx];
  s->done = false;  // VHOST_DMA_IN_PROGRESS
  v.upend_idx = (v.upend_idx + 1) % kUioMaxIov;
  ++v.inflight;
  return s;
}

void vhost_zcopy_untake(VhostTx& v) {
  v.upend_idx = (v.upend_idx + kUioMaxIov - 1) % kUioMaxIov;
  v.heads[v.upend_idx].done = true;
  --v.inflight;
}

void vhost_zerocopy_signal_done(Ctx& ctx, VhostTx& v) {
  size_t n = 0;
  while (v.done_idx != v.upend_idx && v.heads[v.done_idx].done) {
    v.done_idx = (v.done_idx + 1) % kUioMaxIov;
    ++n;
  }
  if (n) v.vq.add_used(ctx.now, n);
}

}  // namespace tunsim
