// vhost_net handle_tx as in 4.11 (models/vhost/), on hand-computed cases.
#include <doctest/doctest.h>

#include "tests/models/rig.hpp"

using namespace tunsim;
using testrig::Rig;
using testrig::VRig;
using nlohmann::json;

TEST_CASE("handle_tx: MSG_MORE while descriptors remain, cleared on the last, then notifications back on") {
  // 10 descriptors available: sendmsg 1..9 carry MSG_MORE (the ring is not
  // empty after each), the 10th does not, so v1_napi schedules once and
  // polls all 10.  The ring is then empty: notifications are re-enabled and
  // the worker sleeps until the next burst's kick (1 s) + vhost_wakeup_ns.
  VRig r(10);
  CHECK(handle_tx(r.ctx, *r.v) == TxResult::RingEmpty);
  CHECK(r.k->rec.delivered == 10);
  CHECK(r.k->rec.metrics.napi_poll_work().bins() == std::map<int64_t, uint64_t>{{10, 1}});
  CHECK(r.v->vq.notify());
  CHECK(r.v->vq.offered == 10);
  CHECK(vhost_wake_time(r.ctx, *r.v) == doctest::Approx(1.0 + r.k->p.costs.vhost_wakeup_ns * 1e-9));
}

TEST_CASE("handle_tx: VHOST_NET_WEIGHT in bytes requeues, the last packet without MSG_MORE") {
  // weight 288 bytes = 4 packets of 60 + 12 (the vnet header counts): after
  // the 4th, total_len (288) is not below the weight, so it goes without
  // MSG_MORE (a poll of 4) and handle_tx requeues itself with notifications
  // still off.
  VRig r(10, {{"weight_bytes", 288}});
  CHECK(handle_tx(r.ctx, *r.v) == TxResult::Requeued);
  CHECK(r.k->rec.delivered == 4);
  CHECK(r.k->rec.vhost_requeues == 1);
  CHECK_FALSE(r.v->vq.notify());
  CHECK(r.v->vq.size() == 6);
}

TEST_CASE("handle_tx: the packet weight requeues with MSG_MORE still set") {
  // vhost.pkt_weight 3: three sendmsg with MSG_MORE (bytes far below the
  // weight, ring not empty), then requeue: v1_napi has queued them, not
  // scheduled.
  VRig r(10, json::object(), "v1_napi", {{"vhost", {{"pkt_weight", 3}}}});
  CHECK(handle_tx(r.ctx, *r.v) == TxResult::Requeued);
  CHECK(r.k->rec.delivered == 0);
  CHECK(r.k->queue(0).write_queue.size() == 3);
}

TEST_CASE("handle_tx: msg_more false (4.10) gives one poll per packet") {
  VRig r(5, {{"msg_more", false}});
  CHECK(handle_tx(r.ctx, *r.v) == TxResult::RingEmpty);
  CHECK(r.k->rec.metrics.napi_poll_work().bins() == std::map<int64_t, uint64_t>{{1, 5}});
}

TEST_CASE("handle_tx 4.11: MSG_MORE counts the 12-byte vnet header, the 7282nd 60-byte frame ends the call") {
  // drivers/vhost/net.c handle_tx (4.11.0): len = frame + 12 = 72; MSG_MORE
  // while total_len < VHOST_NET_WEIGHT (524288) after adding this packet:
  // 72 x 7281 = 524232 < 524288, 72 x 7282 = 524304 -> the 7282nd goes
  // without MSG_MORE and requeues.  Without the header (vnet_hdr_bytes 0)
  // the 8739th: 60 x 8738 = 524280, 60 x 8739 = 524340.  8000 (or 9000)
  // descriptors are in the ring at t = 0; v1_napi queues every MSG_MORE
  // packet, so what left the ring is what was sent.
  for (int hdr : {12, 0}) {
    CAPTURE(hdr);
    int burst = hdr ? 8000 : 9000;
    VRig r(burst, {{"vnet_hdr_bytes", hdr}}, "v1_napi",
           {{"kernel", {{"version", "4.11"}}},
            {"sender", {{"guest", {{"ring_size", 16384}}}}}});
    CHECK(handle_tx(r.ctx, *r.v) == TxResult::Requeued);
    CHECK(r.v->vq.offered - r.v->vq.size() == (hdr ? 7282u : 8739u));
    // The last one had no MSG_MORE: the NAPI was scheduled and polled.
    CHECK(r.k->rec.delivered > 0);
  }
}

