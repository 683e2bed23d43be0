// NAPI knobs and costs (net/core/dev.c, net/core/gro.c).
#include "models/kernel/params.hpp"
#include "models/tun/design.hpp"

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
  t.add("kernel.napi_schedule_wakes_ksoftirqd", PType::Bool, nullptr)
      .versioned()
      .kname("raise_softirq_irqoff() in ____napi_schedule")
      .means("____napi_schedule raises NET_RX with the waking form, which wakes ksoftirqd when called outside "
             "interrupt context with bh enabled (6.14+, and late 6.1/6.6/6.12 stable releases); otherwise it only "
             "marks NET_RX pending. Inside local_bh_disable() (every tun path but tun.bh_section false) it changes "
             "nothing. null = the version's.")
      .from("versions table (docs/model.md)")
      .bind(&Params::kernel, &KernelParams::napi_schedule_wakes_ksoftirqd);
  t.add("tun.threaded", PType::Bool, false)
      .kname("/sys/class/net/tapX/threaded")
      .means("Threaded NAPI (5.12+): napi_schedule of the tun NAPI wakes its kthread napi/tapX-ID instead of "
             "raising NET_RX; the kthread polls with the NAPI's weight, no netdev_budget and no time limit, and "
             "competes for its CPU like any thread. Designs with a tun NAPI only; kernel.version 5.15 or later.")
      .from("kernel default 0")
      .bind(&Params::tun, &TunParams::threaded);
  ParamDecl& cpu = t.add("tun.napi_thread_cpu", PType::Int, nullptr)
      .range(0, 255)
      .or_null()
      .kname("napi/tapX-ID affinity")
      .means("CPU the NAPI kthread runs on (one per tun queue). The kernel does not bind it (kthread_run, no "
             "kthread_bind): the scheduler places it at each wake-up, which the model does not replay; put it on "
             "the writer's CPU or another. null = the CPU of the queue's first sender.")
      .from("UNVERIFIED where select_task_rq_fair puts it in a 2-CPU run");
  cpu.set = [](Params& p, size_t, const nlohmann::json& v) { p.tun.napi_thread_cpu = v.is_null() ? -1 : v.get<int>(); };
  cpu.get = [](const Params& p, size_t) {
    return p.tun.napi_thread_cpu < 0 ? nlohmann::json(nullptr) : nlohmann::json(p.tun.napi_thread_cpu);
  };
  declare_cost(t, "napi_schedule_ns", 5.75, &Costs::napi_schedule_ns, "napi_schedule",
               "napi_schedule_prep + ____napi_schedule, ns.")
      .from(kCostAtomics);
  declare_cost(t, "napi_poll_ns", 196.3, &Costs::napi_poll_ns, "napi_poll", "Per poll callback bookkeeping, ns.")
      .from(kCostTraceFitSplit);
  declare_cost(t, "gro_ns", 311.3, &Costs::gro_ns, "napi_gro_receive",
               "Per packet before delivery (GRO without a match, and the receive work outside the "
               "netif_receive_skb..kfree_skb interval), ns.")
      .from(kCostTraceFitSplit);

  t.finalize([](Params& p, std::vector<std::string>&) {
    TunParams& tp = p.tun;
    if (tp.napi_thread_cpu >= p.cpus)
      throw ParamError("tun.napi_thread_cpu", "expected a CPU below cpus.count (" + std::to_string(p.cpus) +
                                                  "), found " + std::to_string(tp.napi_thread_cpu));
    if (!tp.threaded) return;
    if (versioned_default("tun.threaded", p.kernel.version) != true)
      throw ParamError("tun.threaded", std::string("expected false: threaded NAPI exists from 5.12 "
                                                   "(kernel.version 5.15 or later), found true with kernel ") +
                                           version_name(p.kernel.version));
    if (!p.design->poll)
      throw ParamError("tun.threaded", std::string("expected false: design ") + p.design->name +
                                           " has no tun NAPI to thread");
  });
}

}  // namespace tunsim
