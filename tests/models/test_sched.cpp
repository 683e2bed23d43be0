// The fair class (models/sched/): CFS as in 4.9-6.5 (kernel/sched/fair.c
// place_entity, check_preempt_wakeup, check_preempt_tick) and EEVDF as in
// 6.6.9 and 6.18.8 (place_entity, update_deadline, pick_eevdf /
// __pick_eevdf, DELAY_DEQUEUE), on the hand-computed scenarios of
// docs/kernel-mechanisms.md section 9 (nice 0; times in ns of vruntime).
#include <doctest/doctest.h>

#include "models/kernel/boot.hpp"
#include "models/sched/fair.hpp"
#include "models/sched/schedule.hpp"
#include "tests/models/rig.hpp"

using namespace tunsim;
using nlohmann::json;

namespace {
constexpr double ms = 1e6;  // ns of vruntime per ms

struct SchedRig {
  std::unique_ptr<Kernel> k;
  Thread* w;
  Thread* ks;
  explicit SchedRig(const std::string& version, int cpus = 2) {
    k = std::make_unique<Kernel>(testrig::params_of(
        json({{"kernel", {{"version", version}}}, {"cpus", {{"count", cpus}}}, {"senders", {{{"cpu", 0}}}}})));
    w = k->add_thread("writer", 0, Thread::Kind::Sender);
    ks = k->add_thread("ksoftirqd/0", 0, Thread::Kind::Ksoftirqd);
  }
  Cpu& cpu() { return k->cpu(0); }
};
}  // namespace

TEST_CASE("CFS: a woken thread preempts when its vruntime lags by more than the wakeup granularity") {
  Params prm = testrig::params_of(json({{"cpus", {{"count", 1}}}, {"senders", {{{"cpu", 0}}}}}));
  Kernel k(prm);
  // One CPU: latency 6 ms, min granularity 0.75 ms, wakeup granularity 1 ms.
  CHECK(k.p.kernel.sched_latency_ns == 6e6);
  CHECK(k.p.kernel.sched_wakeup_granularity_ns == 1e6);
  Thread* a = k.add_thread("vhost", 0, Thread::Kind::Sender);
  Thread* ks = k.add_thread("ksoftirqd/0", 0, Thread::Kind::Ksoftirqd);
  Cpu& cpu = k.cpu(0);
  sched_switch_to(k, cpu, a, 0);
  // a runs 0.5 ms: ksoftirqd (vruntime 0) is placed at max(0, min_vruntime -
  // 3 ms) = 0; gap 0.5 ms < 1 ms: no preemption.
  sched_wakeup(k, cpu, ks, 0.0005);
  CHECK_FALSE(cpu.need_resched);
  ks->state = Thread::State::Sleeping;
  // At 2 ms the gap is 2 ms > 1 ms: need_resched.
  sched_wakeup(k, cpu, ks, 0.002);
  CHECK(cpu.need_resched);
  CHECK(sched_pick_next(k, cpu) == ks);
}

TEST_CASE("CFS: the tick preempts after the slice latency / nr_running") {
  Params prm = testrig::params_of(json({{"cpus", {{"count", 1}}}, {"senders", {{{"cpu", 0}}}}}));
  Kernel k(prm);
  Thread* a = k.add_thread("writer", 0, Thread::Kind::Sender);
  Thread* b = k.add_thread("ksoftirqd/0", 0, Thread::Kind::Ksoftirqd);
  Cpu& cpu = k.cpu(0);
  sched_switch_to(k, cpu, a, 0);
  b->state = Thread::State::Runnable;
  b->vruntime = 0;
  // Two runnable: slice = 6 ms / 2 = 3 ms.  At 2.9 ms a's vruntime leads b's
  // by 2.9 ms < 3 ms: no; at 3.1 ms delta_exec > 3 ms: preempt.
  sched_tick(k, cpu, 0.0029);
  CHECK_FALSE(cpu.need_resched);
  sched_tick(k, cpu, 0.0031);
  CHECK(cpu.need_resched);
}