TEST_CASE("handle_tx_copy 6.18: 100 packets go to tun as XDP batches of 64 and 36 (IFF_NAPI: polls 64, 0, 36)") {
  // drivers/vhost/net.c handle_tx_copy, vhost_tx_batch (6.18.8); tun_sendmsg
  // TUN_MSG_PTR with IFF_NAPI queues the batch and schedules once; the poll
  // of 64 uses the weight (repoll: an empty second poll), the 36 complete.
  VRig r(100, json::object(), "napi_gro", {{"kernel", {{"version", "6.18"}}}});
  CHECK(handle_tx(r.ctx, *r.v) == TxResult::RingEmpty);
  CHECK(r.k->rec.delivered == 100);
  CHECK(r.k->rec.metrics.napi_poll_work().bins() == std::map<int64_t, uint64_t>{{0, 1}, {36, 1}, {64, 1}});
  CHECK(r.k->queue(0).write_queue.peak == 64);
  // Without IFF_NAPI (xdp_batch: QEMU's tap) the buffers go straight to
  // netif_receive_skb, in two bh-disabled sections, and NET_RX never runs.
  VRig x(100, json::object(), "xdp_batch");
  CHECK(x.k->p.kernel.version == KernelVersion::V6_18);
  CHECK(handle_tx(x.ctx, *x.v) == TxResult::RingEmpty);
  CHECK(x.k->rec.delivered == 100);
  CHECK(x.k->rec.batch.bins() == std::map<int64_t, uint64_t>{{36, 1}, {64, 1}});
  CHECK(x.k->cpu(0).net_rx_actions == 0);
}

TEST_CASE("handle_tx_copy 6.18: VHOST_NET_PKT_WEIGHT stops a call at 256 packets, four batches of 64") {
  VRig r(300, json::object(), "napi_gro",
         {{"kernel", {{"version", "6.18"}}}, {"sender", {{"guest", {{"ring_size", 512}}}}}});
  CHECK(handle_tx(r.ctx, *r.v) == TxResult::Requeued);
  CHECK(r.k->rec.delivered == 256);
  CHECK(r.k->rec.metrics.napi_poll_work().bins().at(64) == 4);
  CHECK(handle_tx(r.ctx, *r.v) == TxResult::RingEmpty);
  CHECK(r.k->rec.delivered == 300);
}

TEST_CASE("handle_tx_copy 6.18 with TUNSETSNDBUF: one sendmsg per packet, IFF_NAPI schedules at 65 queued") {
  // sndbuf 1000000 != INT_MAX: no XDP batching.  MSG_MORE on every packet
  // while the ring is not empty (the 256th too: the weight is checked after
  // the send); IFF_NAPI schedules when the queue exceeds 64: polls 64 then 1
  // per 65 packets.  256 packets: 3 cycles (195 delivered), 61 left queued.
  VRig r(300, json::object(), "napi_gro",
         {{"kernel", {{"version", "6.18"}}}, {"tun", {{"sndbuf", 1000000}}},
          {"sender", {{"guest", {{"ring_size", 512}}}}}});
  CHECK(handle_tx(r.ctx, *r.v) == TxResult::Requeued);
  CHECK(r.k->rec.delivered == 195);
  CHECK(r.k->queue(0).write_queue.size() == 61);
  CHECK(r.k->rec.metrics.napi_poll_work().bins() == std::map<int64_t, uint64_t>{{1, 3}, {64, 3}});
}

