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
// Builds the skb of one frame (tun_get_user: allocation, copy) in the
// caller's context; `origin` is when the packet entered the system.
Skb* tun_build_skb(Ctx& ctx, int queue, uint32_t len, uint32_t hash, double origin);
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