TEST_CASE("CFS 4.9 place_entity: a long sleeper gets latency/2 of credit and preempts at once") {
  // 2 CPUs: latency 12 ms, wakeup granularity 2 ms.  W runs alone at
  // vruntime = min_vruntime = 100 ms; K last ran long ago (50 ms): placed at
  // max(50, 100 - 6) = 94 ms; vdiff 6 ms > 2 ms -> need_resched.
  SchedRig r("4.9");
  r.w->vruntime = 100 * ms;
  r.cpu().min_vruntime = 100 * ms;
  sched_switch_to(*r.k, r.cpu(), r.w, 0);
  r.ks->state = Thread::State::Sleeping;
  r.ks->vruntime = 50 * ms;
  sched_wakeup(*r.k, r.cpu(), r.ks, 0);
  CHECK(r.ks->vruntime == doctest::Approx(94 * ms));
  CHECK(r.cpu().need_resched);
}

TEST_CASE("CFS 4.9: a short sleeper keeps its vruntime and first runs at the 8 ms tick") {
  // K slept briefly at 99.5 ms: placed at max(99.5, 94) = 99.5; woken at
  // 0.1 ms, vdiff 0.6 ms < 2 ms.  Ticks at 4 and 8 ms (HZ=250), ideal
  // runtime 12 / 2 = 6 ms: at 4 ms delta_exec 4 < 6 and W.v - K.v = 4.5 <
  // 6; at 8 ms delta_exec 8 > 6 -> resched.
  SchedRig r("4.9");
  r.w->vruntime = 100 * ms;
  r.cpu().min_vruntime = 100 * ms;
  sched_switch_to(*r.k, r.cpu(), r.w, 0);
  r.ks->state = Thread::State::Sleeping;
  r.ks->vruntime = 99.5 * ms;
  sched_wakeup(*r.k, r.cpu(), r.ks, 0.1e-3);
  CHECK(r.ks->vruntime == doctest::Approx(99.5 * ms));
  CHECK_FALSE(r.cpu().need_resched);
  sched_tick(*r.k, r.cpu(), 4e-3);
  CHECK_FALSE(r.cpu().need_resched);
  sched_tick(*r.k, r.cpu(), 8e-3);
  CHECK(r.cpu().need_resched);
  CHECK(sched_pick_next(*r.k, r.cpu()) == r.ks);
}

TEST_CASE("CFS: a new task starts one slice after min_vruntime (START_DEBIT)") {
  // The parent runs alone at 100 ms: sched_vslice with the child counted =
  // 12 ms * 1024 / 2048 = 6 ms -> 106 ms.
  SchedRig r("4.9");
  r.w->vruntime = 100 * ms;
  r.cpu().min_vruntime = 100 * ms;
  sched_switch_to(*r.k, r.cpu(), r.w, 0);
  Thread* child = r.k->add_thread("child", 0, Thread::Kind::Sender);
  sched_init_new_task(*r.k, r.cpu(), child);
  CHECK(child->vruntime == doctest::Approx(106 * ms));
}

TEST_CASE("boot: a writer is a new task, ksoftirqd a long sleeper that preempts it when woken (6.1 CFS)") {
  // configs/writer-napi-2cpu.json's machine; kernel/sched/fair.c 6.1.20
  // place_entity and check_preempt_wakeup.  The writer starts at time 0 as
  // a new task; ksoftirqd/0 has slept since boot.  Woken 47 us later it is
  // placed at max(its vruntime, min_vruntime - sched_latency / 2)
  // (GENTLE_FAIR_SLEEPERS; sched_latency 12 ms with 2 CPUs): 6 ms behind
  // the writer, more than the wakeup granularity of 2 ms:
  // it preempts at the writer's next preemption point, not at the 8 ms tick
  // as when every thread started at vruntime 0.
  LoadedConfig cfg = load_config("configs/writer-napi-2cpu.json", {});
  Machine m = boot(cfg.params);
  Kernel& k = *m.k;
  Cpu& c0 = k.cpu(0);
  Thread* w = c0.threads[0];
  CHECK(w->fork_pending);
  CHECK(c0.ksoftirqd->vruntime < -1e17);  // "long ago"
  sched_wakeup(k, c0, w, 0);  // wake_up_new_task
  sched_switch_to(k, c0, w, 0);
  sched_update_curr(k, c0, 47e-6);
  sched_wakeup(k, c0, c0.ksoftirqd, 47e-6);
  CHECK(w->vruntime - c0.ksoftirqd->vruntime == doctest::Approx(6 * ms));
  CHECK(c0.need_resched);
}

