// The designs' kernel logic on small hand-computed scenarios, called directly
// (no SimGrid engine): one CPU, a sender context on it, packets handed to the
// design one by one.
#include <doctest/doctest.h>

#include "models/backlog/backlog.hpp"
#include "models/kernel/kernel.hpp"
#include "models/napi/napi.hpp"
#include "models/sched/cfs.hpp"
#include "models/softirq/softirq.hpp"
#include "models/tun/tun.hpp"
#include "sim/config.hpp"

using namespace tunsim;
using nlohmann::json;

namespace {

// A one-CPU kernel for `design`, cache model off, with ksoftirqd/0 asleep,
// and a sender thread running on CPU 0.
struct Rig {
  std::unique_ptr<Kernel> k;
  Thread* sender = nullptr;
  Ctx ctx;
  explicit Rig(const std::string& design, json extra = json::object()) {
    json s = {{"design", design},
              {"cpus", {{"count", 1}, {"hz", 1e9}}},
              {"cache", {{"enabled", false}}},
              {"senders", json::array({{{"type", "writer"}, {"cpu", 0}}})},
              {"stack", {{"type", "drop"}}},
              {"warmup_ms", 0},
              {"duration_ms", 1000}};
    s.merge_patch(extra);
    LoadedConfig cfg = build_config(s, "test", ".");
    k = std::make_unique<Kernel>(cfg.params);
    sender = k->add_thread("writer", 0, false);
    k->add_thread("ksoftirqd/0", 0, true);  // Sleeping
    sender->state = Thread::State::Running;
    k->cpu(0).current = sender;
    ctx.k = k.get();
    ctx.cpu = &k->cpu(0);
    ctx.thread = sender;
  }
  TunQueue& q() { return k->queue(0); }
  void send(bool more) { tun_deliver(ctx, q(), tun_build_skb(ctx, 0, 60, 1, ctx.now), more); }
  // napi_poll work histogram as {work: count}
  std::map<int64_t, uint64_t> polls() const { return k->rec.napi_poll_work.bins(); }
};

}  // namespace

TEST_CASE("v1_napi: three packets with MSG_MORE then one without give one poll of 4") {
  // MSG_MORE packets are only queued on sk_write_queue; the fourth (no
  // MSG_MORE) schedules the NAPI in a bh-disabled section, local_bh_enable
  // runs NET_RX inline and tun_poll splices all four: one poll, work 4.
  Rig r("v1_napi");
  for (int i = 0; i < 3; ++i) r.send(true);
  CHECK(r.k->rec.delivered == 0);
  CHECK(r.q().write_queue.size() == 3);
  CHECK(r.k->cpu(0).net_rx_actions == 0);
  r.send(false);
  CHECK(r.k->rec.delivered == 4);
  CHECK(r.polls() == std::map<int64_t, uint64_t>{{4, 1}});
  CHECK(r.k->cpu(0).net_rx_actions == 1);
  CHECK_FALSE(r.q().napi.sched);  // completed: work 4 < weight 64
  CHECK(r.q().write_queue.peak == 4);
}

TEST_CASE("v1_napi: 100 queued with weight 64 give polls of 64 then 36") {
  // 99 packets with MSG_MORE, the 100th without.  tun_poll returns at its
  // budget (weight 64) with 36 left in process_queue; net_rx_action puts it
  // on the repoll list (budget 300 - 64 > 0) and the restart polls 36.
  Rig r("v1_napi");
  for (int i = 0; i < 99; ++i) r.send(true);
  r.send(false);
  CHECK(r.k->rec.delivered == 100);
  CHECK(r.polls() == std::map<int64_t, uint64_t>{{36, 1}, {64, 1}});
  CHECK(r.k->rec.budget_exhausted == 1);
  CHECK(r.k->rec.napi_repolls == 1);
  CHECK(r.q().process_queue.peak == 100);
}

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

TEST_CASE("netif_rx_ni with an idle ksoftirqd gives one softirq per packet") {
  // netif_rx_ni: enqueue_to_backlog schedules the backlog NAPI on an empty
  // queue, then do_softirq runs NET_RX at once: process_backlog delivers 1.
  Rig r("netif_rx_ni");
  for (int i = 0; i < 5; ++i) r.send(false);
  CHECK(r.k->rec.delivered == 5);
  CHECK(r.k->cpu(0).net_rx_actions == 5);
  CHECK(r.polls() == std::map<int64_t, uint64_t>{{1, 5}});
  CHECK(r.k->cpu(0).input_pkt_queue.peak == 1);
  CHECK(r.k->rec.dropped.empty());
}

TEST_CASE("netif_rx_ni: the backlog drops past netdev_max_backlog while ksoftirqd runs") {
  // With ksoftirqd runnable, 4.9's do_softirq() leaves NET_RX to it, so the
  // backlog only grows.  enqueue_to_backlog accepts while qlen <= 10: 11
  // packets (qlen 0..10) go in, the other 4 are dropped (CPU_BACKLOG).
  Rig r("netif_rx_ni", {{"kernel", {{"netdev_max_backlog", 10}}}});
  r.k->cpu(0).ksoftirqd->state = Thread::State::Runnable;
  for (int i = 0; i < 15; ++i) r.send(false);
  CHECK(r.k->rec.delivered == 0);
  CHECK(r.k->cpu(0).input_pkt_queue.size() == 11);
  CHECK(r.k->rec.dropped.at("CPU_BACKLOG") == 4);
  CHECK(r.k->cpu(0).dropped == 4);
  CHECK(r.k->cpu(0).net_rx_actions == 0);
}

