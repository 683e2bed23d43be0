// vhost_net's TX side (drivers/vhost/net.c): handle_tx as in 4.9-4.15 (one
// sendmsg per packet, MSG_MORE, zerocopy), handle_tx_copy as in 5.15-6.18
// (XDP buffers sent to tun in batches when the tap's sndbuf is INT_MAX), and
// the worker thread that runs them.
#pragma once
#include <algorithm>
#include <cstdint>
#include <vector>

#include "models/guest/guest.hpp"
#include "models/kernel/kernel.hpp"

namespace tunsim {

struct VhostTx;

// One entry of vq->heads / nvq->ubuf_info used by zerocopy: the skb built on
// the guest's buffer points at it, and its release marks it done.
struct ZcSlot : Ubuf {
  VhostTx* v = nullptr;
  bool done = true;
};

// vhost_net's TX poll of the tap's file (n->poll[VHOST_NET_VQ_TX], mask
// EPOLLOUT): on the socket's wait queue while armed; its wake-up,
// vhost_poll_wakeup, queues the TX work.
struct TxPoll : WaitEntry {
  VhostTx* v = nullptr;
};

inline constexpr uint32_t kUioMaxIov = 1024;      // UIO_MAXIOV: the ubuf ring
inline constexpr uint32_t kVhostGoodcopyLen = 256;  // VHOST_GOODCOPY_LEN
inline constexpr uint32_t kVhostMaxPend = 128;      // VHOST_MAX_PEND

struct VhostTx {
  Virtqueue vq;
  const SenderParams* sp;
  uint64_t flow = 0;
  Kernel* k = nullptr;        // for the zerocopy completion's wake-up
  Thread* worker = nullptr;   // the thread that runs handle_tx
  bool poll_queued = false;   // vhost_poll_queue: run handle_tx again before sleeping
  TxPoll tx_poll;
  // zerocopy (nvq->upend_idx, done_idx, ubufs->refcount - 1)
  std::vector<ZcSlot> heads = std::vector<ZcSlot>(kUioMaxIov);
  uint32_t upend_idx = 0, done_idx = 0;
  uint32_t inflight = 0;  // zerocopy skbs not yet released
  // handle_tx_copy: skbs built from XDP buffers not yet handed to tun, and
  // heads not yet returned to the guest (nvq->done_idx)
  SkbQueue batch;
  uint32_t batch_heads = 0;
  VhostTx(const SenderParams& s, const Costs& c, uint64_t seed);
  uint32_t pending() const { return (upend_idx + kUioMaxIov - done_idx) % kUioMaxIov; }
};

enum class TxResult {
  RingEmpty,  // notifications re-enabled, nothing available: sleep until a kick
  Requeued,   // VHOST_NET_WEIGHT (or the packet weight) reached: vhost_poll_queue
  Stalled,    // 4.9/4.11: too many zerocopy packets in flight; a completion requeues
  WriteSpace, // sendmsg's -EAGAIN (the tap's send buffer full): the descriptor went
              // back, the TX poll waits for tun_sock_write_space to queue the work
  Stop,       // past the end of the simulation
};

// vhost_net_tx_get_vq_desc/handle_tx's choice for this sender: the batched
// XDP path of 5.15+ (zerocopy off), else one sendmsg per packet.
bool vhost_uses_tx_copy(const Kernel& k);
// One handle_tx() call in the worker's context (per packet: 4.x handle_tx,
// 5.15+ handle_tx_zerocopy): notifications off while draining; per
// descriptor one sendmsg with MSG_MORE while the bytes so far (frame + vnet
// header) are below VHOST_NET_WEIGHT and the ring is not empty; re-enable
// notifications on an empty ring with the race re-check; optional busy
// polling; zerocopy for long frames when enabled; the per-packet reschedule
// point of tun_alloc_skb.  Dispatches to handle_tx_copy on 5.15+.
TxResult handle_tx(Ctx& ctx, VhostTx& v);
// handle_tx_copy() (tx_copy.cpp, 5.15+): with the tap's sndbuf INT_MAX and a
// design that takes batches, packets are copied into XDP buffers and handed
// to tun VHOST_NET_BATCH at a time (tun_sendmsg with TUN_MSG_PTR); else one
// sendmsg per packet with MSG_MORE.  Used entries return per batch.
TxResult handle_tx_copy(Ctx& ctx, VhostTx& v);
// vhost_net_build_xdp's page fragment (xdp->frame_sz) for `len` bytes read
// from the guest, the vnet header of `hdr` bytes included: SKB_DATA_ALIGN(len
// + SKB_DATA_ALIGN(VHOST_NET_RX_PAD (64) + hdr)) + skb_shared_info (320 on
// x86-64).  Above a page, -ENOSPC: the packet goes alone.
uint32_t vhost_xdp_frame_sz(uint32_t len, uint32_t hdr);
// What handle_tx and handle_tx_copy share (vhost.cpp): the flow hash of the
// n-th packet, busy polling on an empty ring (vhost_net_tx_get_vq_desc with
// busyloop_timeout: until a descriptor arrives, the timeout or
// need_resched), and the empty ring's vhost_enable_notify with its race
// re-check (true: notifications are on and the ring is still empty).
uint32_t vhost_flow_hash(uint64_t flow);
void vhost_busy_poll(Ctx& ctx, VhostTx& v);
bool vhost_ring_empty(Ctx& ctx, VhostTx& v);
// The TX poll of the tap (vhost_net_disable_vq / vhost_net_enable_vq,
// drivers/vhost/net.c): off the socket's wait queue; on it, where
// vhost_poll_start calls tun_chr_poll, which gives EPOLLOUT at once (the
// work queued) if the socket is writeable, else sets SOCKWQ_ASYNC_NOSPACE and
// tests again.
// vhost_poll_queue(): the TX work queued, the worker woken if it sleeps
// (by the running code, wake_up_deferred).
void vhost_poll_queue(VhostTx& v);
void vhost_net_disable_vq(Ctx& ctx, VhostTx& v);
void vhost_net_enable_vq(Ctx& ctx, VhostTx& v);
// handle_tx's start: 4.15+ (vhost.tx_poll_rearm) vhost_net_disable_vq; 4.9/4.11
// the poll armed since the backend's setup.  A sendmsg that failed with
// -EAGAIN: the descriptor back to the ring (vhost_discard_vq_desc), 4.15+
// vhost_net_enable_vq, and the loop left (WriteSpace).
void vhost_tx_poll_at_start(Ctx& ctx, VhostTx& v);
TxResult vhost_tx_send_failed(Ctx& ctx, VhostTx& v, const Desc& d);
// When a sleeping worker runs again: the guest's next kick plus the wake-up.
double vhost_wake_time(Ctx& ctx, VhostTx& v);
// The worker thread's body (worker.cpp): starts asleep until the first kick.
void vhost_worker(Ctx& ctx, VhostTx& v);

// Zerocopy (zerocopy.cpp).  Whether this packet (len with the header) goes
// zerocopy now, and the MSG_MORE limit on pending ones (vhost_exceeds_maxpend).
// The tests handle_tx makes at every packet are inline.
bool vhost_zcopy_enabled(const Kernel& k);
bool vhost_zcopy_slot_free(const Kernel& k, const VhostTx& v);
// 4.9/4.11's stall at the loop top: (upend_idx + num - VHOST_MAX_PEND) %
// UIO_MAXIOV == done_idx.  Checked whether or not zerocopy is on (4.9.0
// handle_tx, 4.11.0 vhost_exceeds_maxpend); never true for a 256-entry ring.
// The TX ring's entries (vq->num).
inline uint32_t vhost_ring_num(const VhostTx& v) { return static_cast<uint32_t>(v.sp->guest.ring_size); }
inline bool vhost_zcopy_stall(const Kernel& k, const VhostTx& v) {
  if (k.p.vhost.zcopy_pending_limit != ZcopyLimit::UbufRing) return false;
  return (v.upend_idx + vhost_ring_num(v) - kVhostMaxPend) % kUioMaxIov == v.done_idx;
}
inline bool vhost_exceeds_maxpend(const Kernel& k, const VhostTx& v) {
  if (k.p.vhost.zcopy_pending_limit == ZcopyLimit::MaxPend)
    return v.pending() > std::min(kVhostMaxPend, vhost_ring_num(v) >> 2);  // 4.15+
  return vhost_zcopy_stall(k, v);  // 4.11 names the stall condition so
}
// Takes the next ubuf slot for a zerocopy send; gives it back when the send
// failed before an skb held it.
ZcSlot* vhost_zcopy_take(VhostTx& v);
void vhost_zcopy_untake(VhostTx& v);
// vhost_zerocopy_signal_used(): return the done prefix to the guest.
void vhost_zerocopy_signal_done(Ctx& ctx, VhostTx& v);
inline void vhost_zerocopy_signal_used(Ctx& ctx, VhostTx& v) {
  if (v.done_idx != v.upend_idx && v.heads[v.done_idx].done) vhost_zerocopy_signal_done(ctx, v);
}

}  // namespace tunsim
