// The backlog and RPS (net/core/dev.c).
#include <set>

#include "models/kernel/params.hpp"

namespace tunsim {

void declare_backlog_params(ParamTable& t) {
  t.add("kernel.dev_weight", PType::Int, 64)
      .range(1, 1000000)
      .kname("net.core.dev_weight")
      .means("Backlog NAPI weight (process_backlog quota).")
      .from("kernel default 64")
      .bind(&Params::kernel, &KernelParams::dev_weight);
  t.add("kernel.dev_weight_rx_bias", PType::Int, nullptr)
      .range(1, 1000)
      .versioned()
      .kname("net.core.dev_weight_rx_bias")
      .means("Backlog weight multiplier (dev_rx_weight = dev_weight * bias). null = the version's: none for "
             "4.9, where the quota is dev_weight.")
      .from("versions table (docs/model.md); sysctl default 1")
      .bind(&Params::kernel, &KernelParams::dev_weight_rx_bias);
  t.add("kernel.netdev_max_backlog", PType::Int, 1000)
      .range(1, 1e9)
      .kname("net.core.netdev_max_backlog")
      .means("enqueue_to_backlog accepts while input_pkt_queue length <= this.")
      .from("kernel default 1000")
      .bind(&Params::kernel, &KernelParams::netdev_max_backlog);
  t.add("rps.cpus", PType::IntList, nlohmann::json::array())
      .range(0, 255)
      .kname("/sys/class/net/tapX/queues/rx-*/rps_cpus")
      .means("CPUs that RPS steers backlog packets to (get_rps_cpu: cpus[hash * n >> 32]); [] = RPS off. Used "
             "by the designs that enqueue to a backlog (netif_rx_ni; and netif_receive_skb under RPS).")
      .from("RPS is off by default")
      .bind(&Params::rps_cpus);
  declare_cost(t, "backlog_enqueue_ns", 50, &Costs::backlog_enqueue_ns, "enqueue_to_backlog", "ns.");
  declare_cost(t, "ipi_ns", 3286, &Costs::ipi_ns, "net_rps_send_ipi, ttwu_queue_wakelist",
               "Sending one IPI: an RPS IPI, or a wake-up of a thread on another CPU (paid by the waker), ns.")
      .from("measured: scripts/machine/wakeup.c waker_ns (FUTEX_WAKE of a sleeper on the idle other vCPU minus "
            "one that wakes nobody, p10 of 1000, trusted), 2026-12-02 12:47 UTC, the 2 vCPUs of the development "
            "machine (AMD EPYC VM, HLT idle), quiet; results/reference/machine/wakeup-2026-12-02.json");
  declare_cost(t, "ipi_latency_ns", 5534.75, &Costs::ipi_latency_ns,
               "smp_call_function_single_async, ttwu_queue_wakelist",
               "From the start of sending an IPI to the remote CPU acting on it: an RPS IPI's delivery, or an idle "
               "CPU leaving HLT to enqueue a thread woken from another CPU (sched_ttwu_pending), ns.  The sender's "
               "costs.ipi_ns runs within it: the IPI leaves while the sender pays for it.")
      .from("derived from a measurement: scripts/machine/wakeup.c latency_ns 7323 (the waker's FUTEX_WAKE to "
            "the sleeper back in user space on the idle other vCPU, p10) minus no_waiter_ns 1002 (one system call's "
            "entry and exit, which a kernel-to-kernel wake-up does not make) minus costs.context_switch_ns 786.25 "
            "(ctxswitch.c, 2026-12-03); 2026-12-02 12:47 UTC, results/reference/machine/wakeup-2026-12-02.json");

  t.finalize([](Params& p, std::vector<std::string>&) {
    std::set<int> sender_cpus;
    for (auto& s : p.senders) sender_cpus.insert(s.cpu);
    for (size_t i = 0; i < p.rps_cpus.size(); ++i) {
      int c = p.rps_cpus[i];
      if (c < p.cpus && sender_cpus.count(c) && sender_cpus.size() > 1)
        throw ParamError("rps.cpus." + std::to_string(i),
                         "expected a CPU that hosts no sender, or a single sender CPU (the model delivers RPS "
                         "IPIs only to CPUs running softirqs alone), found " + std::to_string(c));
    }
    for (size_t i = 0; i < p.rps_cpus.size(); ++i)
      if (p.rps_cpus[i] >= p.cpus)
        throw ParamError("rps.cpus." + std::to_string(i), "expected a CPU below cpus.count (" +
                                                               std::to_string(p.cpus) + "), found " +
                                                               std::to_string(p.rps_cpus[i]));
  });
}

}  // namespace tunsim