TEST_CASE("EEVDF 6.6: a lag-0 wake-up during the current slice waits for the tick (RUN_TO_PARITY)") {
  // Base slice 0.75 ms * 2 = 1.5 ms.  W picked at 0 alone: v 0, deadline
  // 1.5.  K wakes at 0.4 ms with vlag 0: V = 0.4 -> K.v 0.4, deadline 1.9;
  // W eligible (0.4 <= 0.4) and its deadline is the one it was picked with:
  // no preemption.  Tick at 4 ms: W.v 4.0 >= 1.5 -> deadline 5.5, resched;
  // avg 2.2, W not eligible -> K.
  SchedRig r("6.6");
  CHECK(r.k->p.kernel.sched_base_slice_ns == 1.5 * ms);
  r.w->state = Thread::State::Sleeping;
  sched_wakeup(*r.k, r.cpu(), r.w, 0);
  sched_switch_to(*r.k, r.cpu(), r.w, 0);
  CHECK(r.w->deadline == doctest::Approx(1.5 * ms));
  r.ks->state = Thread::State::Sleeping;
  sched_wakeup(*r.k, r.cpu(), r.ks, 0.4e-3);
  CHECK(r.ks->vruntime == doctest::Approx(0.4 * ms));
  CHECK(r.ks->deadline == doctest::Approx(1.9 * ms));
  CHECK_FALSE(r.cpu().need_resched);
  sched_tick(*r.k, r.cpu(), 4e-3);
  CHECK(r.w->deadline == doctest::Approx(5.5 * ms));
  CHECK(r.cpu().need_resched);
  CHECK(eevdf::avg_vruntime(r.cpu()) == doctest::Approx(2.2 * ms));
  CHECK(sched_pick_next(*r.k, r.cpu()) == r.ks);
}

TEST_CASE("EEVDF 6.6: positive lag is preserved and preempts, negative lag waits") {
  // W alone at V = 10 ms (picked with deadline 11.5).  K wakes with vlag
  // +1 ms: lag x (1 + 1) / 1 = 2 -> K.v 8, deadline 9.5; avg 9, W not
  // eligible -> K is picked: preemption, and K's lag is 9 - 8 = 1 ms.
  SchedRig r("6.6");
  r.w->vruntime = 10 * ms;
  r.w->deadline = 11.5 * ms;
  r.cpu().min_vruntime = 10 * ms;
  sched_switch_to(*r.k, r.cpu(), r.w, 0);
  r.ks->state = Thread::State::Sleeping;
  r.ks->vlag = 1 * ms;
  sched_wakeup(*r.k, r.cpu(), r.ks, 0);
  CHECK(r.ks->vruntime == doctest::Approx(8 * ms));
  CHECK(r.ks->deadline == doctest::Approx(9.5 * ms));
  CHECK(eevdf::avg_vruntime(r.cpu()) - r.ks->vruntime == doctest::Approx(1 * ms));
  CHECK(r.cpu().need_resched);
  // Negative lag -1 ms: K.v = V + 2, deadline V + 3.5, avg V + 1: W stays
  // (eligible, deadline marker intact).  At the tick with W.v = V + 4 W has
  // crossed its deadline (V + 1.5): resched; avg V + 3, W not eligible -> K.
  SchedRig n("6.6");
  n.w->vruntime = 10 * ms;
  n.w->deadline = 11.5 * ms;
  n.cpu().min_vruntime = 10 * ms;
  sched_switch_to(*n.k, n.cpu(), n.w, 0);
  n.ks->state = Thread::State::Sleeping;
  n.ks->vlag = -1 * ms;
  sched_wakeup(*n.k, n.cpu(), n.ks, 0);
  CHECK(n.ks->vruntime == doctest::Approx(12 * ms));
  CHECK(n.ks->deadline == doctest::Approx(13.5 * ms));
  CHECK_FALSE(n.cpu().need_resched);
  sched_tick(*n.k, n.cpu(), 4e-3);
  CHECK(n.cpu().need_resched);
  CHECK(sched_pick_next(*n.k, n.cpu()) == n.ks);
}

