// How a simulated thread gives up its CPU and gets it back
// (kernel/sched/core.c: __schedule, try_to_wake_up, _cond_resched), on top of
// the fair class (fair.hpp) and the engine's Exec.
#pragma once
#include "models/kernel/kernel.hpp"

namespace tunsim {

// __schedule() from the running thread: pending tick work first, then the
// thread leaves the CPU in state `st` (Sleeping with a timer at wake_at >= 0,
// Runnable, or Dead); the fair class picks the next thread (possibly this
// one again, when it stays Runnable) and it is handed the CPU (or an RPS
// IPI's interrupt context takes an idle CPU, or it idles).  A thread that
// goes to sleep on a CPU with nothing else to run spends a context switch
// getting there, and a wake-up meanwhile cancels the sleep (6.18
// try_to_wake_up -> ttwu_runnable: still queued, it is only set running
// again): then it returns false, the thread still holds its CPU, and the
// caller checks its work again.  Else true.
bool schedule_out(Ctx& ctx, Thread::State st, double wake_at = -1);
// Waits until this thread holds its CPU again: granted by the thread that
// gave it up, or its timer fires on an idle CPU and it takes the CPU itself.
// Pays the context switch when another thread ran last.
void wait_for_cpu(Ctx& ctx);
// schedule_out, then wait_for_cpu (not after Dead).
void schedule(Ctx& ctx, Thread::State st, double wake_at = -1);
// _cond_resched(): if a reschedule is due, schedule() and stay runnable.
// Returns true when it called schedule().  In unit tests (no Exec) nothing
// switches.
bool cond_resched(Ctx& ctx);
// might_resched() inside might_sleep(): a reschedule point only under
// CONFIG_PREEMPT_VOLUNTARY (kernel.preempt voluntary); under full
// preemption the point is preemptible too, under none it does nothing.
bool might_resched(Ctx& ctx);
// A preemption point of a fully preemptible kernel (kernel.preempt full)
// outside bh-disabled and softirq sections; nothing under none or
// voluntary.  Inline: once a packet, and rarely under full preemption.
inline bool preempt_point(Ctx& ctx) {
  if (ctx.k->p.kernel.preempt != Preempt::Full) return false;
  if (ctx.cpu->in_softirq || ctx.cpu->bh_disabled) return false;
  return cond_resched(ctx);
}
// wake_up_process(t) from this context at ctx.now: t on this CPU or on
// another one of the same sharing group; an idle CPU is handed to it.
void wake_up_process(Ctx& ctx, Thread* t);
// Wakes the threads queued in Kernel::deferred_wakeups (by code that had no
// context at hand) from this context; inline when none is queued.
void wake_up_deferred_queued(Ctx& ctx);
inline void wake_up_deferred(Ctx& ctx) {
  if (!ctx.k->deferred_wakeups.empty()) wake_up_deferred_queued(ctx);
}

}  // namespace tunsim
