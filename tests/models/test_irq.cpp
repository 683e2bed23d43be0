// Interrupts by time alone (models/irq/): the scheduler tick and irq_exit()
// running a pending NET_RX (kernel/softirq.c irq_exit -> invoke_softirq).
#include <doctest/doctest.h>

#include "models/irq/irq.hpp"
#include "models/sched/fair.hpp"
#include "tests/models/rig.hpp"

using namespace tunsim;
using testrig::Rig;
using nlohmann::json;

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

TEST_CASE("irq: cpus.stall delays the thread holding the CPU when a window begins, an idle CPU loses nothing") {
  // Windows of 100 us, each losing 5 us (a one-value table).  The first
  // starts where the seed puts it, in [0, 100 us); the thread holding the
  // CPU since 0 passes it at its next boundary and is 5 us later; the next
  // window is 100 us on.  A window that began before the thread got the CPU
  // (the CPU was idle then: busy_since after it) costs nothing.
  Rig r("v1_napi", {{"cpus", {{"stall", {{"period_us", 100}, {"ns", {5000}}}}}}});
  Cpu& c = r.k->cpu(0);
  const double first = c.next_stall;
  CHECK(first >= 0);
  CHECK(first < 100e-6);
  r.ctx.now = first + 1e-9;
  advance_time_events(r.ctx);
  CHECK(r.ctx.now == doctest::Approx(first + 1e-9 + 5e-6));
  CHECK(c.stalls == 1);
  CHECK(c.next_stall == doctest::Approx(first + 100e-6));
  c.busy_since = first + 150e-6;  // idle from before the second window to after it
  r.ctx.now = first + 160e-6;
  advance_time_events(r.ctx);
  CHECK(r.ctx.now == doctest::Approx(first + 160e-6));
  CHECK(c.stalls == 2);
  // Without the table, no window ever comes.
  Rig none("v1_napi");
  CHECK(none.k->cpu(0).next_stall == 1e300);
  // A thread taking the CPU from idle, or from an interrupt that ran on the
  // idle CPU (an RPS IPI), starts a busy stretch (sched_switch_to); one
  // taking it from another thread does not.
  Thread* irq = r.k->add_thread("irq/0", 0, Thread::Kind::Irq);
  c.current = irq;
  sched_switch_to(*r.k, c, r.sender, 1e-3);
  CHECK(c.busy_since == 1e-3);
  Thread* ks = c.ksoftirqd;
  sched_switch_to(*r.k, c, ks, 2e-3);
  CHECK(c.busy_since == 1e-3);
  sched_switch_to(*r.k, c, nullptr, 3e-3);
  sched_switch_to(*r.k, c, r.sender, 4e-3);
  CHECK(c.busy_since == 4e-3);
}

TEST_CASE("irq: cpus.stall.partner pairs CPUs 2i and 2i+1 in the same window, the leader and a CPU alone draw as before") {
  // A table of four quantiles, 1..4 us.  partner maps the leader's quantile
  // index j to CPU 0's rank partner[j * K / N]: reversed (0.9, 0.6, 0.4,
  // 0.1 -> indices 3, 2, 1, 0), so in every window the two lose 5 us
  // between them; CPU 2 of three has no partner and draws alone.
  const json table = {1000, 2000, 3000, 4000};
  auto rig = [&](const json& partner) {
    return Rig("v1_napi", {{"cpus", {{"count", 3}, {"stall", {{"period_us", 100}, {"ns", table}, {"partner", partner}}}}}});
  };
  Rig rev = rig({0.9, 0.6, 0.4, 0.1});
  Rig same = rig({0.1, 0.4, 0.6, 0.9});
  Rig alone = rig(json::array());
  int seen[4] = {0, 0, 0, 0};
  for (uint64_t n = 0; n < 400; ++n) {
    const double l1 = stall_draw(rev.k->p, 1, n);
    CHECK(stall_draw(rev.k->p, 0, n) == 5000 - l1);
    CHECK(stall_draw(same.k->p, 0, n) == l1);
    // The leader (CPU 1) and the CPU without a partner (CPU 2) draw what
    // they draw without cpus.stall.partner.
    CHECK(stall_draw(alone.k->p, 1, n) == l1);
    CHECK(stall_draw(alone.k->p, 2, n) == stall_draw(rev.k->p, 2, n));
    ++seen[static_cast<int>(l1 / 1000) - 1];
  }
  // The leader's draws cover the table (400 draws of 4 equally likely values).
  for (int q : seen) CHECK(q > 50);
  // A partner table coarser than the loss table: K = 2 slots over N = 4
  // quantiles, j = 0, 1 -> slot 0 and j = 2, 3 -> slot 1.
  Rig coarse = rig({0.99, 0.0});
  for (uint64_t n = 0; n < 100; ++n) {
    const double l1 = stall_draw(coarse.k->p, 1, n);
    CHECK(stall_draw(coarse.k->p, 0, n) == (l1 <= 2000 ? 4000 : 1000));
  }
  // A partner table finer than the loss table: K = 4 slots over N = 2
  // quantiles, j = 0 -> slots 0 and 1 (ranks 0.1, 0.9), j = 1 -> slots 2
  // and 3 (0.2, 0.8): each slot is reached, so with each leader quantile
  // CPU 0 loses either value of the table in some window.
  const json two = {1000, 2000};
  Rig fine("v1_napi", {{"cpus", {{"count", 2}, {"stall", {{"period_us", 100}, {"ns", two}, {"partner", {0.1, 0.9, 0.2, 0.8}}}}}}});
  int pairs[2][2] = {{0, 0}, {0, 0}};
  for (uint64_t n = 0; n < 400; ++n)
    ++pairs[static_cast<int>(stall_draw(fine.k->p, 1, n) / 1000) - 1][static_cast<int>(stall_draw(fine.k->p, 0, n) / 1000) - 1];
  for (auto& row : pairs)
    for (int c : row) CHECK(c > 50);  // 400 draws over four equally likely pairs
  // Ranks outside [0, 1] are bad input.
  CHECK_THROWS_WITH(rig({0.5, 1.5}), doctest::Contains("cpus.stall.partner"));
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
