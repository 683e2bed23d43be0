// NAPI scheduling (models/napi/): napi_schedule_prep / napi_complete_done of
// 4.9 (no MISSED bit) and 4.11+ (NAPI_STATE_MISSED).
#include <doctest/doctest.h>

#include "tests/models/rig.hpp"
#include "models/napi/napi.hpp"
#include "models/sched/fair.hpp"

using namespace tunsim;
using testrig::Rig;
using testrig::VRig;
using nlohmann::json;

TEST_CASE("v1_napi: completion re-checks the queue (4.9 has no MISSED bit)") {
  // A packet queued while the poll runs must not strand: simulate it by
  // queueing after the splice -- here by adding to sk_write_queue from the
  // poll's point of view: schedule, then add one more before the poll runs.
  Rig r("v1_napi");
  CHECK_FALSE(r.k->p.kernel.napi_missed_bit);  // v1 replays 4.9
  r.send(true);
  r.send(true);
  // Another CPU's schedule while SCHED is set is a no-op and sets nothing.
  r.q().napi.sched = true;
  CHECK_FALSE(napi_schedule(r.ctx, r.q().napi));
  CHECK_FALSE(r.q().napi.missed);
  CHECK(r.k->cpu(0).poll_list.empty());
}

TEST_CASE("napi_schedule on a scheduled NAPI is a no-op (4.9) or sets MISSED (4.11+)") {
  for (bool missed_bit : {false, true}) {
    Rig r("napi_gro", {{"kernel", {{"napi_missed_bit", missed_bit}}}});
    Napi& n = r.q().napi;
    CHECK(napi_schedule(r.ctx, n));
    CHECK(r.k->cpu(0).poll_list.size() == 1);
    CHECK_FALSE(napi_schedule(r.ctx, n));
    CHECK(r.k->cpu(0).poll_list.size() == 1);  // not added twice
    CHECK(n.missed == missed_bit);
    // Completion: with MISSED it stays scheduled and is put back on the list.
    r.k->cpu(0).poll_list.clear();
    bool done = napi_complete_done(r.ctx, n);
    CHECK(done == !missed_bit);
    CHECK(n.sched == missed_bit);
    CHECK(r.k->cpu(0).poll_list.size() == (missed_bit ? 1u : 0u));
  }
}

TEST_CASE("threaded NAPI (6.1): napi_schedule wakes napi/tap0-8193 instead of raising NET_RX, the kthread polls") {
  // net/core/dev.c ____napi_schedule with NAPI_STATE_THREADED (5.12.9 ...
  // 6.18.8): SCHED_THREADED and wake_up_process, no poll list, no NET_RX.
  // One CPU (CFS latency 6 ms): the kthread, asleep since boot, is placed 3 ms
  // behind the writer and preempts it (wakeup granularity 1 ms).  Two more
  // writes while it waits find the NAPI scheduled (MISSED).  When it runs
  // (napi_threaded_poll): a poll of 3 (tun_napi_receive), whose completion
  // sees MISSED and schedules it to the thread again, then an empty poll.
  // No softirq at all, every napi_poll in the kthread.
  Rig r("napi_gro", {{"kernel", {{"version", "6.1"}}}, {"tun", {{"threaded", true}}}});
  Thread* t = r.k->add_thread(napi_thread_name(r.q()), 0, Thread::Kind::Kthread);
  sched_init_sleeper(*r.k, r.k->cpu(0), t);
  r.q().napi.thread = t;
  testrig::EventLog log;
  r.k->rec.sink = &log;
  r.ctx.now = 1e-6;
  r.send(false);
  Napi& n = r.q().napi;
  CHECK(n.sched);
  CHECK(n.sched_threaded);
  CHECK(t->state == Thread::State::Runnable);
  CHECK(r.k->cpu(0).need_resched);
  CHECK_FALSE(r.k->cpu(0).net_rx_pending);
  r.send(false);
  r.send(false);
  CHECK(n.missed);
  CHECK(r.q().write_queue.size() == 3);
  Ctx kc = r.ctx;
  kc.thread = t;
  napi_thread_run(kc, n);
  CHECK(r.k->rec.delivered == 3);
  CHECK(r.polls() == std::map<int64_t, uint64_t>{{0, 1}, {3, 1}});
  CHECK_FALSE(n.sched);
  CHECK_FALSE(n.sched_threaded);
  CHECK(log.count(EventType::SoftirqRaise) == 0);
  CHECK(log.count(EventType::SoftirqEntry) == 0);
  for (auto& e : log.evs)
    if (e.type == EventType::NapiPoll) CHECK(e.comm == "napi/tap0-8193");
}

TEST_CASE("tun.threaded needs a kernel that has threaded NAPI and a design with a tun NAPI") {
  CHECK_THROWS_WITH_AS(build_config({{"design", "napi_gro"}, {"tun", {{"threaded", true}}}}, "t", "."),
                       doctest::Contains("threaded NAPI exists from 5.12"), std::exception);
  CHECK_THROWS_WITH_AS(build_config({{"design", "rx_batched"}, {"kernel", {{"version", "6.18"}}},
                                     {"tun", {{"threaded", true}}}},
                                    "t", "."),
                       doctest::Contains("has no tun NAPI"), std::exception);
}
