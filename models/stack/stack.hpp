// The receive stack after the driver: netif_receive_skb and the configured
// protocol work (drop, bridge forward to a noqueue device, local UDP delivery
// to a receiver thread with a socket buffer).
#pragma once
#include "models/kernel/kernel.hpp"

namespace tunsim {

// netif_receive_skb() as a driver calls it: with RPS the skb goes to the
// target CPU's backlog; otherwise __netif_receive_skb.  Takes the skb.
void netif_receive_skb(Ctx& ctx, Skb* skb, const char* dev);
// __netif_receive_skb_core + protocol work; the packet counts as delivered
// when it returns, and the skb is freed (consumed or dropped).
void netif_receive_skb_core(Ctx& ctx, Skb* skb, const char* dev);
// napi_gro_receive(): no GRO handler for these frames, so GRO_NORMAL: either
// straight to netif_receive_skb (gro_normal_batch 0) or via napi->rx_list.
void napi_gro_receive(Ctx& ctx, Napi& n, Skb* skb);

// The receiver thread's work on the UDP socket up to time t.
void udp_receiver_advance(const Kernel& k, UdpSocket& s, double t);

}  // namespace tunsim
