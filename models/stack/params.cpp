// The receive side after netif_receive_skb.
#include <algorithm>

#include "models/kernel/params.hpp"

namespace tunsim {

void declare_stack_params(ParamTable& t) {
  t.add("stack.type", PType::Enum, "bridge")
      .in({"drop", "bridge", "udp"})
      .means("Work after netif_receive_skb: drop = unknown EtherType (kfree_skb UNHANDLED_PROTO); bridge = "
             "forwarded to a noqueue device; udp = local delivery to a receiver thread.")
      .from("the default scenario bridges the tap to a noqueue NIC")
      .bind_choice(&Params::stack, &StackParams::type);
  t.add("stack.udp.rcvbuf_bytes", PType::Int, 212992)
      .range(1, 1e12)
      .units("bytes")
      .kname("net.core.rmem_default (sk_rcvbuf)")
      .means("Socket receive buffer; a packet is dropped when sk_rmem_alloc + truesize exceeds it.")
      .from("kernel default 212992")
      .bind(&Params::stack, &StackParams::rcvbuf_bytes);
  t.add("stack.udp.receiver_cpu", PType::Int, 0)
      .range(0, 255)
      .kname("taskset")
      .means("CPU of the receiver thread (must host no sender).")
      .from("-")
      .bind(&Params::stack, &StackParams::receiver_cpu);
  t.add("stack.udp.truesize_bytes", PType::Int, nullptr)
      .range(1, 1e9)
      .units("bytes")
      .computed()
      .kname("skb->truesize")
      .means("Charged per packet against rcvbuf; null = the skb's truesize as the kernel of kernel.version sets it on "
             "the path that built it: tun_alloc_skb's kmalloc head (its slab object: 576 bytes from 6.3 on, else the "
             "kmalloc bucket) + 256 for the sk_buff + its pages, or a page fragment's buflen + 256 (tun_build_skb, "
             "tun_xdp_one); 832 for a 60-byte frame, 2304 for 1500 (6.18), 768 and 2304 (4.9-6.1).")
      .from("__finalize_skb_around, kmalloc_reserve, alloc_skb_with_frags (6.18 net/core/skbuff.c; 4.9's __alloc_skb "
            "ksize()); sizeof(struct sk_buff) 224 and skb_shared_info 320 in the BTF of 6.18.44; measured: "
            "napi_gro_receive_entry's truesize on 6.18.44, 2026-12-07 (docs/kernel-mechanisms.md)")
      .bind(&Params::stack, &StackParams::truesize_bytes);
  declare_cost(t, "netif_receive_skb_ns", 39.68, &Costs::netif_receive_skb_ns, "__netif_receive_skb_core",
               "Per packet, ns.")
      .from(kCostTraceFit);
  declare_cost(t, "stack_drop_ns", 44.52, &Costs::stack_drop_ns, "kfree_skb (unhandled protocol)", "ns.")
      .from(kCostTraceFit);
  declare_cost(t, "bridge_forward_ns", 148.9, &Costs::bridge_forward_ns,
               "br_handle_frame..dev_queue_xmit (noqueue)", "ns.")
      .from(kCostTraceFit);
  declare_cost(t, "udp_deliver_ns", 600, &Costs::udp_deliver_ns, "ip_rcv..sock_queue_rcv_skb", "ns.");
  declare_cost(t, "recv_ns", 700, &Costs::recv_ns, "recvmsg", "Receiver application per packet, ns.");
  declare_cost(t, "wakeup_ns", 2000, &Costs::wakeup_ns, "try_to_wake_up .. running",
               "Sleeping thread woken until it runs, ns.");

  t.finalize([](Params& p, std::vector<std::string>&) {
    if (p.stack.type != StackType::Udp) return;
    int rc = p.stack.receiver_cpu;
    bool sender = false;
    for (auto& s : p.senders) sender |= s.cpu == rc;
    if (rc >= p.cpus || sender || std::find(p.rps_cpus.begin(), p.rps_cpus.end(), rc) != p.rps_cpus.end())
      throw ParamError("stack.udp.receiver_cpu",
                       "expected a CPU below cpus.count that hosts no sender and no RPS target (the receiver is "
                       "modelled on a CPU of its own), found " + std::to_string(rc));
  });
}

}  // namespace tunsim
