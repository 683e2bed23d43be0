// The fair scheduling class (kernel/sched/fair.c) as it arbitrates one CPU
// between nice-0 threads (a sender, ksoftirqd, a NAPI kthread), with the
// policy of the scenario's kernel (kernel.sched.policy):
//  - CFS (4.9-6.5, cfs.cpp): vruntime; a woken thread is placed at
//    max(vruntime, min_vruntime - sched_latency/2) (GENTLE_FAIR_SLEEPERS) and
//    preempts when it lags by more than sched_wakeup_granularity; a new task
//    starts one slice after min_vruntime (START_DEBIT); the tick preempts
//    after the slice latency / nr_running (check_preempt_tick).
//  - EEVDF as in 6.6 or 6.18 (eevdf.cpp): lag, virtual deadline, eligibility
//    against the average vruntime, RUN_TO_PARITY / the protected slice,
//    placement that preserves lag, 6.18's delayed dequeue.
// Preemption sets need_resched; the running code acts on it at its next
// preemption point (models/sched/schedule.hpp).
#pragma once
#include "models/kernel/kernel.hpp"

namespace tunsim {

// update_curr(): charge the current thread's run time up to `now` (EEVDF:
// and refresh its deadline, which may request a reschedule).
void sched_update_curr(Kernel& k, Cpu& cpu, double now);
// try_to_wake_up of a sleeping thread on `cpu` at `now` (a new task's first
// activation is wake_up_new_task): place it and check wake-up preemption.
void sched_wakeup(Kernel& k, Cpu& cpu, Thread* t, double now);
// dequeue_task of the current thread that goes to sleep (or ends): EEVDF
// stores its lag, or (6.18) keeps it queued while it is not eligible.  The
// caller sets its state.
void sched_sleep(Kernel& k, Cpu& cpu, Thread* t, double now);
// scheduler_tick for the current thread.
void sched_tick(Kernel& k, Cpu& cpu, double now);
// pick_next_task_fair: the runnable thread to run next, the current one
// included while it is runnable (nullptr: idle).  Finishes the delayed
// dequeue of a thread it would pick (6.18).
Thread* sched_pick_next(Kernel& k, Cpu& cpu);
// Make `next` current at `now` (set_next_entity when it is not the thread
// that ran before).
void sched_switch_to(Kernel& k, Cpu& cpu, Thread* next, double now);
// A thread that exists before the run and sleeps (a kthread, the vhost
// worker): a long sleeper, placed by its first wake-up alone.
void sched_init_sleeper(Kernel& k, Cpu& cpu, Thread* t);
// A thread the experiment starts (a writer): a new task, placed by
// wake_up_new_task at its first activation.
void sched_init_new_task(Kernel& k, Cpu& cpu, Thread* t);

// The policies, behind the functions above.
namespace cfs {
void place_new(Kernel& k, Cpu& cpu, Thread* t);
void wakeup(Kernel& k, Cpu& cpu, Thread* t, double now);
void tick(Kernel& k, Cpu& cpu, double now);
Thread* pick(Cpu& cpu);
}  // namespace cfs
namespace eevdf {
bool on_rq(const Thread* t);
double avg_vruntime(const Cpu& cpu);
bool eligible(const Cpu& cpu, const Thread* t);
void update_curr(Kernel& k, Cpu& cpu, Thread* curr);
void wakeup(Kernel& k, Cpu& cpu, Thread* t, double now);
void sleep(Kernel& k, Cpu& cpu, Thread* t);
// pick_eevdf (6.6) / __pick_eevdf(protect) (6.18); does not change state.
Thread* pick(const Kernel& k, const Cpu& cpu, bool protect);
Thread* pick_next(Kernel& k, Cpu& cpu);
void set_next(Kernel& k, Thread* t);
}  // namespace eevdf

}  // namespace tunsim
