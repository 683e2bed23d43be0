// How a simulated thread gives up its CPU and gets it back
// (kernel/sched/core.c: __schedule, try_to_wake_up on an idle CPU), on top of
// CFS (cfs.hpp) and the engine's Exec.
#pragma once
#include "models/kernel/kernel.hpp"

namespace tunsim {

// __schedule() from the running thread: pending tick work first, then the
// thread leaves the CPU in state `st` (Sleeping with a timer at wake_at >= 0,
// Runnable, or Dead); CFS picks the next runnable thread and it is handed the
// CPU (or an RPS IPI's interrupt context takes an idle CPU, or it idles).
void schedule_out(Ctx& ctx, Thread::State st, double wake_at = -1);
// Waits until this thread holds its CPU again: granted by the thread that
// gave it up, or its timer fires on an idle CPU and it takes the CPU itself.
// Pays the context switch when another thread ran last.
void wait_for_cpu(Ctx& ctx);
// schedule_out, then wait_for_cpu (not after Dead).
void schedule(Ctx& ctx, Thread::State st, double wake_at = -1);

}  // namespace tunsim
