// The fair class's policy and tunables (kernel/sched/fair.c: CFS, EEVDF), the
// preemption model, and the cost of a context switch.
#include <algorithm>
#include <cmath>

#include "models/kernel/params.hpp"

namespace tunsim {

void declare_sched_params(ParamTable& t) {
  t.add("kernel.preempt", PType::Enum, nullptr)
      .in({"none", "voluntary", "full"})
      .versioned()
      .kname("CONFIG_PREEMPT_NONE / _VOLUNTARY / CONFIG_PREEMPT, preempt= (PREEMPT_DYNAMIC)")
      .means("Preemption model. none: a thread leaves its CPU only at explicit cond_resched() calls, when it "
             "sleeps, or on return to user space. voluntary: also at might_sleep(), which tun_alloc_skb's "
             "GFP_KERNEL allocation passes for every packet (4.9/4.11 vhost handle_tx; 4.15+ zerocopy frames, a "
             "sndbuf other than INT_MAX, a blocking write()). full: kernel code is preemptible wherever "
             "preemption is enabled; the model preempts at every packet boundary outside bh-disabled sections. "
             "null = the version's (Debian-style voluntary; 6.18 = none, as this machine runs it).")
      .from("versions table (docs/model.md)")
      .bind_choice(&Params::kernel, &KernelParams::preempt);
  t.add("kernel.sched.policy", PType::Enum, nullptr)
      .in({"cfs", "eevdf-6.6", "eevdf-6.18"})
      .versioned()
      .kname("kernel/sched/fair.c")
      .means("How the fair class picks between nice-0 threads on a CPU: CFS (4.9-6.5: vruntime, latency/2 wake-up "
             "credit, wake-up and tick granularity), EEVDF as in 6.6 (lag, virtual deadline, eligibility, "
             "RUN_TO_PARITY through the deadline marker) or as in 6.18 (deadline-ordered pick, protected slice, "
             "delayed dequeue, half a slice for new tasks). null = the version's.")
      .from("versions table (docs/model.md)")
      .bind_choice(&Params::kernel, &KernelParams::sched_policy);
  t.add("kernel.sched.normalized_base_slice_ns", PType::Int, nullptr)
      .range(10000, 1e9)
      .units("ns")
      .versioned()
      .kname("normalized_sysctl_sched_base_slice")
      .means("EEVDF base slice before scaling by 1 + ilog2(ncpus): 0.75 ms (6.6-6.14), 0.70 ms (6.18). null = "
             "the version's (none under CFS).")
      .from("versions table (docs/model.md)")
      .bind(&Params::kernel, &KernelParams::sched_normalized_base_slice_ns);
  t.add("kernel.sched.base_slice_ns", PType::Int, nullptr)
      .range(10000, 1e9)
      .units("ns")
      .computed()
      .kname("sysctl_sched_base_slice (/sys/kernel/debug/sched/base_slice_ns)")
      .means("EEVDF slice of every nice-0 thread: its virtual deadline is its vruntime plus this; null = "
             "kernel.sched.normalized_base_slice_ns * (1 + ilog2(ncpus)) (1.5 ms at 2 CPUs on 6.6, 1.4 ms on "
             "6.18). Ignored under CFS.")
      .from("kernel default scaling (LOG)")
      .bind(&Params::kernel, &KernelParams::sched_base_slice_ns);
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
  declare_cost(t, "context_switch_ns", 786.25, &Costs::context_switch_ns, "__schedule, context_switch",
               "One context switch, ns.")
      .from("measured: scripts/machine/ctxswitch.c context_switch_ns (two SCHED_BATCH threads on one CPU both "
            "calling sched_yield: half of one yield that switches away and back, minus one yield with nobody "
            "else runnable; p10 of 4000, trusted), the median of three calibrate-machine --only ctxswitch runs, "
            "each the mean of CPUs 0 and 1 (751, 786.5, 786.25), 2026-12-03 11:54 UTC, the 2 vCPUs of the "
            "development machine (AMD EPYC VM), load average 0.8 and falling; "
            "results/reference/machine/ctxswitch-2026-12-03/; untraced (a calibration since 2026-12-08 takes "
            "ctxswitch.c traced as a capture is, one sched_switch event more)");
  declare_cost(t, "wakeup_local_ns", 596, &Costs::wakeup_local_ns, "try_to_wake_up, ttwu_do_activate",
               "Waking a sleeping thread of the waker's own CPU (a NAPI kthread, ksoftirqd, the vhost worker), "
               "paid by the waker, ns.")
      .from("measured: scripts/machine/ctxswitch.c wakeup_local_ns (FUTEX_WAKE of a SCHED_BATCH sleeper on the "
            "waker's CPU minus one that wakes nobody; p10 of 4000, trusted), the median of three "
            "calibrate-machine --only ctxswitch runs, each the mean of CPUs 0 and 1 (570.5, 596, 601), "
            "2026-12-03 11:54 UTC; results/reference/machine/ctxswitch-2026-12-03/; untraced (a calibration since "
            "2026-12-08 takes ctxswitch.c traced as a capture is, one sched_wakeup event more)");

  t.finalize([](Params& p, std::vector<std::string>&) {
    // sched_init_granularity() with SCHED_TUNABLESCALING_LOG: factor
    // 1 + ilog2(min(ncpus, 8)).
    double factor = 1 + std::floor(std::log2(std::min(p.cpus, 8)));
    KernelParams& k = p.kernel;
    if (std::isnan(k.sched_latency_ns)) k.sched_latency_ns = 6e6 * factor;
    if (std::isnan(k.sched_min_granularity_ns)) k.sched_min_granularity_ns = 0.75e6 * factor;
    if (std::isnan(k.sched_wakeup_granularity_ns)) k.sched_wakeup_granularity_ns = 1e6 * factor;
    if (k.sched_policy != SchedPolicy::Cfs && std::isnan(k.sched_base_slice_ns)) {
      if (std::isnan(k.sched_normalized_base_slice_ns))
        throw ParamError("kernel.sched.normalized_base_slice_ns",
                         std::string("expected a value: kernel ") + version_name(k.version) +
                             " has no EEVDF base slice, and kernel.sched.policy is EEVDF");
      k.sched_base_slice_ns = k.sched_normalized_base_slice_ns * factor;
    }
  });
}

}  // namespace tunsim
