// drivers/net/tun.c under each batching design.
//
//   netif_rx_ni      4.9: tun_get_user -> netif_rx_ni() per packet (backlog).
//   v1_napi          the Nov 2016 patch: sk_write_queue + process_queue,
//                    tun_poll weight 64, napi_schedule only when !MSG_MORE,
//                    complete then re-check and reschedule.
//   deferred_signal  the review's variant: one queue, packets queued
//                    unconditionally, signalling deferred to the first
//                    sendmsg without MSG_MORE; the poll dequeues from it.
//   rx_batched       4.11 tun_rx_batched(): rx_frames (ethtool rx-frames).
//   napi_gro         IFF_NAPI (4.15+): tun_napi_poll / tun_napi_receive.
#pragma once
#include "models/kernel/kernel.hpp"

namespace tunsim {

// Builds the skb of one frame (tun_get_user: copy, allocation) in the
// caller's context; `origin` is when the packet entered the system.
Skb tun_build_skb(Ctx& ctx, int queue, uint32_t len, uint32_t hash, double origin);
// The design-specific tail of tun_get_user(): hand the skb to the stack.
void tun_deliver(Ctx& ctx, TunQueue& tq, Skb skb, bool more);
// The tun NAPI poll of the current design (v1_napi, deferred_signal, napi_gro).
int tun_poll(Ctx& ctx, TunQueue& tq, int budget);

}  // namespace tunsim