TEST_CASE("EEVDF 6.18: the protected slice keeps W on a lag-0 wake-up, the tick hands over") {
  // Base slice 0.70 ms * 2 = 1.4 ms.  W picked at v 0: deadline = vprot =
  // 1.4.  K wakes at 0.4: v 0.4, deadline 1.8; W eligible and protected (1.4
  // > 0.4): no preemption.  Tick at 4 ms: W.v 4.0 >= 1.4 -> resched; avg
  // 2.2, W not eligible -> K.
  SchedRig r("6.18");
  CHECK(r.k->p.kernel.sched_base_slice_ns == 1.4 * ms);
  r.w->state = Thread::State::Sleeping;
  sched_wakeup(*r.k, r.cpu(), r.w, 0);
  sched_switch_to(*r.k, r.cpu(), r.w, 0);
  CHECK(r.w->vprot == doctest::Approx(1.4 * ms));
  r.ks->state = Thread::State::Sleeping;
  sched_wakeup(*r.k, r.cpu(), r.ks, 0.4e-3);
  CHECK(r.ks->deadline == doctest::Approx(1.8 * ms));
  CHECK_FALSE(r.cpu().need_resched);
  sched_tick(*r.k, r.cpu(), 4e-3);
  CHECK(r.cpu().need_resched);
  CHECK(sched_pick_next(*r.k, r.cpu()) == r.ks);
}

TEST_CASE("EEVDF 6.18: a thread that sleeps ineligible stays queued (DELAY_DEQUEUE)") {
  // K ran 3 ms while W waited: K.v = V + 3, W.v = V (V = 10 ms), avg V + 1.5.
  // K sleeps while not eligible: it stays queued.  W is picked.  K woken at
  // W.v = V + 1: still delayed; lag = (V + 2) - (V + 3) = -1 <= 0 -> keeps
  // v = V + 3 and its deadline: not eligible, no preemption.
  SchedRig r("6.18");
  r.cpu().min_vruntime = 10 * ms;
  r.w->state = Thread::State::Runnable;
  r.w->vruntime = 10 * ms;
  r.w->deadline = 11.4 * ms;
  r.ks->vruntime = 13 * ms;
  r.ks->deadline = 14 * ms;
  sched_switch_to(*r.k, r.cpu(), r.ks, 0);
  sched_sleep(*r.k, r.cpu(), r.ks, 0);
  r.ks->state = Thread::State::Sleeping;
  CHECK(r.ks->sched_delayed);
  CHECK(eevdf::avg_vruntime(r.cpu()) == doctest::Approx(11.5 * ms));
  CHECK(sched_pick_next(*r.k, r.cpu()) == r.w);
  sched_switch_to(*r.k, r.cpu(), r.w, 0);
  sched_wakeup(*r.k, r.cpu(), r.ks, 1e-3);  // W.v = V + 1
  CHECK_FALSE(r.ks->sched_delayed);
  CHECK(r.ks->vruntime == doctest::Approx(13 * ms));
  CHECK(r.ks->deadline == doctest::Approx(14 * ms));
  CHECK_FALSE(r.cpu().need_resched);
  // Had W instead run to V + 3 first, past its deadline V + 2 (new deadline
  // V + 4.4, slice no longer protected), K (eligible again, deadline V + 4)
  // would be picked, dequeued for real with its lag clipped to 0, and W
  // picked in its place.
  SchedRig d("6.18");
  d.cpu().min_vruntime = 10 * ms;
  d.w->state = Thread::State::Runnable;
  d.w->vruntime = 10 * ms;
  d.w->deadline = 12 * ms;
  d.ks->vruntime = 13 * ms;
  d.ks->deadline = 14 * ms;
  sched_switch_to(*d.k, d.cpu(), d.ks, 0);
  sched_sleep(*d.k, d.cpu(), d.ks, 0);
  d.ks->state = Thread::State::Sleeping;
  sched_switch_to(*d.k, d.cpu(), d.w, 0);
  sched_update_curr(*d.k, d.cpu(), 3e-3);  // W.v = V + 3: avg V + 3, K eligible
  CHECK(d.w->deadline == doctest::Approx(14.4 * ms));
  CHECK(d.cpu().need_resched);
  CHECK(sched_pick_next(*d.k, d.cpu()) == d.w);
  CHECK_FALSE(d.ks->sched_delayed);
  CHECK(d.ks->vlag == 0);
}

