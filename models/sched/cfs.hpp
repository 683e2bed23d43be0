// CFS as it arbitrates one CPU between the sender thread and ksoftirqd
// (kernel/sched/fair.c, 4.9-6.5 semantics, all threads nice 0):
// vruntime advances with run time; a woken thread is placed at
// max(vruntime, min_vruntime - sched_latency/2) (GENTLE_FAIR_SLEEPERS) and
// preempts the current one when their vruntime gap exceeds
// sched_wakeup_granularity (check_preempt_wakeup); at every tick the current
// thread is preempted once it ran its slice, sched_latency / nr_running but at
// least sched_min_granularity (check_preempt_tick).  Preemption sets
// need_resched; the running code acts on it at its next preemption point, as
// a CONFIG_PREEMPT_VOLUNTARY kernel does.
#pragma once
#include "models/kernel/kernel.hpp"

namespace tunsim {

// Charge run time of the current thread up to `now`.
void sched_update_curr(Cpu& cpu, double now);
// try_to_wake_up of a sleeping thread on `cpu` at `now`.
void sched_wakeup(Kernel& k, Cpu& cpu, Thread* t, double now);
// scheduler_tick for the current thread.
void sched_tick(Kernel& k, Cpu& cpu, double now);
// The runnable thread CFS picks next (lowest vruntime, then lowest pid), or
// nullptr.  Does not change state.
Thread* sched_pick_next(Cpu& cpu);
// Make `next` current at `now` (after the previous one stopped running).
void sched_switch_to(Cpu& cpu, Thread* next, double now);

}  // namespace tunsim
