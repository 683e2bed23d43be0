// ksoftirqd/N: the per-CPU thread __do_softirq hands its work to
// (kernel/softirq.c: run_ksoftirqd under smpboot_thread_fn).
#include "models/irq/irq.hpp"
#include "models/sched/schedule.hpp"
#include "models/softirq/softirq.hpp"

namespace tunsim {

void run_ksoftirqd(Ctx& ctx) {
  Cpu& cpu = *ctx.cpu;
  Kernel& k = *ctx.k;
  for (;;) {
    wait_for_cpu(ctx);
    do {
      // Nothing runs past the simulated duration, so the counts are a
      // snapshot at its end (what is still queued is in flight).
      while (cpu.net_rx_pending && ctx.now < k.end()) {
        __do_softirq(ctx);
        // Ticks and wake-ups; a softirq raised meanwhile is picked up by
        // this loop, so irq_exit's answer is not needed here.
        advance_time_events(ctx);
        cond_resched(ctx);
      }
    } while (!schedule_out(ctx, Thread::State::Sleeping));  // woken on its way to idle: look again
  }
}

}  // namespace tunsim