TEST_CASE("EEVDF: two always-runnable threads take turns of one tick, CFS of two ticks") {
  // Sender vs ksoftirqd at HZ=250: under EEVDF each runs until the first
  // tick after its deadline (slice 1.4-1.5 ms < 4 ms tick); under CFS until
  // its 6 ms ideal runtime is noticed, at the 8 ms tick.
  for (std::string v : {"6.1", "6.6", "6.18"}) {
    CAPTURE(v);
    SchedRig r(v);
    r.w->state = Thread::State::Sleeping;
    r.ks->state = Thread::State::Sleeping;
    sched_wakeup(*r.k, r.cpu(), r.w, 0);
    sched_switch_to(*r.k, r.cpu(), r.w, 0);
    sched_wakeup(*r.k, r.cpu(), r.ks, 0);
    r.ks->vruntime = r.w->vruntime;  // both at zero lag, whatever the placement
    double switched = -1;
    for (int tick = 1; tick <= 3 && switched < 0; ++tick) {
      sched_tick(*r.k, r.cpu(), tick * 4e-3);
      if (r.cpu().need_resched && sched_pick_next(*r.k, r.cpu()) == r.ks) switched = tick * 4e-3;
    }
    CHECK(switched == doctest::Approx(v == "6.1" ? 8e-3 : 4e-3));
  }
}

TEST_CASE("6.18 try_to_wake_up of a thread on another CPU: the waker pays the IPI (ttwu_queue_wakelist)") {
  // The writer on CPU 0 wakes ksoftirqd/1, asleep on CPU 1: the wake-up is
  // queued on CPU 1's wake list and CPU 1 is sent an IPI, ipi_ns = 300 ns
  // (stated here; the default is this machine's measured 3286) of the
  // waker's time.  Waking ksoftirqd/0 on its own CPU sends none: it costs
  // the local try_to_wake_up (ttwu_do_activate), wakeup_local_ns = 500
  // (stated; the default is ctxswitch.c's 596), and only while it sleeps:
  // waking it again, runnable, costs nothing (try_to_wake_up's state check).
  testrig::Rig r("rx_batched", {{"cpus", {{"count", 2}}}, {"costs", {{"ipi_ns", 300}, {"wakeup_local_ns", 500}}}});
  Thread* remote = r.k->add_thread("ksoftirqd/1", 1, Thread::Kind::Ksoftirqd);
  Thread* local = r.k->cpu(0).ksoftirqd;
  REQUIRE(remote->state == Thread::State::Sleeping);
  REQUIRE(local->state == Thread::State::Sleeping);
  wake_up_process(r.ctx, local);
  CHECK(r.ctx.now == doctest::Approx(500e-9));
  CHECK(local->state == Thread::State::Runnable);
  wake_up_process(r.ctx, local);
  CHECK(r.ctx.now == doctest::Approx(500e-9));
  wake_up_process(r.ctx, remote);
  CHECK(r.ctx.now == doctest::Approx(500e-9 + 300e-9));
  CHECK(r.k->p.costs.ipi_ns == 300);
  CHECK(remote->state == Thread::State::Runnable);
}
