// The vhost worker (drivers/vhost/vhost.c: vhost_worker, a kthread, 4.9 ...
// 6.1; vhost_run_work_list in a vhost_task, 6.4 ... 6.18): runs the TX
// queue's handle_tx work when the guest kicks or a zerocopy completion
// queues it, runs it again while it is requeued (schedule() first when a
// reschedule is due: need_resched -> schedule(), or cond_resched()), and
// sleeps when no work is queued.
#include <algorithm>
#include <cmath>

#include "models/irq/irq.hpp"
#include "models/sched/schedule.hpp"
#include "models/softirq/softirq.hpp"
#include "models/vhost/vhost.hpp"

namespace tunsim {

void vhost_worker(Ctx& ctx, VhostTx& v) {
  Kernel& k = *ctx.k;
  for (;;) {
    wait_for_cpu(ctx);
    for (;;) {
      v.poll_queued = false;  // the work leaves the list as it runs
      TxResult r = handle_tx(ctx, v);
      if (r == TxResult::Stop) {
        schedule_out(ctx, Thread::State::Dead);
        return;
      }
      if (advance_time_events(ctx)) do_softirq(ctx);
      wake_up_deferred(ctx);
      if (r == TxResult::Requeued || v.poll_queued) {
        cond_resched(ctx);  // then the queued work
        continue;
      }
      double wake = vhost_wake_time(ctx, v);
      if (r == TxResult::Stalled || r == TxResult::WriteSpace || (!std::isfinite(wake) && v.inflight > 0)) {
        // Zerocopy buffers in flight: the completion that releases them
        // queues the work (vhost_zerocopy_callback); the tap's send buffer
        // full: tun_sock_write_space does (the TX poll's wake-up), the
        // guest's kicks being off.  The timer only ends the run.
        if (!schedule_out(ctx, Thread::State::Sleeping, k.end())) continue;  // woken on its way to idle
        break;
      }
      // Asleep until the guest's kick; a run that ends first wakes it to stop.
      if (!schedule_out(ctx, Thread::State::Sleeping, std::isfinite(wake) ? std::min(wake, k.end()) : k.end()))
        continue;  // woken (or its timer due) on its way to idle: the work again
      break;
    }
  }
}

}  // namespace tunsim
