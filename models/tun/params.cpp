// tun's parameters: the design replayed, ethtool rx-frames, and the costs of
// tun_get_user.
#include <algorithm>

#include "models/kernel/params.hpp"
#include "models/tun/design.hpp"

namespace tunsim {

void declare_tun_params(ParamTable& t) {
  std::vector<std::string> names;
  for (const DesignInfo* d : designs()) names.push_back(d->name);
  ParamDecl& design = t.add("design", PType::Enum, "rx_batched")
                          .in(names)
                          .means("Batching design replayed (tunsim designs; README: designs).")
                          .from("the design merged in 4.11");
  design.set = [](Params& p, size_t, const nlohmann::json& v) { p.design = find_design(v.get<std::string>()); };
  design.get = [](const Params& p, size_t) { return nlohmann::json(p.design->name); };

  t.add("tun.rx_frames", PType::Int, 0)
      .range(0, 1e9)
      .kname("tun->rx_batched (ethtool -C tapX rx-frames N)")
      .means("rx_batched only: packets queued before a flush; clamped to NAPI_POLL_WEIGHT (64) as "
             "tun_set_coalesce does.")
      .from("kernel default 0 (no batching)")
      .bind(&Params::rx_frames_requested);
  t.add("tun.bh_section", PType::Bool, true)
      .kname("local_bh_disable()/local_bh_enable() around napi_schedule")
      .means("v1_napi and deferred_signal: schedule the NAPI inside a bh-disabled section so local_bh_enable runs "
             "the poll at once; false = napi_schedule only raises NET_RX (the review's question b), the poll waits "
             "for irq exit or ksoftirqd.")
      .from("the v1 patch")
      .bind(&Params::bh_section);
  t.add("tun.build_skb", PType::Bool, nullptr)
      .versioned()
      .kname("tun_can_build_skb()")
      .means("tun_get_user builds a frame that fits a page from a non-blocking sender (vhost's MSG_DONTWAIT) with "
             "sndbuf INT_MAX and no zerocopy in current->task_frag with build_skb, whose allocations never sleep "
             "(4.15+); otherwise tun_alloc_skb, a GFP_KERNEL allocation that passes might_sleep(). null = the "
             "version's.")
      .from("versions table (docs/model.md)")
      .bind(&Params::tun, &TunParams::build_skb);
  t.add("tun.sndbuf", PType::Int, 2147483647)
      .range(1, 2147483647)
      .units("bytes")
      .kname("sk_sndbuf (TUNSETSNDBUF)")
      .means("The tap's send buffer. INT_MAX lets vhost (5.15+, zerocopy off) send XDP batches through "
             "TUN_MSG_PTR and tun (4.15+) use build_skb for small frames; any other value, as QEMU's sndbuf= sets, "
             "makes vhost send one packet per sendmsg with MSG_MORE, through tun_alloc_skb. A blocking write() that "
             "finds the skbs charged to the socket (sk_wmem_alloc) at or above it sleeps to the end of the run "
             "(nothing modelled wakes it); vhost's sendmsg gets -EAGAIN there and waits for write space "
             "(vhost.tx_poll_rearm; docs/model.md, Limits).")
      .from("tun_chr_open sets INT_MAX; QEMU's tap_set_sndbuf sends INT_MAX unless sndbuf= is given (QEMU "
            "source as the search index found it, UNVERIFIED repository)")
      .bind(&Params::tun, &TunParams::sndbuf);
  t.add("tun.deferred_poll_lock", PType::Enum, "splice")
      .in({"splice", "per_packet"})
      .kname("the poll of the review's variant (not in any kernel)")
      .means("deferred_signal only: how its poll takes packets off the one queue. splice: as tun_napi_receive "
             "(4.15-6.18) and the v1 patch do, the whole queue onto a local list under one lock, up to the budget "
             "delivered, the rest spliced back to the head (at most two lock round trips per poll); per_packet: "
             "skb_dequeue, the lock (and, with a producer on another CPU, its cache line) per packet. The review "
             "asks only why a second queue is needed and proposes queueing unconditionally and deferring the "
             "signal to the first sendmsg without MSG_MORE; it says nothing about the poll's locking.")
      .from("the kernel's own single-queue poll, tun_napi_receive (docs/kernel-mechanisms.md, section 4)")
      .bind_choice(&Params::tun, &TunParams::deferred_poll_lock);
  declare_cost(t, "tun_get_user_ns", 255.8, &Costs::tun_get_user_ns, "tun_get_user", "Fixed part of tun_get_user, ns.")
      .from(kCostTraceFit);
  declare_cost(t, "skb_alloc_ns", 136.4, &Costs::skb_alloc_ns, "tun_alloc_skb", "skb allocation, ns.").from(kCostTraceFit);
  declare_cost(t, "copy_ns_per_byte", 0.1364, &Costs::copy_ns_per_byte, "copy_from_iter", "Frame copy, ns per byte.")
      .from(kCostTraceFit);
  declare_cost(t, "lock_ns", 6.05, &Costs::lock_ns, "spin_lock/spin_unlock", "Uncontended skb queue lock pair, ns.")
      .from(kCostAtomics);

  t.finalize([](Params& p, std::vector<std::string>& notes) {
    // tun_set_coalesce(): rx_batched = min(rx_max_coalesced_frames, NAPI_POLL_WEIGHT).
    p.rx_frames = std::min(p.rx_frames_requested, 64);
    if (p.rx_frames != p.rx_frames_requested)
      notes.push_back("tun.rx_frames " + std::to_string(p.rx_frames_requested) +
                      " clamped to 64 (NAPI_POLL_WEIGHT), as ethtool -C does");
  });
}

}  // namespace tunsim
