#include "models/sched/schedule.hpp"

#include <algorithm>
#include <cmath>

#include "models/irq/irq.hpp"
#include "models/sched/fair.hpp"
#include "models/softirq/softirq.hpp"

namespace tunsim {

namespace {
double first_tick_after(const Kernel& k, double t) {
  return (std::floor(t * k.p.kernel.hz + 1e-9) + 1) / k.p.kernel.hz;
}

// __schedule() of a thread going to sleep, up to the switch to the idle
// task, when no other thread of the CPU is runnable: context_switch_ns of
// its own time (ctxswitch.c measures a switch between two threads; the
// kernel's NAPI kthread takes 1.2-2.4 us from its last napi_poll to its
// sched_switch, docs/validation.md "The kthread's way to sleep").  The
// thread has set its state (set_current_state), so a try_to_wake_up from
// another CPU in that time finds it still queued and only sets it running
// (ttwu_runnable, which traces sched_wakeup on the waker's CPU), and
// __schedule then keeps it (prev->__state is TASK_RUNNING again).  Its
// timer may also expire meanwhile.  Returns true when it still sleeps.
bool deschedule_to_idle(Ctx& ctx, double wake_at) {
  Cpu& cpu = *ctx.cpu;
  for (const Thread* t : cpu.threads)
    if (t != ctx.thread && t->state == Thread::State::Runnable) return true;  // a switch to it, paid by it
  ctx.sync();  // a waker after this instant sees the window
  cpu.descheduling = ctx.thread;
  cpu.desched_woken = false;
  ctx.spend_ns(ctx.k->p.costs.context_switch_ns);
  ctx.sync();  // every waker before this instant has acted
  cpu.descheduling = nullptr;
  return !cpu.desched_woken && !(wake_at >= 0 && wake_at <= ctx.now);
}
}  // namespace

bool schedule_out(Ctx& ctx, Thread::State st, double wake_at) {
  Cpu& cpu = *ctx.cpu;
  Kernel& k = *ctx.k;
  if (advance_time_events(ctx)) do_softirq(ctx);
  if (st == Thread::State::Sleeping && ctx.exec && !deschedule_to_idle(ctx, wake_at)) return false;
  Thread* self = ctx.thread;
  if (st == Thread::State::Runnable) {
    sched_update_curr(k, cpu, ctx.now);
  } else {
    sched_sleep(k, cpu, self, ctx.now);  // dequeue_task(DEQUEUE_SLEEP)
  }
  self->state = st;
  self->wake_at = wake_at;
  if (wake_at >= 0 && wake_at < cpu.wake_bound) cpu.wake_bound = wake_at;
  Thread* next = sched_pick_next(k, cpu);
  if (next) {
    sched_switch_to(k, cpu, next, ctx.now);
    ctx.exec->grant(next, ctx.now);
  } else if (cpu.ipi_pending && cpu.irq) {
    // Idle, with an RPS IPI on its way: the interrupt takes the CPU.
    sched_switch_to(k, cpu, nullptr, ctx.now);
    cpu.current = cpu.irq;
    ctx.exec->grant(cpu.irq, std::max(ctx.now, cpu.ipi_at));
  } else {
    sched_switch_to(k, cpu, nullptr, ctx.now);
  }
  return true;
}

void wait_for_cpu(Ctx& ctx) {
  Thread* t = ctx.thread;
  Cpu& cpu = *ctx.cpu;
  Kernel& k = *ctx.k;
  bool timer = t->state == Thread::State::Sleeping && t->wake_at >= 0;
  if (!ctx.exec->wait(ctx, timer ? t->wake_at : -1)) {
    // The timer fired first.
    if (cpu.current == nullptr && t->state == Thread::State::Sleeping) {
      // The CPU is idle: the timer wakes us and we run at once.
      double at = t->wake_at;
      sched_wakeup(k, cpu, t, at);
      sched_switch_to(k, cpu, t, at);
      cpu.next_tick = first_tick_after(k, at);
    } else {
      // The thread holding the CPU handles our wake-up when it passes the
      // timer's time (advance_time_events) and grants us the CPU in turn.
      ctx.exec->wait(ctx, -1);
    }
  }
  // Switching from another thread costs a context switch.
  if (cpu.last_thread && cpu.last_thread != t) ctx.spend_ns(k.p.costs.context_switch_ns);
  cpu.last_thread = t;
}

void schedule(Ctx& ctx, Thread::State st, double wake_at) {
  if (schedule_out(ctx, st, wake_at) && st != Thread::State::Dead) wait_for_cpu(ctx);
}

bool cond_resched(Ctx& ctx) {
  if (!ctx.cpu->need_resched || !ctx.exec) return false;
  schedule(ctx, Thread::State::Runnable);
  return true;
}

bool might_resched(Ctx& ctx) {
  if (ctx.k->p.kernel.preempt == Preempt::None) return false;
  return cond_resched(ctx);
}

void wake_up_process(Ctx& ctx, Thread* t) {
  Kernel& k = *ctx.k;
  if (t->cpu == ctx.cpu->id) {
    // 6.18 try_to_wake_up -> ttwu_do_activate on this CPU's runqueue:
    // enqueue_task_fair and wakeup_preempt, paid by the waker.
    if (t->state == Thread::State::Sleeping) ctx.spend_ns(k.p.costs.wakeup_local_ns);
    sched_wakeup(k, *ctx.cpu, t, ctx.now);
    return;
  }
  // Another CPU's runqueue: every thread acting before us there has acted.
  ctx.sync();
  Cpu& rc = k.cpu(t->cpu);
  if (rc.descheduling == t) {  // ttwu_runnable: on its way to idle, it stays (schedule_out)
    rc.desched_woken = true;
    k.rec.sched_wakeup(ctx.now, ctx.cpu->id, ctx.thread, *t);
    return;
  }
  if (t->state != Thread::State::Sleeping) return;
  // 6.18 try_to_wake_up -> ttwu_queue_wakelist: the wake-up is queued on
  // the remote CPU's wake list and it is interrupted (an IPI; the waker
  // pays for sending it, send_ipi) to enqueue the task itself.
  const double woken = send_ipi(ctx);
  if (!rc.current && ctx.exec) {
    // An idle CPU (ttwu_queue_cond: !cpu_rq(cpu)->nr_running, so always the
    // wake list on 6.18; before the wake list, resched_curr's reschedule
    // IPI): it sits in HLT until the CALL_FUNCTION_SINGLE IPI arrives, the
    // same IPI an RPS backlog sends (__smp_call_single_queue), then
    // sched_ttwu_pending enqueues the thread (sched_wakeup is traced there,
    // on the woken CPU) and the idle task's schedule() runs it.  Until then
    // the thread is woken but not running: the NAPI it polls stays
    // scheduled (NAPI_STATE_SCHED), so the waker's next napi_schedule only
    // sets MISSED and its frames wait for that one poll.  The idle task's
    // __schedule -> context_switch(rq, idle, t) is a context switch like any
    // other (the sched_switch swapper/N ==> t of a trace): the thread starts
    // context_switch_ns after its sched_wakeup (time the CPU spends
    // switching, accounted as idle).
    double at = woken + k.p.costs.context_switch_ns * 1e-9 / rc.speed;
    sched_wakeup(k, rc, t, woken);
    sched_switch_to(k, rc, t, at);
    rc.last_thread = t;  // that switch is paid here, not again in wait_for_cpu
    rc.next_tick = first_tick_after(k, at);
    ctx.exec->grant(t, at);
    return;
  }
  sched_wakeup(k, rc, t, ctx.now);
}

void wake_up_deferred_queued(Ctx& ctx) {
  auto& list = ctx.k->deferred_wakeups;
  while (!list.empty()) {
    Thread* t = list.back();
    list.pop_back();
    if (t->state == Thread::State::Sleeping) wake_up_process(ctx, t);
  }
}

}  // namespace tunsim
