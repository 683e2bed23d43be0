// EEVDF (kernel/sched/fair.c) for nice-0 threads on one CPU, as in 6.6.9
// and as in 6.18.8 (docs/kernel-mechanisms.md section 9).  Every weight is
// 1024, so calc_delta_fair is the identity and weighted means are plain
// means.  Eligibility is evaluated as the kernel does, on differences
// (avg_vruntime's sum against the entity's key), so that an entity at the
// average is eligible exactly.
#include <algorithm>
#include <cmath>

#include "models/sched/fair.hpp"

namespace tunsim::eevdf {

namespace {
bool v618(const Kernel& k) { return k.p.kernel.sched_policy == SchedPolicy::Eevdf618; }
double base_slice(const Kernel& k) { return k.p.kernel.sched_base_slice_ns; }

int nr_queued(const Cpu& cpu) {
  int n = 0;
  for (Thread* o : cpu.threads)
    if (on_rq(o)) ++n;
  return n;
}

// update_entity_lag(): vlag = V - v, clamped to +-max(2 * slice, TICK_NSEC).
double entity_lag(const Kernel& k, const Cpu& cpu, const Thread* t) {
  double limit = std::max(2 * t->slice, 1e9 / k.p.kernel.hz);
  return std::clamp(avg_vruntime(cpu) - t->vruntime, -limit, limit);
}

// place_entity(): at the average of the others, minus the stored lag scaled
// so that the lag survives the entity's own weight joining the average
// (PLACE_LAG); deadline one slice later, half a slice for a new task where
// ENQUEUE_INITIAL reaches the last placement (6.18; in 6.6
// wake_up_new_task places again without it).  `t` is not queued here.
void place_entity(const Kernel& k, const Cpu& cpu, Thread* t, bool initial) {
  double V = avg_vruntime(cpu);
  int n = nr_queued(cpu);
  double lag = 0;
  if (n > 0 && t->vlag != 0) lag = t->vlag * (n + 1) / n;
  t->slice = base_slice(k);
  t->vruntime = V - lag;
  double vslice = t->slice;
  if (initial && v618(k)) vslice /= 2;  // PLACE_DEADLINE_INITIAL
  t->deadline = t->vruntime + vslice;
}

// The eligible entity with the earliest deadline; ties go to the lower
// vruntime, then to creation order (the tree's order).
Thread* earliest_eligible(const Cpu& cpu, const Thread* skip) {
  Thread* best = nullptr;
  for (Thread* o : cpu.threads) {
    if (o == skip || !on_rq(o) || !eligible(cpu, o)) continue;
    if (!best || o->deadline < best->deadline ||
        (o->deadline == best->deadline &&
         (o->vruntime < best->vruntime || (o->vruntime == best->vruntime && o->id < best->id))))
      best = o;
  }
  return best;
}

// finish_delayed_dequeue_entity() with DELAY_ZERO: off the queue, a
// positive lag clipped to zero.
void finish_delayed(const Kernel& k, const Cpu& cpu, Thread* t) {
  t->vlag = std::min(entity_lag(k, cpu, t), 0.0);
  t->sched_delayed = false;
}
}  // namespace

bool on_rq(const Thread* t) {
  return t->state == Thread::State::Running || t->state == Thread::State::Runnable ||
         (t->state == Thread::State::Sleeping && t->sched_delayed);
}

double avg_vruntime(const Cpu& cpu) {
  double sum = 0;
  int n = 0;
  for (Thread* o : cpu.threads)
    if (on_rq(o)) {
      sum += o->vruntime - cpu.min_vruntime;
      ++n;
    }
  // An empty queue's average is its min_vruntime.
  return n ? cpu.min_vruntime + sum / n : cpu.min_vruntime;
}

bool eligible(const Cpu& cpu, const Thread* t) {
  // entity_eligible(): avg >= (v - v0) * load, i.e. the sum of the others'
  // differences to v is not negative.
  double sum = 0;
  for (Thread* o : cpu.threads)
    if (on_rq(o)) sum += o->vruntime - t->vruntime;
  return sum >= 0;
}

void update_curr(Kernel& k, Cpu& cpu, Thread* curr) {
  if (!on_rq(curr)) return;
  // update_deadline(): once the vruntime reaches the deadline, a new slice.
  bool crossed = false;
  if (curr->vruntime >= curr->deadline) {
    curr->slice = base_slice(k);
    curr->deadline = curr->vruntime + curr->slice;
    crossed = true;
  }
  if (nr_queued(cpu) <= 1) return;
  if (v618(k)) {
    // 6.18: resched when the deadline was crossed or the protected slice is over.
    if (crossed || !(curr->vprot > curr->vruntime)) cpu.need_resched = true;
  } else if (crossed) {
    cpu.need_resched = true;  // 6.6: inside update_deadline
  }
}

Thread* pick(const Kernel& k, const Cpu& cpu, bool protect) {
  Thread* curr = cpu.current && cpu.current->kind != Thread::Kind::Irq && on_rq(cpu.current) ? cpu.current : nullptr;
  if (v618(k)) {
    // __pick_eevdf(): the only queued entity; curr while eligible and its
    // slice is protected; else the earliest eligible deadline, curr only
    // when its deadline is strictly earlier.
    if (nr_queued(cpu) == 1)
      for (Thread* o : cpu.threads)
        if (on_rq(o)) return o;
    if (curr && !eligible(cpu, curr)) curr = nullptr;
    if (curr && protect && curr->vprot > curr->vruntime) return curr;
    Thread* best = earliest_eligible(cpu, curr);
    if (!best || (curr && curr->deadline < best->deadline)) best = curr;
    return best;
  }
  // 6.6 pick_eevdf(): curr only while eligible; RUN_TO_PARITY keeps it while
  // its deadline is the one it was picked with (the marker in vlag); else the
  // earliest eligible deadline, ties kept by curr.
  if (curr && !eligible(cpu, curr)) curr = nullptr;
  if (curr && curr->vlag == curr->deadline) return curr;
  Thread* best = earliest_eligible(cpu, curr);
  if (!best || (curr && curr->deadline <= best->deadline)) best = curr;
  return best;
}

void wakeup(Kernel& k, Cpu& cpu, Thread* t, double) {
  if (t->sched_delayed) {
    // 6.18 ttwu_runnable -> requeue_delayed_entity: still queued; a positive
    // lag is dropped and the entity re-placed at the average of the others.
    double lag = entity_lag(k, cpu, t);
    t->sched_delayed = false;
    if (lag > 0) {  // sched_delayed is clear: off the queue while placing
      t->vlag = 0;
      place_entity(k, cpu, t, false);
    }
  } else {
    if (t->fork_pending) t->vlag = 0;  // __sched_fork
    place_entity(k, cpu, t, t->fork_pending);
  }
  t->state = Thread::State::Runnable;
  // check_preempt_wakeup(_fair): preempt when the woken entity would be
  // picked now (6.18: with the current slice protected, equal slices).
  if (!cpu.current || cpu.current->kind == Thread::Kind::Irq || cpu.need_resched) return;
  if (pick(k, cpu, true) == t) cpu.need_resched = true;
}

void sleep(Kernel& k, Cpu& cpu, Thread* t) {
  // 6.18 DELAY_DEQUEUE: a task that sleeps while not eligible stays queued.
  if (v618(k) && !eligible(cpu, t)) {
    t->sched_delayed = true;
    return;
  }
  t->vlag = entity_lag(k, cpu, t);
  t->sched_delayed = false;
}

Thread* pick_next(Kernel& k, Cpu& cpu) {
  for (;;) {
    Thread* t = pick(k, cpu, true);
    if (!t || !t->sched_delayed) return t;
    // pick_next_entity: a delayed entity picked is dequeued for real, then pick again.
    finish_delayed(k, cpu, t);
  }
}

void set_next(Kernel& k, Thread* t) {
  if (v618(k))
    t->vprot = t->deadline;  // set_protect_slice, equal slices
  else
    t->vlag = t->deadline;  // 6.6: the RUN_TO_PARITY marker
}

}  // namespace tunsim::eevdf