TEST_CASE("rx_batched flushes rx_frames + 1") {
  // rx_frames 4, all with MSG_MORE: packets 1-4 are queued; the 5th finds
  // queue length == rx_batched and flushes the 4 queued plus itself.  Then
  // 6-9 queue and the 10th flushes 5 again.
  Rig r("rx_batched", {{"tun", {{"rx_frames", 4}}}});
  for (int i = 0; i < 10; ++i) r.send(true);
  CHECK(r.k->rec.delivered == 10);
  CHECK(r.k->rec.flushes == 2);
  CHECK(r.k->rec.batch.bins() == std::map<int64_t, uint64_t>{{5, 2}});
  CHECK(r.q().write_queue.peak == 4);
  // Without MSG_MORE a partial batch is flushed with the current skb.
  r.send(true);
  r.send(true);
  r.send(false);
  CHECK(r.k->rec.delivered == 13);
  CHECK(r.k->rec.batch.bins().at(3) == 1);
}

TEST_CASE("rx_batched: rx_frames 0, or an empty queue and !more, deliver at once") {
  Rig r("rx_batched", {{"tun", {{"rx_frames", 8}}}});
  r.send(false);  // empty queue and !more: immediate
  CHECK(r.k->rec.immediate == 1);
  CHECK(r.k->rec.delivered == 1);
  Rig r0("rx_batched");  // rx_frames 0 (kernel default): every packet at once
  for (int i = 0; i < 3; ++i) r0.send(true);
  CHECK(r0.k->rec.immediate == 3);
  CHECK(r0.q().write_queue.peak == 0);
}

TEST_CASE("rx_batched: rx_frames is clamped to 64 as ethtool -C does") {
  LoadedConfig cfg = build_config({{"design", "rx_batched"}, {"tun", {{"rx_frames", 1000}}}}, "t", ".");
  CHECK(cfg.params.rx_frames == 64);
  REQUIRE(cfg.notes.size() == 1);
  CHECK(cfg.notes[0].find("clamped to 64") != std::string::npos);
}

TEST_CASE("napi_gro: MSG_MORE lets up to 65 accumulate, then polls of 64 and 1") {
  // IFF_NAPI schedules when !more or queue length > NAPI_POLL_WEIGHT (64):
  // the 65th queued packet schedules.  tun_napi_receive splices 65,
  // delivers the budget (64) and splices 1 back to the head; work == weight
  // -> repoll, and the next round delivers 1.  Packets 66-70 then queue.
  Rig r("napi_gro");
  for (int i = 0; i < 70; ++i) r.send(true);
  CHECK(r.k->rec.delivered == 65);
  CHECK(r.polls() == std::map<int64_t, uint64_t>{{1, 1}, {64, 1}});
  CHECK(r.q().write_queue.size() == 5);
  CHECK(r.q().write_queue.peak == 65);
}

TEST_CASE("napi_gro: a plain write() gives one poll per packet") {
  Rig r("napi_gro");
  for (int i = 0; i < 4; ++i) r.send(false);
  CHECK(r.polls() == std::map<int64_t, uint64_t>{{1, 4}});
  CHECK(r.k->cpu(0).net_rx_actions == 4);
}

TEST_CASE("napi_gro: gro_normal_batch holds packets until 8 or completion") {
  // 6.1: GRO_NORMAL packets wait in napi->rx_list; 20 queued then one
  // poll: delivered in lists of 8, 8, and the last 5 at napi_complete_done.
  Rig r("napi_gro", {{"kernel", {{"version", "6.1"}}}});
  CHECK(r.k->p.kernel.gro_normal_batch == 8);
  for (int i = 0; i < 20; ++i) r.send(true);
  CHECK(r.k->rec.delivered == 0);
  r.send(false);
  CHECK(r.k->rec.delivered == 21);
  CHECK(r.q().napi.rx_list.empty());
}

TEST_CASE("deferred_signal: packets queue unconditionally and the poll reads the one queue") {
  Rig r("deferred_signal");
  for (int i = 0; i < 3; ++i) r.send(true);
  CHECK(r.q().write_queue.size() == 3);
  r.send(false);
  CHECK(r.k->rec.delivered == 4);
  CHECK(r.polls() == std::map<int64_t, uint64_t>{{4, 1}});
  CHECK(r.q().process_queue.peak == 0);  // no second queue
}

TEST_CASE("bh_section false: napi_schedule only raises NET_RX, the poll waits") {
  // The review's question (b): without local_bh_disable/enable around
  // napi_schedule nothing runs the softirq in process context.
  Rig r("v1_napi", {{"tun", {{"bh_section", false}}}});
  r.send(false);
  CHECK(r.k->cpu(0).net_rx_pending);
  CHECK(r.k->rec.delivered == 0);
  // The next tick's irq_exit runs it.
  r.ctx.now = r.k->cpu(0).next_tick;
  CHECK(advance_time_events(r.ctx));
  do_softirq(r.ctx);
  CHECK(r.k->rec.delivered == 1);
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

TEST_CASE("RPS: netif_rx_ni steers to the target CPU's backlog and queues an IPI") {
  Rig r("netif_rx_ni", {{"cpus", {{"count", 2}}}, {"rps", {{"cpus", {1}}}}});
  r.send(false);
  Cpu& remote = r.k->cpu(1);
  CHECK(remote.input_pkt_queue.size() == 1);
  CHECK(remote.backlog.sched);
  CHECK(remote.ipi_pending);  // sent at the end of CPU 0's net_rx_action
  CHECK(r.k->rec.delivered == 0);
  // The IPI handler on CPU 1 schedules its backlog; its softirq delivers.
  Ctx c1;
  c1.k = r.k.get();
  c1.cpu = &remote;
  c1.now = remote.ipi_at;
  rps_ipi_handler(c1);
  do_softirq(c1);
  CHECK(r.k->rec.delivered == 1);
}
