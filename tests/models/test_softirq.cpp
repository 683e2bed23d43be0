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

TEST_CASE("ksoftirqd_running() defers inline softirqs through 6.4, not from 6.5") {
  // kernel/softirq.c do_softirq (6.4.4: `if (pending && !ksoftirqd_running(pending))`;
  // 6.5.0: `if (pending)`).  ksoftirqd/0 runnable, the writer queues one
  // packet with IFF_NAPI (napi_schedule under spin_lock_bh): 6.1 and 6.4 leave
  // NET_RX pending for ksoftirqd (0 inline runs), 6.5, 6.6 and 6.18 run it
  // at local_bh_enable (1).
  for (std::string v : {"6.1", "6.4", "6.5", "6.6", "6.18"}) {
    CAPTURE(v);
    Rig r("napi_gro", {{"kernel", {{"version", v}}}});
    r.k->cpu(0).ksoftirqd->state = Thread::State::Runnable;
    r.send(false);
    bool defers = v == "6.1" || v == "6.4";
    CHECK(r.k->cpu(0).net_rx_actions == (defers ? 0u : 1u));
    CHECK(r.k->cpu(0).net_rx_pending == defers);
    CHECK(r.k->rec.delivered == (defers ? 0u : 1u));
  }
}

namespace {
// A NAPI whose poll takes 1 ms and completes with one packet.
int slow_poll(Ctx& ctx, Napi& n, int) {
  ctx.spend_ns(1e6);
  n.sched = false;
  return 1;
}
}  // namespace

TEST_CASE("net_rx_action's time limit: 2 jiffies (4.9, 5.15+), usecs_to_jiffies(2000) = 1 jiffy (4.15, HZ=250)") {
  // net/core/dev.c net_rx_action: after each napi_poll, stop (time_squeeze)
  // once jiffies >= time_limit.  HZ=250 (a jiffy every 4 ms); the call starts
  // at 10.5 ms (jiffies 2) with ten NAPIs on the poll list, each poll 1 ms.
  // time_limit = jiffies + 2 = 4 (16 ms) for 4.9 and 5.15+ (2 * USEC_PER_SEC
  // / HZ = 8000 us): the poll ending at 16.5 ms is the last, 6 polls; 4.15:
  // + usecs_to_jiffies(2000) = 1 -> 12 ms, 2 polls.  At HZ=1000 5.15+'s
  // default is 2000 us, still 2 jiffies: 10 + 2 = 12 ms, 2 polls.
  struct Case {
    std::string version;
    int hz;
    int usecs, polls;
  };
  for (Case c : {Case{"4.9", 250, 0, 6}, Case{"4.15", 250, 2000, 2}, Case{"5.15", 250, 8000, 6},
                 Case{"6.18", 250, 8000, 6}, Case{"6.18", 1000, 2000, 2}}) {
    CAPTURE(c.version);
    CAPTURE(c.hz);
    Rig r("v1_napi", {{"kernel", {{"version", c.version}, {"hz", c.hz}}}, {"costs", {{"napi_poll_ns", 0}}}});
    CHECK(r.k->p.kernel.netdev_budget_usecs == c.usecs);
    std::vector<Napi> napis(10);
    for (Napi& n : napis) {
      n.poll = slow_poll;
      n.sched = true;
      r.k->cpu(0).poll_list.push_back(&n);
    }
    r.ctx.now = 10.5e-3;
    net_rx_action(r.ctx);
    int polled = 0;
    for (Napi& n : napis) polled += !n.sched;
    CHECK(polled == c.polls);
    CHECK(r.k->cpu(0).time_squeeze == 1);
  }
}

TEST_CASE("RPS inside net_rx_action: 6.1 raises NET_RX and restarts, 6.4 sends the IPI at the end") {
  // net/core/dev.c napi_schedule_rps: 6.1 always __raise_softirq_irqoff on
  // the local CPU; 6.4 not inside net_rx_action.  CPU 0's tun poll delivers
  // one packet that RPS steers to CPU 1's empty backlog: 6.1 runs a second,
  // empty net_rx_action (2 NET_RX entries on CPU 0), 6.4 one.  CPU 1 gets
  // one IPI either way.
  for (std::string v : {"6.1", "6.4"}) {
    CAPTURE(v);
    Rig r("v1_napi", {{"kernel", {{"version", v}}}, {"cpus", {{"count", 2}}}, {"rps", {{"cpus", {1}}}}});
    r.send(false);
    CHECK(r.k->cpu(0).net_rx_actions == (v == "6.1" ? 2u : 1u));
    CHECK(r.k->cpu(1).ipi_pending);
    CHECK(r.k->cpu(1).input_pkt_queue.size() == 1);
    CHECK_FALSE(r.k->cpu(0).net_rx_pending);
  }
}

TEST_CASE("____napi_schedule outside a bh section wakes ksoftirqd on 6.18, not before") {
  // raise_softirq_irqoff (6.14.0, 6.18.8) vs __raise_softirq_irqoff
  // (6.13.2 and earlier; modelled 6.6).  Process context, bh enabled,
  // ksoftirqd asleep, an idle NAPI: 6.6 leaves NET_RX pending and ksoftirqd
  // asleep; 6.18 wakes it (1 wake-up).  Inside local_bh_disable() neither
  // wakes it and local_bh_enable runs the softirq inline.
  for (std::string v : {"6.6", "6.18"}) {
    CAPTURE(v);
    Rig r("napi_gro", {{"kernel", {{"version", v}}}});
    napi_schedule(r.ctx, r.q().napi);
    CHECK(r.k->cpu(0).net_rx_pending);
    CHECK(r.k->cpu(0).ksoftirqd_wakeups == (v == "6.18" ? 1u : 0u));
    Rig b("napi_gro", {{"kernel", {{"version", v}}}});
    local_bh_disable(b.ctx);
    napi_schedule(b.ctx, b.q().napi);
    local_bh_enable(b.ctx);
    CHECK(b.k->cpu(0).ksoftirqd_wakeups == 0);
    CHECK(b.k->cpu(0).net_rx_actions == 1);
  }
}
