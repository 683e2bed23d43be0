// vhost_net's handle_tx knobs (drivers/vhost/net.c) and costs.
#include "models/kernel/params.hpp"
#include "models/tun/design.hpp"

namespace tunsim {

void declare_vhost_params(ParamTable& t) {
  t.add("senders.*.vhost.weight_bytes", PType::Int, 524288)
      .range(1, 1e12)
      .units("bytes")
      .kname("VHOST_NET_WEIGHT")
      .means("handle_tx requeues itself once the bytes it sent (each packet's len: frame plus vnet header) reach "
             "this.")
      .from("0x80000 in every version read (4.9.0 ... 6.18.8)")
      .bind_sender(&SenderParams::weight_bytes);
  t.add("senders.*.vhost.busyloop_timeout_us", PType::Num, 0)
      .range(0, 1e9)
      .units("us")
      .kname("busyloop_timeout (QEMU tap poll-us)")
      .means("Spin on an empty ring up to this long before re-enabling notifications, us.")
      .from("default 0")
      .bind_sender(&SenderParams::busyloop_timeout_us);
  t.add("senders.*.vhost.msg_more", PType::Bool, true)
      .kname("MSG_MORE in handle_tx")
      .means("Pass MSG_MORE while descriptors remain and the bytes are below the weight (4.11+ handle_tx; 4.9's "
             "never sets it, the v1 patch series relied on a vhost patch doing what 4.11 does); false = never. "
             "Not used on the batched XDP path.")
      .from("4.11's handle_tx, also for the 4.9 + patch designs")
      .bind_sender(&SenderParams::msg_more);
  t.add("senders.*.vhost.vnet_hdr_bytes", PType::Int, 12)
      .range(0, 12)
      .units("bytes")
      .kname("sizeof(struct virtio_net_hdr_mrg_rxbuf)")
      .means("virtio-net header in front of each frame. The tap parses it (IFF_VNET_HDR, vhost_hlen 0), so "
             "vhost's len, which VHOST_NET_WEIGHT, MSG_MORE and VHOST_GOODCOPY_LEN count, is frame + header; "
             "the skb carries the frame. 12 with VIRTIO_NET_F_MRG_RXBUF or VIRTIO_F_VERSION_1, 10 otherwise.")
      .from("vhost_net_set_features (4.11.0, 6.18.8); the tap-parses-it setup is QEMU's, UNVERIFIED from QEMU "
            "source")
      .bind_sender(&SenderParams::vnet_hdr_bytes);
  t.add("vhost.experimental_zcopytx", PType::Bool, nullptr)
      .versioned()
      .kname("vhost_net module parameter experimental_zcopytx")
      .means("TX zerocopy: a packet whose len (frame + vnet header) is at least VHOST_GOODCOPY_LEN (256) is "
             "mapped into the skb (128 bytes copied) and its descriptor returns to the guest only when the skb's "
             "data is released (after netif_receive_skb), so a queue inside tun holds guest descriptors. null = "
             "the version's.")
      .from("versions table (docs/model.md)")
      .bind(&Params::vhost, &VhostParams::experimental_zcopytx);
  t.add("vhost.zcopy_pending_limit", PType::Enum, nullptr)
      .in({"ubuf_ring", "maxpend"})
      .versioned()
      .kname("vhost_exceeds_maxpend()")
      .means("Zerocopy packets in flight. ubuf_ring (4.9/4.11): handle_tx stops when (upend_idx + num - "
             "VHOST_MAX_PEND) % UIO_MAXIOV == done_idx, which never happens for a 256-entry ring, so the guest "
             "ring bounds them; maxpend (4.15+): beyond min(VHOST_MAX_PEND, num / 4) pending, packets are copied "
             "and MSG_MORE is cleared. null = the version's.")
      .from("versions table (docs/model.md)")
      .bind_choice(&Params::vhost, &VhostParams::zcopy_pending_limit);
  t.add("vhost.pkt_weight", PType::Int, nullptr)
      .range(0, 1e9)
      .versioned()
      .kname("VHOST_NET_PKT_WEIGHT")
      .means("handle_tx also requeues itself after this many packets (vhost_exceeds_weight); 0 = no packet "
             "weight. null = the version's.")
      .from("versions table (docs/model.md)")
      .bind(&Params::vhost, &VhostParams::pkt_weight);
  t.add("vhost.batch", PType::Int, nullptr)
      .range(0, 1024)
      .versioned()
      .kname("VHOST_NET_BATCH")
      .means("handle_tx_copy: with zerocopy off and the tap's sndbuf INT_MAX, packets are copied into XDP buffers "
             "and handed to tun this many per sendmsg (TUN_MSG_PTR); 0 = no such path (4.x: one sendmsg per "
             "packet). Designs that have no batched receive (tunsim designs) keep one sendmsg per packet. null = "
             "the version's.")
      .from("versions table (docs/model.md)")
      .bind(&Params::vhost, &VhostParams::batch);
  t.add("vhost.tx_poll_rearm", PType::Bool, nullptr)
      .versioned()
      .kname("vhost_net_disable_vq / vhost_net_enable_vq in handle_tx")
      .means("When vhost's sendmsg fails with -EAGAIN (the skbs charged to the tap's socket at or above its "
             "sndbuf), handle_tx gives the descriptor back and stops; guest kicks stay off. true (4.15+): it "
             "re-arms its poll of the tap (vhost_poll_start -> tun_chr_poll, which sets SOCKWQ_ASYNC_NOSPACE "
             "unless the socket is writeable), so tun_sock_write_space queues the TX work once the charge is "
             "below half of sndbuf. false (4.9, 4.11): the poll stays armed from the backend's setup and "
             "nothing on that path sets the bit, so nothing modelled wakes vhost (a zerocopy completion does; "
             "in the kernel vhost's RX path re-arming its own poll of the tap could). null = the version's.")
      .from("versions table (docs/model.md)")
      .bind(&Params::vhost, &VhostParams::tx_poll_rearm);
  t.finalize([](Params& p, std::vector<std::string>& notes) {
    bool vhost = false;
    for (auto& s : p.senders) vhost |= s.vhost();
    if (vhost && p.vhost.batch > 0 && !p.vhost.experimental_zcopytx && p.tun.sndbuf == TunParams::kIntMax &&
        !p.design->deliver_batch)
      notes.push_back(std::string("design ") + p.design->name + " takes no XDP batch (tun_sendmsg TUN_MSG_PTR): "
                      "vhost sends it one packet per sendmsg with MSG_MORE, as with TUNSETSNDBUF on kernel " +
                      version_name(p.kernel.version));
    if (p.vhost.zcopy_pending_limit != ZcopyLimit::UbufRing) return;
    for (size_t i = 0; i < p.senders.size(); ++i)
      if (p.senders[i].vhost() && (p.senders[i].guest.ring_size - 128) % 1024 == 0)
        throw ParamError("senders." + std::to_string(i) + ".guest.ring_size",
                         "expected a ring size other than 128 + n * 1024: 4.9/4.11's handle_tx stops at once when "
                         "(upend_idx + num - VHOST_MAX_PEND) % UIO_MAXIOV == done_idx, which holds with nothing in "
                         "flight for such a ring, so it would never send; found " +
                             std::to_string(p.senders[i].guest.ring_size));
  });
  declare_cost(t, "vhost_desc_ns", 150, &Costs::vhost_desc_ns, "handle_tx per descriptor",
               "vhost_get_vq_desc + used ring update, ns.");
  declare_cost(t, "vhost_notify_ns", 50, &Costs::vhost_notify_ns, "vhost_disable_notify/vhost_enable_notify",
               "Each, ns.");
  declare_cost(t, "vhost_wakeup_ns", 4000, &Costs::vhost_wakeup_ns,
               "eventfd -> vhost_poll_wakeup -> worker running", "Guest kick to worker running, ns.");
}

}  // namespace tunsim
