// CFS tunables (kernel/sched/fair.c) and the cost of a context switch.
#include <algorithm>
#include <cmath>

#include "models/kernel/params.hpp"

namespace tunsim {

void declare_sched_params(ParamTable& t) {
  t.add("kernel.sched.latency_ns", PType::Int, nullptr)
      .range(100000, 1e9)
      .units("ns")
      .computed()
      .kname("sysctl_sched_latency")
      .means("CFS target latency; null = 6 ms * (1 + ilog2(ncpus)).")
      .from("kernel default scaling (LOG)")
      .bind(&Params::kernel, &KernelParams::sched_latency_ns);
  t.add("kernel.sched.min_granularity_ns", PType::Int, nullptr)
      .range(10000, 1e9)
      .units("ns")
      .computed()
      .kname("sysctl_sched_min_granularity")
      .means("CFS minimum slice; null = 0.75 ms * (1 + ilog2(ncpus)).")
      .from("kernel default scaling (LOG)")
      .bind(&Params::kernel, &KernelParams::sched_min_granularity_ns);
  t.add("kernel.sched.wakeup_granularity_ns", PType::Int, nullptr)
      .range(0, 1e9)
      .units("ns")
      .computed()
      .kname("sysctl_sched_wakeup_granularity")
      .means("CFS wake-up preemption granularity; null = 1 ms * (1 + ilog2(ncpus)).")
      .from("kernel default scaling (LOG)")
      .bind(&Params::kernel, &KernelParams::sched_wakeup_granularity_ns);
  declare_cost(t, "context_switch_ns", 1000, &Costs::context_switch_ns, "__schedule",
               "One context switch, ns.");

  t.finalize([](Params& p, std::vector<std::string>&) {
    // sched_init_granularity() with SCHED_TUNABLESCALING_LOG: factor
    // 1 + ilog2(min(ncpus, 8)).
    double factor = 1 + std::floor(std::log2(std::min(p.cpus, 8)));
    KernelParams& k = p.kernel;
    if (std::isnan(k.sched_latency_ns)) k.sched_latency_ns = 6e6 * factor;
    if (std::isnan(k.sched_min_granularity_ns)) k.sched_min_granularity_ns = 0.75e6 * factor;
    if (std::isnan(k.sched_wakeup_granularity_ns)) k.sched_wakeup_granularity_ns = 1e6 * factor;
  });
}

}  // namespace tunsim
