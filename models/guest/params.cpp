// The guest's virtio-net TX queue as vhost sees it.
#include "models/kernel/params.hpp"

namespace tunsim {

void declare_guest_params(ParamTable& t) {
  t.add("senders.*.guest.mode", PType::Enum, "closed")
      .in({"open", "closed"})
      .means("open: arrivals independent of the host (dropped when the ring is full); closed: the guest keeps the "
             "TX ring full, refilling as vhost consumes.")
      .from("pktgen in the guest stops its queue on a full ring")
      .bind_sender_choice(&SenderParams::guest, &GuestParams::mode);
  t.add("senders.*.guest.arrival", PType::Enum, "bursts")
      .in({"constant", "poisson", "bursts"})
      .means("Open-loop arrival process.")
      .from("pktgen-like bursts")
      .bind_sender_choice(&SenderParams::guest, &GuestParams::arrival);
  t.add("senders.*.guest.rate_mpps", PType::Num, 1.0)
      .range(1e-6, 1e4)
      .means("Open loop: mean offered rate, Mpps.")
      .from("-")
      .bind_sender(&SenderParams::guest, &GuestParams::rate_mpps);
  t.add("senders.*.guest.burst", PType::Int, 32)
      .range(1, 65536)
      .kname("pktgen burst")
      .means("Open loop 'bursts': packets per burst, sent back to back at guest_tx_ns.")
      .from("-")
      .bind_sender(&SenderParams::guest, &GuestParams::burst);
  t.add("senders.*.guest.burst_phase", PType::Num, -1)
      .range(-1, 1)
      .means("Open loop 'bursts': where in its period the first burst starts, as a fraction of the period "
             "(burst / rate); -1 = drawn uniformly from the run's seed.  A guest's bursts keep no phase with the "
             "host's tick or with another guest, so repeats of a point with different seeds sample that phase.")
      .from("-")
      .bind_sender(&SenderParams::guest, &GuestParams::burst_phase);
  t.add("senders.*.guest.ring_size", PType::Int, 256)
      .range(2, 32768)
      .kname("virtio TX queue size")
      .means("Descriptors.")
      .from("QEMU default tx_queue_size 256")
      .bind_sender(&SenderParams::guest, &GuestParams::ring_size);
  t.add("senders.*.guest.descs_per_packet", PType::Int, 1)
      .range(1, 2)
      .kname("virtio-net TX descriptors per packet")
      .means("Ring descriptors one packet takes: 1 (header and data in one buffer, or an indirect descriptor), 2 "
             "(a separate header descriptor). The ring holds ring_size / this packets, which bounds the "
             "packets a zerocopy guest has in flight.")
      .from("UNVERIFIED which the modelled guest uses (docs/kernel-mechanisms.md, section 8)")
      .bind_sender(&SenderParams::guest, &GuestParams::descs_per_packet);
  declare_cost(t, "guest_tx_ns", 300, &Costs::guest_tx_ns, "virtio-net start_xmit",
               "Guest per-packet cost, ns (guest vCPU).");
  declare_cost(t, "guest_kick_ns", 3000, &Costs::guest_kick_ns, "virtqueue_notify (vmexit)",
               "Guest kick, ns (guest vCPU).");
}

}  // namespace tunsim