TEST_CASE("zerocopy 4.11: the guest ring bounds the queue inside tun at 256 packets") {
  // drivers/vhost/net.c handle_tx, vhost_zerocopy_callback,
  // vhost_zerocopy_signal_used (4.11.0; experimental_zcopytx 1).
  // 500-byte frames (len 512 >= VHOST_GOODCOPY_LEN): every packet is sent
  // zerocopy and its descriptor returns only when the skb is freed.  A
  // closed-loop guest with 256 descriptors: after 256 sends the avail ring is
  // empty, the 256th goes without MSG_MORE, v1_napi's poll delivers 64 x 4
  // inline, the frees complete the 256 ubufs, the loop top returns them, the
  // guest refills.  VHOST_NET_WEIGHT: 1024 packets of 512 per call, four
  // such cycles; the queue never holds more than 256.  With zerocopy off the
  // descriptors return at once, the ring never empties, and MSG_MORE holds
  // all 1024 until the weight.
  for (bool zc : {true, false}) {
    CAPTURE(zc);
    VRig r(1, json::object(), "v1_napi",
           {{"kernel", {{"version", "4.11"}}},
            {"costs", {{"guest_kick_ns", 0}}},
            {"vhost", {{"experimental_zcopytx", zc}}},
            {"sender", {{"frame_bytes", 500}, {"guest", {{"mode", "closed"}}}}}});
    CHECK(handle_tx(r.ctx, *r.v) == TxResult::Requeued);
    CHECK(r.k->queue(0).process_queue.peak == (zc ? 256u : 1024u));
    if (zc) {
      // Per cycle: polls of 64 x 4 (one per __do_softirq round) and an
      // empty one that completes.
      CHECK(r.k->rec.delivered == 1024);
      CHECK(r.k->rec.metrics.napi_poll_work().bins() == std::map<int64_t, uint64_t>{{0, 4}, {64, 16}});
    } else {
      // MAX_SOFTIRQ_RESTART: ten rounds of 64, the rest left to ksoftirqd.
      CHECK(r.k->rec.delivered == 640);
    }
  }
}

TEST_CASE("zerocopy 4.15: more than 64 pending clears MSG_MORE, batches of 65") {
  // vhost_exceeds_maxpend (4.15.0): pending > min(VHOST_MAX_PEND, 256 / 4) =
  // 64.  Packet 65 is still zerocopy (64 pending before it) and leaves 65
  // pending: no MSG_MORE, v1_napi polls 64 + 1, the frees complete all 65
  // and the send's signal_used returns them.  1024 packets per call: 15
  // cycles of 65 and the 49 the weight ends.
  VRig r(1, json::object(), "v1_napi",
         {{"kernel", {{"version", "4.15"}}},
          {"costs", {{"guest_kick_ns", 0}}},
          {"sender", {{"frame_bytes", 500}, {"guest", {{"mode", "closed"}}}}}});
  CHECK(handle_tx(r.ctx, *r.v) == TxResult::Requeued);
  CHECK(r.k->rec.delivered == 1024);
  CHECK(r.k->rec.metrics.napi_poll_work().bins() == std::map<int64_t, uint64_t>{{1, 15}, {49, 1}, {64, 15}});
  CHECK(r.k->queue(0).process_queue.peak == 65);
}

