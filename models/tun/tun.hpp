// drivers/net/tun.c: what every design shares (building the skb in
// tun_get_user, the queue's NAPI) and the hand-off the v1 patch and the
// review's variant have in common.  Each design is its own file
// (netif_rx_ni.cpp, v1_napi.cpp, deferred_signal.cpp, rx_batched.cpp,
// napi_gro.cpp), listed in registry.cpp (design.hpp).
#pragma once
#include "models/kernel/kernel.hpp"
#include "models/tun/design.hpp"

namespace tunsim {

// Sets up a tun queue: its NAPI (tun_napi_init / netif_napi_add with the
// design's poll and NAPI_POLL_WEIGHT).
void tun_queue_init(Kernel& k, TunQueue& tq);
// How tun_get_user builds an skb: who sends (vhost's sendmsg is
// non-blocking, a write() on a blocking fd is not) and whether vhost lent
// the guest's buffer (zerocopy ubuf).
struct TunSend {
  bool noblock = false;
  Ubuf* zerocopy = nullptr;
  // tun_xdp_one: the skb is built on vhost's XDP buffer of this many bytes
  // (xdp->frame_sz, vhost_xdp_frame_sz); 0 for tun_get_user's own skb.
  uint32_t xdp_frame_sz = 0;
  // skb_set_owner_w on the queue's socket: tun_alloc_skb
  // (sock_alloc_send_pskb) and __tun_build_skb do it; tun_xdp_one's
  // build_skb does not (6.18 drivers/net/tun.c).
  bool owned() const { return xdp_frame_sz == 0; }
};
// Builds the skb of one frame in tun_get_user, in the caller's context;
// `origin` is when the packet entered the system.  tun_alloc_skb (a
// GFP_KERNEL allocation: might_sleep, a reschedule point under voluntary
// preemption) unless 4.15+'s tun_build_skb applies (tun.build_skb,
// non-blocking, sndbuf INT_MAX, not zerocopy, fits a page).  Zerocopy copies
// GOODCOPY_LEN (128) bytes and maps the rest; the skb calls the ubuf back
// when it is freed.  Null when sock_alloc_send_pskb refuses the sender its
// skb: the socket's charge is at or above tun.sndbuf; a blocking writer
// sleeps, vhost's sendmsg (how.noblock) fails with -EAGAIN (the caller's
// part).
Skb* tun_get_user_skb(Ctx& ctx, int queue, uint32_t len, uint32_t hash, double origin, const TunSend& how);
// The same for a write() on a blocking tun fd.
inline Skb* tun_build_skb(Ctx& ctx, int queue, uint32_t len, uint32_t hash, double origin) {
  return tun_get_user_skb(ctx, queue, len, hash, origin, TunSend{});
}
// tun_build_skb's page fragment for a `len`-byte frame without an XDP
// program: SKB_DATA_ALIGN(len + TUN_RX_PAD (64)) + SKB_DATA_ALIGN(sizeof(struct
// skb_shared_info)) (320 bytes on x86-64).
uint32_t tun_build_skb_buflen(uint32_t len);
// tun_can_build_skb()'s size test for kernel `v`: that fragment fits a page
// (from 6.5 on, with XDP_PACKET_HEADROOM too: tun.cpp).
bool tun_frame_fits_page(uint32_t len, KernelVersion v);
// tun_sendmsg() with TUN_MSG_PTR (5.15+): the skbs vhost built from XDP
// buffers, handed over in one call.
inline void tun_deliver_batch(Ctx& ctx, TunQueue& tq, SkbQueue& batch) {
  ctx.k->p.design->deliver_batch(ctx, tq, batch);
}
// tun_xdp_one() for a tap without IFF_NAPI: netif_receive_skb per buffer,
// the whole batch in one bh-disabled section (rx_batched, xdp_batch).
void tun_xdp_receive(Ctx& ctx, TunQueue& tq, SkbQueue& batch);
// tun_rx_batched() (4.11 ... 6.18): the per-packet tail of a tap without
// IFF_NAPI (rx_batched, xdp_batch).
void tun_rx_batched(Ctx& ctx, TunQueue& tq, Skb* skb, bool more);
// The design-specific tail of tun_get_user(): hand the skb to the stack.
inline void tun_deliver(Ctx& ctx, TunQueue& tq, Skb* skb, bool more) {
  ctx.k->p.design->deliver(ctx, tq, skb, more);
}
// The v1 patch's and the review variant's tun_get_user tail: queue on
// sk_write_queue, and without MSG_MORE napi_schedule (inside a bh-disabled
// section when tun.bh_section, so that local_bh_enable runs the poll).
void tun_queue_then_signal(Ctx& ctx, TunQueue& tq, Skb* skb, bool more);
// The complete-then-recheck the v1 patch and the variant end their poll
// with: napi_complete, and if sk_write_queue is not empty reschedule (4.9 has
// no MISSED bit: without it a packet queued in that window would strand).
void tun_poll_complete_recheck(Ctx& ctx, TunQueue& tq);

}  // namespace tunsim
