// NAPI knobs and costs (net/core/dev.c, net/core/gro.c).
#include "models/kernel/params.hpp"

namespace tunsim {

void declare_napi_params(ParamTable& t) {
  t.add("kernel.napi_weight", PType::Int, 64)
      .range(1, 1000)
      .kname("NAPI_POLL_WEIGHT")
      .means("Weight of the tun NAPI (v1_napi, deferred_signal, napi_gro).")
      .from("the patch and IFF_NAPI use 64")
      .bind(&Params::kernel, &KernelParams::napi_weight);
  t.add("kernel.napi_missed_bit", PType::Bool, nullptr)
      .versioned()
      .kname("NAPI_STATE_MISSED")
      .means("napi_schedule on a scheduled NAPI sets MISSED and completion reschedules (4.11+). null = the "
             "version's.")
      .from("versions table (docs/model.md)")
      .bind(&Params::kernel, &KernelParams::napi_missed_bit);
  t.add("kernel.gro_normal_batch", PType::Int, nullptr)
      .range(0, 1024)
      .versioned()
      .kname("net.core.gro_normal_batch")
      .means("GRO_NORMAL packets are held in napi->rx_list and delivered by netif_receive_skb_list in batches "
             "of this many (5.4+); 0 = delivered one by one. null = the version's.")
      .from("kernel default 8 (5.4+)")
      .bind(&Params::kernel, &KernelParams::gro_normal_batch);
  declare_cost(t, "napi_schedule_ns", 20, &Costs::napi_schedule_ns, "napi_schedule",
               "napi_schedule_prep + ____napi_schedule, ns.");
  declare_cost(t, "napi_poll_ns", 30, &Costs::napi_poll_ns, "napi_poll", "Per poll callback bookkeeping, ns.");
  declare_cost(t, "gro_ns", 80, &Costs::gro_ns, "napi_gro_receive", "Per packet, no GRO match, ns.");
}

}  // namespace tunsim
