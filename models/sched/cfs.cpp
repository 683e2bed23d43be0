#include "models/sched/cfs.hpp"

#include <algorithm>


namespace tunsim {

void sched_update_curr(Cpu& cpu, double now) {
  Thread* t = cpu.current;
  if (!t) return;
  double delta = now - t->exec_start;
  if (delta <= 0) return;
  t->vruntime += delta * 1e9;
  t->sum_exec += delta * 1e9;
  t->exec_start = now;
  double m = t->vruntime;
  for (Thread* o : cpu.threads)
    if (o != t && o->state == Thread::State::Runnable) m = std::min(m, o->vruntime);
  cpu.min_vruntime = std::max(cpu.min_vruntime, m);
}

void sched_wakeup(Kernel& k, Cpu& cpu, Thread* t, double now) {
  if (t->state != Thread::State::Sleeping) return;
  sched_update_curr(cpu, now);
  t->state = Thread::State::Runnable;
  t->wake_at = -1;
  double thresh = k.p.kernel.sched_latency_ns / 2;
  t->vruntime = std::max(t->vruntime, cpu.min_vruntime - thresh);
  if (cpu.current && cpu.current != t &&
      cpu.current->vruntime - t->vruntime > k.p.kernel.sched_wakeup_granularity_ns)
    cpu.need_resched = true;
  if (!cpu.current) cpu.need_resched = true;
}

void sched_tick(Kernel& k, Cpu& cpu, double now) {
  Thread* curr = cpu.current;
  if (!curr) return;
  sched_update_curr(cpu, now);
  int nr = 1;
  Thread* leftmost = nullptr;
  for (Thread* o : cpu.threads)
    if (o != curr && o->state == Thread::State::Runnable) {
      ++nr;
      if (!leftmost || o->vruntime < leftmost->vruntime) leftmost = o;
    }
  if (!leftmost) return;
  const auto& kp = k.p.kernel;
  double period = std::max(kp.sched_latency_ns, nr * kp.sched_min_granularity_ns);
  double ideal = period / nr;
  double delta_exec = curr->sum_exec - curr->slice_start_sum;
  if (delta_exec > ideal) {
    cpu.need_resched = true;
    return;
  }
  if (delta_exec < kp.sched_min_granularity_ns) return;
  if (curr->vruntime - leftmost->vruntime > ideal) cpu.need_resched = true;
}

Thread* sched_pick_next(Cpu& cpu) {
  Thread* best = nullptr;
  for (Thread* o : cpu.threads)
    if (o->state == Thread::State::Runnable &&
        (!best || o->vruntime < best->vruntime || (o->vruntime == best->vruntime && o->pid < best->pid)))
      best = o;
  return best;
}

void sched_switch_to(Cpu& cpu, Thread* next, double now) {
  cpu.current = next;
  cpu.need_resched = false;
  if (!next) return;
  next->state = Thread::State::Running;
  next->exec_start = now;
  next->slice_start_sum = next->sum_exec;
}

}  // namespace tunsim
