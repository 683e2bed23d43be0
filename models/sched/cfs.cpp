// CFS (kernel/sched/fair.c, 4.9.0 ... 6.5.0 as docs/kernel-mechanisms.md
// section 9 describes it), nice-0 threads on one CPU.
#include <algorithm>

#include "models/sched/fair.hpp"

namespace tunsim::cfs {

namespace {
int queued_others(const Cpu& cpu, const Thread* t) {
  int n = 0;
  for (Thread* o : cpu.threads)
    if (o != t && (o->state == Thread::State::Running || o->state == Thread::State::Runnable)) ++n;
  return n;
}
// __sched_period(n): sched_latency, or n * min_granularity past sched_nr_latency (8).
double sched_period(const KernelParams& kp, int n) {
  return n > 8 ? n * kp.sched_min_granularity_ns : kp.sched_latency_ns;
}
}  // namespace

void place_new(Kernel& k, Cpu& cpu, Thread* t) {
  // task_fork_fair -> place_entity(initial): START_DEBIT, one sched_vslice
  // after min_vruntime, the new task counted on the queue:
  // __sched_period(nr + 1) * w / (W + w).  Its parent's vruntime (the lower
  // bound the kernel also applies) is on another CPU and not modelled.
  int nr = queued_others(cpu, t);
  t->vruntime = cpu.min_vruntime + sched_period(k.p.kernel, nr + 1) / (nr + 1);
}

void wakeup(Kernel& k, Cpu& cpu, Thread* t, double) {
  // place_entity(!initial): GENTLE_FAIR_SLEEPERS gives at most half a
  // latency of credit; a task never gains from sleeping longer.
  if (!t->fork_pending) t->vruntime = std::max(t->vruntime, cpu.min_vruntime - k.p.kernel.sched_latency_ns / 2);
  // check_preempt_wakeup -> wakeup_preempt_entity: preempt when the woken
  // task's vruntime is behind by more than the wakeup granularity.
  if (cpu.current && cpu.current != t && cpu.current->kind != Thread::Kind::Irq && !cpu.need_resched &&
      cpu.current->vruntime - t->vruntime > k.p.kernel.sched_wakeup_granularity_ns)
    cpu.need_resched = true;
}

void tick(Kernel& k, Cpu& cpu, double) {
  // check_preempt_tick
  Thread* curr = cpu.current;
  int nr = 1;
  Thread* leftmost = nullptr;
  for (Thread* o : cpu.threads)
    if (o != curr && o->state == Thread::State::Runnable) {
      ++nr;
      if (!leftmost || o->vruntime < leftmost->vruntime) leftmost = o;
    }
  if (!leftmost) return;
  const auto& kp = k.p.kernel;
  double ideal = sched_period(kp, nr) / nr;
  double delta_exec = curr->sum_exec - curr->slice_start_sum;
  if (delta_exec > ideal) {
    cpu.need_resched = true;
    return;
  }
  if (delta_exec < kp.sched_min_granularity_ns) return;
  if (curr->vruntime - leftmost->vruntime > ideal) cpu.need_resched = true;
}

Thread* pick(Cpu& cpu) {
  // pick_next_entity: the lowest vruntime (the current task included while
  // it is runnable); equal vruntimes by pid.
  Thread* best = nullptr;
  for (Thread* o : cpu.threads)
    if ((o->state == Thread::State::Runnable || (o == cpu.current && o->state == Thread::State::Running)) &&
        (!best || o->vruntime < best->vruntime || (o->vruntime == best->vruntime && o->pid < best->pid)))
      best = o;
  return best;
}

}  // namespace tunsim::cfs
