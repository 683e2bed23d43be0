// drivers/net/tun.c under each design (models/tun/), on hand-computed
// scenarios: v1_napi and deferred_signal follow the November 2016 patch and
// its review on 4.9; rx_batched tun_rx_batched() of 4.11; napi_gro the
// IFF_NAPI path of 4.15 (tun_get_user, tun_napi_poll, tun_napi_receive) and
// 6.1 (gro_normal_batch); netif_rx_ni tun_get_user -> netif_rx_ni of 4.9.
#include <doctest/doctest.h>

#include <fstream>

#include "tests/models/rig.hpp"
#include "tests/cli/cli_util.hpp"
#include "models/irq/irq.hpp"
#include "models/softirq/softirq.hpp"
#include "models/tun/design.hpp"
#include "sim/config/schema.hpp"

using namespace tunsim;
using testrig::Rig;
using testrig::VRig;
using nlohmann::json;

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

TEST_CASE("netif_rx_ni with an idle ksoftirqd gives one softirq per packet") {
  // netif_rx_ni: enqueue_to_backlog schedules the backlog NAPI on an empty
  // queue, then do_softirq runs NET_RX at once: process_backlog delivers 1.
  Rig r("netif_rx_ni");
  for (int i = 0; i < 5; ++i) r.send(false);
  CHECK(r.k->rec.delivered == 5);
  CHECK(r.k->cpu(0).net_rx_actions == 5);
  // The backlog NAPI has no device: its polls are packets per poll (batch),
  // not the tap's napi_poll work.
  CHECK(r.batches() == std::map<int64_t, uint64_t>{{1, 5}});
  CHECK(r.polls().empty());
  CHECK(r.k->cpu(0).input_pkt_queue.peak == 1);
  CHECK(r.k->rec.dropped.empty());
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

TEST_CASE("deferred_signal's poll: splice under one lock (default) or the lock per packet") {
  // 100 packets queued (99 with MSG_MORE), budget 64; every cost 0 but the
  // queue lock, 1 us.  Each sendmsg appends under the lock: 100 us.  splice
  // (as 4.15's tun_napi_receive): poll 1 splices out 100 and back 36 (2), poll 2
  // splices out 36 (1), the completion's re-check peeks without the lock:
  // 103 us in all.  per_packet: poll 1 takes it 64 times, poll 2 37 times
  // (36 packets and the empty queue): 201 us.
  json zero = {{"tun_get_user_ns", 0}, {"skb_alloc_ns", 0},        {"copy_ns_per_byte", 0},
               {"napi_schedule_ns", 0}, {"softirq_ns", 0},         {"napi_poll_ns", 0},
               {"netif_receive_skb_ns", 0}, {"stack_drop_ns", 0}, {"lock_ns", 1000}};
  for (std::string mode : {"splice", "per_packet"}) {
    CAPTURE(mode);
    Rig r("deferred_signal", {{"tun", {{"deferred_poll_lock", mode}}}, {"costs", zero}});
    for (int i = 0; i < 99; ++i) r.send(true);
    r.send(false);
    CHECK(r.k->rec.delivered == 100);
    CHECK(r.polls() == std::map<int64_t, uint64_t>{{36, 1}, {64, 1}});
    CHECK(r.ctx.now == doctest::Approx(mode == "splice" ? 103e-6 : 201e-6));
  }
}

TEST_CASE("tun: each skb is charged to the queue's socket, and its free moves two socket lines (6.18)") {
  // tun_alloc_skb -> sock_alloc_send_pskb -> skb_set_owner_w (and
  // __tun_build_skb) read tfile->socket.sk and add to sk->sk_wmem_alloc;
  // kfree_skb -> sock_wfree subtracts it and calls tun_sock_write_space,
  // whose test_and_clear_bit(SOCKWQ_ASYNC_NOSPACE, &sk->sk_socket->flags)
  // writes socket.flags (Linux 6.18 drivers/net/tun.c, net/core/sock.c).
  // In 6.18.44's struct tun_file those are two lines: sk_wmem_alloc at byte
  // 380 (line 5) and socket.flags / socket.sk at 840 / 856 (line 13).  Two
  // writers on CPUs 0 and 1 share queue 0, so both lines are shared state.
  // With the hand costs (cacheline_transfer_ns 150, tun_get_user 150 +
  // skb_alloc 80 + 60 x 0.08 = 234.8 ns):
  //  - built on CPU 0 first: nobody held the lines, no transfer: 234.8 ns;
  //  - freed on CPU 1: both lines move, 2 x 150 = 300 ns, 2 transfers;
  //  - freed again (not owned any more): nothing;
  //  - the next skb built on CPU 0: both lines move back: 234.8 + 300 ns.
  Rig r("napi_gro", {{"cpus", {{"count", 2}}},
                     {"senders", json::array({{{"type", "writer"}, {"cpu", 0}}, {{"type", "writer"}, {"cpu", 1}}})}});
  Ctx on1 = r.ctx;
  on1.cpu = &r.k->cpu(1);
  on1.thread = nullptr;
  auto timed = [](Ctx& c, auto f) {
    double t0 = c.now;
    f();
    return (c.now - t0) * 1e9;
  };
  Skb* skb = nullptr;
  CHECK(timed(r.ctx, [&] { skb = tun_build_skb(r.ctx, 0, 60, 1, r.ctx.now); }) == doctest::Approx(234.8));
  CHECK(skb->owner == &r.q());
  CHECK(r.k->rec.line_transfers == 0);
  on1.now = r.ctx.now;
  CHECK(timed(on1, [&] { on1.sock_wfree(*skb); }) == doctest::Approx(300));
  CHECK(r.k->rec.line_transfers == 2);
  CHECK(skb->owner == nullptr);
  CHECK(timed(on1, [&] { on1.sock_wfree(*skb); }) == doctest::Approx(0));
  CHECK(r.k->rec.line_transfers == 2);
  r.ctx.now = on1.now;
  CHECK(timed(r.ctx, [&] { tun_build_skb(r.ctx, 0, 60, 1, r.ctx.now); }) == doctest::Approx(234.8 + 300));
  CHECK(r.k->rec.line_transfers == 4);
}

TEST_CASE("tun: sk_wmem_alloc counts the truesize of the skbs charged and not freed, and sock_alloc_send_pskb refuses a writer or vhost at sndbuf (6.18)") {
  // skb_set_owner_w adds skb->truesize to sk_wmem_alloc, sock_wfree takes
  // it back.  A 60-byte frame's skb from tun_alloc_skb on 6.18: the head,
  // SKB_HEAD_ALIGN(64 + 60) = 128 + 320 = 448 bytes, comes from the 576-byte
  // skb_small_head_cache, so truesize = 576 + 256 (the sk_buff) = 832, as
  // this machine's 6.18.44 prints it (napi_gro_receive_entry).
  // sock_alloc_send_pskb (a blocking write()'s tun_alloc_skb) first tests
  // sk_wmem_alloc_get < sk_sndbuf (net/core/sock.c, 6.18); with sndbuf 2000
  // the first three writes find 0, 832 and 1664 below it, the fourth finds
  // 2496: no skb, the writer goes to sleep (sock_wait_for_wmem).  It has
  // spent tun_get_user's checks (150 ns) and nothing else; nothing more is
  // charged.
  Rig r("napi_gro", {{"tun", {{"sndbuf", 2000}}}, {"kernel", {{"version", "6.18"}}}});
  std::vector<Skb*> skbs;
  for (int i = 0; i < 3; ++i) skbs.push_back(tun_build_skb(r.ctx, 0, 60, 1, r.ctx.now));
  CHECK(skbs[0]->truesize == 832);
  CHECK(r.q().wmem_alloc == 3 * 832);
  CHECK(r.q().sndbuf_reached_at == -1);
  double t4 = r.ctx.now;
  CHECK(tun_build_skb(r.ctx, 0, 60, 1, r.ctx.now) == nullptr);
  CHECK(r.ctx.now == doctest::Approx(t4 + 150e-9));
  CHECK(r.q().sndbuf_reached_at == doctest::Approx(t4));
  CHECK(r.q().wmem_alloc == 3 * 832);
  CHECK(r.q().sndbuf_eagain == 0);
  // One skb freed: 1664 < 2000, the next write gets its skb.
  r.ctx.sock_wfree(*skbs.back());
  skbs.pop_back();
  skbs.push_back(tun_build_skb(r.ctx, 0, 60, 1, r.ctx.now));
  REQUIRE(skbs.back() != nullptr);
  CHECK(r.q().wmem_alloc == 3 * 832);
  // 2496 is at the bound again: a non-blocking sender (vhost's sendmsg,
  // MSG_DONTWAIT) gets -EAGAIN (counted), nothing built or charged.
  Skb* nb = tun_get_user_skb(r.ctx, 0, 60, 1, r.ctx.now, TunSend{true, nullptr});
  CHECK(nb == nullptr);
  CHECK(r.q().sndbuf_eagain == 1);
  CHECK(r.q().wmem_alloc == 3 * 832);
  for (Skb* s : skbs) r.ctx.sock_wfree(*s);
  CHECK(r.q().wmem_alloc == 0);
  // tun_xdp_one's skbs are not charged; __tun_build_skb's are, without the
  // test (tun_build_skb needs sndbuf INT_MAX: a non-blocking sender).
  Rig x("napi_gro");
  Skb* xdp = tun_get_user_skb(x.ctx, 0, 60, 1, x.ctx.now, TunSend{true, nullptr, 576});
  CHECK(x.q().wmem_alloc == 0);
  x.ctx.sock_wfree(*xdp);
  CHECK(x.q().wmem_alloc == 0);
}

TEST_CASE("tun: tun_get_user's skb carries the truesize of the path that built it (6.18 tun_alloc_skb, tun_build_skb, tun_xdp_one)") {
  Rig r("napi_gro", {{"kernel", {{"version", "6.18"}}}});
  auto built = [&](uint32_t len, TunSend how) {
    Skb* s = tun_get_user_skb(r.ctx, 0, len, 1, r.ctx.now, how);
    REQUIRE(s != nullptr);
    return s;
  };
  // A blocking write(): tun_alloc_skb.  1500 bytes: a kmalloc-2k head,
  // 2048 + 256 = 2304 (measured on 6.18.44: test "slub: skb->truesize").
  Skb* a = built(1500, TunSend{});
  CHECK(a->truesize == 2304);
  CHECK(a->slab_head == SkbSlab::Kmalloc2k);
  // 9000 bytes: 64 + 9000 >= PAGE_SIZE, so tun_alloc_skb asks
  // sock_alloc_send_pskb for a head of NET_SKB_PAD only (384 bytes: the
  // small-head cache) and 9000 bytes of pages: 576 + 256 + 12288.
  Skb* b = built(9000, TunSend{});
  CHECK(b->truesize == 13120);
  CHECK(b->slab_head == SkbSlab::SmallHead);
  // A non-blocking sender with sndbuf INT_MAX: tun_build_skb (4.15 on) on
  // a page fragment, roundup64(60 + 64) + 320 + 256 = 704; not a slab head.
  Skb* c = built(60, TunSend{true, nullptr});
  CHECK(c->truesize == 704);
  CHECK(c->slab_head == SkbSlab::None);
  // tun_xdp_one on vhost's XDP buffer (vhost_xdp_frame_sz: roundup64(60 +
  // 12 + 128) + 320 = 576 bytes for 60 and a 12-byte vnet header) + 256 =
  // 832, not charged to the socket.
  Skb* d = built(60, TunSend{true, nullptr, 576});
  CHECK(d->truesize == 832);
  CHECK(d->owner == nullptr);
  CHECK(r.q().wmem_alloc == 2304 + 13120 + 704);
}

TEST_CASE("tun: tun_can_build_skb counts XDP_PACKET_HEADROOM in its page test from 6.5 on (6.4.4 and 6.18.8 tun_can_build_skb)") {
  // The largest frame tun_build_skb takes from a non-blocking sender with
  // sndbuf INT_MAX: SKB_DATA_ALIGN(len + 64 [+ 256]) + 320 <= 4096, so
  // len + 64 <= 3776 (3712) up to 6.4, len + 320 <= 3776 (3456) from 6.5
  // (59eeb2329405), whether or not an XDP program is attached.
  CHECK(tun_frame_fits_page(3712, KernelVersion::V6_4));
  CHECK_FALSE(tun_frame_fits_page(3713, KernelVersion::V6_4));
  CHECK(tun_frame_fits_page(3456, KernelVersion::V6_5));
  CHECK_FALSE(tun_frame_fits_page(3457, KernelVersion::V6_5));
  CHECK(tun_frame_fits_page(3456, KernelVersion::V6_6));
  CHECK_FALSE(tun_frame_fits_page(3457, KernelVersion::V6_6));
  CHECK_FALSE(tun_frame_fits_page(3457, KernelVersion::V6_18));
  // The skb a 3500-byte frame gets.  6.4: tun_build_skb's fragment,
  // roundup64(3564) + 320 = 3904, + 256 = 4160.  6.18: tun_alloc_skb, a
  // head of SKB_HEAD_ALIGN(64 + 3500) = 3584 + 320 = 3904 bytes from
  // kmalloc-4k, 4096 + 256 = 4352.
  struct Case {
    const char* version;
    uint32_t truesize;
    SkbSlab head;
  };
  for (const Case& c : {Case{"6.4", 4160, SkbSlab::None}, Case{"6.18", 4352, SkbSlab::Kmalloc4k}}) {
    INFO(c.version);
    Rig r("napi_gro", {{"kernel", {{"version", c.version}}}});
    Skb* s = tun_get_user_skb(r.ctx, 0, 3500, 1, r.ctx.now, TunSend{true, nullptr});
    REQUIRE(s != nullptr);
    CHECK(s->truesize == c.truesize);
    CHECK(s->slab_head == c.head);
  }
}

TEST_CASE("tun: a writer that finds its queue at sndbuf sleeps to the end of the run, and the summary says so (6.18)") {
  // Two writers of 60-byte frames on one IFF_NAPI queue with sndbuf 1000
  // bytes: two skbs in flight (1536 bytes charged on 6.1, the scenario's
  // version: 768 each) already pass it, and the
  // next write() finds it there and sleeps in sock_wait_for_wmem.  Nothing
  // wakes it: 6.18's tun_sock_write_space wakes the wait queue only when a
  // poll() set SOCKWQ_ASYNC_NOSPACE (scripts/machine/sndbufwait.c measured
  // a writer asleep 1.9-3.0 s while the other wrote a million frames).  The
  // other writer goes on alone.  With the default INT_MAX the same 20 ms
  // leave the queue far away (a few skbs in flight).
  auto run = [](const std::string& sets, const std::string& trace) {
    testutil::Run r =
        testutil::run_cli("run configs/writer-napi-2cpu.json -q --set duration_ms=20 " + sets + " -o - --trace " + trace);
    INFO(r.err);
    REQUIRE(r.status == 0);
    json s = json::parse(r.out);
    std::vector<std::string> out;
    for (auto& n : s.value("notes", json::array()))
      if (n.get<std::string>().find("tun.sndbuf") != std::string::npos) out.push_back(n);
    return out;
  };
  const std::string dir = testutil::tmpdir();
  auto small = run("--set tun.sndbuf=1000", dir + "/small.trace");
  REQUIRE(small.size() == 1);
  CHECK(small[0].rfind("queue 0: the skbs charged to its socket (sk_wmem_alloc) reached tun.sndbuf (1000 bytes) at ", 0) == 0);
  CHECK(small[0].find("; the writer on CPU ") != std::string::npos);
  CHECK(small[0].find(" then slept in sock_wait_for_wmem until the end of the run") != std::string::npos);
  // In the trace (from warmup_ms, 2 ms: after the block) the sleeping
  // writer's CPU shows no system call; the other's write() calls go on.
  int cpu = small[0][small[0].find("; the writer on CPU ") + 20] - '0';
  REQUIRE((cpu == 0 || cpu == 1));
  std::ifstream in(dir + "/small.trace");
  std::string line, mine = cpu == 0 ? "[000]" : "[001]", other = cpu == 0 ? "[001]" : "[000]";
  int mine_sys = 0, other_exits = 0;
  while (std::getline(in, line)) {
    if (line.find(mine) != std::string::npos && line.find(" sys_e") != std::string::npos) ++mine_sys;
    if (line.find(other) != std::string::npos && line.find(" sys_exit:") != std::string::npos) ++other_exits;
  }
  CHECK(mine_sys == 0);
  CHECK(other_exits > 1000);
  CHECK(run("", dir + "/default.trace").empty());
}

TEST_CASE("tun: a queue one CPU writes and frees, and tun_xdp_one's skbs, touch no shared socket line") {
  // One writer on CPU 0 of two CPUs: the socket's lines never leave CPU 0,
  // so they are not shared state (no synchronisation, no transfer), even
  // when a free is charged on CPU 1.  tun_xdp_one (6.18) builds its skb with
  // build_skb and no skb_set_owner_w: not owned, no sock_wfree.
  Rig r("napi_gro", {{"cpus", {{"count", 2}}}});
  CHECK(!r.q().wmem_line.shared);
  CHECK(!r.q().socket_line.shared);
  Skb* skb = tun_build_skb(r.ctx, 0, 60, 1, r.ctx.now);
  Ctx on1 = r.ctx;
  on1.cpu = &r.k->cpu(1);
  double t0 = on1.now;
  on1.sock_wfree(*skb);
  CHECK(on1.now == t0);
  CHECK(r.k->rec.line_transfers == 0);
  Skb* xdp = tun_get_user_skb(r.ctx, 0, 60, 1, r.ctx.now, TunSend{true, nullptr, 576});
  CHECK(xdp->owner == nullptr);
}
