// The vhost worker kthread (drivers/vhost/vhost.c vhost_worker): runs the TX
// queue's handle_tx work when the guest kicks, requeues it when the weight is
// reached, sleeps when the ring is empty.
#include <algorithm>
#include <cmath>

#include "models/irq/irq.hpp"
#include "models/sched/schedule.hpp"
#include "models/softirq/softirq.hpp"
#include "models/vhost/vhost.hpp"

namespace tunsim {

void vhost_worker(Ctx& ctx, VhostTx& v) {
  Cpu& cpu = *ctx.cpu;
  Kernel& k = *ctx.k;
  for (;;) {
    wait_for_cpu(ctx);
    for (;;) {
      TxResult r = handle_tx(ctx, v);
      if (r == TxResult::Stop) {
        schedule_out(ctx, Thread::State::Dead);
        return;
      }
      if (r == TxResult::Requeued) {
        // vhost_worker: the work was requeued; schedule() if need_resched.
        if (advance_time_events(ctx)) do_softirq(ctx);
        if (cpu.need_resched) {
          schedule_out(ctx, Thread::State::Runnable);
          break;
        }
        continue;
      }
      double wake = vhost_wake_time(ctx, v);
      if (!std::isfinite(wake) || wake >= k.end()) {
        ctx.now = std::max(ctx.now, k.end());
        schedule_out(ctx, Thread::State::Dead);
        return;
      }
      schedule_out(ctx, Thread::State::Sleeping, wake);
      break;
    }
  }
}

}  // namespace tunsim
