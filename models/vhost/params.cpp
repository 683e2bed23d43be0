// vhost_net's handle_tx knobs (drivers/vhost/net.c) and costs.
#include "models/kernel/params.hpp"

namespace tunsim {

void declare_vhost_params(ParamTable& t) {
  t.add("senders.*.vhost.weight_bytes", PType::Int, 524288)
      .range(1, 1e12)
      .units("bytes")
      .kname("VHOST_NET_WEIGHT")
      .means("handle_tx requeues itself after this many bytes.")
      .from("0x80000 in 4.11")
      .bind_sender(&SenderParams::weight_bytes);
  t.add("senders.*.vhost.pkt_weight", PType::Int, 0)
      .range(0, 1e9)
      .kname("VHOST_NET_PKT_WEIGHT")
      .means("Also requeue after this many packets; 0 = no packet weight (4.11).")
      .from("256 exists in 4.19")
      .bind_sender(&SenderParams::pkt_weight);
  t.add("senders.*.vhost.busyloop_timeout_us", PType::Num, 0)
      .range(0, 1e9)
      .units("us")
      .kname("busyloop_timeout (QEMU tap poll-us)")
      .means("Spin on an empty ring up to this long before re-enabling notifications, us.")
      .from("default 0")
      .bind_sender(&SenderParams::busyloop_timeout_us);
  t.add("senders.*.vhost.msg_more", PType::Bool, true)
      .kname("MSG_MORE in handle_tx")
      .means("Pass MSG_MORE while descriptors remain (4.11); false = never (4.10).")
      .from("4.11")
      .bind_sender(&SenderParams::msg_more);
  declare_cost(t, "vhost_desc_ns", 150, &Costs::vhost_desc_ns, "handle_tx per descriptor",
               "vhost_get_vq_desc + used ring update, ns.");
  declare_cost(t, "vhost_notify_ns", 50, &Costs::vhost_notify_ns, "vhost_disable_notify/vhost_enable_notify",
               "Each, ns.");
  declare_cost(t, "vhost_wakeup_ns", 4000, &Costs::vhost_wakeup_ns,
               "eventfd -> vhost_poll_wakeup -> worker running", "Guest kick to worker running, ns.");
}

}  // namespace tunsim
