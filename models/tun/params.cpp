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
  declare_cost(t, "tun_get_user_ns", 150, &Costs::tun_get_user_ns, "tun_get_user", "Fixed part of tun_get_user, ns.");
  declare_cost(t, "skb_alloc_ns", 80, &Costs::skb_alloc_ns, "tun_alloc_skb", "skb allocation, ns.");
  declare_cost(t, "copy_ns_per_byte", 0.08, &Costs::copy_ns_per_byte, "copy_from_iter", "Frame copy, ns per byte.");
  declare_cost(t, "lock_ns", 20, &Costs::lock_ns, "spin_lock/spin_unlock", "Uncontended skb queue lock pair, ns.");

  t.finalize([](Params& p, std::vector<std::string>& notes) {
    // tun_set_coalesce(): rx_batched = min(rx_max_coalesced_frames, NAPI_POLL_WEIGHT).
    p.rx_frames = std::min(p.rx_frames_requested, 64);
    if (p.rx_frames != p.rx_frames_requested)
      notes.push_back("tun.rx_frames " + std::to_string(p.rx_frames_requested) +
                      " clamped to 64 (NAPI_POLL_WEIGHT), as ethtool -C does");
  });
}

}  // namespace tunsim
