#include "models/sched/schedule.hpp"

#include <algorithm>
#include <cmath>

#include "models/irq/irq.hpp"
#include "models/sched/cfs.hpp"
#include "models/softirq/softirq.hpp"

namespace tunsim {

namespace {
double first_tick_after(const Kernel& k, double t) {
  return (std::floor(t * k.p.kernel.hz + 1e-9) + 1) / k.p.kernel.hz;
}
}  // namespace

void schedule_out(Ctx& ctx, Thread::State st, double wake_at) {
  Cpu& cpu = *ctx.cpu;
  if (advance_time_events(ctx)) do_softirq(ctx);
  sched_update_curr(cpu, ctx.now);
  Thread* self = ctx.thread;
  self->state = st;
  self->wake_at = wake_at;
  Thread* next = sched_pick_next(cpu);
  if (next) {
    sched_switch_to(cpu, next, ctx.now);
    ctx.exec->grant(next, ctx.now);
  } else if (cpu.ipi_pending && cpu.irq) {
    // Idle, with an RPS IPI on its way: the interrupt takes the CPU.
    sched_switch_to(cpu, nullptr, ctx.now);
    cpu.current = cpu.irq;
    ctx.exec->grant(cpu.irq, std::max(ctx.now, cpu.ipi_at));
  } else {
    sched_switch_to(cpu, nullptr, ctx.now);
  }
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
      sched_switch_to(cpu, t, at);
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
  schedule_out(ctx, st, wake_at);
  if (st != Thread::State::Dead) wait_for_cpu(ctx);
}

}  // namespace tunsim