TEST_CASE("handle_tx 4.11 under voluntary preemption reschedules inside tun_alloc_skb, 4.15's build_skb does not") {
  // tun_alloc_skb -> sock_alloc_send_pskb -> GFP_KERNEL -> might_sleep ->
  // _cond_resched (4.9.0/4.11.0 CONFIG_PREEMPT_VOLUNTARY).  Each packet costs
  // 1 us (vhost_desc 500 + tun_get_user 500 ns, rest 0); rx_batched with
  // rx_frames 0 delivers each at once.  ksoftirqd's timer fires at 3.5 us; the
  // worker meets it at the boundary after packet 4 (4 us) and ksoftirqd,
  // 6 ms of credit behind, sets need_resched (CFS, 1 CPU: wakeup granularity
  // 1 ms).  4.11: the worker switches inside packet 5, before it is
  // delivered (4 delivered).  4.15 builds small frames with
  // build_skb: no reschedule point, all 10 delivered, need_resched still set.
  // (The switch comes after packet 5's header checks, at 5 us.)
  // Under preempt none, 4.11 does not switch either.
  json costs = {{"guest_tx_ns", 0},        {"vhost_desc_ns", 500}, {"tun_get_user_ns", 500}, {"skb_alloc_ns", 0},
                {"copy_ns_per_byte", 0},   {"vhost_notify_ns", 0}, {"netif_receive_skb_ns", 0},
                {"stack_drop_ns", 0},      {"context_switch_ns", 0}};
  for (std::string v : {"4.11", "4.15", "4.11-none"}) {
    CAPTURE(v);
    json kern = {{"version", v.substr(0, 4)}};
    if (v == "4.11-none") kern["preempt"] = "none";
    VRig r(10, json::object(), "rx_batched", {{"kernel", kern}, {"costs", costs}});
    testrig::SwitchRecorder exec;
    r.ctx.exec = &exec;
    Thread* ks = r.k->cpu(0).ksoftirqd;
    ks->state = Thread::State::Sleeping;
    ks->vruntime = -1e18;  // slept since boot
    ks->wake_at = 3.5e-6;
    CHECK(handle_tx(r.ctx, *r.v) == TxResult::RingEmpty);
    CHECK(r.k->rec.delivered == 10);
    if (v == "4.11") {
      REQUIRE(exec.switches.size() == 1);
      CHECK(exec.switches[0].to == ks);
      CHECK(exec.switches[0].delivered == 4);
      CHECK(exec.switches[0].at == doctest::Approx(5e-6));
    } else {
      CHECK(exec.switches.empty());
      CHECK(r.k->cpu(0).need_resched);
    }
  }
}

namespace {
// Frees the first n skbs tun holds in its queue as their delivery would
// (sock_wfree -> tun_sock_write_space).
void free_queued(VRig& r, int n) {
  for (int i = 0; i < n; ++i) {
    Skb* skb = r.k->queue(0).write_queue.pop_front();
    REQUIRE(skb);
    r.ctx.sock_wfree(*skb);
  }
}
}  // namespace

TEST_CASE("handle_tx_copy 6.18: -EAGAIN at a full send buffer, the poll re-armed, woken when half is free") {
  // drivers/vhost/net.c handle_tx (vhost_net_disable_vq), handle_tx_copy
  // (sendmsg's -EAGAIN: vhost_discard_vq_desc, vhost_net_enable_vq, break),
  // vhost_poll_start; drivers/net/tun.c tun_chr_poll, tun_sock_write_space;
  // include/net/sock.h sock_writeable (6.18.8).  sndbuf 20000, 60-byte
  // frames of truesize 832 (6.3+): after 24 skbs the charge is 19968, below
  // the bound, so the 25th is built (20800); the 26th sendmsg finds 20800 >=
  // 20000 and fails.  IFF_NAPI holds all 25 (MSG_MORE, at most 64 queued).
  // tun_chr_poll: 20800 is not below 20000 >> 1 = 10000, so it sets
  // SOCKWQ_ASYNC_NOSPACE and queues nothing.  Freed one by one, the charge
  // is 25 - k skbs: below 10000 first at 12 skbs (9984), the 13th free.
  VRig r(100, json::object(), "napi_gro",
         {{"kernel", {{"version", "6.18"}}}, {"tun", {{"sndbuf", 20000}}},
          {"sender", {{"guest", {{"ring_size", 512}}}}}});
  CHECK(r.k->p.vhost.tx_poll_rearm);
  CHECK(handle_tx(r.ctx, *r.v) == TxResult::WriteSpace);
  TunQueue& tq = r.k->queue(0);
  CHECK(tq.write_queue.size() == 25);
  CHECK(tq.wmem_alloc == 25 * 832);
  CHECK(tq.sndbuf_eagain == 1);
  CHECK(r.v->vq.size() == 75);  // the 26th descriptor back at the ring's head
  CHECK_FALSE(r.v->vq.notify());  // guest kicks stay off
  CHECK(tq.write_space_waiter == &r.v->tx_poll);
  CHECK(tq.async_nospace);
  CHECK_FALSE(r.v->poll_queued);
  free_queued(r, 12);
  CHECK_FALSE(r.v->poll_queued);
  CHECK(tq.async_nospace);
  free_queued(r, 1);
  CHECK(r.v->poll_queued);
  CHECK_FALSE(tq.async_nospace);
  CHECK(tq.write_space_wakeups == 1);
  // The work runs again: the poll comes off the wait queue, the 26th packet
  // goes first.
  r.v->poll_queued = false;
  handle_tx(r.ctx, *r.v);
  CHECK(tq.sndbuf_eagain == 2);
  CHECK(tq.write_queue.size() == 12 + 13);  // 13 more fit: 25 again
}

