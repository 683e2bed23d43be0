// netif_rx_ni per packet (4.9): tun_get_user -> netif_rx_ni(skb).
#include "models/backlog/backlog.hpp"
#include "models/softirq/softirq.hpp"
#include "models/tun/tun.hpp"

namespace tunsim {

namespace {
// netif_rx_ni(): preempt_disable; netif_rx_internal (enqueue_to_backlog on
// the RPS target or this CPU); do_softirq if pending; preempt_enable.
void deliver(Ctx& ctx, TunQueue&, Skb* skb, bool) {
  int target = get_rps_cpu(*ctx.k, *skb);
  enqueue_to_backlog(ctx, skb, target >= 0 ? target : ctx.cpu->id);
  if (ctx.cpu->net_rx_pending) do_softirq(ctx);
}
}  // namespace

extern const DesignInfo design_netif_rx_ni = {
    "netif_rx_ni", KernelVersion::V4_9,
    "tun_get_user -> netif_rx_ni() per packet: enqueue_to_backlog (drops past netdev_max_backlog), backlog NAPI "
    "with dev_weight, do_softirq inline unless ksoftirqd runs",
    deliver, nullptr, nullptr};

}  // namespace tunsim
