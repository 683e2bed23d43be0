// The NET_RX softirq engine (models/softirq/): net_rx_action and
// __do_softirq of 4.9 (budget, time_squeeze, MAX_SOFTIRQ_RESTART, the
// ksoftirqd hand-off), 6.1 and 6.4 (sd->in_net_rx_action).
#include <doctest/doctest.h>

#include "tests/models/rig.hpp"
#include "models/napi/napi.hpp"
#include "models/softirq/softirq.hpp"

using namespace tunsim;
using testrig::Rig;
using testrig::VRig;
using nlohmann::json;

TEST_CASE("a MISSED reschedule restarts __do_softirq (6.1) or stays in net_rx_action (6.4)") {
  // One packet queued and the NAPI scheduled; another CPU's napi_schedule
  // sets MISSED before the poll.  The poll delivers 1 and napi_complete_done
  // finds MISSED: SCHED stays set and ____napi_schedule puts the NAPI back on
  // this CPU's poll_list.  6.1 raises NET_RX for it: net_rx_action returns
  // and __do_softirq restarts (2 net_rx_action calls, 1 restart).  6.4 does
  // not raise from inside net_rx_action, which re-splices poll_list (goto
  // start): both polls in one net_rx_action.  Either way the second poll finds
  // the queue empty (work 0) and completes.
  for (std::string v : {"6.1", "6.4"}) {
    CAPTURE(v);
    Rig r("napi_gro", {{"kernel", {{"version", v}}}});
    Napi& n = r.q().napi;
    r.send(true);  // MSG_MORE: queued, not scheduled
    local_bh_disable(r.ctx);
    CHECK(napi_schedule(r.ctx, n));
    n.missed = true;
    local_bh_enable(r.ctx);  // runs NET_RX
    CHECK(r.k->rec.delivered == 1);
    CHECK(r.polls() == std::map<int64_t, uint64_t>{{0, 1}, {1, 1}});
    CHECK(r.k->cpu(0).net_rx_actions == (v == "6.1" ? 2u : 1u));
    CHECK(r.k->cpu(0).softirq_restarts == (v == "6.1" ? 1u : 0u));
    CHECK_FALSE(n.sched);
    CHECK_FALSE(r.k->cpu(0).net_rx_pending);
    CHECK(r.k->cpu(0).poll_list.empty());
    CHECK_FALSE(r.k->cpu(0).in_net_rx_action);
  }
}

TEST_CASE("net_rx_action polls a NAPI once per round and counts time_squeeze") {
  // A NAPI that used its whole weight goes to the repoll list, polled in the
  // next round (a __do_softirq restart), not in this one.  netdev_budget 50,
  // 300 queued: each round polls 64 (the full weight, not the remaining
  // budget), which drives the budget to -14: time_squeeze.  Rounds: 64, 64,
  // 64, 64 (each squeezed), then 44 (< weight: complete, budget 6 left).
  Rig r("v1_napi", {{"kernel", {{"netdev_budget", 50}}}});
  for (int i = 0; i < 299; ++i) r.send(true);
  r.send(false);
  CHECK(r.k->rec.delivered == 300);
  CHECK(r.polls() == std::map<int64_t, uint64_t>{{44, 1}, {64, 4}});
  CHECK(r.k->cpu(0).time_squeeze == 4);
  CHECK(r.k->cpu(0).net_rx_actions == 5);
  CHECK(r.k->cpu(0).softirq_restarts == 4);
}

TEST_CASE("__do_softirq hands off to ksoftirqd after MAX_SOFTIRQ_RESTART rounds") {
  // netdev_budget 64 and 2000 queued: every net_rx_action polls 64 and is
  // squeezed.  max_softirq_restart 3: rounds 1..3 run inline (2 restarts),
  // then wakeup_softirqd.  192 delivered inline, ksoftirqd runnable.
  Rig r("v1_napi", {{"kernel", {{"netdev_budget", 64}, {"max_softirq_restart", 3}}}});
  for (int i = 0; i < 1999; ++i) r.send(true);
  r.send(false);
  CHECK(r.k->rec.delivered == 192);
  CHECK(r.k->cpu(0).net_rx_actions == 3);
  CHECK(r.k->cpu(0).ksoftirqd_wakeups == 1);
  CHECK(r.k->cpu(0).ksoftirqd->state == Thread::State::Runnable);
  CHECK(r.k->cpu(0).net_rx_pending);
  // 4.9: while ksoftirqd runs, local_bh_enable leaves NET_RX to it.
  r.send(false);
  CHECK(r.k->rec.delivered == 192);
}
