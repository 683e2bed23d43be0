// The fair class's entry points: what CFS and EEVDF share (update_curr,
// min_vruntime, set_next_entity's bookkeeping) and the choice between them.
#include <algorithm>

#include "models/sched/fair.hpp"

namespace tunsim {

namespace {
bool is_eevdf(const Kernel& k) { return k.p.kernel.sched_policy != SchedPolicy::Cfs; }

// update_min_vruntime(): max(min_vruntime, min(curr's vruntime, leftmost's));
// monotonic.  Only bookkeeping under EEVDF (the reference of an empty
// queue's average), a placement bound under CFS.
void update_min_vruntime(Cpu& cpu) {
  bool any = false;
  double m = 0;
  for (Thread* o : cpu.threads)
    if (eevdf::on_rq(o)) {
      m = any ? std::min(m, o->vruntime) : o->vruntime;
      any = true;
    }
  if (any) cpu.min_vruntime = std::max(cpu.min_vruntime, m);
}
}  // namespace

void sched_update_curr(Kernel& k, Cpu& cpu, double now) {
  Thread* t = cpu.current;
  if (!t || t->kind == Thread::Kind::Irq) return;
  double delta = now - t->exec_start;
  if (delta <= 0) return;
  t->vruntime += delta * 1e9;  // nice 0: calc_delta_fair is the identity
  t->sum_exec += delta * 1e9;
  t->exec_start = now;
  update_min_vruntime(cpu);
  if (is_eevdf(k)) eevdf::update_curr(k, cpu, t);
}

void sched_wakeup(Kernel& k, Cpu& cpu, Thread* t, double now) {
  if (t->state != Thread::State::Sleeping) return;
  // ttwu_do_wakeup's tracepoint, on the CPU whose runqueue takes t, in the
  // context of what runs there (the waker for a local wake-up, the idle task
  // or the interrupted task for a wake list or a timer).
  k.rec.sched_wakeup(now, cpu.id, cpu.current, *t);
  sched_update_curr(k, cpu, now);
  t->wake_at = -1;
  if (t->first_woken < 0) t->first_woken = now;
  if (is_eevdf(k))
    eevdf::wakeup(k, cpu, t, now);
  else
    cfs::wakeup(k, cpu, t, now);
  t->fork_pending = false;
  t->state = Thread::State::Runnable;
  if (!cpu.current) cpu.need_resched = true;
  update_min_vruntime(cpu);
}

void sched_sleep(Kernel& k, Cpu& cpu, Thread* t, double now) {
  sched_update_curr(k, cpu, now);
  if (is_eevdf(k)) eevdf::sleep(k, cpu, t);
  // CFS: a sleeping task keeps its absolute vruntime (place_entity bounds it
  // at the wake-up).
}

void sched_tick(Kernel& k, Cpu& cpu, double now) {
  Thread* curr = cpu.current;
  if (!curr || curr->kind == Thread::Kind::Irq) return;
  sched_update_curr(k, cpu, now);  // EEVDF: entity_tick is update_curr alone
  if (!is_eevdf(k)) cfs::tick(k, cpu, now);
}

Thread* sched_pick_next(Kernel& k, Cpu& cpu) { return is_eevdf(k) ? eevdf::pick_next(k, cpu) : cfs::pick(cpu); }

void sched_switch_to(Kernel& k, Cpu& cpu, Thread* next, double now) {
  Thread* prev = cpu.current;
  k.rec.sched_switch(now, cpu.id, prev, next);  // __schedule: prev != next only
  cpu.current = next;
  cpu.need_resched = false;
  if (!next) return;
  if (!prev || prev->kind == Thread::Kind::Irq) cpu.busy_since = now;  // the CPU was idle (cpus.stall)
  next->state = Thread::State::Running;
  next->exec_start = now;
  if (next->first_ran < 0) next->first_ran = now;
  if (next == prev) return;  // picked again: no set_next_entity
  next->slice_start_sum = next->sum_exec;  // prev_sum_exec_runtime
  if (is_eevdf(k)) eevdf::set_next(k, next);
}

void sched_init_sleeper(Kernel& k, Cpu& cpu, Thread* t) {
  (void)cpu;
  t->state = Thread::State::Sleeping;
  t->vlag = 0;  // EEVDF: slept long enough for any lag to be irrelevant; placed at the average
  // CFS: its own vruntime lies far behind min_vruntime, so place_entity gives
  // it min_vruntime - sched_latency/2 at its first wake-up.
  if (!is_eevdf(k)) t->vruntime = -1e18;
}

void sched_init_new_task(Kernel& k, Cpu& cpu, Thread* t) {
  t->state = Thread::State::Sleeping;
  t->fork_pending = true;
  t->vlag = 0;
  if (!is_eevdf(k)) cfs::place_new(k, cpu, t);
}

}  // namespace tunsim