TEST_CASE("handle_tx_copy 6.18: re-armed while the socket is writeable, the poll queues the work at once") {
  // vhost_poll_start: tun_chr_poll returns EPOLLOUT when sock_writeable, and
  // vhost_poll_wakeup queues the work without touching the bit.  The same
  // 25 skbs; 13 freed before the re-arm: 12 left (9984 < 10000).
  VRig r(100, json::object(), "napi_gro",
         {{"kernel", {{"version", "6.18"}}}, {"tun", {{"sndbuf", 20000}}},
          {"sender", {{"guest", {{"ring_size", 512}}}}}});
  CHECK(handle_tx(r.ctx, *r.v) == TxResult::WriteSpace);
  TunQueue& tq = r.k->queue(0);
  vhost_net_disable_vq(r.ctx, *r.v);
  tq.async_nospace = false;
  free_queued(r, 13);
  CHECK_FALSE(r.v->poll_queued);  // nobody on the wait queue
  vhost_net_enable_vq(r.ctx, *r.v);
  CHECK(r.v->poll_queued);
  CHECK_FALSE(tq.async_nospace);
  CHECK(tq.write_space_wakeups == 0);
}

TEST_CASE("handle_tx 4.11: -EAGAIN discards and breaks, and its poll, armed since setup, is never re-polled") {
  // drivers/vhost/net.c handle_tx (4.11.0): a failed sendmsg gives the
  // descriptor back (vhost_discard_vq_desc) and breaks; there is no
  // vhost_net_disable_vq/vhost_net_enable_vq in it, so tun_chr_poll never
  // runs and SOCKWQ_ASYNC_NOSPACE stays clear: tun_sock_write_space wakes no
  // one however much is freed.  rx_batched with rx_frames 32, sndbuf 16384,
  // truesize 768 (before 6.3): 21 skbs charge 16128, the 22nd 16896, the
  // 23rd fails; tun_rx_batched holds the 22 (fewer than 32).  4.15 re-arms:
  // freed one by one, below 16384 >> 1 = 8192 at 10 skbs (7680), the 12th
  // free.
  for (const char* ver : {"4.11", "4.15"}) {
    CAPTURE(ver);
    VRig r(100, json::object(), "rx_batched",
           {{"kernel", {{"version", ver}}}, {"tun", {{"sndbuf", 16384}, {"rx_frames", 32}}}});
    const bool rearm = std::string(ver) == "4.15";
    CHECK(r.k->p.vhost.tx_poll_rearm == rearm);
    CHECK(handle_tx(r.ctx, *r.v) == TxResult::WriteSpace);
    TunQueue& tq = r.k->queue(0);
    CHECK(tq.write_queue.size() == 22);
    CHECK(tq.wmem_alloc == 22 * 768);
    CHECK(r.v->vq.size() == 78);
    CHECK(r.k->rec.delivered == 0);
    CHECK(tq.write_space_waiter == &r.v->tx_poll);
    CHECK(tq.async_nospace == rearm);
    free_queued(r, 11);
    CHECK_FALSE(r.v->poll_queued);
    free_queued(r, 1);
    CHECK(r.v->poll_queued == rearm);
    CHECK(tq.write_space_wakeups == (rearm ? 1u : 0u));
  }
}
