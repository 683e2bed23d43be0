// CFS as in 4.9-6.5 (models/sched/, kernel/sched/fair.c): wake-up
// preemption (check_preempt_wakeup) and the tick (check_preempt_tick).
#include <doctest/doctest.h>

#include "models/sched/cfs.hpp"
#include "tests/models/rig.hpp"

using namespace tunsim;
using nlohmann::json;

TEST_CASE("CFS: a woken thread preempts when its vruntime lags by more than the wakeup granularity") {
  Params prm = testrig::params_of(json({{"cpus", {{"count", 1}}}, {"senders", {{{"cpu", 0}}}}}));
  Kernel k(prm);
  // One CPU: latency 6 ms, min granularity 0.75 ms, wakeup granularity 1 ms.
  CHECK(k.p.kernel.sched_latency_ns == 6e6);
  CHECK(k.p.kernel.sched_wakeup_granularity_ns == 1e6);
  Thread* a = k.add_thread("vhost", 0, Thread::Kind::Sender);
  Thread* ks = k.add_thread("ksoftirqd/0", 0, Thread::Kind::Ksoftirqd);
  Cpu& cpu = k.cpu(0);
  sched_switch_to(cpu, a, 0);
  // a runs 0.5 ms: ksoftirqd (vruntime 0) is placed at max(0, min_vruntime -
  // 3 ms) = 0; gap 0.5 ms < 1 ms: no preemption.
  sched_wakeup(k, cpu, ks, 0.0005);
  CHECK_FALSE(cpu.need_resched);
  ks->state = Thread::State::Sleeping;
  // At 2 ms the gap is 2 ms > 1 ms: need_resched.
  sched_wakeup(k, cpu, ks, 0.002);
  CHECK(cpu.need_resched);
  CHECK(sched_pick_next(cpu) == ks);
}

TEST_CASE("CFS: the tick preempts after the slice latency / nr_running") {
  Params prm = testrig::params_of(json({{"cpus", {{"count", 1}}}, {"senders", {{{"cpu", 0}}}}}));
  Kernel k(prm);
  Thread* a = k.add_thread("writer", 0, Thread::Kind::Sender);
  Thread* b = k.add_thread("ksoftirqd/0", 0, Thread::Kind::Ksoftirqd);
  Cpu& cpu = k.cpu(0);
  sched_switch_to(cpu, a, 0);
  b->state = Thread::State::Runnable;
  b->vruntime = 0;
  // Two runnable: slice = 6 ms / 2 = 3 ms.  At 2.9 ms a's vruntime leads b's
  // by 2.9 ms < 3 ms: no; at 3.1 ms delta_exec > 3 ms: preempt.
  sched_tick(k, cpu, 0.0029);
  CHECK_FALSE(cpu.need_resched);
  sched_tick(k, cpu, 0.0031);
  CHECK(cpu.need_resched);
}
