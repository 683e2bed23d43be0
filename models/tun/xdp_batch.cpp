// Today's vhost-net -> tap path (5.15 ... 6.18, the default once vhost
// zerocopy is off): vhost's handle_tx_copy copies each packet into an XDP
// buffer and hands VHOST_NET_BATCH (64) of them to tun in one sendmsg
// (TUN_MSG_PTR); tun_sendmsg turns each into an skb (tun_xdp_one) and, on a
// tap without IFF_NAPI as QEMU opens it, delivers it at once with
// netif_receive_skb, the whole batch in one bh-disabled section.  MSG_MORE
// and rx_frames play no part; they matter only with a sndbuf other than
// INT_MAX (TUNSETSNDBUF), when vhost sends one packet per sendmsg and
// tun_get_user's tail is tun_rx_batched as in 4.11.  The same tap as
// rx_batched, on the kernel of today: `tunsim compare` shows 4.11's batching
// (rx_batched) against it.
#include "models/tun/tun.hpp"

namespace tunsim {

extern const DesignInfo design_xdp_batch = {
    "xdp_batch", KernelVersion::V6_18,
    "vhost handle_tx_copy: 64 XDP buffers per sendmsg (TUN_MSG_PTR), tun_xdp_one -> netif_receive_skb per buffer "
    "in one bh-disabled section (tap without IFF_NAPI, sndbuf INT_MAX); per packet tun_rx_batched otherwise",
    tun_rx_batched, nullptr, tun_xdp_receive};

}  // namespace tunsim
