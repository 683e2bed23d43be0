// Interrupts by time alone (models/irq/): the scheduler tick and irq_exit()
// running a pending NET_RX (kernel/softirq.c irq_exit -> invoke_softirq).
#include <doctest/doctest.h>

#include "models/irq/irq.hpp"
#include "tests/models/rig.hpp"

using namespace tunsim;
using testrig::Rig;

TEST_CASE("irq: a tick with NET_RX pending in process context asks for the softirq at irq exit") {
  // HZ 250: the first tick at 4 ms.  NET_RX pending, bh enabled, not in a
  // softirq: irq_exit would run it.  With bh disabled it would not.
  Rig r("v1_napi");
  r.k->cpu(0).net_rx_pending = true;
  r.ctx.now = 3.9e-3;
  CHECK_FALSE(advance_time_events(r.ctx));  // before the tick
  r.ctx.now = 4.0e-3;
  CHECK(advance_time_events(r.ctx));
  CHECK(r.k->cpu(0).next_tick == doctest::Approx(8e-3));
  r.k->cpu(0).bh_disabled = 1;
  r.ctx.now = 8.0e-3;
  CHECK_FALSE(advance_time_events(r.ctx));
}

TEST_CASE("irq: a sleeping thread's timer wakes it when the running thread passes its time") {
  // ksoftirqd asleep with a timer at 1 ms (as a sleeping sender would be):
  // at 0.5 ms nothing, at 1 ms it is runnable (try_to_wake_up).
  Rig r("v1_napi");
  Thread* ks = r.k->cpu(0).ksoftirqd;
  ks->wake_at = 1e-3;
  r.ctx.now = 0.5e-3;
  advance_time_events(r.ctx);
  CHECK(ks->state == Thread::State::Sleeping);
  r.ctx.now = 1e-3;
  advance_time_events(r.ctx);
  CHECK(ks->state == Thread::State::Runnable);
}
